"""Figures of the paper from runs (matplotlib).

Every function draws into the axes it is given (or a new figure when none is) and returns the
figure. Iterations are on a logarithmic axis by default (``logx=True``), where the fitting phase of
the first few hundred iterations and the long simplifying phase after it are both visible; the
measurement before the first iteration (step 0) is then left out of line plots and coloured as
iteration 1 on the information plane. Colours follow the paper: training loss blue, test loss
orange, information-plane points coloured by iteration with a colour bar.
"""
from __future__ import annotations

import hashlib
import warnings
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm, Normalize
from matplotlib.ticker import MaxNLocator

from ipbook.claims.findings import layer_findings, run_metrics
from ipbook.measures import moving_average
from ipbook.nets.recorder_plot import plot_plane

__all__ = [
    "PAGE_WIDTH", "book_style", "styled_table", "plot_run_overview", "TRAIN_COLOR", "TEST_COLOR", "LAYER_COLORS", "mosaic", "log_binned", "plot_losses", "plot_information_plane",
    "plot_information_planes", "plot_data_processing", "plot_image_grid", "seed_band", "seed_curves", "draw_band",
    "thin_index",
    "axes_or_new", "plot_plane", "plot_fall_inset", "PEAK_COLOR",
]

#: Inches: the widest figure of a page. The book's text column is about 680 px wide at a
#: 1280-px window, so 1 pt of a figure this wide shows as about 1.3 px (9 pt text: 12 px).
PAGE_WIDTH = 7.0

TRAIN_COLOR, TEST_COLOR = "C0", "C1"
#: One colour per layer name, the same in every figure.
LAYER_COLORS = {"E1": "#1b9e77", "E2": "#d95f02", "Z": "#7570b3", "D1": "#e7298a", "D2": "#66a61e"}
_MAX_POINTS = 4000
#: The smoothed peak of I(X;T) where a figure marks it.
PEAK_COLOR = "#d62728"


def book_style() -> None:
    """Matplotlib settings of the book's pages: text of 8 pt and more (with figures at most
    :data:`PAGE_WIDTH` wide, at least about 9 px on a 1280-px window) and 150 dpi images."""
    plt.rcParams.update({
        "font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "xtick.labelsize": 9,
        "ytick.labelsize": 9, "legend.fontsize": 9, "figure.titlesize": 11, "figure.dpi": 150,
        "savefig.dpi": 150, "figure.constrained_layout.use": True,
    })


def styled_table(df, *, hide_index: bool = False, precision: int = 2):
    """A pandas Styler for a page: floats to ``precision`` decimals, missing values as "–", text left-aligned, a
    ``Verdict`` of "not supported" in bold, optionally without the index."""
    # a uuid from the content, not a random one: the same table renders to the same HTML (merged
    # pages show it once; builds are reproducible)
    uuid = hashlib.sha1(f"{df.to_csv()}|{hide_index}|{precision}".encode()).hexdigest()[:10]
    styler = df.style.format(precision=precision, thousands=",", na_rep="–").set_uuid(uuid)
    styler = styler.set_properties(**{"text-align": "left"}).set_table_attributes('class="dataframe ipbook"')
    if "Verdict" in df.columns:
        styler = styler.map(lambda v: "font-weight: bold" if v == "not supported" else "", subset=["Verdict"])
    return styler.hide(axis="index") if hide_index else styler


def axes_or_new(ax, figsize=(5, 4)):
    """``(figure, axes)``: the figure of ``ax``, or a new figure of ``figsize`` inches and its axes."""
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax.figure, ax


def thin_index(n: int, max_points: int = _MAX_POINTS) -> np.ndarray:
    """At most ~max_points indices of 0..n-1, evenly spread in index and in log index."""
    if n <= max_points:
        return np.arange(n)
    even = np.linspace(0, n - 1, max_points // 2)
    geo = np.geomspace(1, n - 1, max_points // 2)
    return np.unique(np.concatenate([[0], even, geo]).round().astype(int))


def _iteration_axis(ax, logx: bool, last: int) -> None:
    ax.set_xlabel("iteration")
    if logx:
        ax.set_xscale("log")
        ax.set_xlim(1, max(2, last) * 1.05)
    else:
        ax.set_xlim(0, last)


def mosaic(images, nrows: int | None = None, pad: int = 1, shape: tuple[int, int] = (28, 28),
           fill: float = 0.0) -> np.ndarray:
    """Tile images into one 2-D array, ``pad`` pixels of ``fill`` between them. ``images``: a grid
    (R, C, H*W) or (R, C, H, W), or a stack (N, H*W) or (N, H, W) laid out in ``nrows`` rows
    (default 1)."""
    a = np.asarray(images, dtype=np.float64)
    h, w = shape
    if a.shape[-2:] != tuple(shape) or a.ndim < 3:
        a = a.reshape(*a.shape[:-1], h, w)
    if a.ndim == 3:
        n, r = len(a), nrows or 1
        c = int(np.ceil(n / r))
        grid = np.full((r * c, h, w), fill)
        grid[:n] = a
        a = grid.reshape(r, c, h, w)
    if a.ndim != 4:
        raise ValueError(f"expected a stack or a grid of {h}x{w} images; got shape {np.shape(images)}")
    r, c = a.shape[:2]
    out = np.full((r * (h + pad) - pad, c * (w + pad) - pad), fill)
    for i in range(r):
        for j in range(c):
            out[i * (h + pad):i * (h + pad) + h, j * (w + pad):j * (w + pad) + w] = a[i, j]
    return out


def log_binned(step, y, n_bins: int = 200):
    """Means of ``y`` over ``n_bins`` bins of ``step`` evenly spaced in log(step) (step >= 1): no
    smoothing over the first iterations, where a bin holds one point, and more and more later.
    Returns (mean step, mean y) of the non-empty bins."""
    step, y = np.asarray(step, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = step >= 1
    step, y = step[keep], y[keep]
    edges = np.geomspace(1, step.max() + 1, n_bins + 1)
    k = np.clip(np.searchsorted(edges, step, side="right") - 1, 0, n_bins - 1)
    count = np.bincount(k, minlength=n_bins)
    ok = count > 0
    return (np.bincount(k, step, n_bins)[ok] / count[ok], np.bincount(k, y, n_bins)[ok] / count[ok])


def seed_band(at, curves) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The median, minimum and maximum over seeds of curves given as ``[(step, value), ...]``,
    each interpolated linearly onto the iterations ``at`` (within its own range; NaN outside)."""
    at = np.asarray(at, dtype=np.float64)
    stack = np.array([np.interp(at, np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64),
                                left=np.nan, right=np.nan) for x, y in curves])
    if stack.size == 0:
        raise ValueError("seed_band needs at least one curve")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # an iteration no curve reaches stays NaN
        return np.nanmedian(stack, 0), np.nanmin(stack, 0), np.nanmax(stack, 0)


def seed_curves(frame, column: str = "i_xt") -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(step, value), ...]`` of ``column``, one curve per seed, each in step order (for
    :func:`seed_band`)."""
    return [(s.step.to_numpy(), s[column].to_numpy()) for _, s in frame.sort_values("step").groupby("seed")]


def draw_band(ax, at, curves, color, *, label: str | None = None) -> None:
    """Seeds as a shaded min–max band and a dashed median line over ``at``."""
    med, lo, hi = seed_band(at, curves)
    ax.fill_between(at, lo, hi, color=color, alpha=0.22, lw=0, label=label)
    ax.plot(at, med, color=color, lw=0.9, ls="--", alpha=0.9)


def _smoothed(step, loss, logx: bool, smooth: int):
    """The training loss smoothed as :func:`plot_losses` draws it: (steps, values)."""
    step, loss = np.asarray(step), np.asarray(loss, dtype=np.float64)
    if logx:
        return log_binned(step, loss, smooth)
    w = max(1, len(loss) // smooth)
    return step[w - 1:], moving_average(loss, w)


def plot_losses(run, ax=None, *, logx: bool = True, smooth: int = 200, insets: bool = True,
                n_images: int = 4, title: str | None = None, seeds: Sequence | None = None):
    """Training loss per iteration (thin, light: raw; thick: smoothed) and test loss at its
    evaluation points, on a log y-axis. The smoothed training loss is the mean over ``smooth`` bins
    evenly spaced in log(iteration) when ``logx`` (raw over the first iterations), else a moving
    average over 1/``smooth`` of the iterations. With ``insets``, two small panels show
    ``n_images`` training and test images (top row X) and their reconstructions X′ at the final
    iteration (bottom row). ``seeds``: runs of other seeds (the same model and data), drawn as a
    shaded min–max band with a dashed median, of the smoothed training loss and of the test loss,
    in place of the raw training loss."""
    fig, ax = axes_or_new(ax)
    m = run_metrics(run)
    step, loss = np.asarray(m["loss_step"]), np.asarray(m["train_loss"], dtype=np.float64)
    if not seeds:   # with seeds, their band stands in for the raw loss's spread
        ax.plot(step, loss, color=TRAIN_COLOR, lw=0.5, alpha=0.25, rasterized=True)
    xs, ys = _smoothed(step, loss, logx, smooth)
    ax.plot(xs, ys, color=TRAIN_COLOR, lw=1.5, label="train")
    ts, tl = np.asarray(m["test_loss_step"]), np.asarray(m["test_loss"], dtype=np.float64)
    keep = ts > 0 if logx else np.ones(len(ts), bool)
    ax.plot(ts[keep], tl[keep], "o-", color=TEST_COLOR, ms=2.5, lw=1.2, label="test")
    if seeds:
        ms = [run_metrics(r) for r in seeds]
        draw_band(ax, xs, [_smoothed(o["loss_step"], o["train_loss"], logx, smooth) for o in ms],
                   TRAIN_COLOR, label=f"{len(ms)} seeds, min–max")
        draw_band(ax, ts[keep], [(o["test_loss_step"], o["test_loss"]) for o in ms], TEST_COLOR)
    ax.set_yscale("log")
    lo, hi = np.nanmin(np.r_[loss, tl]), np.nanmax(np.r_[loss, tl])
    ax.set_ylim(lo / (hi / lo) ** 0.6 if insets else lo / 1.1, hi * 1.15)   # room for the insets
    _iteration_axis(ax, logx, int(step[-1]))
    ax.set_ylabel("loss")
    ax.set_ylim(top=ax.get_ylim()[1] * (hi / lo) ** 0.45)     # headroom: the legend clears the curves
    ax.legend(loc="upper right", frameon=True, framealpha=0.9, edgecolor="none")
    if title:
        ax.set_title(title, loc="left", fontsize=10)
    if insets and "recon_train" in m:
        k = min(n_images, len(m["recon_train"]))
        for x0, kind in [(0.06, "train"), (0.50, "test")]:
            pair = np.stack([np.asarray(m[f"recon_{kind}_x"])[:k], np.asarray(m[f"recon_{kind}"])[:k]])
            iax = ax.inset_axes([x0, 0.03, 0.42, 0.30])
            iax.imshow(mosaic(pair), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            iax.set_xticks([])
            iax.set_yticks([13.5, 42.5], ["X", "X′"], fontsize=8)
            iax.tick_params(length=0, pad=1)
            iax.set_title(f"{kind} images", fontsize=8, pad=2)
    return fig


def plot_fall_inset(run, layer: str, ax, *, bounds=(0.1, 0.6, 0.4, 0.29)) -> None:
    """An inset in the upper left of the information plane ``ax`` (above the diagonal, where the
    trajectory never goes): I(X; ``layer``) against iteration (log axis), smoothed as the judge
    smooths it, with its peak (▲) and its end (■), also marked in the plane. On the plane the fall
    retraces the rise along the diagonal and is drawn over it; here it shows."""
    m = run_metrics(run)
    j = [str(v) for v in m["layers"]].index(layer)
    found = next(r for r in layer_findings(run) if r["layer"] == layer)
    step, ixt = np.asarray(m["step"]), np.asarray(m["i_xt"], dtype=np.float64)[:, j]
    smooth = moving_average(ixt, found["window"])
    at = step[len(step) - len(smooth):]
    keep = at > 0
    iax = ax.inset_axes(bounds)
    iax.plot(at[keep], smooth[keep], color="0.2", lw=1.0)
    peak_at = int(found["peak_step"])
    itx_peak = float(np.asarray(m["i_tx"], dtype=np.float64)[np.searchsorted(step, peak_at), j])
    marks = {iax: ((max(peak_at, 1), found["ixt_peak"]), (at[-1], found["ixt_final"])),
             ax: ((found["ixt_peak"], itx_peak), (found["ixt_final"], found["itx_final"]))}
    for a, ((xp, yp), (xe, ye)) in marks.items():
        a.plot(xp, yp, "^", color=PEAK_COLOR, ms=6, mec="white", mew=0.6, zorder=4)
        a.plot(xe, ye, "s", color="black", ms=4.5, mec="white", mew=0.6, zorder=4)
    iax.set_xscale("log")
    iax.set_title(f"I(X; {layer}) [bits] over iterations", fontsize=8, pad=2)
    iax.tick_params(labelsize=7.5, length=2, pad=1)
    iax.yaxis.set_major_locator(MaxNLocator(nbins=3))


def _norm(steps, logx: bool):
    last = max(2, int(np.max(steps)))
    return LogNorm(vmin=1, vmax=last, clip=True) if logx else Normalize(vmin=0, vmax=last)


def plot_information_plane(run, layer: str = "Z", ax=None, *, logx: bool = True, cmap: str = "viridis",
                           colorbar: bool = True, lim: float | None = None, s: float = 6,
                           seeds: Sequence | None = None):
    """The trajectory (I(X;T), I(T;X′)) of one layer T, coloured by iteration, with the diagonal
    I(X;T) = I(T;X′). ``lim``: both axes run from 0 to it (default: the largest value, rounded up).
    ``seeds``: runs of other seeds, whose final points are marked with open black circles.
    A recorder's frame (:meth:`~ipbook.InformationPlaneRecorder.to_frame`) is drawn by
    :func:`plot_plane`."""
    if hasattr(run, "columns") and "estimator" in run.columns:
        raise TypeError("plot_information_plane draws a run of the book; a recorder's frame is drawn by "
                        "plot_plane(frame) or rec.plot()")
    fig, ax = axes_or_new(ax, figsize=(4.2, 3.6))
    m = run_metrics(run)
    layers = [str(v) for v in m["layers"]]
    j = layers.index(layer)
    idx = thin_index(len(m["step"]))
    x, y = np.asarray(m["i_xt"])[idx, j], np.asarray(m["i_tx"])[idx, j]
    steps = np.asarray(m["step"])[idx]
    if lim is None:
        lim = float(np.ceil(max(np.nanmax(x), np.nanmax(y)) + 0.25))
    ax.plot([0, lim], [0, lim], color="0.6", ls="--", lw=0.8, zorder=0)
    sc = ax.scatter(x, y, c=np.maximum(steps, 1) if logx else steps, cmap=cmap, norm=_norm(steps, logx),
                    s=s, lw=0, rasterized=True)
    if seeds:
        ends = np.array([[np.asarray(run_metrics(r)["i_xt"])[-1, j], np.asarray(run_metrics(r)["i_tx"])[-1, j]]
                         for r in seeds])
        ax.scatter(ends[:, 0], ends[:, 1], s=22, facecolors="none", edgecolors="k", lw=0.8, zorder=3,
                   label="final, other seeds")
    ax.set(xlim=(0, lim), ylim=(0, lim), xlabel=f"I(X; {layer}) [bits]", ylabel=f"I({layer}; X′) [bits]")
    ax.set_aspect("equal")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    if colorbar:
        fig.colorbar(sc, ax=ax, label="iteration", shrink=0.9)
    return fig


def plot_information_planes(run, axes=None, *, layers: Sequence[str] | None = None, logx: bool = True,
                            cmap: str = "viridis", lim: float | None = None, s: float = 5, ncols: int = 3,
                            seeds: Sequence | None = None):
    """One information-plane panel per layer (default: all, in network order), common limits and
    one colour bar. ``axes``: a sequence of axes, one per layer; without it, a figure
    :data:`PAGE_WIDTH` wide with ``ncols`` panels per row. ``seeds``: runs of other seeds, whose
    final points are marked (:func:`plot_information_plane`)."""
    m = run_metrics(run)
    layers = [str(v) for v in m["layers"]] if layers is None else list(layers)
    if axes is None:
        ncols = min(ncols, len(layers))
        nrows = -(-len(layers) // ncols)
        fig, grid = plt.subplots(nrows, ncols, figsize=(PAGE_WIDTH, 0.5 + 2.45 * nrows),
                                 layout="constrained", squeeze=False)
        for ax in grid.flat[len(layers):]:
            ax.remove()
        axes = grid.flat[:len(layers)]
    axes = list(np.ravel(axes))
    if lim is None:
        j = [[str(v) for v in m["layers"]].index(n) for n in layers]
        lim = float(np.ceil(max(np.nanmax(np.asarray(m["i_xt"])[:, j]), np.nanmax(np.asarray(m["i_tx"])[:, j])) + 0.25))
    for ax, name in zip(axes, layers):
        plot_information_plane(m, name, ax, logx=logx, cmap=cmap, colorbar=False, lim=lim, s=s, seeds=seeds)
        ax.set_title(f"T = {name}")
        ax.set_xlabel("I(X; T) [bits]")
        ax.set_ylabel("I(T; X′) [bits]")
    fig = axes[0].figure
    fig.colorbar(axes[0].collections[0], ax=fig.axes, label="iteration", shrink=0.6)
    return fig


def plot_data_processing(run, axes=None, *, logx: bool = True, ceiling: bool = True,
                         seeds: Sequence | None = None):
    """Input information I(X; E1), I(X; E2), I(X; Z) (top) and output information I(Z; X′),
    I(D1; X′), I(D2; X′) (bottom) against iteration. ``ceiling`` draws the estimator's upper
    bound log2 N of N probe images. ``seeds``: runs of other seeds, drawn per layer as a shaded
    min–max band with a dashed median."""
    m = run_metrics(run)
    if axes is None:
        fig, axes = plt.subplots(2, 1, figsize=(5, 4.4), sharex=True, layout="constrained")
    top, bottom = axes
    layers = [str(v) for v in m["layers"]]
    steps = np.asarray(m["step"])
    idx = thin_index(len(steps))
    idx = idx[steps[idx] > 0] if logx else idx
    enc = [n for n in layers if n.startswith("E")] + (["Z"] if "Z" in layers else [])
    dec = (["Z"] if "Z" in layers else []) + [n for n in layers if n.startswith("D")]
    for ax, names, key, label in [(top, enc, "i_xt", "I(X; {})"), (bottom, dec, "i_tx", "I({}; X′)")]:
        for n in names:
            ax.plot(steps[idx], np.asarray(m[key])[idx, layers.index(n)], color=LAYER_COLORS.get(n),
                    lw=1.2, label=label.format(n))
            if seeds:
                draw_band(ax, steps[idx], [(run_metrics(r)["step"], np.asarray(run_metrics(r)[key])[
                    :, [str(v) for v in run_metrics(r)["layers"]].index(n)]) for r in seeds],
                    LAYER_COLORS.get(n))
        if ceiling:
            n_probe = np.asarray(m["probe_index"]).size if "probe_index" in m else None
            if n_probe:
                ax.axhline(np.log2(n_probe), color="0.5", ls=":", lw=0.8)
        ax.set_ylabel("bits")
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper left", frameon=False, fontsize=8, handlelength=1.2)
        _iteration_axis(ax, logx, int(steps[-1]))
    top.set_xlabel("")
    return top.figure


def plot_image_grid(images, ax=None, *, row_labels: Sequence[str] | None = None,
                    col_labels: Sequence[str] | None = None, nrows: int | None = None,
                    cmap: str = "gray_r", title: str | None = None):
    """A grid of 28×28 images: ``images`` of shape (R, C, 784) / (R, C, 28, 28), or a flat stack
    (N, 784) / (N, 28, 28) laid out in ``nrows`` rows. Labels go beside rows and under columns."""
    img = mosaic(images, nrows=nrows)
    r, c = (img.shape[0] + 1) // 29, (img.shape[1] + 1) // 29
    fig, ax = axes_or_new(ax, figsize=(0.5 * c + 0.8, 0.5 * r + 0.5))
    ax.imshow(img, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    ax.set_yticks([i * 29 + 13.5 for i in range(r)], list(row_labels) if row_labels is not None else [])
    ax.set_xticks([j * 29 + 13.5 for j in range(c)], list(col_labels) if col_labels is not None else [])
    ax.tick_params(length=0, labelsize=8)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, loc="left", fontsize=10)
    return fig


def plot_run_overview(run, letters: str = "bc", *, title: str | None = None, seeds: Sequence | None = None):
    """One run's loss (panel ``letters[0]``, with reconstructions) and its data-processing panels
    (``letters[1]``: input information of the encoder layers above, output information of the
    decoder layers below), in one figure :data:`PAGE_WIDTH` wide; ``seeds`` as bands."""
    fig = plt.figure(figsize=(PAGE_WIDTH, 3.9), layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=[1.15, 1])
    ax_loss = fig.add_subplot(grid[:, 0])
    ax_in = fig.add_subplot(grid[0, 1])
    ax_out = fig.add_subplot(grid[1, 1], sharex=ax_in)
    plot_losses(run, ax_loss, title=f"({letters[0]}) loss", seeds=seeds)
    plot_data_processing(run, (ax_in, ax_out), seeds=seeds)
    ax_in.set_title(f"({letters[1]}) input and output information", loc="left")
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    return fig


