"""Figures of the grids' tables (matplotlib): the sensitivity grid (input entropy, collapse,
rescaling, geometry, a layer over training and at the end), the calibration, the supervised control
and the controls' ΔI heatmaps. Like :mod:`ipbook.site.plotting`, each function draws into the axes
it is given (or a new figure) and returns the figure."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from ipbook.site.plotting import LAYER_COLORS, PAGE_WIDTH, axes_or_new, draw_band, seed_band, seed_curves

__all__ = ["plot_input_entropy", "plot_collapse", "plot_rescaling", "plot_geometry", "plot_layer_over_training",
           "plot_layers_at_end", "ESTIMATOR_STYLE", "plot_calibration", "plot_mixture_bounds", "plot_supervised",
           "plot_delta_heatmaps"]


# ----------------------------------------------------------------------------- estimator sensitivity
def plot_input_entropy(table, ax=None):
    """S(X) against Scott's γ for each N (``table`` from
    :func:`ipbook.experiments.sensitivity.input_entropy_table`), with the ceiling log2 N dotted."""
    fig, ax = axes_or_new(ax)
    for k, (n, g) in enumerate(table.groupby("n")):
        color = f"C{k}"
        ax.plot(g.gamma, g.s_x, "o-", color=color, ms=4, label=f"N = {n}")
        ax.axhline(g.ceiling.iloc[0], color=color, ls=":", lw=1)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("Scott's-rule scale γ")
    ax.set_ylabel("S(X) (bits)")
    ax.legend(title="dotted: log2 N", frameon=False)
    return fig


def plot_collapse(rows, ax=None, *, max_points: int = 20000):
    """I(X;T) (filled) and I(T;X′) (open) against the layer's own entropy S(T), one colour per
    run; points on the diagonal mean the plane reports S(T) alone."""
    fig, ax = axes_or_new(ax)
    if len(rows) > max_points:  # an even subsample keeps the picture and the file small
        rows = rows.iloc[np.linspace(0, len(rows) - 1, max_points).round().astype(int)]
    for k, (run, g) in enumerate(rows.groupby("run", sort=False)):
        ax.scatter(g.s_t, g.i_xt, s=6, color=f"C{k}", alpha=0.5, lw=0, label=run)
        ax.scatter(g.s_t, g.i_tx, s=10, facecolors="none", edgecolors=f"C{k}", alpha=0.35, lw=0.5)
    top = float(np.log2(rows.n.max()))
    ax.plot([0, top], [0, top], color="0.3", ls="--", lw=0.8)
    ax.set_xlabel("S(T), the layer's own entropy (bits)")
    ax.set_ylabel("I(X;T) ● and I(T;X′) ○ (bits)")
    ax.legend(frameon=False, markerscale=2, fontsize=8)
    return fig


def plot_rescaling(table, ax=None, layer: str = "Z"):
    """I(X; c·T) against the factor c (``rescaling`` table of :func:`ipbook.experiments.sensitivity.evaluate_checkpoints`),
    median over seeds: ``layer`` of each run in its own colour, named in the legend, the other layers
    as thin grey lines. The true mutual information is flat in c."""
    fig, ax = axes_or_new(ax)
    med = table.groupby(["run", "layer", "factor"], sort=False).i_xt.median().reset_index()
    others = med[med.layer != layer]
    for _, g in others.groupby(["run", "layer"], sort=False):
        ax.plot(g.factor, g.i_xt, color="0.75", lw=0.7, zorder=1)
    for k, (run, g) in enumerate(med[med.layer == layer].groupby("run", sort=False)):
        ax.plot(g.factor, g.i_xt, marker="o", ms=3, lw=1.3, color=f"C{k}", label=f"{run}", zorder=2)
    if len(others):
        ax.plot([], [], color="0.75", lw=0.7, label="other layers")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("factor c in T → c·T")
    ax.set_ylabel("I(X; c·T) [bits]")
    ax.legend(title=f"layer {layer} of", loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False, fontsize=9,
              title_fontsize=9)
    return fig


def plot_geometry(paper_rows, geometry, run: str, layer: str = "Z", axes=None):
    """Over training, for one run's layer: I(X;T) at the paper's setting (top) and what the kernel
    sees (bottom): the fraction of saturated units and the mean pairwise distance over σ. Seeds
    are drawn as a min–max band with a dashed median where there are several."""
    if axes is None:
        fig, axes = plt.subplots(2, 1, figsize=(3.2, 4.2), sharex=True)
    fig = axes[0].figure
    r = paper_rows[(paper_rows.run == run) & (paper_rows.layer == layer)]
    g = geometry[(geometry.run == run) & (geometry.layer == layer)]
    at = np.unique(r.step[r.step > 0])
    draw_band(axes[0], at, seed_curves(r), LAYER_COLORS.get(layer, "C0"))
    axes[0].set_ylabel("I(X;T) (bits)")
    axes[0].set_title(f"{run}, {layer}", loc="left")
    for col, color, label in (("saturated", "C3", "saturated units"), ("distance_over_sigma", "C2", "mean distance / σ")):
        if g[col].notna().any():
            draw_band(axes[1], at, seed_curves(g, col), color, label=label)
    axes[1].set_xscale("log")
    axes[1].set_xlabel("iteration")
    axes[1].legend(frameon=False, fontsize=7)
    return fig


def plot_layer_over_training(rows, runs: dict, layer: str = "Z", ax=None, *, title: str | None = None):
    """I(X;T) of one layer over training for several runs, one colour each: the median over seeds
    as a line and their range as a band.

    Parameters
    ----------
    rows : DataFrame
        Sensitivity rows at one estimator setting (:func:`ipbook.claims.robustness.at_setting`):
        columns ``run, seed, step, layer, i_xt``.
    runs : dict
        Legend label -> run name in ``rows``, in drawing order; runs absent from ``rows`` are skipped.
    """
    fig, ax = axes_or_new(ax, (3.2, 2.4))
    r = rows[(rows.layer == layer) & (rows.step > 0)]
    for k, (label, run) in enumerate(runs.items()):
        g = r[r.run == run]
        if not len(g):
            continue
        at = np.unique(g.step)
        med, lo, hi = seed_band(at, seed_curves(g))
        ax.plot(at, med, color=f"C{k}", lw=1.2, label=label)
        ax.fill_between(at, lo, hi, color=f"C{k}", alpha=0.2, lw=0)
    ax.set_xscale("log")
    if title:
        ax.set_title(title, loc="left", fontsize=8)
    return fig


def plot_layers_at_end(rows, runs: dict, layers: Sequence[str], ax=None, *, title: str | None = None):
    """The data-processing view of several runs: I(X;T) of each layer (x axis, in network order) at
    the last checkpoint, one colour per run; the median over seeds, with their range as error bars.
    Each layer is a function of the one before, so the data-processing inequality asks each line
    not to rise from left to right.

    Parameters
    ----------
    rows : DataFrame
        Sensitivity rows at one estimator setting: columns ``run, seed, step, layer, i_xt``.
    runs : dict
        Legend label -> run name in ``rows``; runs absent from ``rows`` are skipped.
    layers : sequence of str
        The layers to draw, in network order.
    """
    fig, ax = axes_or_new(ax, (3.2, 2.4))
    x = np.arange(len(layers))
    for k, (label, run) in enumerate(runs.items()):
        r = rows[(rows.run == run) & rows.layer.isin(layers)]
        if not len(r):
            continue
        last = r[r.step == r.groupby("seed").step.transform("max")]
        by = last.groupby("layer").i_xt
        med, lo, hi = (by.median().reindex(layers), by.min().reindex(layers), by.max().reindex(layers))
        ax.errorbar(x + 0.06 * (k - len(runs) / 2), med, yerr=[med - lo, hi - med], fmt="o-", ms=3, lw=1,
                    capsize=2, color=f"C{k}", label=label)
    ax.set_xticks(x, list(layers))
    if title:
        ax.set_title(title, loc="left", fontsize=8)
    return fig


#: Colour and marker of each estimator of the calibration figures.
ESTIMATOR_STYLE = {"matrix-paper": ("C3", "o"), "matrix-median": ("C0", "s"), "matrix-tapia": ("C2", "^"),
                   "matrix-alpha2": ("C1", "v"), "ksg": ("C4", "D"), "binning": ("C5", "x"),
                   "noisy-upper": ("C7", "1"), "noisy-lower": ("C8", "2")}


def _setting_numbers(setting: str) -> tuple:
    """The numbers of a calibration setting such as ``n_t=10;var=1`` or ``nu=2``, for sorting."""
    import re

    return tuple(float(v) for v in re.findall(r"=([0-9.e+-]+)", setting))


def _task_label(family: str, d: int, setting: str) -> str:
    nums = [f"{v:g}" for v in _setting_numbers(setting)]
    if family == "linear-channel":
        return "\n".join(nums)
    return f"{d}" + ("\n" + "\n".join(nums) if nums else "")


def _calibration_panel(ax, f, family: str, n: int) -> None:
    """One family of :func:`plot_calibration`. The linear channels are separate distributions, not a
    sequence: ordered by their truth, drawn as points (the truth as black bars) with no line, and a
    truth above the panel as a triangle at its top, labelled with its value."""
    import math

    channel = family == "linear-channel"
    f = f[~f.setting.str.contains("bins=30")]
    f = f.assign(task=list(zip(f.d, f.setting.str.replace(r";?bins=\d+", "", regex=True))))
    truth_of = f.groupby("task").true_bits.first()
    tasks = sorted(truth_of.index, key=(lambda t: truth_of[t]) if channel else (lambda t: (t[0], _setting_numbers(t[1]))))
    pos = {t: i for i, t in enumerate(tasks)}
    f = f.assign(x=f.task.map(pos))
    truth = f.drop_duplicates("x").sort_values("x")
    top = min(max(truth.true_bits.max(), math.log2(n)) * 1.1, 3 * math.log2(n))
    if channel:
        shown = truth[truth.true_bits <= top]
        ax.plot(shown.x, shown.true_bits, "k_", ms=14, mew=2, ls="none", label="truth")
        for x, v in truth[truth.true_bits > top][["x", "true_bits"]].itertuples(index=False):
            ax.plot(x, top, "k^", ms=6, clip_on=False)
            ax.annotate(f"{v:.0f}", (x, top), xytext=(0, -11), textcoords="offset points", ha="center", fontsize=7)
    else:
        ax.plot(truth.x, truth.true_bits, "k-", lw=2, label="truth")
    ax.axhline(math.log2(n), color="0.4", ls="--", lw=1, label=f"log2 N = {math.log2(n):.2f}")
    for est, (color, marker) in ESTIMATOR_STYLE.items():
        e = f[f.estimator == est].sort_values("x")
        if len(e):
            ax.plot(e.x, e.bits, marker=marker, color=color, lw=1, ms=5, label=est, ls="none" if channel else "-")
    ax.set_xticks(range(len(tasks)), [_task_label(family, d, s) for d, s in tasks], fontsize=7 if len(tasks) > 7 else 8)
    ax.set_xlabel({"linear-channel": "n_T / σ² (from d = 784), by truth", "student-t": "d / ν"}.get(family, "d"),
                  fontsize=8)
    ax.set_title(family, loc="left")
    ax.set_ylabel("I [bits]")
    ax.set_ylim(min(0, f.bits.min()) - 0.2, top)


def plot_calibration(means, n: int, families, *, ncols: int = 2):
    """Estimate against truth on distributions of known MI (:func:`ipbook.experiments.calibration_grid.seed_means`
    at one N): one panel per family, the tasks along x, the truth in black, the ceiling log2 N
    dashed, each estimator in its :data:`ESTIMATOR_STYLE` (binning at its first bin count)."""
    import math

    rows = means[means.n == n]
    nrows = math.ceil(len(families) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(PAGE_WIDTH, 2.7 * nrows), layout="constrained", squeeze=False)
    for ax, family in zip(axes.flat, families):
        _calibration_panel(ax, rows[rows.family == family], family, n)
    for ax in list(axes.flat)[len(families):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    for ax in axes.flat[1:len(families)]:
        for h, l in zip(*ax.get_legend_handles_labels()):
            if l not in labels:
                handles.append(h)
                labels.append(l)
    fig.legend(handles, labels, loc="outside lower center", ncol=5, fontsize=8, frameon=False)
    return fig


def plot_mixture_bounds(table, *, ncols: int | None = None):
    """The noisy-layer bounds and the Monte-Carlo value they bracket against σ² on book-like layers
    (:func:`ipbook.experiments.calibration.mixture_bounds`): one panel per d, N = 1000 solid and
    smaller N dashed, the Monte-Carlo value in black (± 2 standard errors, mostly smaller than the
    line), each bound in its :data:`ESTIMATOR_STYLE`, the ceilings log2 N dotted."""
    ds = sorted(table.d.unique())
    ns = sorted(table.n.unique(), reverse=True)
    ncols = ncols or len(ds)
    nrows = -(-len(ds) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(PAGE_WIDTH, 2.4 * nrows), layout="constrained", squeeze=False,
                             sharey=True)
    for ax, d in zip(axes.flat, ds):
        for n, ls in zip(ns, ["-", "--", ":", "-."]):
            f = table[(table.d == d) & (table.n == n)].sort_values("variance")
            for col, est in (("upper", "noisy-upper"), ("lower", "noisy-lower")):
                color, marker = ESTIMATOR_STYLE[est]
                ax.plot(f.variance, f[col], color=color, marker=marker, ls=ls, lw=1, ms=6, label=f"{col}, N = {n}")
            ax.errorbar(f.variance, f.mc, yerr=2 * f.stderr, color="k", marker=".", ls=ls, lw=1.2, ms=4,
                        capsize=2, label=f"Monte Carlo, N = {n}")
            ax.axhline(np.log2(n), color="0.6", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_title(f"d = {d}", loc="left")
        ax.set_xlabel("σ²")
    for ax in axes[:, 0]:
        ax.set_ylabel("I(X; T+ε) [bits]")
    for ax in list(axes.flat)[len(ds):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    return fig


def plot_supervised(frame, runs: dict, *, estimator: str = "matrix", setting: str = "",
                    layers: Sequence[str] = ("E1", "E2", "Z", "Yhat"), ceiling: float | None = None):
    """The supervised control over training: I(X;T) (top row) and I(T;Y) (bottom row) of each layer
    (columns) for several runs (one colour each), the median over seeds as a line and their range
    (min–max) as a band, under one estimator setting.

    Parameters
    ----------
    frame : DataFrame
        :func:`ipbook.experiments.supervised.plane_frame` rows: ``run, seed, step, layer, estimator, setting,
        i_xt, i_ty``.
    runs : dict
        Legend label -> run name, in drawing order; runs absent from ``frame`` are skipped.
    ceiling : float, optional
        Drawn as a dotted line on the I(X;T) row (log2 N).
    """
    f = frame[(frame.estimator == estimator) & (frame.setting == setting) & (frame.step > 0)]
    fig, axes = plt.subplots(2, len(layers), figsize=(PAGE_WIDTH, 3.9), sharex=True)
    for j, layer in enumerate(layers):
        for row, column in enumerate(("i_xt", "i_ty")):
            ax = axes[row, j]
            for k, (label, run) in enumerate(runs.items()):
                g = f[(f.run == run) & (f.layer == layer)]
                if not len(g):
                    continue
                at = np.unique(g.step)
                med, lo, hi = seed_band(at, seed_curves(g, column))
                ax.plot(at, med, color=f"C{k}", lw=1.1, label=label)
                ax.fill_between(at, lo, hi, color=f"C{k}", alpha=0.22, lw=0)
            if row == 0 and ceiling is not None:
                ax.axhline(ceiling, color="0.4", lw=0.7, ls=":")
            ax.set_xscale("log")
            ax.set_title(f"{'I(X; ' if row == 0 else 'I('}{layer}{')' if row == 0 else '; Y)'}", loc="left", fontsize=8)
            if row == 1:
                ax.set_xlabel("iteration")
    axes[0, 0].set_ylabel("bits")
    axes[1, 0].set_ylabel("bits")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="upper center", ncol=len(handles), frameon=False, fontsize=8,
                   bbox_to_anchor=(0.5, 1.03))
    fig.set_layout_engine("tight")   # tight_layout() would warn on stderr when a style set another engine
    return fig


#: Points: the text of a heatmap cell; a page-wide figure shows 1 pt as about 1.3 px, so 10 pt as 13 px.
_CELL_PT = 10


def plot_delta_heatmaps(grid: dict, *, row_label=str, title: str = "ΔI (bits)", height: float | None = None,
                        fmt: str = "{:.2f}"):
    """Small multiples of ΔI: one heatmap per bandwidth rule (panels, side by side, or one under
    the other when more than 10 columns in all would crowd the cells), rows the runs, columns the
    layers; each cell the mean over seeds (``fmt``; bits by default) and, below it, the seeds in
    which the layer simplifies (``k/n``); "sat." where the value is missing and n is 0 (no seed
    could be judged). ``grid``: :func:`ipbook.experiments.controls.delta_grid` or
    :func:`ipbook.experiments.second_opinion.activation_grid`; ``row_label`` formats a row's index (a tuple
    for a MultiIndex)."""
    panels = list(grid.items())
    mean0 = panels[0][1][0]
    vmax = max(float(np.nanmax(m.to_numpy())) for _, (m, _, _) in panels) or 1.0
    # side by side while a cell keeps room for its text at _CELL_PT; else one panel under the other
    stacked = len(panels) * len(mean0.columns) > 10
    shape, size_in = ((len(panels), 1), (PAGE_WIDTH, len(panels) * (0.32 * len(mean0) + 0.7))) if stacked else \
        ((1, len(panels)), (PAGE_WIDTH, height or 0.4 * len(mean0) + 1.2))
    fig, axes = plt.subplots(*shape, figsize=size_in, squeeze=False)
    axes = axes.ravel()
    images = [ax.imshow(mean.to_numpy(dtype=float), cmap="Greens", vmin=0, vmax=vmax, aspect="auto")
              for ax, (_, (mean, _, _)) in zip(axes, panels)]
    fig.colorbar(images[-1], ax=axes.tolist(), label=title, fraction=0.03 if not stacked else 0.025, pad=0.02)
    # the cell text as large as the narrowest cell lets it be (up to _CELL_PT), so that neighbours never touch
    cell_pt = min(ax.get_position().width * PAGE_WIDTH * 72 / len(m.columns) for ax, (_, (m, _, _)) in zip(axes, panels))
    size = float(np.clip(cell_pt / 2.9, 7.5, _CELL_PT))
    for ax, (rule, (mean, k, n)) in zip(axes, panels):
        for (i, c), v in np.ndenumerate(mean.to_numpy(dtype=float)):
            if v == v:
                ax.text(c, i, f"{fmt.format(v)}\n{int(k.iat[i, c])}/{int(n.iat[i, c])}", ha="center", va="center",
                        fontsize=size, color="white" if v > 0.6 * vmax else "black", linespacing=1.0)
            elif n.iat[i, c] == 0:
                ax.text(c, i, "sat.", ha="center", va="center", fontsize=size, color="0.4")
        ax.set_xticks(range(len(mean.columns)), list(mean.columns), fontsize=9)
        ax.set_title(rule, loc="left", fontsize=9)
        ax.tick_params(length=0)
    for ax in axes if stacked else axes[:1]:
        ax.set_yticks(range(len(mean0)), [row_label(i) for i in mean0.index], fontsize=9)
    for ax in [] if stacked else axes[1:]:
        ax.set_yticks([])
    return fig
