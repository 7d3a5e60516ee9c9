"""ipbook.experiments.calibration's noisy-layer mixtures: the pairwise-distance bounds against the
Monte-Carlo I(X; T + ε) on book-like layers, and the Monte-Carlo value against brute force."""
import math

import numpy as np
import pytest
from scipy.integrate import trapezoid

from ipbook.estimators.noisy import monte_carlo
from ipbook.experiments.calibration import MIXTURE_COLUMNS, MIXTURE_GRIDS, layer_like, mixture_bounds, mixture_row


def brute_force(t: np.ndarray, sigma2: float, samples: int, seed: int) -> tuple[float, float]:
    """I = log2 N + E[log2 p(y | x_i) / Σ_j p(y | x_j)], y = x_i + σz, i uniform: the textbook
    formula with the Gaussian densities themselves (no log-sum-exp), in plain numpy."""
    rng = np.random.default_rng(seed)
    n, d = t.shape
    i = rng.integers(n, size=samples)
    y = t[i] + math.sqrt(sigma2) * rng.normal(size=(samples, d))
    dens = np.exp(-((y[:, None, :] - t[None]) ** 2).sum(-1) / (2 * sigma2)) / (2 * math.pi * sigma2) ** (d / 2)
    terms = math.log2(n) + np.log2(dens[np.arange(samples), i] / dens.sum(1))
    return float(terms.mean()), float(terms.std() / math.sqrt(samples))


def quadrature_1d(centres: np.ndarray, sigma2: float) -> float:
    """I = h(T + ε) − h(ε) in d = 1, h(T + ε) by the trapezoid rule on a fine grid."""
    s = math.sqrt(sigma2)
    y = np.linspace(centres.min() - 12 * s, centres.max() + 12 * s, 200_001)
    p = np.exp(-(y[:, None] - centres[None]) ** 2 / (2 * sigma2)).mean(1) / math.sqrt(2 * math.pi * sigma2)
    h = -trapezoid(p * np.log(np.maximum(p, 1e-300)), y)
    return (h - 0.5 * math.log(2 * math.pi * math.e * sigma2)) / math.log(2)


def test_the_bounds_bracket_the_monte_carlo_value_on_the_quick_grid_and_are_loose_by_bits():
    ns, ds, variances, _ = MIXTURE_GRIDS["quick"]
    f = mixture_bounds(ns, ds, variances, samples=2_000)
    assert list(f.columns) == MIXTURE_COLUMNS and len(f) == len(ns) * len(ds) * len(variances)
    slack = 3 * f.stderr + 1e-9
    assert (f.lower <= f.mc + slack).all() and (f.mc <= f.upper + slack).all()
    assert (f.lower <= f.upper + 1e-12).all() and (f.upper <= f.ceiling + 1e-9).all() and (f.mc >= -slack).all()
    assert (f.stderr < 0.06).all()
    # where the noise hides clusters, neither bound is tight: N = 1000, d = 10, σ² = 0.01
    row = f.set_index(["n", "d", "variance"]).loc[(1000, 10, 0.01)]
    assert row.lower == pytest.approx(5.33, abs=0.01) and row.upper == pytest.approx(8.34, abs=0.01)
    assert row.mc == pytest.approx(6.43, abs=0.15) and row.gap_upper > 1.5 and row.gap_lower > 0.8
    # where the probes are many σ apart (d = 50, σ² = 0.001) all three are log2 N
    far = f[(f.d == 50) & (f.variance == 1e-3)]
    np.testing.assert_allclose(far[["lower", "mc", "upper"]].to_numpy(), np.repeat(far.ceiling.to_numpy()[:, None], 3, 1), atol=1e-6)


def test_the_monte_carlo_value_equals_the_textbook_formula_by_brute_force():
    t = layer_like(6, 2, classes=2, seed=3)
    value, se = monte_carlo(t, 0.01, samples=20_000, seed=1)
    brute, se_brute = brute_force(t, 0.01, samples=400_000, seed=2)
    assert 0.3 < brute < math.log2(6) - 0.3                  # a mixture where the noise matters
    assert value == pytest.approx(brute, abs=3 * math.hypot(se, se_brute))


def test_the_monte_carlo_value_equals_quadrature_in_one_dimension():
    t = layer_like(8, 1, classes=3, seed=1)
    for sigma2 in (1e-3, 1e-2):
        value, se = monte_carlo(t, sigma2, samples=40_000, seed=0)
        assert value == pytest.approx(quadrature_1d(t[:, 0], sigma2), abs=3 * se + 1e-3)


def test_far_apart_centres_give_log2_n_and_identical_centres_give_zero():
    far = mixture_row(100.0 * np.eye(30), 0.1, samples=3_000)
    for key in ("lower", "mc", "upper"):
        assert far[key] == pytest.approx(math.log2(30), abs=1e-9)
    assert far["gap_upper"] == pytest.approx(0, abs=1e-9) and far["gap_lower"] == pytest.approx(0, abs=1e-9)
    same = mixture_row(np.full((30, 4), 0.5), 0.001, samples=3_000)
    for key in ("lower", "mc", "upper"):
        assert same[key] == pytest.approx(0, abs=1e-12)
    assert same["ceiling"] == math.log2(30)


def test_layer_like_is_a_seeded_sigmoid_layer_of_class_clusters():
    t = layer_like(1000, 10, seed=0)
    assert t.shape == (1000, 10) and (t > 0).all() and (t < 1).all()
    np.testing.assert_array_equal(t, layer_like(1000, 10, seed=0))
    within = np.mean([t[k::10].std(0).mean() for k in range(10)])
    assert within < 0.5 * t.std(0).mean()                    # clusters: tighter within a class than overall


@pytest.mark.parametrize("make, message", [
    (lambda: layer_like(1, 3), "n >= 2 probes and d >= 1 units; got n = 1, d = 3"),
    (lambda: layer_like(10, 0), "got n = 10, d = 0"),
    (lambda: layer_like(10, 2, classes=0), "classes must be an integer >= 1"),
    (lambda: mixture_bounds(ns=()), "give at least one N, d and variance"),
    (lambda: mixture_bounds(ns=(10,), ds=(2,), variances=(0.0,)), "noise variance sigma\\^2 must be a finite number > 0"),
])
def test_bad_mixture_parameters_get_a_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.slow
def test_the_bounds_bracket_the_monte_carlo_value_on_the_paper_grid():
    ns, ds, variances, samples = MIXTURE_GRIDS["paper"]
    f = mixture_bounds(ns, ds, variances, samples=samples)
    slack = 3 * f.stderr + 1e-9
    assert (f.lower <= f.mc + slack).all() and (f.mc <= f.upper + slack).all() and (f.stderr < 0.03).all()


def test_the_page_numbers_name_the_largest_gaps_and_the_figure_has_a_panel_per_d():
    import matplotlib
    matplotlib.use("Agg")
    import pandas as pd

    from ipbook.site.grid_plots import plot_mixture_bounds
    from ipbook.site.pages import mixture_numbers

    rows = [(100, 2, 0.01, 1.0, 1.5, 0.01, 2.5), (100, 2, 0.1, 0.2, 0.4, 0.01, 0.5),
            (1000, 10, 0.01, 3.0, 3.02, 0.01, 3.04), (1000, 10, 0.1, 5.0, 6.5, 0.02, 7.0)]
    t = pd.DataFrame(rows, columns=["n", "d", "variance", "lower", "mc", "stderr", "upper"])
    t = t.assign(ceiling=np.log2(t.n), gap_upper=t.upper - t.mc, gap_lower=t.mc - t.lower)
    v = mixture_numbers(t, 1.5)
    assert v["gap_upper_max"] == pytest.approx(1.0) and str(v["gap_upper_at"]) == "N = 100, d = 2, σ² = 0.01"
    assert v["gap_lower_max"] == pytest.approx(1.5) and str(v["gap_lower_at"]) == "N = 1000, d = 10, σ² = 0.1"
    assert v["gapped"] == 3 and v["looser_upper"] == 1 and v["mixture_se_max"] == 0.02
    assert str(v["mixture_ds"]) == "2 and 10" and v["mixture_seconds"] == 1.5
    per = v["table_mixture"].data.set_index("σ²")
    assert per.loc["0.1", "largest upper − MC"] == pytest.approx(0.5) and per.loc["0.1", "largest MC − lower"] == pytest.approx(1.5)
    fig = plot_mixture_bounds(t)
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["d = 2", "d = 10"]
