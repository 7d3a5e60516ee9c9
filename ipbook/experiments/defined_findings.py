r"""What the runs whose I(X;T) is defined show: curves, verdicts, geometry and the scale figure.

Reads the tables of :mod:`ipbook.experiments.defined` (noise inside, a quantized bottleneck) and
puts every estimate of the book on one axis, its scale:

- the noise-trained runs' I(X;T) by sample propagation, judged per run and layer by the book's one
  judge (:func:`ipbook.verdicts.judge`) on the mean over seeds, with the Monte-Carlo standard error
  as the noise of each value and the ceiling log2 N;
- the quantized bottleneck's exact H(Z) = I(X;Z), judged the same way against its own ceiling,
  the smaller of log2 N and the code's capacity :math:`k\,d_Z` bits (the values are exact, so
  the judge's noise is the trajectory's own jitter over checkpoints);
- the geometry of each layer (:mod:`ipbook.experiments.geometry`) at the peak and at the end;
- :func:`scale_points`: the bottleneck's drop as a share of its peak against each estimator's
  scale (kernel width, noise σ, bin width, the noise β inside, the quantization step) in units of
  the layer's typical pairwise distance at the peak.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ipbook.verdicts import SIMPLIFIES, judge_frame

__all__ = ["SP", "run_setting", "sp_series", "sp_verdicts", "code_series", "code_verdicts", "geometry_at",
           "seeds_geometry", "scale_points", "scale_fit"]

#: The quantity of the noise-trained runs' I(X;T) by sample propagation in the defined tables.
SP = "i_xt_sp"
_NOISY = re.compile(r"^(?P<model>[a-z]+)-b(?P<beta>[0-9.]+)$")
_QUANT = re.compile(r"^q(?P<bits>\d+)-z(?P<width>\d+)$")


def run_setting(name: str) -> dict:
    """What a run's name of ``params/noisy.yaml`` or ``params/quantized.yaml`` says:
    ``{"model", "beta"}`` for ``shallow-b0.3``, ``{"model": "shallow", "bits", "width"}`` for
    ``q4-z5``."""
    if m := _NOISY.match(name):
        return {"model": m["model"], "beta": float(m["beta"])}
    if m := _QUANT.match(name):
        return {"model": "shallow", "bits": int(m["bits"]), "width": int(m["width"])}
    raise ValueError(f"run name {name!r} is neither MODEL-bBETA (noise inside) nor qBITS-zWIDTH (quantized)")


def sp_series(rows: pd.DataFrame) -> pd.DataFrame:
    """The noise-trained runs' I(X;T) by sample propagation: one row per run, seed, step and
    layer, with ``model``, ``beta``, ``bits``, ``stderr`` and ``ceiling`` (log2 N)."""
    s = rows[rows.quantity == SP]
    settings = pd.DataFrame([run_setting(r) for r in s.run], index=s.index)
    return s.assign(model=settings.model, beta=settings.beta, bits=s.value,
                    ceiling=np.log2(s.n.astype(float)))[["run", "model", "beta", "seed", "step", "layer", "n",
                                                         "bits", "stderr", "ceiling"]]


def _judged(series: pd.DataFrame, keys: list[str], sd: str | None = "stderr") -> pd.DataFrame:
    """The judge on the mean over seeds (per ``keys``, with the step) and the seeds that simplify;
    ``sd``: the column of each value's standard error, or None (exact values: the judge then
    estimates the trajectory's own jitter, so that a fall is told from training noise)."""
    mean = series.groupby(keys + ["step"], as_index=False).agg(bits=("bits", "mean"), stderr=("stderr", "mean"),
                                                                ceiling=("ceiling", "first"))
    v = judge_frame(mean, keys, value="bits", ceiling="ceiling", sd=sd)
    per_seed = judge_frame(series, keys + ["seed"], value="bits", ceiling="ceiling", sd=sd)
    k = per_seed.assign(s=per_seed.verdict == SIMPLIFIES).groupby(keys).agg(seeds_simplify=("s", "sum"),
                                                                            seeds=("seed", "nunique"))
    return v.merge(k.reset_index(), on=keys)


def sp_verdicts(rows: pd.DataFrame) -> pd.DataFrame:
    """Per noise-trained run and layer: the judge's verdict on I(X;T) by sample propagation (mean
    over seeds; noise: the Monte-Carlo standard error), ``peak``, ``final``, ``drop`` and its
    interval ``low``–``high`` in bits, ``peak_step``, ``ceiling`` and the seeds that simplify."""
    s = sp_series(rows)
    v = _judged(s, ["run", "layer"])
    first = s.groupby(["run", "layer"]).agg(model=("model", "first"), beta=("beta", "first"),
                                            ceiling=("ceiling", "first")).reset_index()
    return first.merge(v, on=["run", "layer"])


def code_series(rows: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """The quantized bottleneck's exact H(Z) over every image of ``split``: one row per run, seed
    and step, with ``bits``, ``width``, ``capacity`` (k d_Z bits), ``log2_n`` and ``ceiling``
    (the smaller of the two), ``i_zy`` (exact I(Z;Y)) and ``stderr`` 0."""
    h = rows[(rows.quantity == "h_z") & (rows.split == split)]
    i = rows[(rows.quantity == "i_zy") & (rows.split == split)][["run", "seed", "step", "value"]]
    out = h.merge(i.rename(columns={"value": "i_zy"}), on=["run", "seed", "step"])
    settings = pd.DataFrame([run_setting(r) for r in out.run], index=out.index)
    capacity = settings.bits * settings.width
    log2_n = np.log2(out.n.astype(float))
    return out.assign(bits=out.value, k=settings.bits, width=settings.width, capacity=capacity, log2_n=log2_n,
                      ceiling=np.minimum(log2_n, capacity), stderr=0.0)[
        ["run", "k", "width", "seed", "step", "split", "n", "bits", "i_zy", "capacity", "log2_n", "ceiling", "stderr"]]


def code_verdicts(rows: pd.DataFrame, split: str = "test") -> pd.DataFrame:
    """Per quantized run: H(Z) at the first checkpoint (``start``), its peak and the end (means over
    seeds), the ceiling, I(Z;Y) at the end, and the judge's verdict on the fall of H(Z)."""
    s = code_series(rows, split).assign(layer="Z")
    v = _judged(s, ["run", "layer"], sd=None)
    mean = s.groupby(["run", "step"], as_index=False)[["bits", "i_zy"]].mean()
    ends = mean.sort_values("step").groupby("run").agg(start=("bits", "first"), end_i_zy=("i_zy", "last"))
    first = s.groupby("run").agg(k=("k", "first"), width=("width", "first"), log2_n=("log2_n", "first"),
                                 capacity=("capacity", "first"), ceiling=("ceiling", "first"))
    return first.join(ends).reset_index().merge(v.drop(columns="layer"), on="run")


def geometry_at(rows: pd.DataFrame, verdicts: pd.DataFrame,
                keys=("clustering_ratio", "effective_rank", "median_distance", "saturated_share")) -> pd.DataFrame:
    """Each run's and layer's geometry (mean over seeds) at the first checkpoint, at the peak of its
    I(X;T) (``peak_step`` of ``verdicts``) and at the end: columns ``<key>_start``,
    ``<key>_peak``, ``<key>_end``."""
    g = rows[rows.quantity.isin(keys)].groupby(["run", "layer", "quantity", "step"], as_index=False)["value"].mean()
    out = []
    for v in verdicts.itertuples():
        one = g[(g.run == v.run) & (g.layer == v.layer)]
        rec = {"run": v.run, "layer": v.layer}
        for key in keys:
            q = one[one.quantity == key].sort_values("step")
            if q.empty:
                continue
            at_peak = q.iloc[int(np.argmin(np.abs(q.step.to_numpy() - v.peak_step)))]
            rec |= {f"{key}_start": q.value.iloc[0], f"{key}_peak": at_peak.value, f"{key}_end": q.value.iloc[-1]}
        out.append(rec)
    return pd.DataFrame(out)


def seeds_geometry(sensitivity: tuple, runs=("shallow", "sparse", "deep")) -> pd.DataFrame:
    """The seeds runs' Z (the paper's deterministic AEs) at the first checkpoint, at the peak of its
    I(X;Z) at the paper's setting (Scott's γ = 2, α = 1.01, N = 100; judged on the mean over seeds)
    and at the end, from the sensitivity grid's geometry: the **distance ratio** (mean within-class
    over mean between-class pairwise distance; 1: no class separation), the mean pairwise distance
    and the saturated share; columns as :func:`geometry_at`. The sensitivity grid keeps distances,
    not the covariance, so the scatter ratio and the effective rank are not in it."""
    rows, geometry = sensitivity[0], sensitivity[2]
    k = rows[(rows.layer == "Z") & rows.run.isin(runs) & (rows.rule == "scott") & (rows.alpha == 1.01)
             & (rows.n == 100) & (rows.gamma == 2.0)]
    k = k.groupby(["run", "step"], as_index=False).agg(bits=("i_xt", "mean"), sd=("i_xt", "std"))
    verdicts = judge_frame(k.assign(ceiling=math.log2(100)), ["run"], value="bits", ceiling="ceiling", sd="sd")
    geo = geometry[(geometry.layer == "Z") & geometry.run.isin(runs)]
    geo = geo.assign(distance_ratio=geo.within_class / geo.between_class, saturated_share=geo.saturated)
    keys = ("distance_ratio", "mean_distance", "saturated_share")
    long = geo.melt(id_vars=["run", "seed", "step", "layer"], value_vars=list(keys), var_name="quantity")
    return geometry_at(long, verdicts.assign(layer="Z"), keys=keys)


def _at_step(geometry: pd.DataFrame, step: int) -> float:
    """The value of a one-trajectory geometry frame (columns step, value) nearest to ``step``."""
    return float(geometry.value.iloc[int(np.argmin(np.abs(geometry.step.to_numpy() - step)))])


def _seeds_points(sensitivity: tuple | None, second: pd.DataFrame | None,
                  runs=("shallow", "sparse", "deep")) -> list[dict]:
    """The points of the seeds runs' Z: the paper's kernel at each γ, the noisy upper bound at each
    σ², binning at each bin count; unit: Z's mean pairwise distance at the peak (sensitivity's
    geometry table)."""
    if sensitivity is None:
        return []
    rows, geometry = sensitivity[0], sensitivity[2]
    geo = geometry[(geometry.layer == "Z") & geometry.run.isin(runs)]
    trajectories = []
    k = rows[(rows.layer == "Z") & rows.run.isin(runs) & (rows.rule == "scott") & (rows.alpha == 1.01) & (rows.n == 100)]
    k = k.groupby(["run", "seed", "gamma", "step"], as_index=False).agg(bits=("i_xt", "mean"), sd=("i_xt", "std"))
    for v in judge_frame(k.assign(ceiling=math.log2(100)), ["run", "seed", "gamma"], value="bits",
                         ceiling="ceiling", sd="sd").itertuples():
        sigma = float(geo[(geo.run == v.run) & (geo.seed == v.seed)].sigma.iloc[0]) * v.gamma / 2
        trajectories.append(("kernel width σ_γ", f"γ = {v.gamma:g}", v, sigma))
    if second is not None:
        from ipbook.experiments.second_opinion import simplifying
        so = simplifying(second[(second.layer == "Z") & second.run.isin(runs)])
        for v in so[so.estimator.isin(["noisy-upper", "binning"])].itertuples():
            if v.estimator == "noisy-upper":
                trajectories.append(("noise σ (added after training)", f"σ² = {v.setting}", v, math.sqrt(float(v.setting))))
            else:
                trajectories.append(("bin width", f"{float(v.setting):g} bins", v, 1.0 / float(v.setting)))
    out = []
    for family, label, v, scale in trajectories:
        g = geo[(geo.run == v.run) & (geo.seed == v.seed)][["step", "mean_distance"]].rename(columns={"mean_distance": "value"})
        unit = _at_step(g, v.peak_step)
        drop = getattr(v, "drop", getattr(v, "dI", np.nan))
        out.append({"family": family, "setting": label, "run": v.run, "seed": v.seed, "scale": scale, "unit": unit,
                    "drop_share": drop / v.peak if v.peak > 0 else np.nan, "verdict": v.verdict})
    return out


def _defined_points(noisy: pd.DataFrame | None, quantized: pd.DataFrame | None) -> list[dict]:
    """The points of the noise-trained runs' Z (β) and the quantized bottleneck (its step
    1/(2^k − 1)); unit: Z's median pairwise distance at the peak."""
    out = []
    for rows, family in ((noisy, "noise β inside (trained with it)"), (quantized, "quantization step")):
        if rows is None:
            continue
        series = sp_series(rows) if family.startswith("noise") else code_series(rows).assign(layer="Z")
        series = series[series.layer == "Z"]
        sd = "stderr" if family.startswith("noise") else None        # exact counts: the trajectory's jitter
        for v in judge_frame(series, ["run", "seed"], value="bits", ceiling="ceiling", sd=sd).itertuples():
            s = run_setting(v.run)
            scale = s["beta"] if "beta" in s else 1.0 / (2 ** s["bits"] - 1)
            g = rows[(rows.run == v.run) & (rows.seed == v.seed) & (rows.layer == "Z")
                     & (rows.quantity == "median_distance")][["step", "value"]]
            out.append({"family": family, "setting": v.run, "run": s["model"], "seed": v.seed, "scale": scale,
                        "unit": _at_step(g, v.peak_step), "drop_share": v.drop / v.peak if v.peak > 0 else np.nan,
                        "verdict": v.verdict})
    return out


def scale_points(*, sensitivity=None, second=None, noisy=None, quantized=None) -> pd.DataFrame:
    """The scale figure's points: one per estimator setting, run and seed, for the bottleneck Z.

    Parameters
    ----------
    sensitivity : the tables of :func:`ipbook.experiments.sensitivity.load_tables`, or None
    second : the second-opinion rows (:func:`ipbook.experiments.second_opinion.load_table`), or None
    noisy, quantized : the defined tables (:func:`ipbook.experiments.defined.load_defined`), or None

    Returns
    -------
    DataFrame with ``family``, ``setting``, ``run``, ``seed``, ``scale`` (per unit, in the layer's
    units), ``unit`` (Z's typical pairwise distance at the peak of that trajectory), ``x`` =
    scale / unit, ``drop_share`` (the judge's drop over the peak) and ``verdict``.
    """
    pts = pd.DataFrame(_seeds_points(sensitivity, second) + _defined_points(noisy, quantized),
                       columns=["family", "setting", "run", "seed", "scale", "unit", "drop_share", "verdict"])
    return pts.assign(x=pts.scale / pts.unit)


def scale_fit(points: pd.DataFrame) -> dict:
    """Whether one curve explains the drops: Spearman's ρ of drop share against x over all
    points, and within each family (``rho``, ``rho_<family>``), with the number of points."""
    def rho(g: pd.DataFrame) -> float:   # undefined where either side is constant
        return float(spearmanr(g.x, g.drop_share).statistic) if min(g.x.nunique(), g.drop_share.nunique()) > 1 else float("nan")

    p = points.dropna(subset=["x", "drop_share"])
    return {"rho": rho(p), "points": len(p)} | {f"rho {family}": rho(g) for family, g in p.groupby("family")}
