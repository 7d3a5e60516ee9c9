"""The chapters' composite figures: each function builds one page figure from an experiment's
results with the panels of :mod:`ipbook.site.plotting` and returns it (the page glues it).

Information is in bits; widths follow :data:`ipbook.site.plotting.PAGE_WIDTH`.
"""
from __future__ import annotations

import math
from typing import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ipbook.experiments import controls as C
from ipbook.experiments import second_opinion as SO
from ipbook.experiments import sensitivity as S
from ipbook.experiments.appendix import gaussian_samples
from ipbook.nets.layers import ACTIVATION_NAMES
from ipbook.nets.data import DATASET_NAMES
from ipbook.site.openers import seed_runs
from ipbook.site.grid_plots import plot_geometry, plot_layer_over_training, plot_layers_at_end
from ipbook.site.plotting import PAGE_WIDTH, plot_fall_inset, plot_image_grid, plot_information_plane, plot_losses, seed_band

__all__ = ["gaussian_figure", "weight_figure", "control_over_training", "activation_over_training", "setting_over_training",
           "width_figure", "width_dpi_figure",
           "sparsity_dose_figure", "activation_control_figure", "gamma_figure",
           "second_opinion_figure", "vae_bounds_figure", "robustness_heatmap", "probes_figure",
           "geometry_figure", "shallow_figure", "summary_figure"]


def _theory_line(ax, rho, theory, ymax):
    ax.plot(rho, theory, "k-", lw=2, label="theory")
    ax.set_ylim(0, ymax)
    ax.set_ylabel("I(X₁; X₂) [bits]")


def gaussian_figure(res: Mapping, bins: Sequence[int], bins_ref: int, gamma: float, n: int,
                    scatter_rhos: Sequence[float], seed: int) -> plt.Figure:
    """Figure A1: (a) samples of the Gaussian pairs at ``scatter_rhos``; (b) theory, binning and the
    kernel over ρ; (c) binning at every bin level; (d), (e) binning and the kernel at each sample
    fraction p. ``res`` is :func:`~ipbook.experiments.appendix.gaussian_mi_scan`'s."""
    rho, theory = res["rho"], res["theory"]
    full, i_ref = int(np.argmax(res["fraction"])), list(bins).index(bins_ref)
    fig = plt.figure(figsize=(PAGE_WIDTH, 8.2), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 3.2])
    ax_a = top.subplots(1, len(scatter_rhos), sharex=True, sharey=True)
    for ax, r in zip(np.atleast_1d(ax_a), scatter_rhos):
        xy = gaussian_samples(r, n, seed)
        ax.scatter(xy[:, 0], xy[:, 1], s=2, alpha=0.4, color="C0")
        ax.set_title(f"ρ = {r}")
        ax.set_aspect("equal")
        ax.set_xlabel("$X_1$")
    np.atleast_1d(ax_a)[0].set_ylabel("$X_2$")
    top.suptitle("(a) samples", x=0.02, ha="left")

    (ax_b, ax_c), (ax_d, ax_e) = bottom.subplots(2, 2, sharex=True)
    ymax = 1.05 * max(theory.max(), res["binning"].max(), res["kernel"].max())
    _theory_line(ax_b, rho, theory, ymax)
    ax_b.plot(rho, res["binning"][full, i_ref], "s--", label=f"bin = {bins_ref}")
    ax_b.plot(rho, res["kernel"][full, 0], "o--", label=f"kernel, γ = {gamma:g}")
    ax_b.set_title("(b) theory vs. binning vs. kernel", loc="left")

    _theory_line(ax_c, rho, theory, ymax)
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(bins)))
    for b, c in zip(range(len(bins)), colors):
        ax_c.plot(rho, res["binning"][full, b], "s--", color=c, ms=4, label=f"bin = {bins[b]}")
    ax_c.set_title(f"(c) binning, N = {res['n_used'][full]}", loc="left")

    colors = plt.cm.plasma(np.linspace(0, 0.85, len(res["fraction"])))
    for ax, est, title in [(ax_d, res["binning"][:, i_ref], f"(d) binning ({bins_ref} bins)"),
                           (ax_e, res["kernel"][:, 0], f"(e) kernel (γ = {gamma:g})")]:
        _theory_line(ax, rho, theory, ymax)
        for f, c in enumerate(colors):
            ax.plot(rho, est[f], "o--", color=c, ms=4, label=f"p = {res['fraction'][f]:g}")
        ax.set_title(title + " vs. sample fraction p", loc="left")
        ax.set_xlabel("correlation ρ")
    for ax in (ax_b, ax_c, ax_d, ax_e):
        ax.legend(loc="upper left")
    return fig


def weight_figure(ws: np.ndarray, stds: np.ndarray, scalar: Mapping[str, np.ndarray],
                  matrix: Mapping[str, np.ndarray], activations: Sequence[str], n: int) -> plt.Figure:
    """Figure A2: (a) I(x; z) of z = f(w x) over the weight w; (b) I(X; Z) of Z = f(W X) over std(W),
    with the estimator's ceiling log2 N; one curve per activation."""
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 3.3), layout="constrained")
    for a in activations:
        ax_a.plot(ws, scalar[a], "o-", ms=4, label=a)
        ax_b.plot(stds, matrix[a], "o-", ms=4, label=a)
    ax_a.set(xscale="log", xlabel="weight w", ylabel="I(x; z) [bits]")
    ax_a.set_title("(a) z = f(w x), x ~ N(0, 1)", loc="left")
    ax_b.axhline(np.log2(n), color="gray", ls=":", label="log₂ N")
    ax_b.set(xscale="log", xlabel="std(W)", ylabel="I(X; Z) [bits]")
    ax_b.set_title("(b) Z = f(W X), X ∈ ℝ¹⁰⁰, Z ∈ ℝ⁵⁰", loc="left")
    ax_a.legend(loc="upper left")
    ax_b.legend(loc="lower right")
    for ax in (ax_a, ax_b):
        ax.set_ylim(bottom=0)
    return fig


def control_over_training(judged, runs_of: Callable[[int, str], Mapping[str, str]],
                          title: Callable[[str, int], str], rows: int = 1, ylabel: str = "I(X;Z) (bits)") -> plt.Figure:
    """A control's I(X;Z) over training: one column per estimator rule of :func:`ipbook.experiments.controls.rules`,
    ``rows`` rows; ``runs_of(row, rule)`` maps legend labels to runs, ``title(rule, row)`` names a panel.
    ``judged`` is :func:`ipbook.experiments.controls.judge_control`'s result."""
    rules = C.rules()
    fig, axes = plt.subplots(rows, 3, figsize=(PAGE_WIDTH, 2.2 * rows + 0.2), sharex=True, squeeze=False)
    for i in range(rows):
        for jx, (rule, s) in enumerate(rules.items()):
            ax = axes[i, jx]
            plot_layer_over_training(S.at_setting(judged.rows, s), runs_of(i, rule), ax=ax, title=title(rule, i))
            ax.set_ylabel(ylabel if jx == 0 else "")
            if i == rows - 1:
                ax.set_xlabel("iteration")
    axes[0, 0].legend(frameon=False, fontsize=7)
    return fig


def activation_over_training(judged) -> plt.Figure:
    """The activation control over training: shallow and deep (rows) × estimator rule (columns),
    one curve per activation."""
    models, acts = ["shallow", "deep"], ["sigmoid", "tanh", "relu", "linear"]
    return control_over_training(judged, lambda i, rule: {a: f"{models[i]}-{a}" for a in acts},
                                 lambda rule, i: f"{models[i]}, {rule}", rows=2)


def setting_over_training(judged, label: str) -> plt.Figure:
    """A one-factor control over training, one curve per setting (legend ``label.format(setting)``)."""
    return control_over_training(judged, lambda i, rule: C.runs_by_setting(judged.tables[rule], label),
                                 lambda rule, i: rule)


def width_figure(judged, intrinsic_dim: int) -> plt.Figure:
    """The width control: ΔI(Z) in bits and in % of the peak over the bottleneck width n_Z (mean ± sd
    over seeds, one curve per rule), with the data's intrinsic dimension dotted."""
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 2.8))
    for k, (rule, t) in enumerate(judged.tables.items()):
        for ax, col in zip(axes, ["dI", "dI_frac"]):
            z = t[t.layer == "Z"].groupby("setting")[col]
            scale = 100 if col == "dI_frac" else 1
            ax.errorbar(z.mean().index, scale * z.mean(), yerr=scale * z.std().fillna(0), fmt="o-", ms=3,
                        color=f"C{k}", label=rule, capsize=2)
    for ax, label in zip(axes, ["ΔI(Z) (bits)", "ΔI(Z) (% of the peak)"]):
        ax.set_xscale("log")
        ax.set_xlabel("bottleneck width n_Z")
        ax.set_ylabel(label)
        ax.axvline(intrinsic_dim, color="0.6", ls=":", lw=1)
    axes[0].legend(frameon=False, fontsize=7)
    return fig


def width_dpi_figure(judged, layers: Sequence[str]) -> plt.Figure:
    """The width control's I(X;T) of every layer at the end of training, one panel per rule."""
    fig, axes = plt.subplots(1, 3, figsize=(PAGE_WIDTH, 2.4))
    for ax, (rule, s) in zip(axes, C.rules().items()):
        plot_layers_at_end(S.at_setting(judged.rows, s), C.runs_by_setting(judged.tables[rule], "n_Z = {}"), layers,
                           ax=ax, title=rule)
    axes[0].set_ylabel("I(X;T) at the end (bits)")
    axes[0].legend(frameon=False, fontsize=6)
    return fig


def sparsity_dose_figure(dose: pd.DataFrame) -> plt.Figure:
    """The sparsity control's dose response over the KL weight λ: ΔI(Z) (bits), the final mean
    activation of Z (target ρ = 0.05) and the final test loss; λ = 0 at the left edge."""
    fig, axes = plt.subplots(1, 3, figsize=(PAGE_WIDTH, 2.5))
    lam = dose.lam.replace(0.0, 1e-5)   # λ = 0 drawn at the left edge of the log axis
    axes[0].errorbar(lam, dose.dI, yerr=dose.dI_sd.fillna(0), fmt="o-", ms=3, capsize=2)
    axes[0].set_ylabel("ΔI(Z) (bits)")
    axes[1].plot(lam, dose.mean_activation, "o-", ms=3)
    axes[1].axhline(0.05, color="0.5", ls=":", lw=1, label="ρ = 0.05")
    axes[1].set_ylabel("final mean activation of Z")
    axes[1].legend(frameon=False, fontsize=7)
    axes[2].plot(lam, dose.test_loss, "o-", ms=3)
    axes[2].set_ylabel("final test loss")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xticks([1e-5, 1e-4, 1e-3, 1e-2, 1e-1], ["0", "1e-4", "1e-3", "0.01", "0.1"])
        ax.minorticks_off()
        ax.set_xlabel("KL weight λ")
    return fig


def activation_control_figure(act_rows: pd.DataFrame,
                              panels: Sequence[tuple[str, str]] = (("noisy-upper", "0.1"), ("noisy-upper", "1"), ("binning", "30"))
                              ) -> plt.Figure:
    """The second opinion on the activation control: I(X;Z) over training, shallow and deep (rows) ×
    estimator setting (columns), one curve per activation, with the ceiling log2 N dashed."""
    act_main = SO.series(act_rows)
    fig, axes = plt.subplots(2, 3, figsize=(PAGE_WIDTH, 4.4), sharex=True, sharey="row")
    for i, model in enumerate(["shallow", "deep"]):
        for ax, (est, setting) in zip(axes[i], panels):
            sub = act_main[(act_main.estimator == est) & (act_main.setting == setting)].rename(columns={"bits": "i_xt"})
            plot_layer_over_training(sub, {a: f"{model}-{a}" for a in ACTIVATION_NAMES}, "Z", ax=ax,
                                     title=f"{model}, {SO.column_name(est, setting)}")
            ax.axhline(math.log2(int(act_rows.n.max())), color="0.4", ls="--", lw=0.8)
        axes[i, 0].set_ylabel("I(X;Z) [bits]")
    for ax in axes[-1]:
        ax.set_xlabel("iteration")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    return fig


def gamma_figure(per_gamma: pd.DataFrame, runs: Sequence[str]) -> plt.Figure:
    """ΔI(Z) in bits and in % of the peak over Scott's-rule scale γ: the median over seeds and its
    band (:func:`~ipbook.site.plotting.seed_band`), one colour per run of ``runs`` present in
    ``per_gamma`` (rows of ``simplifying_over_checkpoints`` at layer Z with a ``gamma`` column)."""
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 3.0))
    for k, run in enumerate([r for r in runs if r in set(per_gamma.run)]):
        g = per_gamma[per_gamma.run == run]
        for ax, col in zip(axes, ["dI", "dI_frac"]):
            curves = [(s.gamma.to_numpy(), s[col].to_numpy() * (100 if col == "dI_frac" else 1))
                      for _, s in g.sort_values("gamma").groupby("seed")]
            at = np.sort(g.gamma.unique())
            med, lo, hi = seed_band(at, curves)
            ax.plot(at, med, "o-", ms=3, color=f"C{k}", label=run)
            ax.fill_between(at, lo, hi, color=f"C{k}", alpha=0.2, lw=0)
    for ax, label in zip(axes, ["ΔI(Z) (bits)", "ΔI(Z) (% of the peak)"]):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("Scott's-rule scale γ")
        ax.set_ylabel(label)
    axes[1].legend(frameon=False, fontsize=7)
    return fig


def second_opinion_figure(main: pd.DataFrame, runs: Mapping[str, str], ceiling: float,
                          panels: Sequence[tuple[str, str]] = (("noisy-upper", "0.001"), ("noisy-upper", "0.01"),
                                                                ("noisy-upper", "0.1"), ("noisy-upper", "1"),
                                                                ("binning", "10"), ("binning", "30"))) -> plt.Figure:
    """The bottleneck's I(X;Z) over training under other estimators: one panel per (estimator,
    setting) of ``panels``, one curve per run of ``runs`` (legend label → run), ceiling log2 N dashed.
    ``main`` is ``SO.series`` of the second-opinion rows."""
    fig, axes = plt.subplots(2, 3, figsize=(PAGE_WIDTH, 4.8), sharex=True, sharey=True)
    for ax, (est, setting) in zip(axes.flat, panels):
        sub = main[(main.estimator == est) & (main.setting == setting)].rename(columns={"bits": "i_xt"})
        plot_layer_over_training(sub, runs, "Z", ax=ax, title=SO.column_name(est, setting))
        ax.axhline(ceiling, color="0.4", ls="--", lw=0.8)
    for ax in axes[-1]:
        ax.set_xlabel("iteration")
    for ax in axes[:, 0]:
        ax.set_ylabel("I(X;Z) [bits]")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=7, fontsize=8, frameon=False)
    return fig


def vae_bounds_figure(vae: pd.DataFrame, ceiling: float) -> plt.Figure:
    """The VAE's rate and lower bound on I(X;Z) over training, with the probe ceiling log2 N and the
    paper's estimate, its ceiling log2 100."""
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH * 0.6, 3.4))
    for k, est in enumerate(["vae-rate", "vae-lower"]):
        plot_layer_over_training(vae[vae.estimator == est].rename(columns={"bits": "i_xt"}), {est: "vae"}, "Z", ax=ax)
        ax.lines[-1].set_color(f"C{k + 3}")
        ax.collections[-1].set_color(f"C{k + 3}")
        ax.lines[-1].set_label(est)
    ax.axhline(ceiling, color="0.4", ls="--", lw=0.8, label=f"log2 N = {ceiling:.2f}")
    ax.axhline(math.log2(100), color="C3", ls=":", lw=1.2, label="the paper's estimate: its ceiling log2 100")
    ax.set_xlabel("iteration")
    ax.set_ylabel("I(X;Z) [bits]")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, frameon=False)
    return fig


def robustness_heatmap(matrix: pd.DataFrame) -> plt.Figure:
    """The robustness matrix as a heat map: each claim (row) at each estimator setting (column), the
    share of seeds in which it holds, annotated "k/n" ("–" where no seed can be judged)."""
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 0.35 * len(matrix) + 1.6))
    n_cell = pd.DataFrame(matrix.attrs["n"]).loc[matrix.index, matrix.columns]
    labels = (matrix.astype(str) + "/" + n_cell.astype(str)).where(n_cell > 0, "–")
    sns.heatmap(matrix / n_cell.where(n_cell > 0), annot=labels, fmt="", cmap="RdYlGn", vmin=0, vmax=1, cbar=False,
                linewidths=0.5, linecolor="white", ax=ax, annot_kws={"fontsize": 8})
    ax.set_xticklabels(ax.get_xticklabels(), rotation=35, ha="right")
    ax.set_xlabel("estimator setting (one factor changed from the paper's, first column)")
    return fig


def probes_figure(rows: pd.DataFrame, runs: Sequence[str] = ("shallow", "deep", "sparse")) -> plt.Figure:
    """The bottleneck's information plane (first seed) measured with test and with training probes,
    one panel per run, the diagonal I(X;Z) = I(Z;X′) dotted."""
    train_s = S.Setting(probe="train")
    fig, axes = plt.subplots(1, len(runs), figsize=(PAGE_WIDTH, 2.7), sharex=True, sharey=True)
    for ax, run in zip(axes, runs):
        for setting, style, label in ((S.PAPER, "-", "test probes"), (train_s, "--", "training probes")):
            g = S.at_setting(rows, setting)
            g = g[(g.run == run) & (g.layer == "Z")]
            g = g[g.seed == g.seed.min()].sort_values("step")
            ax.plot(g.i_xt, g.i_tx, style, lw=1.2, label=label)
            ax.plot(g.i_xt.iloc[-1], g.i_tx.iloc[-1], "o", ms=4, color=ax.lines[-1].get_color())
        top = np.log2(100)
        ax.plot([0, top], [0, top], color="0.5", ls=":", lw=0.8)
        ax.set_title(f"{run}, Z", loc="left")
        ax.set_xlabel("I(X;Z) (bits)")
    axes[0].set_ylabel("I(Z;X′) (bits)")
    axes[0].legend(frameon=False, fontsize=7)
    return fig


def geometry_figure(paper: pd.DataFrame, geometry: pd.DataFrame,
                    runs: Sequence[str] = ("shallow", "deep", "sparse")) -> plt.Figure:
    """The bottleneck's geometry over training (:func:`~ipbook.site.grid_plots.plot_geometry`), one column per run."""
    fig, axes = plt.subplots(2, len(runs), figsize=(PAGE_WIDTH, 4.6), sharex=True, sharey="row")
    for k, run in enumerate(runs):
        plot_geometry(paper, geometry, run, "Z", axes[:, k])
        if k:
            axes[0, k].set_ylabel("")
            axes[1, k].get_legend().remove()
    return fig


def shallow_figure(samples: Mapping[str, np.ndarray], run, seeds: Mapping) -> plt.Figure:
    """Figure 1: (a) the first test image of each class of every dataset (a line saying so for a
    dataset missing offline), (c) the shallow AE's losses and (d) its information plane of Z; the
    shallow runs of ``seeds`` ({seed: {run name: Run}}) as bands and, but seed 0, as open circles."""
    fig = plt.figure(figsize=(PAGE_WIDTH, 6.4))
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 2.1])
    for ax, name in zip(top.subplots(len(DATASET_NAMES), 1), DATASET_NAMES):
        if name in samples:
            plot_image_grid(samples[name], ax, row_labels=[name])
        else:
            ax.set_axis_off()
            ax.text(0.0, 0.5, f"{name}: not available offline (no files under IPBOOK_DATA)",
                    transform=ax.transAxes, va="center", color="0.35")
    top.suptitle("(a) datasets", x=0.01, ha="left", fontsize=10)
    ax_c, ax_d = bottom.subplots(1, 2, width_ratios=[1.2, 1])
    plot_losses(run, ax_c, title="(c) loss, shallow AE", seeds=seed_runs(seeds, "shallow"))
    plot_information_plane(run, "Z", ax_d, seeds=seed_runs(seeds, "shallow", other_than=0))
    plot_fall_inset(run, "Z", ax_d)
    ax_d.set_title("(d) information plane", loc="left")
    return fig


def summary_figure(runs: Mapping, seeds: Mapping) -> plt.Figure:
    """The seven runs' information planes of Z on one scale (open circles: the other seeds of ``seeds``),
    coloured by iteration, with one colour bar."""
    fig, axes = plt.subplots(2, 4, figsize=(PAGE_WIDTH, 4.1))
    lim = float(np.ceil(max(r.metrics["i_xt"].max() for r in runs.values()) + 0.25))
    for ax, (name, run) in zip(axes.flat, runs.items()):
        plot_information_plane(run, "Z", ax, colorbar=False, lim=lim, s=4, seeds=seed_runs(seeds, name, other_than=0))
        ax.set_title(name)
        ax.set_xlabel("I(X; Z) [bits]")
        ax.set_ylabel("I(Z; X′) [bits]" if ax in axes[:, 0] else "")
    axes.flat[-1].set_axis_off()
    fig.colorbar(axes.flat[0].collections[0], ax=axes.flat[-1], label="iteration", fraction=0.5, location="left")
    return fig
