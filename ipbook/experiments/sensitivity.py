r"""Estimator sensitivity: a run's information plane re-estimated on its checkpoints under a grid of
estimator settings.

The paper estimates every plane at one setting: α = 1.01, Scott's rule with γ = 2, the same N = 100
test images. This module asks what the plane would have been at other settings, without
retraining: :meth:`ipbook.nets.runs.Run.model_at` rebuilds the network at each saved iteration, and
each layer T is re-estimated under every :class:`Setting` of a grid that varies one factor at a
time around the paper's (:func:`paper_grid`):

* the **bandwidth rule** of each variable's kernel width σ:

  - ``scott``: σ = γ·N^(−1/(4+d)) on the raw activations (the paper, γ = 2);
  - ``median``: σ = γ·median_{i<j} ‖t_i − t_j‖, the median heuristic on the variable's own sample;
  - ``tapia``: Tapia & Estévez (2020), every feature z-scored over the probe set, then
    σ = γ·√d·N^(−1/(4+d));
* the Rényi order **α** (for α = 2, S = −log2 ‖A‖²_F, no eigen-decomposition);
* the number **N** of probe images, the **probe** split (test or training images) and the probe
  **draw** (draw 0 is the run's own probe set; draws 1, 2, ... are other random sets).

Each variable's pairwise distances are computed once per probe set and reused across bandwidths
and α; the entropies of one probe set and one α come from one batched float64 ``eigvalsh``
(:func:`ipbook.estimators.matrix.planes_under`). A grid point is an
:class:`ipbook.estimators.spec.Setting`; the grids by name are :func:`named_settings`.

:func:`evaluate_sweep` evaluates a grid on every run and seed of a sweep through the one grid
runner (:func:`ipbook.experiments.grid.run_grid`) and writes ``<dataset>.csv.gz`` (rows),
``-input-entropy.csv``, ``-geometry.csv.gz``, ``-rescaling.csv`` and ``.json`` (provenance);
:func:`load_tables` reads them back, and the readers below (:func:`collapse_deviation`,
:func:`probe_noise`, :func:`input_entropy_table`) turn them into the pages' tables.

References
----------
A. M. Saxe et al., "On the information bottleneck theory of deep learning", ICLR (2018).
M. Tapia, P. A. Estévez, "On the information plane of autoencoders", IJCNN (2020).
S. Lee, J. Jo, "Information flows of diverse autoencoders", Entropy 23(7), 862 (2021).
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import torch

from ipbook.claims.robustness import at_setting
from ipbook.estimators import as_matrix
from ipbook.estimators.matrix import entropies, planes_under, VariableSample
from ipbook.estimators.spec import PAPER, Setting
from ipbook.experiments.grid import Guard, lost_runs_remedy, run_grid
from ipbook.experiments.probes import probe_index, spread_steps, TRAIN_PROBE_POOL
from ipbook.experiments.profiles import load_profile, RESULTS_DIR, run_configs, sensitivity_dir, sweep_root
from ipbook.nets.config import CHECKPOINT_FILE
from ipbook.nets.data import load_dataset
from ipbook.nets.runs import load_run
from ipbook.readers import read_json, read_table

__all__ = ["GRID_DRAWS", "named_settings", "paper_grid", "controls_grid", "plane_under_settings", "input_entropy", "rescaled_information",
           "saturated_fraction", "layer_geometry", "evaluate_checkpoints", "evaluate_sweep",
           "load_tables", "collapse_deviation", "probe_noise", "input_entropy_table", "ROW_COLUMNS",
           "INPUT_COLUMNS", "GEOMETRY_COLUMNS", "RESCALING_COLUMNS"]

#: Columns of the tidy tables :func:`evaluate_checkpoints` returns.
ROW_COLUMNS = ["run", "seed", "step", "layer", "rule", "gamma", "alpha", "n", "probe", "draw",
               "i_xt", "i_tx", "s_t"]
INPUT_COLUMNS = ["seed", "rule", "gamma", "alpha", "n", "probe", "draw", "s_x"]
GEOMETRY_COLUMNS = ["run", "seed", "step", "layer", "saturated", "mean_activation", "distance_over_sigma",
                    "sigma", "mean_distance", "within_class", "between_class"]
RESCALING_COLUMNS = ["run", "seed", "step", "layer", "factor", "i_xt"]
#: The files :func:`evaluate_sweep` writes, after the dataset's name, in the order of
#: :func:`evaluate_checkpoints`'s tables.
TABLE_SUFFIXES = (".csv.gz", "-input-entropy.csv", "-geometry.csv.gz", "-rescaling.csv")
#: The factors c of the rescaling experiment (T → c·T at the last checkpoint).
RESCALING_FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)


#: The named grids of ``python -m ipbook sensitivity --grid`` and their probe draws by default.
GRID_DRAWS = {"paper": 10, "controls": 5, "small": 3, "quick": 3}


def named_settings(name: str, draws: int | None = None) -> list[Setting]:
    """The grid called ``name`` (:data:`GRID_DRAWS`): ``paper`` (:func:`paper_grid`), ``controls``
    (:func:`controls_grid`), ``small`` (Scott's γ 1, 2, 8, the other rules, α = 2, training
    probes, N = 100) or ``quick`` (``small`` with γ = 16 too: what the sensitivity chapters evaluate
    as they run where no tables are committed), with ``draws`` probe draws (default: the grid's own)."""
    if name not in GRID_DRAWS:
        raise ValueError(f"unknown sensitivity grid {name!r}; valid: {', '.join(GRID_DRAWS)}")
    draws = GRID_DRAWS[name] if draws is None else draws
    if name == "controls":
        return controls_grid(draws=draws)
    if name == "paper":
        return paper_grid(draws=draws)
    return paper_grid(gammas=(1, 2, 8) if name == "small" else (1, 2, 8, 16), ns=(100,), draws=draws)


def controls_grid(draws: int = 5) -> list[Setting]:
    """The settings the controls are judged at: the paper's, the median heuristic and Tapia &
    Estévez's rule (γ = 1), with ``draws`` probe draws at the paper's setting for the noise."""
    return paper_grid(gammas=(), alphas=(), ns=(), probes=(), draws=draws)


def paper_grid(*, gammas: Sequence[float] = (0.5, 1, 2, 4, 8, 16), alphas: Sequence[float] = (1.01, 2),
               ns: Sequence[int] = (100, 500, 1000), probes: Sequence[str] = ("test", "train"),
               draws: int = 10, rules: Sequence[str] = ("median", "tapia")) -> list[Setting]:
    """The settings that vary one factor at a time around :data:`PAPER` (which comes first):
    Scott's γ, the other bandwidth rules (at γ = 1), α, N, the probe split and ``draws`` probe
    draws in all (draw 0, the run's own, and ``draws − 1`` others)."""
    grid = [PAPER]
    grid += [dataclasses.replace(PAPER, gamma=float(g)) for g in gammas]
    grid += [dataclasses.replace(PAPER, rule=r, gamma=1.0) for r in rules]
    grid += [dataclasses.replace(PAPER, alpha=float(a)) for a in alphas]
    grid += [dataclasses.replace(PAPER, n=int(n)) for n in ns]
    grid += [dataclasses.replace(PAPER, probe=p) for p in probes]
    grid += [dataclasses.replace(PAPER, draw=k) for k in range(draws)]
    return list(dict.fromkeys(grid))


# ----------------------------------------------------------------------------- the estimates
def plane_under_settings(x: VariableSample, layers: Sequence[VariableSample], x_hat: VariableSample,
                         settings: Sequence[Setting], method: str = "exact") -> dict[str, np.ndarray]:
    """I(X; T), I(T; X′) and S(T) of every layer under every setting, on one probe set.

    Parameters
    ----------
    x, x_hat : :class:`VariableSample`
        The network's input and output on the probe set.
    layers : sequence of L :class:`VariableSample`
        The hidden layers on the same probe set.
    settings : sequence of S :class:`Setting`
        Settings of this probe set (their ``n``, ``probe`` and ``draw`` are not looked at).
    method : {"exact", "lanczos", "auto"}, default "exact"
        How each entropy is taken (:func:`ipbook.estimators.matrix.entropies`); the committed
        grids are exact.

    Returns
    -------
    dict with ``i_xt``, ``i_tx``, ``s_t``: (S, L) arrays in bits, and ``s_x``: (S,).

    Notes
    -----
    :func:`ipbook.estimators.matrix.planes_under`, with X′ as the target.
    """
    out = planes_under(x, layers, settings, target=x_hat, method=method)
    return {"i_xt": out["i_xt"], "i_tx": out["i_ty"], "s_t": out["s_t"], "s_x": out["s_x"]}


def input_entropy(x, settings: Iterable[Setting]) -> np.ndarray:
    """S(X) in bits of the sample ``x`` under each setting's rule, γ and α (its N is x's)."""
    v = VariableSample(x)
    settings = list(settings)
    return np.array([float(entropies(v.gram(s.rule, s.gamma), s.alpha)) for s in settings])


def rescaled_information(x, t, factors: Sequence[float], setting: Setting = PAPER) -> np.ndarray:
    """I(X; cT) for each factor c, at one setting. Any invertible map of T, c·T included, leaves the
    true mutual information unchanged; a fixed-width kernel estimate moves with c."""
    vx = VariableSample(x)
    return np.array([plane_under_settings(vx, [VariableSample(as_matrix("t", t) * float(c))], vx,
                                          [setting])["i_xt"][0, 0] for c in factors])


def saturated_fraction(t, activation: str = "sigmoid") -> float:
    """The fraction of the N·d activations of a layer that sit in a flat part of its nonlinearity:
    sigmoid below 0.01 or above 0.99; tanh beyond ±0.98 (the same points of the curve); ReLU at 0
    (its one flat side). NaN for a linear layer, or when the values cannot come from the
    nonlinearity (the VAE's sampled Z)."""
    x = as_matrix("t", t)
    if activation == "sigmoid" and bool(((x >= 0) & (x <= 1)).all()):
        return float(((x < 0.01) | (x > 0.99)).double().mean())
    if activation == "tanh" and bool((x.abs() <= 1).all()):
        return float((x.abs() > 0.98).double().mean())
    if activation == "relu" and bool((x >= 0).all()):
        return float((x == 0).double().mean())
    return float("nan")


def layer_geometry(t, labels, sigma: float, activation: str = "sigmoid") -> dict:
    """What the kernel sees of one layer on the probe set.

    Returns the fraction of saturated units (:func:`saturated_fraction`), the mean activation
    (over probes and units), the mean pairwise distance, its ratio to the kernel width ``sigma``,
    and the mean distance between probes of the same class (``within_class``) and of different
    classes (``between_class``).
    """
    v = t if isinstance(t, VariableSample) else VariableSample(t)
    labels = torch.as_tensor(np.asarray(labels))
    if labels.shape != (v.n,):
        raise ValueError(f"labels must have shape ({v.n},), one per probe; got {tuple(labels.shape)}")
    i, j = torch.triu_indices(v.n, v.n, offset=1)
    dist = v.d2[i, j].sqrt()
    same = labels[i] == labels[j]
    mean = float(dist.mean())
    return {"saturated": saturated_fraction(v.x, activation), "mean_activation": float(v.x.mean()),
            "distance_over_sigma": mean / sigma, "sigma": sigma, "mean_distance": mean,
            "within_class": float(dist[same].mean()) if bool(same.any()) else float("nan"),
            "between_class": float(dist[~same].mean()) if bool((~same).any()) else float("nan")}


def _probe_images(run, settings: Sequence[Setting], data: dict) -> dict:
    """{(probe, n, draw): (images, labels)} for the probe sets the settings need."""
    seed = int(run.info["config"]["seed"])
    out = {}
    for s in settings:
        if s.probe_set in out:
            continue
        split = data[s.probe]
        pool = len(split.x) if s.probe == "test" else min(TRAIN_PROBE_POOL, len(split.x))
        idx = probe_index(seed, s.probe, s.n, s.draw, pool)
        out[s.probe_set] = (split.x[idx].double(), split.y[idx])
    return out


def _forward(model, x: torch.Tensor):
    """The model's layers and output on ``x``; the VAE's sample of Z is drawn from a fixed seed."""
    with torch.no_grad(), torch.random.fork_rng():
        torch.manual_seed(0)
        out = model(x.float())
    return [t.double() for t in out.layers.values()], out.x_hat.double()


def evaluate_checkpoints(run, settings: Sequence[Setting] | None = None, *, steps: Sequence[int] | None = None,
                 data: dict | None = None, name: str | None = None,
                 steps_for: dict | None = None, method: str = "exact") -> tuple[pd.DataFrame, ...]:
    """Re-estimate a run's information plane on its checkpoints under each setting.

    Parameters
    ----------
    run : :class:`ipbook.nets.runs.Run` with checkpoints (``checkpoints.pt`` beside it).
    settings : the grid (default :func:`paper_grid`).
    steps : checkpoints to evaluate (default: all of the run's).
    data : ``{"test": ImageData, "train": ImageData}``; loaded from the run's dataset when omitted.
    name : the ``run`` column (default: the run directory's parent name, e.g. ``deep``).
    steps_for : optional ``{probe_set: steps}`` restricting costly probe sets (e.g. N = 1000) to
        fewer checkpoints.
    method : how each entropy is taken, ``"exact"`` (the committed grids) or ``"lanczos"`` /
        ``"auto"`` for N in the thousands (``paper_grid(ns=(..., 4000))``; see the README for the
        cost).

    Returns
    -------
    rows : one row per (step, layer, setting), columns :data:`ROW_COLUMNS`.
    inputs : S(X) per setting, columns :data:`INPUT_COLUMNS`.
    geometry : per (step, layer) at the paper's probe set, columns :data:`GEOMETRY_COLUMNS`.
    rescaling : I(X; c·T) at the paper's setting and the last checkpoint, for c in
        :data:`RESCALING_FACTORS`, columns :data:`RESCALING_COLUMNS`.
    """
    settings = list(settings) if settings is not None else paper_grid()
    config = run.info["config"]
    seed = int(config["seed"])
    if name is None:
        name = run.path.parent.name if run.path is not None and run.path.name.startswith("seed-") else (
            run.path.name if run.path is not None else config["model"])
    if data is None:
        data = {"test": load_dataset(config["dataset"], "test"), "train": load_dataset(config["dataset"], "train")}
    steps = list(run.checkpoint_steps if steps is None else steps)
    if not steps:
        raise ValueError(f"run {name!r} (seed {seed}) has no checkpoints; train it with checkpoints=K")
    probes = _probe_images(run, settings, data)
    groups: dict[tuple, list[Setting]] = {}
    for s in settings:
        groups.setdefault(s.probe_set, []).append(s)
    x_vars = {key: VariableSample(x) for key, (x, _) in probes.items()}
    inputs = [(seed, s.rule, s.gamma, s.alpha, s.n, s.probe, s.draw,
               float(entropies(x_vars[s.probe_set].gram(s.rule, s.gamma), s.alpha, method=method))) for s in settings]
    rows, geometry, paper_layers = [], [], []
    layer_names = run.layers
    steps = sorted(int(k) for k in steps)
    for step in steps:
        model = run.model_at(int(step))
        for key, group in groups.items():
            if steps_for is not None and key in steps_for and int(step) not in steps_for[key]:
                continue
            layers, x_hat = _forward(model, probes[key][0])
            t_vars = [VariableSample(t) for t in layers]
            est = plane_under_settings(x_vars[key], t_vars, VariableSample(x_hat), group, method)
            for k, s in enumerate(group):
                for l, layer in enumerate(layer_names):
                    rows.append((name, seed, int(step), layer, s.rule, s.gamma, s.alpha, s.n, s.probe, s.draw,
                                 est["i_xt"][k, l], est["i_tx"][k, l], est["s_t"][k, l]))
            if key == PAPER.probe_set:
                paper_layers = layers   # the last step's are the rescaling table's
                for layer, t in zip(layer_names, t_vars):
                    sigma = t.bandwidth(PAPER.rule, PAPER.gamma)
                    g = layer_geometry(t, probes[key][1], sigma, config.get("activation", "sigmoid"))
                    geometry.append({"run": name, "seed": seed, "step": int(step), "layer": layer, **g})
    last = int(steps[-1])
    layers = paper_layers if PAPER.probe_set in probes else []
    x_paper = probes[PAPER.probe_set][0] if layers else None
    rescaling = [(name, seed, last, layer, c, v) for layer, t in zip(layer_names, layers)
                 for c, v in zip(RESCALING_FACTORS, rescaled_information(x_paper, t, RESCALING_FACTORS))]
    return (pd.DataFrame(rows, columns=ROW_COLUMNS), pd.DataFrame(inputs, columns=INPUT_COLUMNS),
            pd.DataFrame(geometry, columns=GEOMETRY_COLUMNS), pd.DataFrame(rescaling, columns=RESCALING_COLUMNS))


def load_tables(dataset: str, root=None) -> tuple[pd.DataFrame, ...] | None:
    """The committed tables of :func:`evaluate_sweep` for ``dataset`` (rows, inputs, geometry,
    rescaling), or None when ``ROOT/<dataset>.csv.gz`` does not exist (default root:
    ``results/sensitivity/``)."""
    base = Path(root) if root is not None else RESULTS_DIR / "sensitivity"
    if not (base / f"{dataset}.csv.gz").is_file():
        return None
    return tuple(read_table(base / f"{dataset}{suffix}") for suffix in TABLE_SUFFIXES)


def _kept_tables(tables: tuple[pd.DataFrame, ...], run_dir, name: str, seed: int,
                 wanted: Sequence[Setting]) -> tuple[pd.DataFrame, ...] | None:
    """The rows of run ``name``, seed ``seed`` in earlier written ``tables``, cut to the settings
    ``wanted``, as a task's four tables, or None when they lack a wanted setting or do not belong
    to the run in ``run_dir``: at the paper's setting and the last checkpoint, its first layer's
    I(X;T) must equal the value recorded online (``metrics.npz``); the first layer, because it is
    deterministic in every model (the VAE's decoder layers see a sampled z). Lets a grid keep runs
    whose checkpoints are not on this machine (checkpoints are not committed)."""
    def mine(table):
        return table[(table.seed == seed) & (table.run == name)].reset_index(drop=True)

    def within(table):
        """``table``'s rows at a wanted setting, and whether every wanted setting has rows."""
        have = [(r, float(g), float(a), int(n), p, int(d)) for r, g, a, n, p, d in
                table[["rule", "gamma", "alpha", "n", "probe", "draw"]].itertuples(index=False)]
        want = {(s.rule, float(s.gamma), float(s.alpha), int(s.n), s.probe, int(s.draw)) for s in wanted}
        return table[[k in want for k in have]].reset_index(drop=True), want <= set(have)

    rows, complete = within(mine(tables[0]))
    inputs, _ = within(tables[1][tables[1].seed == seed])
    if rows.empty or not complete:
        return None
    try:
        run = load_run(run_dir)
    except (FileNotFoundError, ValueError):
        return None
    last_step, m = rows.step.max(), run.metrics
    paper = at_setting(rows)
    paper = paper[paper.step == last_step].set_index("layer")
    if last_step not in m["step"] or set(paper.index) != set(run.layers) or not np.isclose(
            paper.i_xt.loc[run.layers[0]], m["i_xt"][list(m["step"]).index(last_step)][0], atol=1e-5):
        return None
    return rows, inputs, mine(tables[2]), mine(tables[3])


def _checkpoint_tables(run_dir: str, name: str, settings: list[Setting], large_n: int | None,
                       large_n_steps: int) -> tuple[pd.DataFrame, ...]:
    """One task of :func:`evaluate_sweep`: the tables of :func:`evaluate_checkpoints` for one run
    and seed; settings with N above the paper's on ``large_n_steps`` checkpoints, and only when the
    run's seed is ``large_n`` (or ``large_n`` is None)."""
    run = load_run(run_dir)
    seed = int(run.info["config"]["seed"])
    big = [s for s in settings if s.n > PAPER.n]
    if large_n is not None and seed != large_n:
        settings = [s for s in settings if s.n <= PAPER.n]
    steps_for = {s.probe_set: spread_steps(run.checkpoint_steps, large_n_steps) for s in big}
    return evaluate_checkpoints(run, settings, name=name, steps_for=steps_for)


def _plan(dataset: str, runs_dir, out_dir, names: Sequence[str], seeds: Sequence[int],
          settings: list[Setting], large_n_seed: int | None, large_n_steps: int, keep_earlier: bool):
    """What :func:`evaluate_sweep` does with each run and seed: ``(tasks, kept, missing)``.

    A run with checkpoints is a task (``{key: args of _checkpoint_tables}``). A run without keeps
    its rows from the tables in OUT (:func:`_kept_tables`; ``{key: tables}``) or is missing (a list
    of keys ``run/seed-S``).
    """
    tasks, kept, missing, earlier = {}, {}, [], None
    for seed in seeds:
        for name in names:
            key, run_dir = f"{name}/seed-{seed}", Path(runs_dir) / name / f"seed-{seed}"
            if (run_dir / CHECKPOINT_FILE).is_file():
                tasks[key] = (str(run_dir), name, settings, large_n_seed, large_n_steps)
                continue
            if keep_earlier and earlier is None:
                earlier = load_tables(dataset, out_dir) or ()
            wanted = [s for s in settings if large_n_seed is None or seed == large_n_seed or s.n <= PAPER.n]
            tables = _kept_tables(earlier, run_dir, name, seed, wanted) if earlier else None
            if tables is None:
                missing.append(key)
            else:
                kept[key] = tables
    return tasks, kept, missing


def _combine_tables(records: dict) -> list[pd.DataFrame]:
    """The four tables of :data:`TABLE_SUFFIXES` from the tasks' ``records`` (S(X) once per setting)."""
    tables = [pd.concat([r[i] for r in records.values()], ignore_index=True) for i in range(4)]
    tables[1] = tables[1].drop_duplicates(subset=INPUT_COLUMNS[:-1]).sort_values(INPUT_COLUMNS[:-1])
    return tables


def evaluate_sweep(dataset: str, profile: str = "seeds", *, settings: Sequence[Setting] | None = None,
                   seeds: Sequence[int] | None = None, runs: Sequence[str] | None = None,
                   root=None, out=None, large_n_seed: int | str | None = "first", large_n_steps: int = 20,
                   workers: int | None = None, scheduler: str | None = None,
                   keep_earlier: bool = True, progress: bool = True, force: bool = False) -> dict:
    """Evaluate every run and seed of a sweep that has checkpoints, and write the tables.

    The runs are read from ``ROOT/<profile>/<dataset>/<run>/seed-S/`` (default root:
    :func:`ipbook.experiments.profiles.sweep_root`) and the tables written to OUT (default:
    :func:`ipbook.experiments.profiles.sensitivity_dir`) by the grid runner
    (:func:`ipbook.experiments.grid.run_grid`): each (run, seed) is one Dask task, kept as a part
    until the tables are written, so that an interrupted evaluation resumes. Settings with N above
    the paper's 100 are evaluated for one seed only, on ``large_n_steps`` checkpoints:
    ``large_n_seed``, by default (``"first"``) the seed with the most runs that have checkpoints
    (the smallest of ties); None: every seed. Writes, atomically, ``OUT/<dataset>.csv.gz``
    (:data:`ROW_COLUMNS`), ``OUT/<dataset>-input-entropy.csv`` (:data:`INPUT_COLUMNS`),
    ``OUT/<dataset>-geometry.csv.gz`` (:data:`GEOMETRY_COLUMNS`), ``OUT/<dataset>-rescaling.csv``
    (:data:`RESCALING_COLUMNS`) and ``OUT/<dataset>.json`` (the grid, seeds, versions, commit,
    seconds per task, and the runs left out for want of checkpoints).

    A run without checkpoints on this machine keeps its rows from the tables already in OUT
    (``keep_earlier``, listed as ``kept_from_earlier_tables``) when they cover the settings it needs
    and their paper-setting value at the last checkpoint equals its recorded plane; otherwise it is
    left out and listed as ``missing_checkpoints``. Checkpoints are not committed, so this lets a
    grid be completed on another machine without recreating every run's checkpoints.

    Before any work, OUT must be writable, and the new tables must hold every run, seed and
    setting of the tables already in OUT; otherwise ValueError names what would be lost and the
    command that recreates the checkpoints, unless ``force``. When no run has checkpoints here,
    nothing is written unless ``force`` (``written`` False in the result; FileNotFoundError when no
    run keeps rows either). A failed task raises :class:`ipbook.experiments.grid.GridFailed` after the others
    finish, and nothing is written. A failed call leaves no new folders behind.

    Returns the ``.json`` record as a dict (with ``written``).
    """
    settings = list(settings) if settings is not None else paper_grid()
    spec = load_profile(profile)
    seeds = list(seeds) if seeds is not None else list(spec.get("seeds", [0]))
    names = list(runs) if runs is not None else list(run_configs(profile, dataset))
    base = Path(root) if root is not None else sweep_root(profile)
    out_dir = Path(out if out is not None else sensitivity_dir(profile))
    if not (base / profile / dataset).is_dir():
        raise ValueError(f"no sweep of profile {profile!r} on {dataset} under {base} (no folder "
                         f"{base / profile / dataset}); give the sweep's --root")
    if large_n_seed == "first":
        large_n_seed = _first_large_n_seed(base / profile / dataset, out_dir, dataset, names, seeds)
    tasks, kept, missing = _plan(dataset, base / profile / dataset, out_dir, names, seeds, settings,
                                 large_n_seed, large_n_steps, keep_earlier)
    info = {"dataset": dataset, "profile": profile, "seeds": seeds,
            "settings": [dataclasses.asdict(s) for s in settings], "large_n_seed": large_n_seed,
            "large_n_steps": large_n_steps, "evaluated": sorted({*tasks, *kept}),
            "kept_from_earlier_tables": sorted(kept), "missing_checkpoints": missing}
    written = run_grid(_checkpoint_tables, tasks, out=out_dir, tables=[f"{dataset}{s}" for s in TABLE_SUFFIXES],
                       combine=_combine_tables, info=info, kept=kept, force=force,
                       guards=_guards(out_dir, dataset, profile, {*tasks, *kept}, missing, settings, root),
                       workers=workers, scheduler=scheduler, progress=progress, desc="sensitivity")
    if written is None and not kept:
        raise FileNotFoundError(f"no run of {profile}/{dataset} under {base} has checkpoints "
                                f"({CHECKPOINT_FILE}); python -m ipbook sweep --profile {profile} --dataset "
                                f"{dataset} --recreate-checkpoints makes them")
    if written is None:   # every run keeps its rows: the tables would only be rewritten as they are
        return {**info, "task_seconds": {}, "written": False,
                "rows": sum(len(t[0]) for t in kept.values())}
    return {**written[0], "written": True}


def _first_large_n_seed(runs_dir, out_dir, dataset: str, names: Sequence[str], seeds: Sequence[int]) -> int | None:
    """The seed evaluated at large N: the one the tables already in OUT were evaluated with (their
    ``.json``'s ``large_n_seed``), so that their rows can be kept; else the seed with the most runs
    that have checkpoints here (the smallest of ties); None when no run has any."""
    record = Path(out_dir) / f"{dataset}.json"
    if record.is_file() and (Path(out_dir) / f"{dataset}.csv.gz").is_file():
        earlier = read_json(record).get("large_n_seed")
        if earlier is not None and int(earlier) in [int(s) for s in seeds]:
            return int(earlier)
    count = {int(s): sum((Path(runs_dir) / n / f"seed-{s}" / CHECKPOINT_FILE).is_file() for n in names) for s in seeds}
    return min((s for s in count if count[s]), key=lambda s: (-count[s], s), default=None)


def _guards(out_dir, dataset: str, profile: str, planned: set, missing: Sequence[str],
            settings: Sequence[Setting], root=None) -> list:
    """The never-shrink rules of ``OUT/<dataset>.csv.gz`` (:class:`ipbook.experiments.grid.Guard`):
    the new table may not lack a run and seed (``planned``: the ``run/seed-S`` keys it will hold)
    nor a setting of the table there; the remedy names the command that recreates the checkpoints
    of the ``missing`` runs (in the sweep under ``root``, when given)."""
    path = Path(out_dir) / f"{dataset}.csv.gz"
    if not path.is_file():
        return []
    have = read_table(path, usecols=["run", "seed", "rule", "gamma", "alpha", "n", "probe", "draw"]).drop_duplicates()
    keys = {f"{r}/seed-{s}" for r, s in zip(have.run, have.seed)}
    remedy = lost_runs_remedy(keys - set(planned), missing, profile=profile, dataset=dataset, root=root)
    have_settings = {f"({Setting(rule=r.rule, gamma=float(r.gamma), alpha=float(r.alpha), n=int(r.n), probe=r.probe, draw=int(r.draw)).label()})"
                     for r in have.drop(columns=["run", "seed"]).drop_duplicates().itertuples()}
    return [Guard(keys, set(planned), "run(s)", remedy),
            Guard(have_settings, {f"({s.label()})" for s in settings}, "setting(s)",
                  "evaluate the grid the table was made with (--grid paper for results/sensitivity/)")]


def collapse_deviation(rows: pd.DataFrame, setting: Setting = PAPER) -> pd.DataFrame:
    """How far the plane is from its layer's entropy: per run and layer, the largest
    |I(X;T) − S(T)| and |I(T;X′) − S(T)| over seeds and checkpoints at ``setting``."""
    r = at_setting(rows, setting).assign(dev_xt=lambda d: (d.i_xt - d.s_t).abs(),
                                         dev_tx=lambda d: (d.i_tx - d.s_t).abs())
    return (r.groupby(["run", "layer"], sort=False)[["dev_xt", "dev_tx", "s_t"]]
            .agg({"dev_xt": "max", "dev_tx": "max", "s_t": "max"}).reset_index())


def probe_noise(rows: pd.DataFrame) -> pd.DataFrame:
    """The estimator's noise: per run and layer, the standard deviation of I(X;T) over the probe
    draws at the paper's setting (at each checkpoint, then the median over seeds and checkpoints)."""
    draws = rows[(rows.rule == PAPER.rule) & np.isclose(rows.gamma, PAPER.gamma)
                 & np.isclose(rows.alpha, PAPER.alpha) & (rows.n == PAPER.n) & (rows.probe == PAPER.probe)]
    if draws.draw.nunique() < 2:
        raise ValueError("probe_noise needs at least two probe draws at the paper's setting")
    sd = draws.groupby(["run", "seed", "step", "layer"], sort=False).i_xt.std(ddof=1).rename("sd").reset_index()
    return sd.groupby(["run", "layer"], sort=False).sd.median().reset_index()


def input_entropy_table(x, *, gammas: Sequence[float] = (0.5, 1, 2, 4, 8, 16),
                        ns: Sequence[int] = (100, 500, 1000), alpha: float = PAPER.alpha) -> pd.DataFrame:
    """S(X) under Scott's rule for every γ and N, on the first N rows of the images ``x``; with
    the ceiling log2 N that S(X) reaches once the kernel tells every image apart."""
    x = as_matrix("x", x)
    if max(ns) > x.shape[0]:
        raise ValueError(f"N up to {max(ns)} needs that many images; got {x.shape[0]}")
    out = []
    for n in ns:
        s_x = input_entropy(x[:n], [Setting(gamma=float(g), alpha=alpha, n=int(n)) for g in gammas])
        out += [{"gamma": float(g), "n": int(n), "s_x": float(v), "ceiling": math.log2(n)} for g, v in zip(gammas, s_x)]
    return pd.DataFrame(out)


