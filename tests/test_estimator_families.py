"""The estimator families beside the paper's: noisy-layer bounds, binning, the VAE's bounds and KSG,
each against a brute-force evaluation of its formula, a closed form, or the invariants (lower <=
truth <= upper, the log2 N ceiling)."""
import math

import numpy as np
import pytest
import torch

from ipbook.estimators.noisy import NOISE_VARIANCES, noisy_bounds, noisy_lower, noisy_upper
from ipbook.estimators.matrix import VariableSample, mutual_information
from ipbook.estimators.binning import binned_layer_information
from ipbook.estimators.ksg import ksg_mutual_information
from ipbook.estimators.vae import vae_lower_bound, vae_rate


def _brute_pairwise(t: np.ndarray, scale: float) -> float:
    n = len(t)
    total = 0.0
    for i in range(n):
        inner = sum(math.exp(-float(np.sum((t[i] - t[j]) ** 2)) / scale) for j in range(n)) / n
        total += math.log2(inner)
    return -total / n


def test_noisy_bounds_equal_their_formulas_term_by_term():
    t = np.random.default_rng(1).normal(size=(7, 3))
    for var in NOISE_VARIANCES:
        assert noisy_upper(t, var) == pytest.approx(_brute_pairwise(t, 2 * var), abs=1e-12)
        assert noisy_lower(t, var) == pytest.approx(_brute_pairwise(t, 8 * var), abs=1e-12)
    b = noisy_bounds(VariableSample(t))           # one set of distances for every variance
    assert np.all(b["lower"] <= b["upper"] + 1e-12) and np.all(b["upper"] <= math.log2(7) + 1e-12)
    assert noisy_upper(np.zeros((5, 2)), 0.1) == pytest.approx(0.0, abs=1e-12)     # one point: nothing
    assert noisy_upper(np.arange(5.0)[:, None] * 100, 0.1) == pytest.approx(math.log2(5))   # far apart: log2 N
    with pytest.raises(ValueError, match="noise variance sigma\\^2 must be a finite number > 0; got -1"):
        noisy_upper(t, -1)


@pytest.mark.parametrize("var", [0.05, 0.5, 2.0])
def test_noisy_bounds_bracket_the_monte_carlo_mixture_information(var):
    """I(X; T + ε) = H(mixture) − H(noise), by Monte Carlo on a mixture of 20 Gaussians in 2-D."""
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(20, 2))
    m = 200_000
    z = centres[rng.integers(0, 20, m)] + math.sqrt(var) * rng.normal(size=(m, 2))
    d2 = ((z[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    log_p = np.logaddexp.reduce(-d2 / (2 * var), axis=1) - math.log(20) - math.log(2 * math.pi * var)
    h_mix = -log_p.mean() / math.log(2)
    h_noise = math.log2(2 * math.pi * math.e * var)
    truth, mc_sd = h_mix - h_noise, log_p.std() / math.log(2) / math.sqrt(m)
    assert noisy_lower(centres, var) - 4 * mc_sd <= truth <= noisy_upper(centres, var) + 4 * mc_sd


def test_binning_is_the_entropy_of_the_bin_labels_and_at_most_log2_n():
    t = np.array([[0.0, 0.0], [0.05, 0.9], [0.5, 0.5], [0.52, 0.48], [1.0, 1.0], [0.99, 0.0]])
    # 2 bins over [0, 1] per unit (0.5 opens the upper bin; 1.0 is clipped into it), by hand
    labels = [(0, 0), (0, 1), (1, 1), (1, 0), (1, 1), (1, 0)]
    _, counts = np.unique(np.array(labels), axis=0, return_counts=True)
    p = counts / counts.sum()
    assert binned_layer_information(t, bins=2) == pytest.approx(float(-(p * np.log2(p)).sum()), abs=1e-12)
    wide = np.random.default_rng(0).uniform(size=(50, 20))
    assert binned_layer_information(wide, bins=30) == pytest.approx(math.log2(50))   # every probe alone
    assert binned_layer_information(np.ones((9, 3)), bins=30) == 0.0
    with pytest.raises(ValueError, match="bins must be an integer >= 2; got 1"):
        binned_layer_information(wide, bins=1)


def test_vae_rate_is_the_closed_form_kl_and_the_lower_bound_stays_below_it():
    mu = np.array([[0.5, -1.0], [2.0, 0.0], [0.0, 0.3]])
    logvar = np.array([[0.0, -1.0], [np.log(0.25), 0.5], [-2.0, 0.0]])
    kl = 0.5 * (mu ** 2 + np.exp(logvar) - 1 - logvar).sum(1).mean() / math.log(2)
    assert vae_rate(mu, logvar) == pytest.approx(kl, abs=1e-12)
    rng = np.random.default_rng(0)
    for spread, logv in ((3.0, -6.0), (0.3, 0.0), (1.0, -1.0)):      # well separated, overlapping, between
        mu = rng.normal(size=(200, 4)) * spread
        lv = np.full((200, 4), logv)
        rate, lower = vae_rate(mu, lv), vae_lower_bound(mu, lv, samples=4)
        assert lower <= min(rate, math.log2(200)) + 1e-9
    assert vae_lower_bound(mu, lv, seed=1) == vae_lower_bound(mu, lv, seed=1)
    assert vae_lower_bound(np.zeros((50, 3)), np.zeros((50, 3))) == pytest.approx(0.0, abs=1e-12)


def test_vae_lower_bound_equals_the_textbook_double_loop_on_a_tiny_encoder():
    rng = np.random.default_rng(3)
    mu, lv = rng.normal(size=(6, 3)) * 2.0, rng.normal(size=(6, 3)) - 1.0
    z = mu + np.exp(0.5 * lv) * torch.randn(mu.shape, generator=torch.Generator().manual_seed(7),
                                            dtype=torch.float64).numpy()      # the draw the bound makes

    def log_q(i, j):                                  # log N(z_i; mu_j, diag exp(lv_j)), every term kept
        return sum(-0.5 * math.log(2 * math.pi) - 0.5 * lv[j, k] - 0.5 * (z[i, k] - mu[j, k]) ** 2 / math.exp(lv[j, k])
                   for k in range(3))

    n = len(mu)
    terms = [log_q(i, i) - math.log(sum(math.exp(log_q(i, j)) for j in range(n)) / n) for i in range(n)]
    assert vae_lower_bound(mu, lv, seed=7) == pytest.approx(np.mean(terms) / math.log(2), abs=1e-10)


def test_ksg_lands_near_the_closed_form_on_a_gaussian_pair():
    truth = -0.5 * math.log2(1 - 0.64)                # ρ = 0.8: 0.737 bits
    estimates = []
    for seed in range(100, 110):                      # one sample's sd is 0.05 bits; KSG's bias ~0.01
        rng = np.random.default_rng(seed)
        x = rng.normal(size=1000)
        y = 0.8 * x + 0.6 * rng.normal(size=1000)
        estimates.append(ksg_mutual_information(x, y))
    assert np.mean(estimates) == pytest.approx(truth, abs=0.05)
    # an independent extra column adds nothing to the truth; the chain rule's conditional term,
    # estimated in 2 dimensions, costs about 0.1 bit here (0.649 against 0.737)
    two = np.column_stack([x, rng.normal(size=1000)])
    assert ksg_mutual_information(two, y) == pytest.approx(truth, abs=0.15)
    with pytest.raises(ValueError, match="at most 10 columns"):
        ksg_mutual_information(rng.normal(size=(50, 11)), y[:50])


def test_the_matrix_estimator_takes_every_bandwidth_rule():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 1))
    y = x + 0.3 * rng.normal(size=(300, 1))
    base = mutual_information(x, y)
    assert mutual_information(x, y, rule="scott") == base
    for rule in ("median", "tapia"):
        v = mutual_information(x, y, rule=rule, gamma=1.0)
        assert 0 < v < math.log2(300) and v != base
    indep = mutual_information(x, rng.normal(size=(300, 1)), rule="median", gamma=1.0)
    assert indep < mutual_information(x, y, rule="median", gamma=1.0)
    with pytest.raises(ValueError, match="unknown bandwidth rule 'silverman'"):
        mutual_information(x, y, rule="silverman")
    assert torch.is_tensor(VariableSample(x).d2)
