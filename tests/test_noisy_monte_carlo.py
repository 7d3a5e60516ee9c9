"""The Monte-Carlo I(X; T + ε) of a noisy layer: exact limits, the bounds it lies between, and a
brute-force integral on small mixtures."""
import math

import numpy as np
from scipy.integrate import trapezoid
import pytest
import torch

from ipbook.estimators.noisy import mixture_entropy, monte_carlo, noisy_lower, noisy_upper, sample_propagation


def test_far_apart_rows_give_log2_n_and_identical_rows_give_zero():
    far = torch.eye(40, dtype=torch.float64) * 100
    assert monte_carlo(far, 0.01)[0] == pytest.approx(math.log2(40), abs=1e-12)
    same = torch.ones(40, 3, dtype=torch.float64)
    assert monte_carlo(same, 0.01)[0] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("sigma2", [1e-3, 1e-2, 0.1, 1.0])
def test_it_lies_between_the_pairwise_bounds(sigma2):
    t = torch.sigmoid(torch.randn(300, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2)
    value, stderr = monte_carlo(t, sigma2, samples=20_000)
    assert noisy_lower(t, sigma2) - 3 * stderr <= value <= noisy_upper(t, sigma2) + 3 * stderr
    assert stderr < 0.05


def brute_force_bits(centres: np.ndarray, sigma2: float) -> float:
    """h(T + ε) − h(ε) for a 1-D mixture of equal Gaussians, h by the trapezoid rule."""
    s = math.sqrt(sigma2)
    y = np.linspace(centres.min() - 12 * s, centres.max() + 12 * s, 400_001)
    p = np.exp(-(y[:, None] - centres[None]) ** 2 / (2 * sigma2)).mean(axis=1) / math.sqrt(2 * math.pi * sigma2)
    h = -trapezoid(np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0), y)
    return (h - 0.5 * math.log(2 * math.pi * math.e * sigma2)) / math.log(2)


@pytest.mark.parametrize("centres, sigma2", [([0.0, 1.0], 0.25), ([0.0, 0.3, 1.0], 0.04), ([0.0, 0.1, 0.2, 2.0], 0.5)])
def test_it_agrees_with_a_brute_force_integral(centres, sigma2):
    centres = np.array(centres)
    value, stderr = monte_carlo(torch.from_numpy(centres[:, None]), sigma2, samples=40_000, seed=1)
    assert value == pytest.approx(brute_force_bits(centres, sigma2), abs=4 * stderr + 1e-3)
    h, se = mixture_entropy(torch.from_numpy(centres[:, None]), sigma2, samples=40_000, seed=1)
    h_noise = 0.5 * math.log2(2 * math.pi * math.e * sigma2)
    assert h - h_noise == pytest.approx(brute_force_bits(centres, sigma2), abs=4 * se + 1e-3)


def test_the_same_seed_gives_the_same_value_and_bad_input_one_line():
    t = torch.rand(50, 2, dtype=torch.float64)
    assert monte_carlo(t, 0.1, seed=2) == monte_carlo(t, 0.1, seed=2)
    with pytest.raises(ValueError, match="samples must be an integer >= 2"):
        monte_carlo(t, 0.1, samples=1)
    with pytest.raises(ValueError, match="noise variance sigma\\^2 must be a finite number > 0"):
        monte_carlo(t, 0.0)


def test_a_mixture_of_one_gaussian_has_the_gaussian_entropy():
    value, stderr = mixture_entropy(torch.zeros(3, 4, dtype=torch.float64), 0.5, samples=20_000)
    assert value == pytest.approx(2 * math.log2(2 * math.pi * math.e * 0.5), abs=1e-9) and stderr < 1e-9


def test_sample_propagation_far_apart_gives_log2_n_and_one_pass_is_monte_carlo():
    n, k = 16, 4
    centres = 100.0 * torch.arange(n * k, dtype=torch.float64).reshape(n, k, 1)  # all N·K far apart
    value, stderr = sample_propagation(centres, 0.01, samples=4_000)
    assert value == pytest.approx(math.log2(n), abs=1e-6) and stderr < 1e-6
    t = torch.rand(60, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert sample_propagation(t[:, None], 0.01) == monte_carlo(t, 0.01)
    copies, _ = sample_propagation(t[:, None].repeat(1, 3, 1), 0.01, samples=20_000)
    one, se = monte_carlo(t, 0.01, samples=20_000)
    assert copies == pytest.approx(one, abs=0.1)
