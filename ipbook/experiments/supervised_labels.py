"""I(T;Y) of the supervised control under estimators whose ceiling is above what the layer carries.

The classifier's online I(T;Y) (the paper's matrix estimator, a Gaussian kernel on one-hot labels at
N = 100) cannot exceed its own S(Y) of 1.96 bits, and every layer sits there: "I(T;Y) stays flat" is
the ceiling, not a finding. This grid measures I(T;Y) at a run's checkpoints with label estimators
(:mod:`ipbook.estimators.spec`) whose ceiling is H(Y) of the probes, about log2 10 = 3.32 bits:

- ``decoding`` (:func:`ipbook.estimators.decoding.decoding_bound`): H(Y) minus the cross-fitted
  cross-entropy of a logistic regression of Y on T, a lower bound on I(T;Y), on ``n`` probes;
- ``matrix-label`` (:func:`ipbook.estimators.matrix.label_information`): the matrix estimator with
  the label kernel on Y, whose S(Y) is H_α(Y) exactly, on the first ``matrix_n`` probes.

Each is also taken with the labels shuffled (one fixed permutation): the value the estimator gives a
layer of the same geometry that carries nothing about Y, its floor (``shuffled`` rows).

The supervised runs keep no checkpoints: a task replays its run's training without measurements
(:func:`ipbook.nets.training.replay_at`, the cost of the training alone) and keeps the weights at
``steps`` iterations of the online estimators' schedule, so each value sits beside the run's own
I(X;T) under the noisy bounds and binning at the same iteration. :func:`evaluate_labels` runs every
run and seed through the one grid runner (:func:`ipbook.experiments.grid.run_grid`).
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ipbook.estimators.spec import parse_spec
from ipbook.experiments.grid import Guard, run_grid
from ipbook.experiments.probes import probe_index
from ipbook.experiments.profiles import RESULTS_DIR, load_profile, run_configs, sweep_root
from ipbook.nets.data import load_dataset
from ipbook.nets.runs import load_run, network_of
from ipbook.nets.training import replay_at
from ipbook.readers import read_json, read_table
from ipbook.verdicts import judge_any

__all__ = ["LABEL_COLUMNS", "LabelGrid", "labels_dir", "even_steps", "label_estimates", "ty_during_phase", "evaluate_labels", "load_labels"]

#: One row per (run, seed, step, layer, estimator, labels): ``value`` in bits, the ``ceiling``
#: H(Y) (H_α(Y) for matrix-label) of the probes it is taken on, and their number ``n``;
#: ``labels`` is ``true`` or ``shuffled``.
LABEL_COLUMNS = ["run", "seed", "step", "layer", "estimator", "labels", "n", "value", "ceiling"]


@dataclass(frozen=True)
class LabelGrid:
    """The probes (``n`` test images, the first ``matrix_n`` of them for the matrix estimator),
    the checkpoints (``steps`` of the run's online-estimator iterations, evenly spaced in
    iterations: :func:`even_steps`; the judge needs 10 after a peak) and the estimator specs."""

    n: int = 2000
    matrix_n: int = 1000
    steps: int = 24
    estimators: tuple[str, ...] = ("decoding:l2=0.01", "matrix-label:rule=median")

    def __post_init__(self):
        if not (isinstance(self.n, int) and isinstance(self.matrix_n, int) and 2 <= self.matrix_n <= self.n):
            raise ValueError(f"need integers 2 <= matrix_n <= n; got n = {self.n!r}, matrix_n = {self.matrix_n!r}")
        if not (isinstance(self.steps, int) and self.steps >= 2):
            raise ValueError(f"steps must be an integer >= 2 (checkpoints per run); got {self.steps!r}")
        ests = [parse_spec(spec) for spec in self.estimators]
        for spec, est in zip(self.estimators, ests):
            if not hasattr(est, "label_ceiling"):
                raise ValueError(f"{spec!r} is not a label estimator; the grid takes decoding[:...] and matrix-label[:...]")
        object.__setattr__(self, "estimators", tuple(est.spec for est in ests))     # canonical specs


def labels_dir(profile: str) -> Path:
    """Where :func:`evaluate_labels` writes by default: ``results/labels/<profile>/``."""
    return RESULTS_DIR / "labels" / profile


def _layer_rows(t: torch.Tensor, y: torch.Tensor, shuffled: torch.Tensor, grid: LabelGrid) -> list[tuple]:
    """(estimator, labels, n, value, ceiling) of every estimator of ``grid`` on one layer."""
    rows = []
    for spec in grid.estimators:
        est = parse_spec(spec)
        k = grid.matrix_n if est.family == "matrix-label" else grid.n
        for kind, labels in (("true", y[:k]), ("shuffled", shuffled[:k])):
            rows.append((est.spec, kind, k, float(est.estimate(t[:k], labels)), float(est.label_ceiling(labels))))
    return rows


def even_steps(schedule, k: int) -> list[int]:
    """``k`` iterations of ``schedule`` nearest to k evenly spaced iterations from its first to its
    last (fewer where two targets share a nearest one): even in iterations, not in the schedule's
    index, so a simplifying phase late in the run gets as many points as its share of the run."""
    schedule = np.asarray(sorted(schedule))
    targets = np.linspace(schedule[0], schedule[-1], k)
    return sorted({int(schedule[np.abs(schedule - t).argmin()]) for t in targets})


def label_estimates(run, grid: LabelGrid = LabelGrid(), *, name: str | None = None,
                    states: dict | None = None) -> pd.DataFrame:
    """The rows of :data:`LABEL_COLUMNS` of one classifier run at ``grid.steps`` iterations of its
    online estimators' schedule (``est_step``; else of its information plane's; :func:`even_steps`), on its own test
    probes (draw 0 of :func:`~ipbook.experiments.probes.probe_index`). ``states`` (``{step: state
    dict}``) skips the replay."""
    config = run.info["config"]
    seed, name = int(config["seed"]), name or (run.path.parent.name if run.path is not None else config["model"])
    m = run.metrics
    steps = even_steps([int(s) for s in m.get("est_step", m["step"])], grid.steps)
    if states is None:
        states = replay_at(run, steps)
    test = load_dataset(config["dataset"], "test")
    idx = probe_index(seed, "test", grid.n, 0, len(test.x))
    x, y = test.x[idx].float(), torch.as_tensor(test.y[idx]).long()
    shuffled = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(seed + 7))]
    rows = []
    for step in steps:
        with torch.no_grad():
            layers = network_of(run.info, states[step])(x).layers
        for layer, t in layers.items():
            rows += [(name, seed, int(step), layer, *r) for r in _layer_rows(t.double(), y, shuffled, grid)]
    return pd.DataFrame(rows, columns=LABEL_COLUMNS)


def _labels_at(run_dir: str, name: str, grid: LabelGrid) -> pd.DataFrame:
    """One task of :func:`evaluate_labels`."""
    return label_estimates(load_run(run_dir), grid, name=name)


def load_labels(dataset: str, profile: str = "supervised", root=None) -> pd.DataFrame | None:
    """The table of :func:`evaluate_labels`, or None where there is none."""
    path = Path(root if root is not None else labels_dir(profile)) / f"{dataset}.csv.gz"
    return read_table(path) if path.is_file() else None


def _grid_of(out_dir: Path, dataset: str) -> dict | None:
    """The grid recorded in the provenance of the table in ``out_dir``, or None."""
    path = out_dir / f"{dataset}.json"
    return read_json(path).get("grid") if path.is_file() else None


def _sorted(records: dict) -> list[pd.DataFrame]:
    table = pd.concat(list(records.values()), ignore_index=True)
    return [table.sort_values(["run", "seed", "step", "layer", "estimator", "labels"], kind="stable")]


def evaluate_labels(dataset: str, profile: str = "supervised", *, grid: LabelGrid = LabelGrid(), seeds=None,
                    runs=None, root=None, out=None, workers: int | None = None, scheduler: str | None = None,
                    progress: bool = True, force: bool = False) -> dict:
    """Measure every finished run and seed of ``profile`` (a classifier profile) and write
    ``OUT/<dataset>.csv.gz`` with its provenance (default OUT: :func:`labels_dir`), one Dask task
    per run and seed (a replay, then the estimators), resumable, atomic, never shrinking. A run
    and seed that the table in OUT holds on the same grid is kept, not measured again (``force``
    measures every one again)."""
    seeds = list(seeds) if seeds is not None else list(load_profile(profile).get("seeds", [0]))
    names = list(runs) if runs is not None else list(run_configs(profile, dataset))
    base, out_dir = Path(root) if root is not None else sweep_root(profile), Path(out or labels_dir(profile))
    earlier = load_labels(dataset, profile, out_dir)
    have = set() if earlier is None else {f"{r}/seed-{s}" for r, s in zip(earlier.run, earlier.seed)}
    reuse = not force and earlier is not None and _grid_of(out_dir, dataset) == json.loads(
        json.dumps(dataclasses.asdict(grid)))
    tasks, kept, missing = {}, {}, []
    for seed in seeds:
        for name in names:
            run_dir, key = base / profile / dataset / name / f"seed-{seed}", f"{name}/seed-{seed}"
            if reuse and key in have:           # measured before on the same grid: a rerun adds, never redoes
                kept[key] = earlier[(earlier.run == name) & (earlier.seed == seed)]
            elif (run_dir / "run.json").is_file():
                tasks[key] = (str(run_dir), name, grid)
            else:
                missing.append(key)
    for key in have - set(tasks) - set(kept):
        name, seed = key.rsplit("/seed-", 1)
        kept[key] = earlier[(earlier.run == name) & (earlier.seed == int(seed))]
    guard = Guard(have, {*tasks, *kept}, "run(s)", "they are not among the runs and seeds asked for (--runs, --seeds)")
    info = {"dataset": dataset, "profile": profile, "seeds": seeds, "grid": dataclasses.asdict(grid),
            "evaluated": sorted(tasks), "kept_from_earlier_table": sorted(kept), "missing_runs": missing}
    written = run_grid(_labels_at, tasks, out=out_dir, tables=[f"{dataset}.csv.gz"], combine=_sorted, info=info,
                       kept=kept, guards=[guard], force=force, workers=workers, scheduler=scheduler,
                       progress=progress, desc=f"labels-{profile}")
    return {**info, "written": False} if written is None else {**written[0], "written": True}


def ty_during_phase(labels: pd.DataFrame, phases: pd.DataFrame) -> pd.DataFrame:
    """Whether a layer's I(T;Y) falls while its I(X;T) simplifies, by the book's one judge.

    Parameters
    ----------
    labels : rows of :data:`LABEL_COLUMNS` (:func:`evaluate_labels`)
    phases : one row per run, seed and layer with the iteration ``peak_step`` where its I(X;T)
        peaks (:func:`ipbook.experiments.supervised.contrast` of one estimator setting)

    Returns
    -------
    DataFrame, one row per run, seed, layer and label estimator: the judge's ``verdict`` on the true
    labels' I(T;Y) at the checkpoints from ``peak_step`` to the end (ceiling H(Y); "simplifies":
    I(T;Y) falls; "does not simplify": a fall of the judge's margin is excluded; fewer than 10
    checkpoints: "cannot judge"), its ``drop``, ``low``, ``high``, ``points``, the value at the
    phase's start (``ity_start``) and end (``ity_end``), the ``ceiling`` and the shuffled labels'
    value at the end (``floor_end``).
    """
    rows = []
    true, shuffled = labels[labels.labels == "true"], labels[labels.labels == "shuffled"]
    for p in phases.itertuples():
        one = true[(true.run == p.run) & (true.seed == p.seed) & (true.layer == p.layer)]
        for est, g in one.groupby("estimator", sort=False):
            g = g.sort_values("step")
            after = g[g.step >= p.peak_step]
            if after.empty:
                continue
            v = judge_any(after.step.to_numpy(), after.value.to_numpy(), ceiling=float(g.ceiling.iloc[0]))
            floor = shuffled[(shuffled.run == p.run) & (shuffled.seed == p.seed) & (shuffled.layer == p.layer)
                             & (shuffled.estimator == est)].sort_values("step")
            rows.append({"run": p.run, "seed": p.seed, "layer": p.layer, "estimator": est, "peak_step": p.peak_step,
                         "verdict": v.verdict, "drop": v.drop, "low": v.low, "high": v.high, "points": len(after),
                         "ity_start": float(after.value.iloc[0]), "ity_end": float(after.value.iloc[-1]),
                         "ceiling": float(g.ceiling.iloc[0]),
                         "floor_end": float(floor.value.iloc[-1]) if len(floor) else float("nan")})
    return pd.DataFrame(rows)
