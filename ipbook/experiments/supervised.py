"""The supervised control: does a classifier keep I(T;Y) flat while I(X;T) falls?

Section IV of the paper contrasts its autoencoders with "general supervised learning", which
"maintained the output mutual information as constant during the simplifying phase". The control is
the deep AE's encoder 784-256-128-50 (sigmoid) with a 10-way softmax (:class:`ipbook.nets.models.Classifier`),
trained with cross entropy at the paper's settings (``params/supervised.yaml``): the plane I(X;T),
I(T;Y) of every layer, Y the labels, under the paper's estimator on 100 test images every 10
iterations, and under the noisy-layer bounds and binning on 1,000 other test images at 100
iterations (``est_*`` arrays of the runs). tanh and ReLU versions give Saxe et al.'s contrast.

Runs live in ``results/supervised/<dataset>/<run>/seed-S/`` (the sweep engine's layout: reusable,
resumable, fingerprinted); :func:`load_supervised` reads them, :func:`plane_frame` makes one tidy
table, :func:`contrast` measures each trajectory and :func:`contrast_summary` counts seeds.

Whether a layer **simplifies** is decided by the book's one judge (:func:`ipbook.verdicts.judge`,
ceiling log2 N): it simplifies, does not, or cannot be judged (``saturated``: pinned at its
ceiling). Its I(T;Y) **stays flat** when the smoothed I(T;Y) at the end differs from its value at
the peak's iteration of I(X;T) by at most ``flat_bits`` (0.05 bits, 1.5 % of log2 10).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ipbook.experiments.profiles import RESULTS_DIR, run_configs
from ipbook.experiments.second_opinion import column_order, column_name
from ipbook.measures import moving_average, simplifying_phase
from ipbook.nets.runs import load_run, Run
from ipbook.text import plus_minus
from ipbook.verdicts import judge, SIMPLIFIES

__all__ = ["PROFILE", "RUNS", "load_supervised", "plane_frame", "contrast", "contrast_summary",
           "claim_verdict", "contrast_table", "verdict_grid", "activation_table", "encoder_drops", "FLAT_BITS"]

PROFILE = "supervised"
RUNS = ("classifier", "classifier-tanh", "classifier-relu")
#: I(T;Y) "stays flat" when it changes by at most this many bits over the simplifying phase.
FLAT_BITS = 0.05


def load_supervised(dataset: str, *, profile: str = PROFILE, root: str | Path | None = None,
                    runs: Sequence[str] | None = None, **overrides) -> dict[str, dict[int, Run]]:
    """The finished runs of the supervised profile: ``{run name: {seed: Run}}``, every seed whose
    run is finished with the profile's config (with ``overrides``; others left out), as the sweep
    writes them (``ROOT/<profile>/<dataset>/<run>/seed-S``); nothing is trained."""
    base = Path(root) if root is not None else RESULTS_DIR
    out: dict[str, dict[int, Run]] = {}
    for name in runs or run_configs(profile, dataset):
        for seed in range(100):
            path = base / profile / dataset / name / f"seed-{seed}"
            if not (path / "run.json").is_file():
                continue
            run = load_run(path)
            want = run_configs(profile, dataset, seed=seed, **overrides)[name].to_dict()
            if {**want, **run.info["config"]} == want:
                out.setdefault(name, {})[seed] = run
    return out


def _tidy(name: str, seed: int, m: dict, estimator: str, setting: str, steps, n: int, i_xt, i_ty) -> pd.DataFrame:
    """One estimator's (S, L) arrays of one run as rows of :func:`plane_frame`."""
    steps, layers = np.asarray(steps), list(m["layers"])
    return pd.DataFrame({
        "run": name, "seed": seed, "step": np.repeat(steps, len(layers)), "layer": np.tile(layers, len(steps)),
        "estimator": estimator, "setting": setting, "n": n,
        "i_xt": np.asarray(i_xt, dtype=np.float64).ravel(), "i_ty": np.asarray(i_ty, dtype=np.float64).ravel()})


def plane_frame(runs: dict[str, dict[int, Run]]) -> pd.DataFrame:
    """One tidy table of every run and seed: ``run, seed, step, layer, estimator, setting, n, i_xt,
    i_ty`` (bits); ``estimator`` ``matrix`` (the paper's setting, N = ``ip_samples``) and the
    further estimators of the runs (``noisy-upper`` … with σ² or bins as ``setting``)."""
    frames = []
    for name, seeds in runs.items():
        for seed, run in sorted(seeds.items()):
            m = run.metrics
            frames.append(_tidy(name, seed, m, "matrix", "", m["step"], len(m["probe_index"]), m["i_xt"], m["i_ty"]))
            for k, spec in enumerate(m.get("est_names", [])):
                est, _, setting = str(spec).partition(":")
                frames.append(_tidy(name, seed, m, est, setting, m["est_step"], len(m["est_probe_index"]),
                                    np.asarray(m["est_i_xt"])[..., k], np.asarray(m["est_i_ty"])[..., k]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["run", "seed", "step", "layer", "estimator", "setting", "n", "i_xt", "i_ty"])


def _one(g: pd.DataFrame, flat_bits: float) -> dict:
    """The contrast of one trajectory (one run, seed, layer, estimator and setting)."""
    g = g.sort_values("step")
    steps, ixt, ity = g.step.to_numpy(), g.i_xt.to_numpy(), g.i_ty.to_numpy()
    phase = simplifying_phase(ixt, steps)
    w = phase["window"]
    ty = moving_average(ity, w)
    k = int(np.argmax(moving_average(ixt, w)))
    ceiling = math.log2(int(g.n.iloc[0]))
    out = {"peak_step": phase["peak_step"], "ixt_peak": phase["peak"], "ixt_end": phase["final"],
           "dI_xt": phase["dI"], "dI_xt_frac": phase["dI"] / phase["peak"] if phase["peak"] > 0 else 0.0,
           "ity_at_peak": float(ty[k]), "ity_end": float(ty[-1]), "dI_ty": float(ty[-1] - ty[k]),
           "ceiling": ceiling}
    v = judge(steps, ixt, ceiling=ceiling)
    out.update(verdict=v.verdict, saturated=v.kind == "pinned", simplifies=v.verdict == SIMPLIFIES)
    out["ty_flat"] = abs(out["dI_ty"]) <= flat_bits
    return out


def contrast(frame: pd.DataFrame, *, flat_bits: float = FLAT_BITS) -> pd.DataFrame:
    """Per run, seed, layer, estimator and setting: the peak of the smoothed I(X;T)
    (``peak_step``, ``ixt_peak``), its end, the drop ``dI_xt`` (bits; ``dI_xt_frac`` of the peak),
    the smoothed I(T;Y) at that peak's iteration and at the end and its change ``dI_ty`` over the
    same iterations, the judge's ``verdict`` and the flags ``saturated``, ``simplifies`` and ``ty_flat``."""
    keys = ["run", "seed", "layer", "estimator", "setting"]
    rows = [{**dict(zip(keys, key)), **_one(g, flat_bits)}
            for key, g in frame.groupby(keys, sort=False)]
    return pd.DataFrame(rows)


def contrast_summary(c: pd.DataFrame) -> pd.DataFrame:
    """:func:`contrast` over seeds: per run, layer, estimator and setting the mean and sd of
    ``dI_xt``, ``dI_xt_frac`` and ``dI_ty``, and the seeds that simplify, keep I(T;Y) flat, both
    (``claim``: the paper's contrast holds in that seed) and are saturated, of ``seeds``."""
    keys = ["run", "layer", "estimator", "setting"]
    g = c.assign(claim=c.simplifies & c.ty_flat).groupby(keys, sort=False)
    out = g.agg(seeds=("seed", "nunique"), dI_xt=("dI_xt", "mean"), dI_xt_sd=("dI_xt", "std"),
                dI_xt_frac=("dI_xt_frac", "mean"), dI_ty=("dI_ty", "mean"), dI_ty_sd=("dI_ty", "std"),
                ity_end=("ity_end", "mean"), simplifies=("simplifies", "sum"), ty_flat=("ty_flat", "sum"),
                claim=("claim", "sum"), saturated=("saturated", "sum"))
    return out.reset_index()


def claim_verdict(summary: pd.DataFrame, run: str = "classifier", estimator: str = "matrix",
                  setting: str = "") -> dict:
    """The paper's contrast for one run and estimator setting: the layers that simplify in a
    majority of seeds (``simplifying``), of those the ones whose I(T;Y) stays flat in a majority
    (``flat``), and ``holds``: some layer simplifies and every simplifying layer keeps I(T;Y) flat;
    ``judged`` False when every layer is saturated."""
    s = summary[(summary.run == run) & (summary.estimator == estimator) & (summary.setting == setting)]
    judged = bool(len(s)) and bool((s.saturated < s.seeds).any())
    simp = s[s.simplifies * 2 > s.seeds]
    flat = simp[simp.ty_flat * 2 > simp.seeds]
    return {"judged": judged, "simplifying": list(simp.layer), "flat": list(flat.layer),
            "holds": judged and len(simp) > 0 and len(flat) == len(simp)}


def _column(estimator: str, setting: str) -> str:
    """A page's name for an estimator at a setting, the paper's matrix estimator named as such."""
    return "matrix (paper)" if estimator == "matrix" else column_name(estimator, setting)


def _order(column: str) -> tuple:
    """The paper's matrix estimator first, then :func:`ipbook.experiments.second_opinion.column_order`."""
    return (-1, 0.0) if column.startswith("matrix") else column_order(column)


def contrast_table(summary: pd.DataFrame, run: str = "classifier", estimator: str = "matrix",
                setting: str = "") -> pd.DataFrame:
    """One run at one estimator setting, a row per layer: −ΔI(X;T) and the change of I(T;Y) over
    the same iterations as mean ± sd over seeds (bits), the drop as % of the peak, and the seeds
    that simplify, keep I(T;Y) flat, and both (the paper's contrast), as ``k/n``."""
    s = summary[(summary.run == run) & (summary.estimator == estimator) & (summary.setting == setting)]
    return pd.DataFrame({
        "layer": s.layer,
        "I(X;T): peak → end [bits]": [plus_minus(-a, b) for a, b in zip(s.dI_xt, s.dI_xt_sd)],
        "drop [% of peak]": [f"{100 * v:.0f}" for v in s.dI_xt_frac],
        "I(T;Y) over the same iterations [bits]": [plus_minus(a, b) for a, b in zip(s.dI_ty, s.dI_ty_sd)],
        "simplifies": [f"{k}/{n}" for k, n in zip(s.simplifies, s.seeds)],
        "I(T;Y) flat": [f"{k}/{n}" for k, n in zip(s.ty_flat, s.seeds)],
        "contrast holds": [f"{k}/{n}" + (f", {m} sat." if m else "") for k, n, m in zip(s.claim, s.seeds, s.saturated)],
    }).set_index("layer")


def verdict_grid(summary: pd.DataFrame, run: str = "classifier") -> pd.DataFrame:
    """The paper's contrast for one run under every estimator setting (rows) and layer (columns):
    ``k/n`` seeds in which the layer simplifies with a flat I(T;Y), and ``(m moving)`` the seeds in
    which it simplifies while I(T;Y) moves; ``no drop`` where it simplifies in no seed,
    ``saturated`` where every seed is."""
    s = summary[summary.run == run]

    def cell(r):
        if r.saturated == r.seeds:
            return "saturated"
        if r.simplifies == 0:
            return "no drop"
        return f"{r.claim}/{r.seeds}" + (f" ({r.simplifies - r.claim} moving)" if r.simplifies > r.claim else "")
    d = s.assign(column=[_column(e, v) for e, v in zip(s.estimator, s.setting)], cell=[cell(r) for r in s.itertuples()])
    table = d.pivot(index="column", columns="layer", values="cell")
    layers = [x for x in ("E1", "E2", "Z", "Yhat") if x in table.columns]
    return table.reindex(index=sorted(table.index, key=_order), columns=layers).rename_axis(index="estimator", columns=None)


def activation_table(summary: pd.DataFrame, runs: dict, layer: str = "Z") -> pd.DataFrame:
    """Saxe et al.'s contrast on one layer: estimator settings as rows, runs (``{label: run}``) as
    columns, each cell the drop of I(X;T) as % of the peak (mean over seeds) with the seeds that
    simplify, ``k/n``."""
    s = summary[(summary.layer == layer) & summary.run.isin(list(runs.values()))]
    label = {v: k for k, v in runs.items()}

    def cell(r):
        if r.saturated == r.seeds:
            return "saturated"
        return f"{100 * r.dI_xt_frac:.0f} % ({r.simplifies}/{r.seeds})"
    d = s.assign(column=[_column(e, v) for e, v in zip(s.estimator, s.setting)], cell=[cell(r) for r in s.itertuples()],
                 runl=[label[r] for r in s.run])
    table = d.pivot(index="column", columns="runl", values="cell")
    return table.reindex(index=sorted(table.index, key=_order),
                         columns=[k for k in runs if k in table.columns]).rename_axis(index="estimator", columns=None)


def encoder_drops(runs: Sequence[Run], layers: Sequence[str] = ("E1", "E2", "Z")) -> pd.DataFrame:
    """The drop of the smoothed I(X;T) from its peak to the end for ``layers`` of several runs (e.g.
    the deep AE's seeds, whose encoder the classifier shares): per layer the mean and sd over the
    runs in bits (``dI``, ``dI_sd``) and the mean as % of the peak (``pct``)."""
    rows = []
    for run in runs:
        m, names = run.metrics, list(run.metrics["layers"])
        for layer in layers:
            p = simplifying_phase(np.asarray(m["i_xt"])[:, names.index(layer)], m["step"])
            rows.append({"layer": layer, "dI": p["dI"], "pct": 100 * p["dI"] / p["peak"] if p["peak"] > 0 else 0.0})
    d = pd.DataFrame(rows)
    return d.groupby("layer", sort=False).agg(dI=("dI", "mean"), dI_sd=("dI", "std"), pct=("pct", "mean"),
                                              runs=("dI", "size")).reset_index()
