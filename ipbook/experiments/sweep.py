"""Seeds × runs of a profile as independent tasks on a Dask cluster (``python -m ipbook sweep``).

Each task is one :func:`ipbook.nets.training.train` call that writes its own directory,
``ROOT/<profile>/<dataset>/<run>/seed-<s>/``. A finished run with the same config and data is
reused, so an interrupted sweep resumes where it stopped. A run that fails (a diverged loss,
missing data) is reported by name with its error while the others finish. Results do not depend
on the worker that computed them: every run sets its own seeds and uses one intra-op thread.

The tasks run on :func:`ipbook.experiments.dask_engine.run_tasks`: a local cluster of process
workers with one thread each, or an existing cluster given by its scheduler address.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ipbook.experiments.dask_engine import run_tasks
from ipbook.experiments.profiles import load_profile, run_configs, sweep_root
from ipbook.nets.config import TrainConfig
from ipbook.nets.runs import check_output_dir, refuse_replacing_committed
from ipbook.nets.training import train

__all__ = ["SweepReport", "sweep_tasks", "run_sweep", "sweep"]


@dataclass
class SweepReport:
    """What a sweep did: ``done`` maps task names (``run/seed-s``) to their output directories,
    ``failed`` maps task names to their error messages."""

    done: dict[str, Path] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    #: What happened to each done task: ``trained in 312 s``, ``reused (trained in 921 s on
    #: 2026-11-28)`` or ``replayed in 82 s (checkpoints recreated)``.
    outcomes: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


def _train_task(config: TrainConfig, out_dir: str, require_checkpoints: bool,
                force: bool = False) -> tuple[str, str]:
    """One task, run on a worker: train (or reuse, or replay) and return the directory and what
    happened (:meth:`ipbook.nets.runs.Run.summary`)."""
    run = train(config, out_dir, progress=False, require_checkpoints=require_checkpoints, force=force)
    return str(out_dir), run.summary()


def sweep_tasks(profile: str, dataset: str, seeds: list[int], *, runs: list[str] | None = None,
                root: str | Path | None = None, **overrides) -> dict[str, tuple[TrainConfig, Path]]:
    """``{"run/seed-s": (config, output directory)}`` for every run of ``profile`` and seed."""
    base = Path(root) if root is not None else sweep_root(profile)
    tasks = {}
    for seed in seeds:
        configs = run_configs(profile, dataset, seed=int(seed), **overrides)
        if runs is not None:
            unknown = set(runs) - set(configs)
            if unknown:
                raise ValueError(f"unknown run(s) {sorted(unknown)}; valid: {', '.join(configs)}")
            configs = {k: v for k, v in configs.items() if k in runs}
        for name, config in configs.items():
            tasks[f"{name}/seed-{seed}"] = (config, base / profile / dataset / name / f"seed-{seed}")
    return tasks


def run_sweep(tasks: dict[str, tuple[TrainConfig, Path]], *, workers: int | None = None,
              scheduler: str | None = None, progress: bool = True,
              require_checkpoints: bool = False, force: bool = False) -> SweepReport:
    """Train ``tasks`` (from :func:`sweep_tasks`) on a Dask cluster, one task per run (see
    :func:`ipbook.experiments.dask_engine.run_tasks` for ``workers`` and ``scheduler``).

    Before any work: the output folders must be writable, and no committed run may be trained
    over with another config (:func:`ipbook.nets.runs.refuse_replacing_committed`) unless
    ``force``."""
    for config, out in tasks.values():
        check_output_dir(out)
        refuse_replacing_committed(Path(out), config, replace=force, flag="--force")
    args = {name: (config, str(out), require_checkpoints, force) for name, (config, out) in tasks.items()}
    report = SweepReport()
    for name, result in run_tasks(_train_task, args, workers=workers, scheduler=scheduler,
                                  progress=progress, desc="runs").items():
        if isinstance(result, Exception):
            report.failed[name] = f"{type(result).__name__}: {result}".splitlines()[0]
        else:
            report.done[name], report.outcomes[name] = Path(result[0]), result[1]
    return report


def sweep(profile: str, dataset: str | list[str], seeds: list[int] | None = None, *,
          runs: list[str] | None = None, workers: int | None = None, scheduler: str | None = None,
          root: str | Path | None = None, progress: bool = True, recreate_checkpoints: bool = False,
          force: bool = False, **overrides) -> SweepReport:
    """Every run of ``params/<profile>.yaml`` on ``dataset`` (one name, or a list of names, run in
    that order) for each of ``seeds`` (default: the profile's ``seeds``, else [0]).

    A finished run is reused even when its checkpoint file is missing (checkpoints are not
    committed); ``recreate_checkpoints`` trains such runs again, which recreates the file on this
    machine. With several datasets, task names are ``dataset/run/seed-s``. ``force``: train over
    committed runs whose config differs (refused otherwise, before any work).
    """
    spec = load_profile(profile)
    seeds = list(seeds) if seeds is not None else list(spec.get("seeds", [0]))
    bad = [s for s in seeds if not (isinstance(s, int) and s >= 0)]
    if bad or not seeds:
        raise ValueError(f"seeds must be integers >= 0; got {bad or 'none'}")
    datasets = [dataset] if isinstance(dataset, str) else list(dataset)
    if not datasets:
        raise ValueError("give at least one dataset")
    tasks = {}
    for name in datasets:
        prefix = f"{name}/" if len(datasets) > 1 else ""
        tasks.update({prefix + key: task for key, task in
                      sweep_tasks(profile, name, seeds, runs=runs, root=root, **overrides).items()})
    return run_sweep(tasks, workers=workers, scheduler=scheduler, progress=progress,
                     require_checkpoints=recreate_checkpoints, force=force)
