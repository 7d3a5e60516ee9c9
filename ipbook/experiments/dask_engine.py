"""The Dask engine: independent tasks on a local cluster or an existing one.

Every command that runs tasks in parallel (``python -m ipbook sweep``, and the grids of
:mod:`ipbook.experiments.grid`) goes through :func:`run_tasks`. The cluster is an embedded
:class:`distributed.LocalCluster` of process workers with one thread each (default: one worker per
core), or an existing cluster given by its scheduler address (``dask scheduler`` plus ``dask
worker`` on other machines, or dask-jobqueue's ``SLURMCluster``). A task that raises is reported
by name with its exception while the others go on. Dask's own log lines are off below errors, and
off altogether once the command is interrupted (:func:`_quiet_dask`): an interrupted command says
one line, its own.
"""
from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import threading

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
    from distributed import LocalCluster

    if scheduler is not None and workers is not None:
        raise ValueError("give either workers (a local cluster) or scheduler (an existing one), not both")
    n = workers if workers is not None else (os.cpu_count() or 1)
    if scheduler is None and not (isinstance(n, int) and n >= 1):
        raise ValueError(f"workers must be >= 1; got {n}")
    with _quiet_dask() as silence:
        cluster = None
        try:
            if scheduler is None:
                with _interrupt_deferred():   # a half-made cluster could not be closed
                    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                           dashboard_address=":0")  # any free port: two sweeps never collide
            return _submit_all(fn, tasks, cluster if cluster is not None else scheduler, progress, desc)
        except BaseException:   # interrupted, or failed: the shutdown that follows has nothing to say
            silence()
            raise
        finally:
            if cluster is not None:
                with _interrupt_deferred():   # a half-closed cluster would be closed again at exit, noisily
                    cluster.close()


def _submit_all(fn, tasks: dict[str, tuple], address, progress: bool, desc: str) -> dict[str, object]:
    """:func:`run_tasks` on the cluster at ``address`` (a LocalCluster, or a scheduler's address)."""
    from distributed import Client, as_completed

    results = {}
    with contextlib.ExitStack() as stack:
        with _interrupt_deferred():   # made whole, and closed by the stack even when interrupted
            client = stack.enter_context(Client(address))
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
        try:
            fill()
            for future in running:
                name = names.pop(future)
                try:
                    results[name] = future.result()
                except Exception as err:  # the worker died (KilledWorker): reported by name too
                    results[name] = err
                bar.update(1)
                fill()
        finally:
            bar.close()
    return results


@contextlib.contextmanager
def _interrupt_deferred():
    """An interrupt (SIGINT) within the block is held until the block ends, then handled as it
    would have been: what the block makes (a cluster, a client) exists whole, so the shutdown that
    follows closes it, rather than the interpreter's exit finding it half-made."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = []
    before = signal.signal(signal.SIGINT, lambda signum, frame: held.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)
    if held and callable(before):
        before(signal.SIGINT, held[0])


#: What Dask's loggers, and those of the libraries it runs on, say while a cluster works.
_DASK_LOGGERS = ("distributed", "tornado", "asyncio")


@contextlib.contextmanager
def _quiet_dask():
    """Within the block: Dask's loggers here log errors only; in the worker processes it starts
    (through the environment) nothing below critical, since a task's error comes back as its
    result and a lost worker as KilledWorker, each reported by name, while what a worker logs
    itself is its shutdown (heartbeats to a scheduler that has gone); and the multiprocessing
    resource tracker does not warn about the semaphores of worker processes killed at shutdown.
    Yields ``silence()``, which turns every Dask log line here off (for the shutdown after an
    interrupt). Restores all on exit."""
    quiet = {name: "critical" for name in ("distributed", "distributed.client", "tornado", "tornado.application",
                                           "bokeh")}
    env = {"DASK_LOGGING": repr(quiet), "PYTHONWARNINGS": "ignore:resource_tracker:UserWarning"}
    saved_env = {k: os.environ.get(k) for k in env}
    os.environ.update({k: v for k, v in env.items() if os.environ.get(k) is None})

    def loggers():
        names = [n for n in list(logging.root.manager.loggerDict) if n.split(".")[0] in _DASK_LOGGERS]
        return [logging.getLogger(n) for n in {*_DASK_LOGGERS, *names}]

    saved = {lg: lg.level for lg in loggers()}
    for lg in saved:
        lg.setLevel(max(lg.getEffectiveLevel(), logging.ERROR))

    def silence() -> None:
        for lg in loggers():
            saved.setdefault(lg, lg.level)
            lg.setLevel(logging.CRITICAL + 1)
    try:
        yield silence
    finally:
        for lg, level in saved.items():
            lg.setLevel(level)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)


def _returning_errors(fn, *args):
    """On a worker: ``fn(*args)``, or the exception it raised as the result, so that the worker
    does not log the task as failed with its traceback (the caller reports it, in one line). An
    exception that cannot be pickled and unpickled again comes back as a RuntimeError with its text."""
    try:
        return fn(*args)
    except Exception as err:
        try:
            pickle.loads(pickle.dumps(err))
        except Exception:
            return RuntimeError(f"{type(err).__name__}: {err}")
        return err
