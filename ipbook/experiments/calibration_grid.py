"""The calibration grid: every estimator of :mod:`ipbook.estimators` on the distributions of known
mutual information of :mod:`ipbook.experiments.calibration`, and what the table says (bias, rank correlation,
shifts under MI-preserving maps).

``python -m ipbook calibrate`` evaluates the grid with the grid runner
(:func:`ipbook.experiments.grid.run_grid`), one Dask task per distribution, and writes
``results/calibration/estimates.csv`` with columns :data:`CALIBRATION_COLUMNS` and ``estimates.json``
beside it (the grid, versions, commit, seconds per task). Finished tasks are kept in ``.parts/``
until the table is written, so an interrupted grid resumes.

Estimators (``estimator`` column) and their settings:

* the matrix estimator at the settings :data:`MATRIX_SPECS`, ``matrix`` (the paper's: α = 1.01,
  Scott's rule, γ = 2), ``matrix:rule=median`` and ``matrix:rule=tapia`` (γ = 1) and
  ``matrix:alpha=2`` (:mod:`ipbook.estimators.matrix`); the table names them by the labels of
  :data:`TABLE_LABELS`, ``matrix-paper``, ``matrix-median``, ``matrix-tapia`` and
  ``matrix-alpha2`` (:func:`table_spec` reads a label back as its spec);
* ``ksg`` (k = 3) where X and Y have at most 10 columns: :mod:`ipbook.estimators.ksg`;
* ``binning`` with 10 and 30 bins per coordinate where d <= 3: :mod:`ipbook.estimators.binning`;
* ``noisy-upper`` and ``noisy-lower`` on the linear channels, at the channel's own σ²:
  :mod:`ipbook.estimators.noisy`.

Every coordinate is z-scored over the sample first, for every estimator but the noisy-layer bounds:
those take the channel's noiseless output A X as it is, because its noise σ² is on that scale.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from ipbook.estimators.ksg import KSG_MAX_DIM
from ipbook.estimators.matrix import planes_under, VariableSample
from ipbook.estimators.spec import Binning, NoisyBound, parse_spec
from ipbook.experiments.calibration import paper_tasks, quick_tasks, sample, sample_channel_output, Task, true_mi, zscore
from ipbook.experiments.grid import Guard, run_grid
from ipbook.experiments.profiles import calibration_dir
from ipbook.readers import read_table
from ipbook.store import check_memory

__all__ = ["CALIBRATION_GRIDS", "named_tasks", "CALIBRATION_COLUMNS", "MATRIX_SPECS", "TABLE_LABELS", "table_spec", "ESTIMATOR_ORDER", "evaluate_task",
           "estimate_table", "evaluate_grid", "load_estimates", "summary_table", "invariance_table", "seed_means",
           "gaussian_table", "largest_shifts"]

#: The named grids of ``python -m ipbook calibrate --grid``: (tasks, sample sizes N, sample seeds).
CALIBRATION_GRIDS = {"paper": (paper_tasks, (100, 500, 1000), (0, 1, 2, 3, 4)), "quick": (quick_tasks, (100,), (0, 1))}


def named_tasks(name: str) -> tuple[list[Task], list[int], list[int]]:
    """``(tasks, ns, seeds)`` of the grid called ``name`` (:data:`CALIBRATION_GRIDS`): ``paper``,
    every family with d up to 50 and channels from d = 784; ``quick``, one task per family and map, in low dimensions."""
    if name not in CALIBRATION_GRIDS:
        raise ValueError(f"unknown calibration grid {name!r}; valid: {', '.join(CALIBRATION_GRIDS)}")
    tasks, ns, seeds = CALIBRATION_GRIDS[name]
    return tasks(), list(ns), list(seeds)


#: Columns of the calibration table (:func:`estimate_table`, :func:`evaluate_grid`).
CALIBRATION_COLUMNS = ["family", "d", "n", "seed", "estimator", "setting", "true_bits", "bits"]
#: The matrix estimator's settings of the grid, by spec (:func:`ipbook.estimators.parse_spec`).
MATRIX_SPECS = ("matrix", "matrix:rule=median", "matrix:rule=tapia", "matrix:alpha=2")
#: The ``estimator`` column's label of each matrix spec, as the committed tables spell it.
TABLE_LABELS = {"matrix": "matrix-paper", "matrix:rule=median": "matrix-median",
                "matrix:rule=tapia": "matrix-tapia", "matrix:alpha=2": "matrix-alpha2"}
BIN_COUNTS = (10, 30)
#: The estimators in the order the pages list them, by the table's ``estimator`` labels.
ESTIMATOR_ORDER = tuple(TABLE_LABELS[s] for s in MATRIX_SPECS) + ("ksg", "binning", "noisy-upper", "noisy-lower")


def table_spec(label: str) -> str:
    """The spec of an ``estimator`` label of the table (the reverse of :data:`TABLE_LABELS`):
    ``matrix-paper`` -> ``matrix``, ...; ``ksg`` is its own, and ``binning``, ``noisy-upper`` and
    ``noisy-lower`` are families whose setting is in the ``setting`` column."""
    return {v: k for k, v in TABLE_LABELS.items()}.get(label, label)
BINNING_MAX_DIM = 3


def _matrix_estimates(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """I(X; Y) at every spec of :data:`MATRIX_SPECS`, by its table label, in one
    :func:`~ipbook.estimators.matrix.planes_under` call (one set of pairwise distances per variable)."""
    i_xy = planes_under(torch.from_numpy(x), [torch.from_numpy(y)], [parse_spec(s) for s in MATRIX_SPECS])["i_xt"]
    return {TABLE_LABELS[s]: float(v) for s, v in zip(MATRIX_SPECS, i_xy[:, 0])}


def evaluate_task(task: Task, n: int, seed: int) -> list[tuple]:
    """The rows of :data:`CALIBRATION_COLUMNS` for one task, sample size and sample seed."""
    truth = true_mi(task)
    x, y = sample(task, n, seed)
    clean = None
    if task.family == "linear-channel":
        clean, y = y, sample_channel_output(task, y, seed)
    x, y = zscore(x), zscore(y)
    extra = task.setting
    row = lambda est, bits, setting="": (task.family, task.d, n, seed, est,  # noqa: E731
                                        ";".join(filter(None, [extra, setting])), truth, bits)
    rows = [row(name, v) for name, v in _matrix_estimates(x, y).items()]
    if max(x.shape[1], y.shape[1]) <= KSG_MAX_DIM:
        rows.append(row("ksg", parse_spec("ksg").estimate(x, y)))
    if max(x.shape[1], y.shape[1]) <= BINNING_MAX_DIM:
        rows += [row("binning", Binning(b).estimate(x, y), f"bins={b}") for b in BIN_COUNTS]
    if clean is not None:   # the bounds on I(X; AX + ε) at the channel's own σ², from AX's distances
        v = VariableSample(torch.from_numpy(clean))
        rows += [row(f"noisy-{b}", NoisyBound(b, task.variance).estimate(x, v)) for b in ("upper", "lower")]
    return rows


def estimate_table(tasks: Sequence[Task], ns: Sequence[int], seeds: Sequence[int]) -> pd.DataFrame:
    """The rows of :data:`CALIBRATION_COLUMNS` for every task, N and seed, computed in this process,
    nothing written: the quick profile's chapter uses it, and :func:`evaluate_grid` runs it as the
    task of each distribution."""
    return pd.DataFrame([r for t in tasks for n in ns for s in seeds for r in evaluate_task(t, int(n), int(s))],
                        columns=CALIBRATION_COLUMNS)


def seed_means(rows: pd.DataFrame) -> pd.DataFrame:
    """The estimates averaged over sample seeds, per family, d, N, estimator and setting, with the
    seed standard deviation ``sd`` and the ceiling ``log2 N``."""
    g = rows.groupby(["family", "d", "n", "estimator", "setting"], sort=False)
    out = g.agg(true_bits=("true_bits", "first"), bits=("bits", "mean"), sd=("bits", "std")).reset_index()
    return out.assign(ceiling=np.log2(out.n))


def _task_key(task: Task) -> str:
    return f"{task.family}-d{task.d}" + (f"-{task.setting.replace(';', '-')}" if task.setting else "")


def _concat(records: dict) -> list[pd.DataFrame]:
    return [pd.concat(list(records.values()), ignore_index=True)]


#: N x N float64 matrices a task holds at once at sample size N (Gram matrices of X, Y and their
#: product per kernel width, pairwise distances, the eigensolver's copy), a generous count.
MATRICES_PER_TASK = 12


def _check_grid_memory(n: int, tasks: int, workers: int | None, scheduler: str | None) -> None:
    """Refuse, before any work, sample sizes whose matrices the local workers running at once could
    not hold (an existing cluster's machines are not known here)."""
    if scheduler is not None:
        return
    at_once = max(1, min(tasks, workers or os.cpu_count() or 1))
    check_memory(MATRICES_PER_TASK * 8 * float(n) ** 2 * at_once,
                 f"N = {n} on {at_once} worker(s) at once", "give smaller sample sizes (--n) or fewer --workers")


def evaluate_grid(tasks: Sequence[Task] | None = None, *, ns: Sequence[int] = (100, 500, 1000),
                  seeds: Sequence[int] = (0, 1, 2, 3, 4), out=None, workers: int | None = None,
                  scheduler: str | None = None, progress: bool = True, force: bool = False) -> pd.DataFrame:
    """Evaluate ``tasks`` (default :func:`ipbook.experiments.calibration.paper_tasks`) at each N and
    seed and write ``OUT/estimates.csv`` and ``OUT/estimates.json`` atomically (default OUT:
    :func:`ipbook.experiments.profiles.calibration_dir`), by the grid runner
    (:func:`ipbook.experiments.grid.run_grid`): one Dask task per distribution
    (:func:`estimate_table`), kept as a part until the table is written. Before any work, OUT must
    be writable and the new table may not lack a family, d, N, seed or estimator of the table it
    replaces (unless ``force``). A failed task raises :class:`ipbook.experiments.grid.GridFailed`
    after the others finish; nothing is written. Returns the table; its ``attrs["unchanged"]``
    says that it was byte for byte the one in OUT, which was then left as it was (the task times
    logged in ``OUT/.logs/estimates.log``)."""
    tasks = list(tasks) if tasks is not None else paper_tasks()
    ns, seeds = [int(n) for n in ns], [int(s) for s in seeds]
    if not tasks or not ns or not seeds or min(ns) < 2 or min(seeds) < 0:
        raise ValueError(f"give at least one task, N >= 2 and seed >= 0; got {len(tasks)} tasks, N {ns}, seeds {seeds}")
    _check_grid_memory(max(ns), len(tasks), workers, scheduler)
    out = Path(out if out is not None else calibration_dir())
    guards = []
    if (out / "estimates.csv").is_file():   # read under force too: a damaged table is named, never replaced
        have = read_table(out / "estimates.csv", usecols=["family", "d", "n", "seed"], keep_default_na=False).drop_duplicates()
        guards = [Guard({f"{a}/d={b}/N={c}/seed={d}" for a, b, c, d in zip(have.family, have.d, have.n, have.seed)},
                        {f"{t.family}/d={t.d}/N={n}/seed={s}" for t in tasks for n in ns for s in seeds},
                        "distribution(s) and sample(s)", "run the grid the table was made with")]
    plan = {_task_key(task): ([task], ns, seeds) for task in tasks}
    provenance, frames = run_grid(estimate_table, plan, out=out, tables=["estimates.csv"], combine=_concat,
                         info={"tasks": len(tasks), "ns": ns, "seeds": seeds}, guards=guards, force=force,
                         workers=workers, scheduler=scheduler, progress=progress, desc="calibration")
    frames[0].attrs["unchanged"] = bool(provenance.get("unchanged"))   # the same table: nothing rewritten
    return frames[0]


def load_estimates(root=None) -> pd.DataFrame | None:
    """The committed calibration table, or None where it does not exist (default root:
    :func:`ipbook.experiments.profiles.calibration_dir`)."""
    path = Path(root if root is not None else calibration_dir()) / "estimates.csv"
    return read_table(path, keep_default_na=False) if path.is_file() else None


def summary_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Per estimator (and its setting) and N: the mean bias (estimate − truth, bits), the mean
    absolute error, and Spearman's rank correlation between estimate and truth over all tasks
    (seed-averaged estimates, one value per distribution), with the number of tasks."""
    from scipy.stats import spearmanr

    r = rows.assign(key=rows.estimator + np.where(rows.setting.str.contains("bins="),
                                                  " " + rows.setting.str.extract(r"(bins=\d+)")[0].fillna(""), ""))
    r = r.assign(task=r.family + "/" + r.d.astype(str) + "/" + r.setting.str.replace(r";?bins=\d+", "", regex=True))
    mean = r.groupby(["key", "n", "task"], sort=False)[["bits", "true_bits"]].mean().reset_index()
    out = []
    for (key, n), g in mean.groupby(["key", "n"], sort=False):
        err = g.bits - g.true_bits
        rho = spearmanr(g.bits, g.true_bits)[0] if len(g) > 2 and g.bits.nunique() > 1 else float("nan")
        out.append({"estimator": key, "n": int(n), "tasks": len(g), "bias": float(err.mean()),
                    "mae": float(err.abs().mean()), "spearman": float(rho)})
    return pd.DataFrame(out)


def invariance_table(rows: pd.DataFrame) -> pd.DataFrame:
    """How far each MI-preserving map moves each estimate: per estimator, N, map and d, the
    seed-mean of (estimate on the mapped sample − estimate on the sparse Gaussian), ``delta`` in
    bits. The mapped and the plain samples share their seeds, so the shift is the map's alone."""
    base = rows[rows.family == "gaussian-sparse"]
    keys = ["estimator", "setting", "n", "d", "seed"]
    ref = base.set_index(keys).bits
    mapped = rows[rows.family.str.startswith("gaussian-sparse+")]
    moved = mapped.assign(map=mapped.family.str.split("+").str[1],
                          delta=mapped.bits.to_numpy() - ref.reindex(pd.MultiIndex.from_frame(mapped[keys])).to_numpy())
    return moved.groupby(["estimator", "setting", "n", "map", "d"], sort=False)["delta"].mean().reset_index()


def gaussian_table(rows: pd.DataFrame, ds: Sequence[int] = (2, 5, 25),
                   estimators: Sequence[str] = ("matrix-paper", "ksg"), ns: Sequence[int] | None = None) -> pd.DataFrame:
    """The dense and the sparse Gaussian at dimensions ``ds``: the truth and each estimator's
    seed-mean estimate per N (default: the smallest and the largest), in bits (missing where an
    estimator is not evaluated: KSG above 10 dimensions), one row per family and d."""
    m = seed_means(rows)
    ns = sorted({int(m.n.min()), int(m.n.max())}) if ns is None else list(ns)
    m = m[m.family.isin(["gaussian-dense", "gaussian-sparse"]) & m.d.isin(list(ds)) & m.estimator.isin(list(estimators))
          & m.n.isin(ns)]
    m = m.assign(family=m.family.str.replace("gaussian-", "", regex=False))
    wide = m.pivot_table(index=["family", "d", "true_bits"], columns=["estimator", "n"], values="bits")
    wide = wide.reindex(columns=[(e, n) for e in estimators for n in sorted(m.n.unique()) if (e, n) in wide.columns])
    wide.columns = [f"{e}, N={n}" for e, n in wide.columns]
    return wide.reset_index().rename(columns={"true_bits": "truth"})


def largest_shifts(rows: pd.DataFrame, n: int | None = None) -> pd.DataFrame:
    """Per estimator (binning per bin count) and map, the largest |shift| over d of
    :func:`invariance_table` at N = ``n`` (default: the largest N), in bits: estimators as rows,
    maps as columns."""
    shifts = invariance_table(rows)
    n = int(shifts.n.max()) if n is None else int(n)
    s = shifts[shifts.n == n].assign(key=lambda f: f.estimator + np.where(f.setting != "", " " + f.setting, ""))
    table = s.assign(size=s.delta.abs()).pivot_table(index="key", columns="map", values="size", aggfunc="max")
    order = [k for e in ESTIMATOR_ORDER for k in table.index if k.split(" ")[0] == e]
    return table.reindex(order)

