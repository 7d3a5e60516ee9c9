"""The Dask engine: independent tasks on a local cluster or an existing one.

Every command that runs tasks in parallel (``python -m ipbook sweep``, and the grids of
:mod:`ipbook.experiments.grid`) goes through :func:`run_tasks`. The cluster is an embedded
:class:`distributed.LocalCluster` of process workers with one thread each (default: one worker per
core), or an existing cluster given by its scheduler address (``dask scheduler`` plus ``dask
worker`` on other machines, or dask-jobqueue's ``SLURMCluster``). A task that raises is reported
by name with its exception while the others go on.
"""
from __future__ import annotations

import os
import pickle

from tqdm import tqdm

__all__ = ["run_tasks"]


def run_tasks(fn, tasks: dict[str, tuple], *, workers: int | None = None, scheduler: str | None = None,
              progress: bool = True, desc: str = "tasks") -> dict[str, object]:
    """Call ``fn(*args)`` for every ``name: args`` of ``tasks`` on a Dask cluster; returns ``{name:
    result}``, with the exception as the result of a task that raised (the others go on).

    ``scheduler``: the address of an existing cluster (``tcp://host:8786``); otherwise an embedded
    LocalCluster with ``workers`` process workers (default: the number of cores), one thread each.
    Tasks go out in their order, no more at a time than the cluster has threads, so that a sweep
    stopped early leaves its first tasks complete (Dask's own priorities do not hold across
    separate submits).
    """
    from distributed import Client, LocalCluster, as_completed

    if scheduler is not None and workers is not None:
        raise ValueError("give either workers (a local cluster) or scheduler (an existing one), not both")
    cluster = None
    if scheduler is None:
        n = workers if workers is not None else (os.cpu_count() or 1)
        if not (isinstance(n, int) and n >= 1):
            raise ValueError(f"workers must be >= 1; got {n}")
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=":0")  # any free port: two sweeps never collide
    results = {}
    try:
        with Client(cluster if cluster is not None else scheduler) as client:
            waiting = list(tasks.items())[::-1]
            names, running = {}, as_completed()

            def fill() -> None:
                while waiting and running.count() < max(1, sum(client.nthreads().values())):
                    name, args = waiting.pop()
                    future = client.submit(_returning_errors, fn, *args, key=f"ipbook-{desc}-{name}-{os.getpid()}",
                                           pure=False)
                    names[future] = name
                    running.add(future)

            bar = tqdm(total=len(tasks), disable=not progress, desc=desc, ascii=True, ncols=80)
            fill()
            for future in running:
                name = names.pop(future)
                try:
                    results[name] = future.result()
                except Exception as err:  # the worker died (KilledWorker): reported by name too
                    results[name] = err
                bar.update(1)
                fill()
            bar.close()
    finally:
        if cluster is not None:
            cluster.close()
    return results


def _returning_errors(fn, *args):
    """On a worker: ``fn(*args)``, or the exception it raised as the result, so that the worker
    does not log the task as failed with its traceback (the caller reports it, in one line). An
    exception that cannot be pickled comes back as a RuntimeError with its text."""
    try:
        return fn(*args)
    except Exception as err:
        try:
            pickle.dumps(err)
        except Exception:
            return RuntimeError(f"{type(err).__name__}: {err}")
        return err
