"""ipbook.site.plotting on small hand-made metrics: every figure function draws and returns its figure."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from ipbook.site import plotting as P  # noqa: E402

LAYERS = ["E1", "E2", "Z", "D1", "D2"]


@pytest.fixture
def metrics():
    rng = np.random.default_rng(0)
    s, t = 51, 100
    grow = np.linspace(0, 1, s)[:, None]
    return {
        "step": np.arange(s) * 2, "layers": np.array(LAYERS),
        "i_xt": grow * np.array([5.0, 4.0, 3.0, 2.5, 2.0]), "i_tx": grow * np.array([3.5, 3.0, 2.0, 2.2, 2.4]),
        "loss_step": np.arange(1, t + 1), "train_loss": np.geomspace(0.2, 0.02, t) * (1 + 0.1 * rng.random(t)),
        "test_loss_step": np.linspace(0, t, 11).astype(int), "test_loss": np.geomspace(0.2, 0.025, 11),
        "probe_index": np.arange(100),
        "recon_train_x": rng.random((8, 784)), "recon_train": rng.random((8, 784)),
        "recon_test_x": rng.random((8, 784)), "recon_test": rng.random((8, 784)),
    }


def test_mosaic_shapes():
    assert P.mosaic(np.zeros((3, 784))).shape == (28, 3 * 29 - 1)
    assert P.mosaic(np.zeros((2, 4, 784))).shape == (2 * 29 - 1, 4 * 29 - 1)
    assert P.mosaic(np.zeros((5, 28, 28)), nrows=2).shape == (2 * 29 - 1, 3 * 29 - 1)
    img = P.mosaic(np.ones((2, 2, 28, 28)), fill=0.0)
    assert img[28, 0] == 0.0 and img[0, 0] == 1.0      # the padding row between images


def test_log_binned_keeps_the_first_iterations_and_averages_later():
    step = np.arange(1, 10001)
    x, y = P.log_binned(step, step.astype(float), n_bins=50)
    assert x[0] == 1 and y[0] == 1
    np.testing.assert_allclose(x, y)                   # the mean of y = step is the mean step
    assert len(x) <= 50


@pytest.mark.parametrize("logx", [True, False])
def test_every_figure_function_draws(metrics, logx):
    fig = P.plot_losses(metrics, logx=logx, title="loss")
    assert fig.axes[0].get_yscale() == "log" and len(fig.axes[0].child_axes) == 2   # 2 insets
    plt.close(fig)
    fig = P.plot_information_plane(metrics, "Z", logx=logx)
    ax = fig.axes[0]
    assert ax.get_xlim() == ax.get_ylim() and len(ax.collections[0].get_offsets()) == 51
    plt.close(fig)
    fig = P.plot_information_planes(metrics, logx=logx)
    assert len(fig.axes) == len(LAYERS) + 1                                # + colour bar
    plt.close(fig)
    assert [ax.get_title() for ax in fig.axes[:len(LAYERS)]] == [f"T = {n}" for n in LAYERS]
    plt.close(fig)
    fig = P.plot_run_overview(metrics, "bc", title="run")
    assert len(fig.axes) == 3 and fig.axes[0].get_title(loc="left") == "(b) loss"
    assert fig.get_size_inches()[0] == P.PAGE_WIDTH
    plt.close(fig)
    fig = P.plot_data_processing(metrics, logx=logx)
    top, bottom = fig.axes
    assert [l.get_label() for l in top.get_lines()][:3] == ["I(X; E1)", "I(X; E2)", "I(X; Z)"]
    assert [l.get_label() for l in bottom.get_lines()][:3] == ["I(Z; X′)", "I(D1; X′)", "I(D2; X′)"]
    plt.close(fig)


def test_image_grid_labels():
    fig = P.plot_image_grid(np.zeros((3, 4, 784)), row_labels=list("abc"), col_labels=list("wxyz"))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list("abc")
    assert [t.get_text() for t in ax.get_xticklabels()] == list("wxyz")
    plt.close(fig)


def test_long_trajectories_are_thinned():
    idx = P.thin_index(30001, 4000)
    assert idx[0] == 0 and idx[-1] == 30000 and len(idx) <= 4001
    assert set(range(1, 11)) <= set(idx.tolist())       # the first iterations are all kept


def test_seed_band_median_min_max_on_a_common_grid():
    at = np.array([0.0, 5.0, 10.0, 20.0])
    curves = [(np.array([0, 10]), np.array([0.0, 10.0])),      # y = x
              (np.array([0, 10]), np.array([0.0, 20.0])),      # y = 2x
              (np.array([0, 5, 10]), np.array([1.0, 1.0, 1.0]))]
    med, lo, hi = P.seed_band(at, curves)
    np.testing.assert_allclose(med[:3], [0.0, 5.0, 10.0])
    np.testing.assert_allclose(lo[:3], [0.0, 1.0, 1.0])
    np.testing.assert_allclose(hi[:3], [1.0, 10.0, 20.0])
    assert np.isnan(med[3]) and np.isnan(hi[3])                # beyond every curve: no band
    with pytest.raises(ValueError, match="at least one curve"):
        P.seed_band(at, [])


def test_seeds_draw_bands_and_final_points(metrics):
    other = {**metrics, "i_xt": metrics["i_xt"] * 0.5, "i_tx": metrics["i_tx"] * 0.5,
             "train_loss": metrics["train_loss"] * 2}
    fig = P.plot_losses(metrics, seeds=[metrics, other])
    ax = fig.axes[0]
    assert len(ax.collections) == 2                            # train and test bands
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.max() > 2 * metrics["train_loss"][-10:].min()  # reaches the doubled seed
    assert "2 seeds, min–max" in [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(fig)
    fig = P.plot_information_plane(metrics, "Z", seeds=[other])
    ends = fig.axes[0].collections[1].get_offsets()
    np.testing.assert_allclose(ends, [[other["i_xt"][-1, 2], other["i_tx"][-1, 2]]])
    plt.close(fig)
    fig = P.plot_data_processing(metrics, seeds=[metrics, other])
    assert len(fig.axes[0].collections) == 3 and len(fig.axes[1].collections) == 3   # a band per layer
    plt.close(fig)


def test_the_fall_inset_shows_the_peak_and_the_end(metrics):
    fall = {**metrics, "i_xt": metrics["i_xt"] * np.r_[np.linspace(0, 2, 26), np.linspace(2, 1, 25)][:, None] / 2}
    fig = P.plot_information_plane(fall, "Z")
    ax = fig.axes[0]
    P.plot_fall_inset(fall, "Z", ax)
    inset = ax.child_axes[0]
    assert inset.get_xscale() == "log" and "over iterations" in inset.get_title()
    peak = [l for l in ax.get_lines() if l.get_marker() == "^"][0]
    assert peak.get_xdata()[0] == pytest.approx(fall["i_xt"][:, 2].max(), abs=0.1)   # the peak, in the plane
    assert [l.get_marker() for l in inset.get_lines()][1:] == ["^", "s"]
    plt.close(fig)


def test_the_loss_legend_clears_the_curves(metrics):
    fig = P.plot_losses(metrics)
    ax = fig.axes[0]
    assert ax.get_ylim()[1] > 1.5 * metrics["train_loss"].max()     # headroom above the curves for the legend
    plt.close(fig)


def test_rescaling_colours_the_bottleneck_and_greys_the_rest():
    import pandas as pd

    from ipbook.site.grid_plots import plot_rescaling

    rows = [(run, 0, 10, layer, c, c * k) for k, run in enumerate(["shallow", "deep"], 1)
            for layer in (["Z"] if run == "shallow" else ["E1", "Z"]) for c in (0.5, 1, 2)]
    fig = plot_rescaling(pd.DataFrame(rows, columns=["run", "seed", "step", "layer", "factor", "i_xt"]))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["shallow", "deep", "other layers"]
    plt.close(fig)


def test_linear_channels_are_points_by_truth_and_the_truth_stays_in_the_panel():
    import pandas as pd

    from ipbook.site.grid_plots import plot_calibration

    rows = [("linear-channel", 784, f"n_t={t};var={v}", 100, est, truth, min(truth, 6.0))
            for t, v, truth in [(10, 1, 5.0), (10, 10, 0.7), (50, 1, 24.6), (128, 1, 62.0)]
            for est in ("matrix-paper", "ksg")]
    means = pd.DataFrame(rows, columns=["family", "d", "setting", "n", "estimator", "true_bits", "bits"])
    fig = plot_calibration(means, 100, ["linear-channel"], ncols=1)
    ax = fig.axes[0]
    assert all(l.get_linestyle() == "None" for l in ax.get_lines() if l.get_label() != f"log2 N = {np.log2(100):.2f}")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["10\n10", "10\n1", "50\n1", "128\n1"]   # by truth
    assert sorted(t.get_text() for t in ax.texts) == ["25", "62"]            # above the panel: labelled at its top
    plt.close(fig)


def test_heatmap_cells_stay_legible():
    """Cell text at 10 pt where the cells allow it; more than 10 columns in all stack the panels."""
    import pandas as pd

    from ipbook.site.grid_plots import plot_delta_heatmaps

    def grid(panels, cols):
        frame = pd.DataFrame(np.full((3, cols), 0.5), index=["a", "b", "c"], columns=[f"L{j}" for j in range(cols)])
        return {f"rule {p}": (frame, frame * 0 + 1, frame * 0 + 3) for p in range(panels)}

    for panels, cols, stacked in [(2, 4, False), (3, 5, True)]:
        fig = plot_delta_heatmaps(grid(panels, cols))
        heat = [ax for ax in fig.axes if ax.images and ax.get_title(loc="left").startswith("rule")]
        xs = {round(ax.get_position().x0, 3) for ax in heat}
        assert (len(xs) == 1) == stacked
        assert min(t.get_fontsize() for ax in heat for t in ax.texts) >= 9.5
        plt.close(fig)
