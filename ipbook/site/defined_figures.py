"""The figures of the chapter "Where I(X;T) is defined": each function builds one page figure from
the frames of :mod:`ipbook.experiments.defined_findings` and returns it (the page glues it).

Information is in bits; widths follow :data:`ipbook.site.plotting.PAGE_WIDTH`.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ipbook.site.plotting import PAGE_WIDTH, draw_band, seed_curves

__all__ = ["run_order", "run_colours", "sp_figure", "code_figure", "geometry_over_training", "scale_figure"]

_LAYER_COLOURS = {"E1": "tab:blue", "E2": "tab:cyan", "Z": "black", "D1": "tab:orange", "D2": "tab:red"}
_MODELS = ("shallow", "sparse", "deep")


def run_order(names) -> list[str]:
    """Run names of the noisy or quantized profile in the book's order: by model and β, or by bits
    and width (so that every figure of the page gives a run the same colour)."""
    from ipbook.experiments.defined_findings import run_setting

    def key(name):
        s = run_setting(name)
        return (_MODELS.index(s["model"]), s["beta"]) if "beta" in s else (s["bits"], s["width"])
    return sorted(set(names), key=key)


def run_colours(names) -> dict:
    """``{run name: colour}`` in :func:`run_order`."""
    return dict(zip(run_order(names), plt.cm.tab10.colors))


def _steps(frame: pd.DataFrame) -> np.ndarray:
    steps = np.unique(frame.step.to_numpy())
    return steps[steps > 0] if (steps > 0).any() else steps


def sp_figure(series: pd.DataFrame) -> plt.Figure:
    """I(X;T) by sample propagation over training: one panel per noise level β (rows) and model
    (columns), one band per layer (seeds' range, dashed median), the ceiling log2 N dotted."""
    betas = sorted(series.beta.unique())
    models = [m for m in _MODELS if m in set(series.model)]
    fig, axes = plt.subplots(len(betas), len(models), figsize=(PAGE_WIDTH * 1.25, 2.3 * len(betas) + 0.6),
                             sharex=True, sharey=True, squeeze=False, layout="constrained")
    for (i, beta), (j, model) in [(b, m) for b in enumerate(betas) for m in enumerate(models)]:
        ax, sub = axes[i, j], series[(series.beta == beta) & (series.model == model)]
        for layer, g in sub.groupby("layer", sort=False):
            draw_band(ax, _steps(g), seed_curves(g, "bits"), _LAYER_COLOURS.get(layer, "0.5"), label=layer)
        if not sub.empty:
            ax.axhline(sub.ceiling.iloc[0], color="0.4", ls=":", lw=0.9)
        ax.set_xscale("log")
        ax.set_title(f"{model}, β = {beta:g}", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("iteration")
    for ax in axes[:, 0]:
        ax.set_ylabel("I(X;T) [bits]")
    handles = {lab: h for ax in axes.flat for h, lab in zip(*ax.get_legend_handles_labels())}
    fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncol=len(handles), fontsize=8,
               frameon=False)
    return fig


def code_figure(codes: pd.DataFrame, h_y: float) -> plt.Figure:
    """The quantized bottleneck over training: (a) its exact H(Z) = I(X;Z) over every test image,
    one band per run (seeds' range), the code capacities k·d_Z dotted in the run's colour and
    log2 N dashed; (b) its exact I(Z;Y), with H(Y) dashed."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(PAGE_WIDTH * 1.25, 3.4), sharex=True, layout="constrained")
    colours = run_colours(codes.run)
    for run, c in colours.items():
        g = codes[codes.run == run]
        draw_band(a, _steps(g), seed_curves(g, "bits"), c, label=run)
        draw_band(b, _steps(g), seed_curves(g, "i_zy"), c)
        if g.capacity.iloc[0] < g.log2_n.iloc[0]:
            a.axhline(g.capacity.iloc[0], color=c, ls=":", lw=0.8)
    a.axhline(codes.log2_n.iloc[0], color="0.3", ls="--", lw=0.9, label="log2 N")
    b.axhline(h_y, color="0.3", ls=":", lw=0.9, label="H(Y)")
    b.legend(loc="lower right", fontsize=8, frameon=False)
    for ax, title, ylabel in ((a, "(a) H(Z) = I(X;Z), exact", "bits"), (b, "(b) I(Z;Y), exact", "bits")):
        ax.set_xscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=9)
    fig.legend(*a.get_legend_handles_labels(), loc="outside right center", fontsize=8, frameon=False)
    return fig


def geometry_over_training(rows: pd.DataFrame, runs, *, layer: str = "Z") -> plt.Figure:
    """The bottleneck's clustering ratio, effective rank and saturated share over training for
    ``runs`` (run names of one defined table, drawn in :func:`run_order` with its colours), seeds'
    range."""
    keys = (("clustering_ratio", "clustering ratio (within / total)"), ("effective_rank", "effective rank"),
            ("saturated_share", "saturated share"))
    fig, axes = plt.subplots(1, 3, figsize=(PAGE_WIDTH * 1.25, 3.0), sharex=True, layout="constrained")
    for run, c in run_colours(runs).items():
        for ax, (key, _) in zip(axes, keys):
            g = rows[(rows.run == run) & (rows.layer == layer) & (rows.quantity == key)].rename(columns={"value": "v"})
            if not g.empty:
                draw_band(ax, _steps(g), seed_curves(g, "v"), c, label=run if ax is axes[0] else None)
    for ax, (_, title) in zip(axes, keys):
        ax.set_xscale("log")
        ax.set_xlabel("iteration")
        ax.set_title(title, fontsize=9)
    fig.legend(loc="outside lower center", ncol=min(len(runs), 6), fontsize=8, frameon=False)
    return fig


_MARKERS = {"kernel width σ_γ": "o", "noise σ (added after training)": "s", "bin width": "^",
            "noise β inside (trained with it)": "D", "quantization step": "P"}
_RUN_COLOURS = {"shallow": "tab:blue", "sparse": "tab:green", "deep": "tab:red"}


def scale_figure(points: pd.DataFrame) -> plt.Figure:
    """The bottleneck's drop as a share of its peak against each estimator's scale in units of the
    layer's typical pairwise distance at the peak: marker = estimator family, colour = model; the
    mean over seeds with the seeds' range as a vertical bar."""
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH * 1.25, 4.0), layout="constrained")
    g = points.groupby(["family", "setting", "run"], as_index=False).agg(
        x=("x", "mean"), d=("drop_share", "mean"), lo=("drop_share", "min"), hi=("drop_share", "max"))
    for r in g.itertuples():
        c, m = _RUN_COLOURS.get(r.run, "0.4"), _MARKERS.get(r.family, "x")
        ax.errorbar(r.x, 100 * r.d, yerr=[[100 * (r.d - r.lo)], [100 * (r.hi - r.d)]], fmt=m, color=c, ms=6,
                    mfc="none" if r.family.startswith(("noise β", "quantization")) else c, lw=0.8, capsize=2)
    ax.set_xscale("log")
    ax.set_xlabel("scale / the layer's typical pairwise distance at the peak")
    ax.set_ylabel("ΔI(Z) [% of the peak]")
    for family, m in _MARKERS.items():
        if family in set(points.family):
            ax.plot([], [], m, color="0.3", mfc="none" if family.startswith(("noise β", "quantization")) else "0.3",
                    label=family)
    for run, c in _RUN_COLOURS.items():
        if run in set(points.run):
            ax.plot([], [], "-", color=c, lw=4, label=f"{run} AE")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    return fig
