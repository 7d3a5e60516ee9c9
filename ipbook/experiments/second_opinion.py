"""A second opinion: noise- and quantization-defined information on the same checkpoints as the paper's plane.

Every layer T of a run is re-measured at each checkpoint (:meth:`ipbook.nets.runs.Run.model_at`)
with the estimators of :mod:`ipbook.estimators` that measure a defined quantity. A deterministic
layer's Shannon I(X;T) over N distinct probe images is log2 N and never moves, so these measure the
layer's geometry at a scale (the noise σ, the bin size); only the VAE's bounds concern the trained
model's own I(X;Z):

* ``noisy-upper``, ``noisy-lower``: the pairwise bounds on I(X; T + ε), ε ~ N(0, σ²I), at each σ²
  of :data:`ipbook.estimators.NOISE_VARIANCES` (``setting`` is σ²);
* ``binning``: I(X; bin(T)) = H(bin(T)) with equal-width bins over the layer's range, at each bin
  count of :data:`ipbook.estimators.BINS` (``setting``);
* ``vae-rate``, ``vae-lower``: the VAE's bounds on its true I(X; Z), from the encoder's μ and
  log σ² (the layer ``Z`` of the ``vae`` run only; ``setting`` empty).

X is uniform over the probe images: N = 1000 test images (draw 0: the first 1000 of the run's own
probe permutation, so its 100 are among them) and N = 1000 training images, at every checkpoint;
and ``draws − 1`` further random test sets at ``draw_steps`` checkpoints, which measure each
estimator's noise. The pairwise distances of a layer on a probe set are computed once and shared
by every noise level. KSG is not evaluated here: it needs X, the 784-pixel image, and its
chain-rule form is biased already at 10 dimensions (see the calibration page).

Tables (:func:`evaluate_sweep`, by the grid runner :func:`ipbook.experiments.grid.run_grid`):
``results/second-opinion/<dataset>.csv.gz`` with columns :data:`SECOND_OPINION_COLUMNS`, and
``<dataset>.json`` (the grid, seeds, versions, commit, seconds per task).

The activation control (:func:`activation_rows`, :func:`activation_drops`,
:func:`saxe_verdicts`): Saxe et al.'s own test, the tanh, ReLU and linear runs of
``controls-activation`` (their table: ``results/second-opinion/controls-activation/<dataset>.csv.gz``)
beside the paper's sigmoid runs, judged under these estimators.

Verdicts (:func:`estimator_verdicts`): each claim of the paper about simplifying phases
(:data:`ipbook.claims.robustness.ROBUSTNESS_CLAIMS`, DPI excepted) re-judged per estimator and setting,
seeds counted as in the robustness matrix. Every layer is judged by the book's one judge,
:func:`ipbook.verdicts.judge`, with the ceiling log2 N: a layer pinned there (its peak and its end
within the margin of it) is **saturated** and cannot be judged.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from ipbook.claims.catalog import simplifying_claims
from ipbook.claims.robustness import ROBUSTNESS_CLAIMS, ROBUSTNESS_KEYS
from ipbook.estimators.binning import binned_layer_information, BINS
from ipbook.estimators.matrix import VariableSample
from ipbook.estimators.noisy import NOISE_VARIANCES, noisy_bounds
from ipbook.estimators.spec import parse_spec
from ipbook.estimators.vae import vae_lower_bound, vae_rate
from ipbook.experiments.grid import checkpoint_plan, run_grid
from ipbook.experiments.profiles import load_profile, run_configs, second_opinion_dir, sweep_root
from ipbook.experiments.probes import probe_index, spread_steps, TRAIN_PROBE_POOL
from ipbook.nets.data import DatasetNotFoundError, load_dataset
from ipbook.nets.layers import ACTIVATION_NAMES
from ipbook.nets.runs import load_run
from ipbook.readers import read_table
from ipbook.verdicts import CANNOT, HOLDS, judge_frame, SIMPLIFIES

__all__ = ["SECOND_OPINION_COLUMNS", "ESTIMATORS", "Grid", "checkpoint_estimates", "run_estimates", "evaluate_sweep",
           "load_table", "series", "saturated", "simplifying", "estimator_verdicts", "verdict_matrix",
           "drop_table", "drop_matrix", "saturation_table", "column_name", "column_order", "split_verdict_matrix",
           "activation_rows", "activation_drops", "saxe_verdicts", "activation_grid"]

#: Columns of the rows of :func:`run_estimates` and of the table of :func:`evaluate_sweep`.
SECOND_OPINION_COLUMNS = ["run", "seed", "step", "layer", "estimator", "setting", "probe", "n", "draw", "bits"]
ESTIMATORS = ("noisy-upper", "noisy-lower", "binning", "vae-rate", "vae-lower")


@dataclass(frozen=True)
class Grid:
    """What :func:`run_estimates` measures: probe size ``n``, noise ``variances``, bin counts
    ``bins``, ``draws`` probe draws of the test split in all (draw 0 included) at ``draw_steps``
    evenly spread checkpoints, and the training-image probe set when ``train_probe``."""
    n: int = 1000
    variances: tuple[float, ...] = NOISE_VARIANCES
    bins: tuple[int, ...] = BINS
    draws: int = 6
    draw_steps: int = 20
    train_probe: bool = True

    def __post_init__(self):
        if not (self.n >= 2 and self.draws >= 1 and self.draw_steps >= 1):
            raise ValueError(f"n must be >= 2, draws >= 1 and draw_steps >= 1; got {self.n}, {self.draws}, {self.draw_steps}")
        _ = self.estimators   # every variance and bin count checked by the one spec parser

    @property
    def estimators(self) -> list:
        """The :class:`~ipbook.estimators.Estimator` objects the grid's settings name (built to check
        them; :func:`checkpoint_estimates` computes the same values sharing one distance matrix), in
        the table's order: ``noisy-upper:σ²`` and ``noisy-lower:σ²`` at each variance,
        ``binning:k`` at each bin count (the VAE's ``vae-rate`` and ``vae-lower`` besides, on Z)."""
        return ([parse_spec(f"noisy-upper:{v!r}") for v in self.variances]
                + [parse_spec(f"noisy-lower:{v!r}") for v in self.variances]
                + [parse_spec(f"binning:{k!r}") for k in self.bins])


def checkpoint_estimates(layers: dict, extras: dict, grid: Grid) -> list[tuple[str, str, str, float]]:
    """``(layer, estimator, setting, bits)`` of every estimator on one forward pass: ``layers``
    maps names to (N, d) tensors, ``extras`` holds the VAE's ``mu`` and ``logvar``."""
    out = []
    for name, t in layers.items():
        v = VariableSample(t.double())
        b = noisy_bounds(v, grid.variances)
        out += [(name, "noisy-upper", f"{s:g}", float(u)) for s, u in zip(grid.variances, b["upper"])]
        out += [(name, "noisy-lower", f"{s:g}", float(lo)) for s, lo in zip(grid.variances, b["lower"])]
        out += [(name, "binning", str(k), binned_layer_information(v.x, k)) for k in grid.bins]
    if "mu" in extras and "Z" in layers:
        mu, logvar = extras["mu"].double(), extras["logvar"].double()
        out += [("Z", "vae-rate", "", vae_rate(mu, logvar)), ("Z", "vae-lower", "", vae_lower_bound(mu, logvar))]
    return out


def _probe_sets(run, grid: Grid, data: dict) -> dict[tuple[str, int], torch.Tensor]:

    seed = int(run.info["config"]["seed"])
    keys = [("test", d) for d in range(grid.draws)] + ([("train", 0)] if grid.train_probe else [])
    out = {}
    for split, draw in keys:
        pool = len(data[split].x) if split == "test" else min(TRAIN_PROBE_POOL, len(data[split].x))
        out[(split, draw)] = data[split].x[probe_index(seed, split, grid.n, draw, pool)].float()
    return out


def run_estimates(run, grid: Grid = Grid(), *, name: str | None = None, data: dict | None = None,
                  steps: Sequence[int] | None = None) -> pd.DataFrame:
    """Every estimator of :data:`ESTIMATORS` on every layer of ``run`` at its checkpoints (or
    ``steps``); the extra probe draws at ``grid.draw_steps`` of them. Returns rows of
    :data:`SECOND_OPINION_COLUMNS`."""
    config = run.info["config"]
    seed = int(config["seed"])
    name = name or (run.path.parent.name if run.path is not None else config["model"])
    if data is None:
        data = {"test": load_dataset(config["dataset"], "test"), "train": load_dataset(config["dataset"], "train")}
    steps = sorted(int(s) for s in (run.checkpoint_steps if steps is None else steps))
    if not steps:
        raise ValueError(f"run {name!r} (seed {seed}) has no checkpoints; train it with checkpoints=K")
    probes = _probe_sets(run, grid, data)
    draw_at = set(spread_steps(steps, grid.draw_steps))
    rows = []
    for step in steps:
        model = run.model_at(step)
        for (split, draw), x in probes.items():
            if draw > 0 and step not in draw_at:
                continue
            with torch.no_grad(), torch.random.fork_rng():
                torch.manual_seed(0)          # the VAE's sampled Z: the same draw at every step
                out = model(x)
            for layer, est, setting, bits in checkpoint_estimates(out.layers, out.extras, grid):
                rows.append((name, seed, step, layer, est, setting, split, grid.n, draw, bits))
    return pd.DataFrame(rows, columns=SECOND_OPINION_COLUMNS)


def _run_estimates_at(run_dir: str, name: str, grid: Grid) -> pd.DataFrame:
    """One task of :func:`evaluate_sweep`: :func:`run_estimates` of the run in ``run_dir``."""
    return run_estimates(load_run(run_dir), grid, name=name)


def load_table(dataset: str, root=None) -> pd.DataFrame | None:
    """The table of :func:`evaluate_sweep` for ``dataset``, or None where there is none (default
    root: :func:`ipbook.experiments.profiles.second_opinion_dir`)."""
    path = Path(root if root is not None else second_opinion_dir()) / f"{dataset}.csv.gz"
    return read_table(path, dtype={"setting": str}, keep_default_na=False) if path.is_file() else None


def _sorted_table(records: dict) -> list[pd.DataFrame]:
    """The tasks' ``records`` as one table, by run, seed, step, layer, estimator, probe and draw."""
    table = pd.concat(list(records.values()), ignore_index=True)
    return [table.sort_values(["run", "seed", "step", "layer", "estimator", "probe", "draw"], kind="stable")]


def _check_probe_size(dataset: str, grid: Grid) -> None:
    """Refuse, before any work, a probe size N larger than the images it is drawn from: the test
    set, and the first :data:`TRAIN_PROBE_POOL` training images for the training-image probes.
    Without the data here nothing is checked (the tasks report it)."""
    try:
        test = len(load_dataset(dataset, "test", download=False))
        pool = min(TRAIN_PROBE_POOL, len(load_dataset(dataset, "train", download=False)))
    except DatasetNotFoundError:
        return
    most = min(test, pool) if grid.train_probe else test
    if grid.n > most:
        train = f" and the first {pool:,} training images the training probes are drawn from" if grid.train_probe else ""
        raise ValueError(f"N = {grid.n:,} probe images (--n) are more than {dataset} has: {test:,} test "
                         f"images{train}; N can be at most {most:,}")


def evaluate_sweep(dataset: str, profile: str = "seeds", *, grid: Grid = Grid(), seeds=None, runs=None, root=None,
                   out=None, workers: int | None = None, scheduler: str | None = None, progress: bool = True,
                   force: bool = False) -> dict:
    """Evaluate every run and seed of a sweep that has checkpoints here and write
    ``OUT/<dataset>.csv.gz`` and ``OUT/<dataset>.json`` atomically (default OUT:
    :func:`ipbook.experiments.profiles.second_opinion_dir`), by the grid runner
    (:func:`ipbook.experiments.grid.run_grid`): one Dask task per run and seed, kept as a part until
    the table is written, so that an interrupted evaluation resumes. Runs without checkpoints keep
    their rows from the table already in OUT. Before any work OUT must be writable, and the new
    table may not lack a run and seed of the existing one (unless ``force``). When nothing is
    evaluated, nothing is written unless ``force`` (``written`` False). A failed task raises
    :class:`ipbook.experiments.grid.GridFailed` after the others finish; nothing is written."""
    spec = load_profile(profile)
    seeds = list(seeds) if seeds is not None else list(spec.get("seeds", [0]))
    names = list(runs) if runs is not None else list(run_configs(profile, dataset))
    _check_probe_size(dataset, grid)
    base = Path(root) if root is not None else sweep_root(profile)
    out_dir = Path(out if out is not None else second_opinion_dir(profile))
    tasks, kept, missing, guard = checkpoint_plan(load_table(dataset, out_dir), base / profile / dataset, names, seeds,
                                                  (grid,), profile=profile, dataset=dataset, root=root)
    info = {"dataset": dataset, "profile": profile, "seeds": seeds, "grid": dataclasses.asdict(grid),
            "evaluated": sorted(tasks), "kept_from_earlier_table": sorted(kept), "missing_checkpoints": missing}
    written = run_grid(_run_estimates_at, tasks, out=out_dir, tables=[f"{dataset}.csv.gz"], combine=_sorted_table,
                       info=info, kept=kept, guards=[guard], force=force, workers=workers, scheduler=scheduler,
                       progress=progress, desc="second-opinion")
    return {**info, "written": False} if written is None else {**written[0], "written": True}


# ----------------------------------------------------------------------------- verdicts
def series(rows: pd.DataFrame, probe: str = "test", draw: int = 0) -> pd.DataFrame:
    """The main trajectories: one probe set, every run, seed, layer, estimator and setting."""
    return rows[(rows.probe == probe) & (rows.draw == draw)]


def simplifying(rows: pd.DataFrame) -> pd.DataFrame:
    """The book's judge (:func:`ipbook.verdicts.judge`) on the main trajectories (:func:`series`),
    per run, seed, layer, estimator and setting, with the ceiling log2 N: ``peak``, ``final``,
    ``dI`` (bits), ``dI_frac`` (of the peak), ``low``, ``high``, ``verdict``, ``reason``,
    ``simplifies`` and ``saturated`` (pinned at its ceiling: the judge cannot judge it)."""
    keys = ["run", "seed", "layer", "estimator", "setting"]
    main = series(rows)
    # the VAE's rate bounds the model's own I(X;Z) from above and can exceed log2 N: no ceiling
    ceiling = np.where(main.estimator == "vae-rate", np.nan, np.log2(main.n))
    v = judge_frame(main.assign(ceiling=ceiling), keys, value="bits", ceiling="ceiling")
    v = v.rename(columns={"drop": "dI", "drop_frac": "dI_frac"})
    return v.assign(simplifies=v.verdict == SIMPLIFIES, saturated=v.kind == "pinned")


def saturated(rows: pd.DataFrame) -> pd.DataFrame:
    """Per run, seed, layer, estimator and setting: whether the judge finds the value pinned at
    its ceiling log2 N (peak and end within the margin of it), so that no fall could show."""
    return simplifying(rows)[["run", "seed", "layer", "estimator", "setting", "saturated"]]


def estimator_verdicts(rows: pd.DataFrame) -> pd.DataFrame:
    """The paper's claims about simplifying phases (:data:`ipbook.claims.robustness.ROBUSTNESS_CLAIMS`,
    DPI excepted) per estimator and setting: columns ``claim``, ``column`` (estimator and setting),
    ``holds``, ``fails`` and ``cannot`` (seeds in which it holds, fails, or cannot be judged, by
    :func:`ipbook.verdicts.judge` on every layer it rests on), ``judged`` (holds + fails) and
    ``saturated`` (of the seeds that cannot judge, those with a layer pinned at its ceiling)."""
    phase = simplifying(rows)
    text = dict(ROBUSTNESS_CLAIMS)
    out = []
    for (est, setting), p in phase.groupby(["estimator", "setting"], sort=False):
        counts = {}
        for _, ps in p.groupby("seed"):
            verdicts = {(r, l): v for r, l, v in zip(ps.run, ps.layer, ps.verdict)}
            frac = {(r, l): f for r, l, f in zip(ps.run, ps.layer, ps.dI_frac)}
            sat = {(r, l): s for r, l, s in zip(ps.run, ps.layer, ps.saturated)}
            for claim, (status, layers) in simplifying_claims(verdicts, frac, ROBUSTNESS_KEYS).items():
                c = counts.setdefault(claim, {"holds": 0, "fails": 0, "cannot": 0, "saturated": 0})
                key = "holds" if status == HOLDS else "cannot" if status == CANNOT else "fails"
                c[key] += 1
                c["saturated"] += status == CANNOT and any(sat.get(k, False) for k in layers)
        out += [{"claim": text[k], "column": column_name(est, setting), **v, "judged": v["holds"] + v["fails"]}
                for k, v in counts.items()]
    return pd.DataFrame(out, columns=["claim", "column", "holds", "fails", "cannot", "judged", "saturated"])


def column_name(estimator: str, setting: str) -> str:
    """How a page names an estimator at a setting: ``noisy-upper σ²=0.1``, ``binning 30 bins``."""
    if estimator.startswith("noisy"):
        return f"{estimator} σ²={setting}"
    if estimator == "binning":
        return f"binning {setting} bins"
    return estimator


def verdict_matrix(verdicts: pd.DataFrame) -> pd.DataFrame:
    """:func:`estimator_verdicts` as a page table: claims as rows, estimator settings as columns,
    each cell ``k/n`` (seeds in which the claim holds / could be judged), ``saturated`` where no
    seed could be judged and one was pinned at the ceiling, ``cannot judge`` where none could be
    judged otherwise, and ``k/n, m ?`` where m seeds could not be judged."""
    def cell(r):
        if r.judged == 0:
            return "saturated" if r.saturated else CANNOT
        return f"{r.holds}/{r.judged}" + (f", {r.cannot} ?" if r.cannot else "")
    v = verdicts.assign(cell=[cell(r) for r in verdicts.itertuples()])
    table = v.pivot(index="claim", columns="column", values="cell")

    claims = [text for _, text in ROBUSTNESS_CLAIMS if text in set(verdicts.claim)]
    return table.reindex(index=claims, columns=sorted(set(verdicts.column), key=column_order)).fillna("–")


def column_order(column: str) -> tuple:
    """Noisy-layer upper bounds, then lower bounds (each by σ²), binning by bins, the VAE's bounds."""
    est, _, rest = column.partition(" ")
    number = float(rest.split("=")[-1].split()[0]) if any(ch.isdigit() for ch in rest) else 0.0
    return (["noisy-upper", "noisy-lower", "binning", "vae-rate", "vae-lower"].index(est)
            if est in ("noisy-upper", "noisy-lower", "binning", "vae-rate", "vae-lower") else 9, number)


def drop_table(rows: pd.DataFrame, runs: Sequence[str] = ("shallow", "sparse", "deep"), layer: str = "Z") -> pd.DataFrame:
    """ΔI of ``layer`` per run and estimator setting: mean and sd over seeds, in bits, and as a
    percentage of the peak; with the seeds in which it simplifies and those the judge cannot judge."""
    p = simplifying(rows)
    p = p[p.run.isin(list(runs)) & (p.layer == layer)]
    p = p.assign(column=[column_name(e, s) for e, s in zip(p.estimator, p.setting)], pct=100 * p.dI_frac,
                 cannot=p.verdict == CANNOT)
    g = p.groupby(["run", "column"], sort=False)
    return g.agg(dI=("dI", "mean"), dI_sd=("dI", "std"), pct=("pct", "mean"), simplifies=("simplifies", "sum"),
                 cannot=("cannot", "sum"), saturated=("saturated", "sum"), seeds=("seed", "nunique")).reset_index()


def drop_matrix(drops: pd.DataFrame) -> pd.DataFrame:
    """:func:`drop_table` as a page table: estimator settings as rows, runs as columns, each cell
    ``ΔI ± sd bits (pct %, k/n)``: k seeds simplify of n (the sd where there are two seeds or
    more; ``m ?`` where m seeds cannot be judged)."""
    def cell(r):
        sd = f" ± {r.dI_sd:.2f}" if r.dI_sd == r.dI_sd else ""
        sat = f", {r.cannot} ?" if r.cannot else ""
        return f"{r.dI:.2f}{sd} ({r.pct:.0f} %, {r.simplifies}/{r.seeds}{sat})"
    d = drops.assign(cell=[cell(r) for r in drops.itertuples()])
    table = d.pivot(index="column", columns="run", values="cell")
    runs = [r for r in ("shallow", "sparse", "deep") if r in table.columns] + [r for r in table.columns
                                                                              if r not in ("shallow", "sparse", "deep")]
    return table.reindex(index=sorted(table.index, key=column_order), columns=runs).rename_axis(index="estimator", columns=None)


def saturation_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Per estimator setting: the share of (run, seed, layer) trajectories that the judge finds
    pinned at the ceiling log2 N (saturated: cannot judge)."""
    s = saturated(rows)
    s = s.assign(column=[column_name(e, v) for e, v in zip(s.estimator, s.setting)])
    return s.groupby("column", sort=False).saturated.agg(["mean", "sum", "count"]).reset_index().rename(
        columns={"mean": "share", "sum": "saturated", "count": "trajectories"})



def _family(column: str) -> tuple[str, str]:
    """A page column's (estimator family, setting) header pair: ``noisy-upper σ²=0.1`` ->
    ``("noisy upper bound", "σ²=0.1")``."""
    est, _, rest = column.partition(" ")
    names = {"noisy-upper": "noisy upper bound", "noisy-lower": "noisy lower bound", "binning": "binning",
             "vae-rate": "VAE", "vae-lower": "VAE"}
    if est in ("vae-rate", "vae-lower"):
        return "VAE", est.split("-")[1]
    return names.get(est, column), rest or ""


def split_verdict_matrix(matrix: pd.DataFrame, first: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`verdict_matrix` (claims as rows) cut into two tables that fit a page: the noisy-layer
    bounds, and binning with the VAE's bounds; each with two-level column headers (family,
    setting), ``saturated`` shortened to ``sat.``, and the column ``first`` (e.g. the paper's
    kernel estimator) leading both."""
    m = matrix.replace("saturated", "sat.")
    lead = [first] if first is not None and first in m.columns else []
    noisy = [c for c in m.columns if c.startswith("noisy")]
    other = [c for c in m.columns if c not in noisy and c not in lead]

    def part(cols):
        t = m[lead + cols].copy()
        t.columns = pd.MultiIndex.from_tuples([(c, "") if c in lead else _family(c) for c in lead + cols])
        return t
    return part(noisy), part(other)


# ----------------------------------------------------------------------------- the activation control
def activation_rows(seeds_rows: pd.DataFrame, control_rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of the activation control (runs ``<model>-<activation>`` of ``controls-activation``)
    with the paper's sigmoid runs from the seeds profile's table (``shallow``, ``deep``) relabelled
    ``shallow-sigmoid`` and ``deep-sigmoid``. Both tables must come from the same :class:`Grid`."""
    base = seeds_rows[seeds_rows.run.isin(["shallow", "deep"])]
    return pd.concat([base.assign(run=base.run + "-sigmoid"), control_rows], ignore_index=True)


def activation_drops(rows: pd.DataFrame, layer: str = "Z") -> pd.DataFrame:
    """ΔI(``layer``) of :func:`activation_rows` per estimator setting (``column``), model and
    activation: ``pct`` (the mean over seeds of ΔI as % of the peak), ``simplifies`` and ``does_not``
    (seeds the judge calls so), ``judged`` (their sum) and ``seeds``."""
    p = simplifying(rows)
    p = p[p.layer == layer]
    model, activation = zip(*(r.rsplit("-", 1) for r in p.run)) if len(p) else ((), ())
    p = p.assign(column=[column_name(e, s) for e, s in zip(p.estimator, p.setting)], model=list(model),
                 activation=list(activation), pct=100 * p.dI_frac, does_not=p.verdict == "does not simplify")
    g = p.groupby(["column", "model", "activation"], sort=False)
    out = g.agg(pct=("pct", "mean"), simplifies=("simplifies", "sum"), does_not=("does_not", "sum"),
                seeds=("seed", "nunique")).reset_index()
    return out.assign(judged=out.simplifies + out.does_not)


def saxe_verdicts(drops: pd.DataFrame) -> pd.Series:
    """Saxe et al.'s prediction per estimator setting of :func:`activation_drops`: the bottleneck
    simplifies with the double-sided saturating sigmoid and tanh in every seed, and with ReLU or no
    nonlinearity in none. ``"holds"`` (every seed as predicted), ``"does not hold"`` (a seed
    against it), or ``"cannot judge"`` where no seed is against it but some cannot be judged."""
    def one(g):
        saturating = g.activation.isin(["sigmoid", "tanh"])
        fails = ((saturating & (g.does_not > 0)) | (~saturating & (g.simplifies > 0))).any()
        if fails:
            return "does not hold"
        return "cannot judge" if (g.judged < g.seeds).any() else "holds"
    return pd.Series({column: one(g) for column, g in drops.groupby("column", sort=False)}, name="verdict")


def activation_grid(drops: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    """:func:`activation_drops` for :func:`ipbook.site.grid_plots.plot_delta_heatmaps`: per model
    (``"shallow AE"``, ``"deep AE"``) the frames ``(pct, simplifies, judged)`` with estimator
    settings as rows and the activations as columns; ``pct`` is NaN where no seed could be judged
    (every one saturated), ``judged`` then 0."""
    out = {}
    for model in [m for m in ("shallow", "deep") if m in set(drops.model)]:
        d = drops[drops.model == model]
        rows = sorted(set(d.column), key=column_order)
        cols = [a for a in ACTIVATION_NAMES if a in set(d.activation)]
        piv = lambda v: d.pivot(index="column", columns="activation", values=v).reindex(index=rows, columns=cols)  # noqa: E731
        judged = piv("judged")
        out[f"{model} AE"] = (piv("pct").where(judged > 0), piv("simplifies"), judged)
    return out
