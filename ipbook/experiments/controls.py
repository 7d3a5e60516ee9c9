r"""Controls: does the simplifying phase follow from the paper's choices of nonlinearity, bottleneck
width and sparsity weight?

Three controls, each a profile of runs beside the paper's (``params/controls-*.yaml``):

* **activation** (Saxe et al. 2018): the shallow and the deep AE with tanh, ReLU and no
  nonlinearity beside the paper's sigmoid. Saxe et al. found compression with double-sided
  saturating nonlinearities only;
* **width** (Yu & Príncipe 2019; Tapia & Estévez 2020): the deep AE with n_Z ∈ {2, 5, 10, 20, 50,
  100}. Yu & Príncipe predict that I(X;Z) rises and falls back when n_Z exceeds the data's
  intrinsic dimension, and rises monotonically when it is narrower; Tapia & Estévez that a wide
  bottleneck does not compress and a narrow one compresses in the encoder only;
* **sparsity**: the sparse AE's KL weight λ ∈ {0, 1e-4, 1e-3, 1e-2, 1e-1} (0 is the shallow AE).

The paper's own setting of each control (sigmoid, n_Z = 50, λ = 1e-3 and λ = 0) is the run of the
seeds profile; the others are sweeps of their control profile into ``results/controls/``. A layer
simplifies, does not, or cannot be judged by the book's one judge (:func:`ipbook.verdicts.judge`),
at each bandwidth rule.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ipbook.claims.robustness import at_setting, simplifying_over_checkpoints
from ipbook.estimators.spec import PAPER, Setting
from ipbook.experiments.profiles import load_seeds, RESULTS_DIR, run_profile, sensitivity_dir
from ipbook.experiments.sensitivity import controls_grid, evaluate_checkpoints, load_tables
from ipbook.measures import LONG_RUN_STEPS
from ipbook.verdicts import DOES_NOT, SIMPLIFIES

__all__ = ["Control", "CONTROLS", "setting_of", "control_runs", "delta_i", "runs_by_setting", "saxe_verdict",
           "width_verdicts", "dose_response", "collapsed_runs", "QUICK_OVERRIDES", "control_tables", "rules", "Judged",
           "judge_control", "delta_grid", "activation_numbers", "width_numbers", "sparsity_numbers"]


@dataclass(frozen=True)
class Control:
    """One control: its profile, the setting it varies (a :class:`~ipbook.nets.config.TrainConfig`
    field), and its paper-setting runs, taken from the seeds profile (label: seeds-profile run)."""
    name: str
    profile: str
    axis: str
    baseline: dict = field(default_factory=dict)


CONTROLS = {
    "activation": Control("activation", "controls-activation", "activation",
                          {"shallow-sigmoid": "shallow", "deep-sigmoid": "deep"}),
    "width": Control("width", "controls-width", "bottleneck", {"deep-nz50": "deep"}),
    "sparsity": Control("sparsity", "controls-sparsity", "sparsity",
                        {"sparse-lam0": "shallow", "sparse-lam1e-3": "sparse"}),
}


def setting_of(config: dict, axis: str):
    """The value a run's ``config`` (run.json's) takes on a control's axis, defaults resolved:
    the activation name, the bottleneck width n_Z (50 by default), or the KL weight λ (0 for the
    shallow AE, the paper's 1e-3 for the sparse AE by default)."""
    if axis == "activation":
        return config.get("activation", "sigmoid")
    if axis == "bottleneck":
        return int(config.get("bottleneck") or 50)
    if axis == "sparsity":
        if config["model"] == "shallow":
            return 0.0
        return float(config["sparsity"]) if config.get("sparsity") is not None else 1e-3
    raise ValueError(f"unknown control axis {axis!r}; valid: activation, bottleneck, sparsity")


def _model_of(config: dict, axis: str) -> str:
    """The model a control compares across settings: the deep or shallow AE (activation), the deep
    AE (width), the sparse family (sparsity)."""
    return {"activation": config["model"], "bottleneck": "deep", "sparsity": "sparse"}[axis]


def control_runs(control: Control | str, dataset: str, *, root=None) -> dict[str, dict[int, object]]:
    """``{run label: {seed: Run}}`` for a control: the finished runs of its profile under
    ``ROOT/controls/`` and its paper-setting runs from ``ROOT/seeds/``, the seeds that both have
    (default root: the repository's ``results/``). Nothing is trained; an empty dict means none."""
    c = CONTROLS[control] if isinstance(control, str) else control
    base = Path(root) if root is not None else RESULTS_DIR
    varied = load_seeds(dataset, c.profile, root=base / "controls")
    paper = load_seeds(dataset, "seeds", runs=sorted(set(c.baseline.values())), root=base)
    seeds = sorted(set(varied) & set(paper))
    out: dict[str, dict[int, object]] = {}
    for seed in seeds:
        for label, run in {**varied[seed], **{lab: paper[seed][name] for lab, name in c.baseline.items()}}.items():
            out.setdefault(label, {})[seed] = run
    return out


def delta_i(phases: pd.DataFrame, runs: dict[str, dict[int, object]], control: Control | str) -> pd.DataFrame:
    """Per run label, seed and layer: the control's setting, the model, the peak of I(X;T), ΔI,
    ΔI / peak, the judge's ``verdict`` and the flags ``simplifies`` and ``does_not`` (does not
    simplify: a drop that matters is excluded).

    ``phases``: :func:`ipbook.claims.robustness.simplifying_over_checkpoints` at one setting (judged by
    :func:`ipbook.verdicts.judge`), with run labels in ``run``.
    """
    c = CONTROLS[control] if isinstance(control, str) else control
    rows = []
    for p in phases.itertuples():
        if p.run not in runs:
            continue
        config = next(iter(runs[p.run].values())).info["config"]
        rows.append({"run": p.run, "model": _model_of(config, c.axis), "setting": setting_of(config, c.axis),
                     "seed": p.seed, "layer": p.layer, "peak": p.peak, "dI": p.dI,
                     "dI_frac": p.dI_frac, "verdict": p.verdict,
                     "simplifies": p.verdict == SIMPLIFIES, "does_not": p.verdict == DOES_NOT})
    return pd.DataFrame(rows)


def runs_by_setting(table: pd.DataFrame, label: str = "{}") -> dict[str, str]:
    """Legend label -> run name of a :func:`delta_i` table's runs, in the order of their setting
    (``label`` formats the setting: ``"n_Z = {}"`` gives ``{"n_Z = 2": "deep-nz2", ...}``)."""
    pairs = table[["setting", "run"]].drop_duplicates().sort_values("setting")
    return {label.format(v): r for v, r in zip(pairs.setting, pairs.run)}


def saxe_verdict(table: pd.DataFrame, layer: str = "Z") -> dict:
    """Saxe et al.'s prediction on a :func:`delta_i` table of the activation control: ``layer``
    simplifies with the double-sided saturating sigmoid and tanh, and not with ReLU or no
    nonlinearity. Returns ``holds`` (in every model and seed: the judge finds a fall with the
    first two and excludes one with the others), and the seeds in which ``layer`` simplifies per
    (model, activation) as ``counts`` (``sum``, ``count``, and ``does_not``)."""
    z = table[table.layer == layer]
    counts = z.groupby(["model", "setting"]).agg(sum=("simplifies", "sum"), count=("simplifies", "count"),
                                                  does_not=("does_not", "sum"))
    expect = lambda act: act in ("sigmoid", "tanh")  # noqa: E731
    holds = all((r["sum"] == r["count"]) if expect(act) else (r["does_not"] == r["count"])
                for (_, act), r in counts.iterrows())
    return {"holds": bool(holds), "counts": counts}


def width_verdicts(table: pd.DataFrame, intrinsic_dim: int = 10) -> dict:
    """The two predictions on a :func:`delta_i` table of the width control, per bottleneck width
    n_Z (wide: n_Z > ``intrinsic_dim``). Yu & Príncipe: Z simplifies exactly when the bottleneck is
    wide. Tapia & Estévez: a wide bottleneck simplifies nowhere; a narrow one in the encoder (some
    E layer) and not in the decoder (no D layer). Each holds when it holds in every seed; an
    absence holds where the judge excludes a fall (does not simplify).
    ``z_every_seed``: the widths at which Z simplifies in every seed, in increasing order."""
    yu, tapia = True, True
    for (n_z, seed), g in table.groupby(["setting", "seed"]):
        simp, none = dict(zip(g.layer, g.simplifies)), dict(zip(g.layer, g.does_not))
        wide = n_z > intrinsic_dim
        yu &= simp.get("Z", False) if wide else none.get("Z", False)
        enc = any(v for k, v in simp.items() if k.startswith("E"))
        no_dec = all(v for k, v in none.items() if k.startswith("D"))
        tapia &= all(none.values()) if wide else (enc and no_dec)
    z = table[table.layer == "Z"].groupby("setting").simplifies.all()
    return {"yu_principe": bool(yu), "tapia_estevez": bool(tapia), "intrinsic_dim": intrinsic_dim,
            "z_every_seed": [int(n) for n in z.index[z.to_numpy()]]}


def dose_response(table: pd.DataFrame, geometry: pd.DataFrame, runs: dict[str, dict[int, object]]) -> pd.DataFrame:
    """The sparsity control against λ: mean and sd over seeds of ΔI(Z) (bits), the mean over seeds
    of the peak of I(X;Z) (bits) and of ΔI(Z) as a fraction of it, the final mean activation of Z
    (at the last checkpoint, over the probes and units; ρ = 0.05 is the target) and the final test
    loss; one row per λ, in increasing order."""
    last = geometry[(geometry.layer == "Z")
                    & (geometry.step == geometry.groupby(["run", "seed"]).step.transform("max"))]
    act = {(r.run, r.seed): r.mean_activation for r in last.itertuples()}
    rows = []
    for r in table[table.layer == "Z"].itertuples():
        run = runs[r.run][r.seed]
        rows.append({"lam": r.setting, "seed": r.seed, "dI": r.dI, "peak": r.peak,
                     "dI_frac": r.dI_frac,
                     "mean_activation": act.get((r.run, r.seed), np.nan),
                     "test_loss": float(run.metrics["test_loss"][-1])})
    d = pd.DataFrame(rows)
    return (d.groupby("lam").agg(dI=("dI", "mean"), dI_sd=("dI", "std"), peak=("peak", "mean"),
                                 dI_frac=("dI_frac", "mean"), mean_activation=("mean_activation", "mean"),
                                 test_loss=("test_loss", "mean"), seeds=("seed", "nunique"))
            .reset_index().sort_values("lam"))


def collapsed_runs(runs: dict[str, dict[int, object]], factor: float = 5.0) -> pd.DataFrame:
    """The runs that do not reconstruct: final test loss more than ``factor`` times the lowest final
    test loss among all of the control's runs (``best``), whether the run collapsed during training
    or never learned. Their plane is that of a network that does not reconstruct its input, so
    their ΔI says nothing about compression. One row per (run label, seed) with its ``final`` test
    loss and the control's ``best``; empty when there are none."""
    final = {(label, seed): float(np.asarray(run.metrics["test_loss"], dtype=float)[-1])
             for label, by_seed in runs.items() for seed, run in by_seed.items()}
    best = min(final.values(), default=np.nan)
    rows = [{"run": label, "seed": seed, "final": loss, "best": best}
            for (label, seed), loss in final.items() if loss > factor * best]
    return pd.DataFrame(rows, columns=["run", "seed", "final", "best"])


#: The quick version of a control run: the quick profile's length and measurement schedule.
QUICK_OVERRIDES = {"steps": 400, "ip_every": 2, "test_points": 40, "checkpoints": 20}


def _relabel(rows: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """The rows of the runs in ``names`` (seeds-profile run name: control label), relabelled."""
    rows = rows[rows.run.isin(names)]
    return rows.assign(run=rows.run.map(names))


def control_tables(control: Control | str, profile: str, dataset: str, *, results=None, draws: int = 3):
    """What the Controls chapter shows of one control: ``(runs, rows, geometry, note)``.

    For the paper profile: the finished sweeps (:func:`control_runs`) and the committed tables of
    ``python -m ipbook sensitivity --grid controls`` for the control profile and for the seeds
    profile (its paper-setting runs, relabelled). Otherwise, or where either is missing: the quick
    version of every run (seed 0, :data:`QUICK_OVERRIDES`, trained where missing under
    ``results/quick/``) evaluated on :func:`ipbook.experiments.sensitivity.controls_grid` as the page runs.
    ``note`` says which.
    """
    c = CONTROLS[control] if isinstance(control, str) else control
    base = Path(results) if results is not None else RESULTS_DIR
    if profile == "paper":
        runs = control_runs(c, dataset, root=base)
        varied = load_tables(dataset, root=sensitivity_dir(c.profile) if results is None
                             else base / "controls" / "sensitivity" / c.profile)
        paper = load_tables(dataset, root=None if results is None else base / "sensitivity")
        if runs and varied is not None and paper is not None:
            names = {v: k for k, v in c.baseline.items()}
            rows = pd.concat([varied[0], _relabel(paper[0], names)], ignore_index=True)
            geometry = pd.concat([varied[2], _relabel(paper[2], names)], ignore_index=True)
            seeds = sorted({s for by_seed in runs.values() for s in by_seed})
            steps = sorted({len(r.metrics["train_loss"]) for by_seed in runs.values() for r in by_seed.values()})
            length = f"{steps[0]:,}" if len(steps) == 1 else f"{steps[0]:,} to {steps[-1]:,}"
            return runs, rows[rows.seed.isin(seeds)], geometry[geometry.seed.isin(seeds)], (
                f"{len(runs)} runs of the control and the paper's setting, seed{'s' if len(seeds) > 1 else ''} "
                f"{', '.join(map(str, seeds))}, {length} iterations each.")
    quick = run_profile(c.profile, dataset, root=base / "quick", progress=False, **QUICK_OVERRIDES)
    baseline = run_profile("quick", dataset, runs=sorted(set(c.baseline.values())), root=base, progress=False)
    quick.update({label: baseline[name] for label, name in c.baseline.items()})
    tables = [evaluate_checkpoints(run, controls_grid(draws), name=label) for label, run in quick.items()]
    rows = pd.concat([t[0] for t in tables], ignore_index=True)
    geometry = pd.concat([t[2] for t in tables], ignore_index=True)
    return {label: {0: run} for label, run in quick.items()}, rows, geometry, (
        f"The quick version of each run (seed 0, {QUICK_OVERRIDES['steps']} iterations: the fitting "
        f"phase only), evaluated as this page ran"
        + ("; no committed results of this control exist for this dataset." if profile == "paper" else "."))


# ------------------------------------------------------------------ what the Controls chapter shows
def rules() -> dict:
    """The three bandwidth rules every control is judged at: the paper's (Scott, γ = 2), the
    median heuristic and Tapia & Estévez's rule, by the chapter's names."""
    return {"Scott γ = 2 (paper)": PAPER, "median heuristic": Setting(rule="median", gamma=1.0),
            "Tapia & Estévez": Setting(rule="tapia", gamma=1.0)}


@dataclass
class Judged:
    """One control as the chapter shows it: its runs, sensitivity ``rows`` and ``geometry``, the
    ``note`` on where they come from, ``tables`` ({rule: :func:`delta_i` table}) and ``long``
    (whether every run is long enough to judge a simplifying phase)."""
    runs: dict
    rows: pd.DataFrame
    geometry: pd.DataFrame
    note: str
    tables: dict
    long: bool


def judge_control(control: Control | str, profile: str, dataset: str, *, results=None) -> Judged:
    """:func:`control_tables` of one control, with ΔI of every run, seed and layer judged at each of
    :func:`rules` by the book's judge (:func:`ipbook.verdicts.judge`)."""
    name = control if isinstance(control, str) else control.name
    runs, rows, geometry, note = control_tables(control, profile, dataset, results=results)
    tables = {rule: delta_i(simplifying_over_checkpoints(rows, s), runs, name)
              for rule, s in rules().items()}
    long = all(len(r.metrics["train_loss"]) >= LONG_RUN_STEPS for s in runs.values() for r in s.values())
    return Judged(runs, rows, geometry, note, tables, long)


def delta_grid(tables: dict, layers, index=("model", "setting"), order=None) -> dict[str, pd.DataFrame]:
    """ΔI in bits (mean over seeds) and the seeds that simplify, per rule: ``{rule: (mean, k, n)}``
    frames with ``index`` as rows (in ``order`` when given) and ``layers`` as columns (a layer a
    model lacks is NaN)."""
    out = {}
    for rule, t in tables.items():
        t = t[t.layer.isin(list(layers))]
        piv = lambda v, f: t.pivot_table(index=list(index), columns="layer", values=v, aggfunc=f).reindex(columns=list(layers))  # noqa: E731
        frames = (piv("dI", "mean"), piv("simplifies", "sum"), piv("simplifies", "count"))
        if order is not None:
            frames = tuple(f.reindex([o for o in order if o in f.index]) for f in frames)
        out[rule] = frames
    return out


def activation_numbers(j: Judged) -> dict:
    """The activation section's glued numbers: ΔI(Z) at the paper's rule per model and
    nonlinearity (``a_<model>_<act>``), Saxe et al.'s verdict per rule (``saxe_<k>``: holds /
    judged), and the runs that do not reconstruct (``a_collapsed``, ``a_best_loss``)."""
    paper = next(iter(j.tables.values()))
    z = paper[paper.layer == "Z"].groupby(["model", "setting"]).dI.mean()
    out = {f"a_{m}_{a}": float(z.get((m, a), np.nan)) for m in ("shallow", "deep")
           for a in ("sigmoid", "tanh", "relu", "linear")}
    out.update({f"saxe_{k}": saxe_verdict(t)["holds"] for k, t in enumerate(j.tables.values())})
    collapsed = collapsed_runs(j.runs)
    out["a_collapsed"] = "; ".join(f"{r.run}, seed {r.seed}: {r.final:.3f}" for r in collapsed.itertuples()) or "none"
    out["a_best_loss"] = float(collapsed.best.iloc[0]) if len(collapsed) else float("nan")
    return out


def width_numbers(j: Judged, intrinsic_dim: int = 10) -> dict:
    """The width section's glued numbers: per rule k the two verdicts (``yu_<k>``, ``tapia_<k>``)
    and the widths at which Z simplifies in every seed (``wz_<k>``); ``w_dpi_rise``, the median
    excess of I(X;D2) over I(X;Z) at the end at the paper's rule (bits)."""
    out = {}
    for k, t in enumerate(j.tables.values()):
        v = width_verdicts(t, intrinsic_dim)
        out.update({f"yu_{k}": v["yu_principe"], f"tapia_{k}": v["tapia_estevez"], f"wz_{k}": v["z_every_seed"]})
    end = at_setting(j.rows, PAPER)
    end = end[end.step == end.groupby(["run", "seed"]).step.transform("max")].pivot_table(
        index=["run", "seed"], columns="layer", values="i_xt")
    out["w_dpi_rise"] = float((end["D2"] - end["Z"]).median())
    return out


def sparsity_numbers(j: Judged) -> tuple[pd.DataFrame, dict]:
    """The sparsity section's dose-response table (:func:`dose_response` at the paper's rule) and
    its glued numbers: ΔI(Z), mean activation, drop as % of the peak and peak at λ = 0, the
    paper's λ and the largest (``s_dI_0``, ``s_act_paper``, ``s_frac_max``, ``s_peak_max`` …), the
    λ of the largest drop, whether ΔI rises monotonically with λ, and for the other two rules the
    largest drop in % and the runs that simplify (``s_rule<k>_frac``, ``_k``, ``_n``)."""
    tables = list(j.tables.values())
    dose = dose_response(tables[0], j.geometry, j.runs)
    rho = dose.set_index("lam")
    out = {"s_lam_max": float(dose.lam.max())}
    for name, lam in [("0", 0.0), ("paper", 1e-3), ("max", dose.lam.max())]:
        out.update({f"s_dI_{name}": float(rho.dI[lam]), f"s_act_{name}": float(rho.mean_activation[lam]),
                    f"s_frac_{name}": 100 * float(rho.dI_frac[lam]), f"s_peak_{name}": float(rho.peak[lam])})
    for k, t in enumerate(tables[1:]):
        zr = t[t.layer == "Z"]
        out.update({f"s_rule{k}_frac": 100 * float(zr.dI_frac.max()), f"s_rule{k}_k": int(zr.simplifies.sum()),
                    f"s_rule{k}_n": len(zr)})
    top = dose.loc[dose.dI.idxmax()]
    out.update(s_lam_top=float(top.lam), s_dI_top=float(top.dI))
    order = np.argsort(dose.lam.to_numpy())
    out["s_monotone"] = bool(np.all(np.diff(dose.dI.to_numpy()[order]) > 0))
    return dose, out
