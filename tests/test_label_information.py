"""I(T; Y) against class labels with a ceiling of H(Y): the label kernel of the matrix estimator
(label_gram, label_information) and the decoding lower bound (decoding_bound), with real numbers."""
import math

import numpy as np
import pytest
import torch
from scipy.integrate import quad
from scipy.stats import norm

from ipbook.estimators import (
    DecodingBound,
    MatrixLabel,
    decoding_bound,
    gram_matrix,
    label_entropy,
    label_gram,
    label_information,
    parse_spec,
    renyi_entropy,
)

BALANCED = np.arange(100) % 10                                        # ten classes, 10 each
UNBALANCED = np.repeat([0, 1, 2, 3], [50, 30, 15, 5])                 # p = 0.5, 0.3, 0.15, 0.05


def _renyi(p, alpha):
    p = np.asarray(p, dtype=float)
    return float(-(p * np.log2(p)).sum()) if alpha == 1 else float(np.log2((p ** alpha).sum()) / (1 - alpha))


# ----------------------------------------------------------------------------- the label kernel
@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.01, 2.0, 3.0])
def test_the_label_gram_has_the_renyi_entropy_of_the_class_proportions(alpha):
    for y, p in ((BALANCED, [0.1] * 10), (UNBALANCED, [0.5, 0.3, 0.15, 0.05])):
        a = label_gram(y)
        assert a.shape == (len(y), len(y)) and float(torch.trace(a)) == pytest.approx(1.0, abs=1e-12)
        assert renyi_entropy(a, alpha=alpha) == pytest.approx(_renyi(p, alpha), abs=1e-6)
        assert label_entropy(y, alpha) == pytest.approx(_renyi(p, alpha), abs=1e-12)
    # at the paper's α = 1.01, ten balanced classes: log2 10 (3.3219) within 0.01, whatever N;
    # the Gaussian kernel on the one-hot rows at Scott's γ = 2 gives 2.01 at N = 100
    assert abs(renyi_entropy(label_gram(BALANCED)) - math.log2(10)) < 0.01
    assert renyi_entropy(gram_matrix(np.eye(10)[BALANCED])) == pytest.approx(2.008, abs=1e-3)
    assert renyi_entropy(label_gram(np.arange(1000) % 10)) == pytest.approx(math.log2(10), abs=1e-6)


def test_label_information_is_at_most_each_entropy_and_reaches_h_y():
    g = np.random.default_rng(0)
    y = np.arange(200) % 10
    s_y = label_entropy(y, 1.01)
    # T partly informative: class means in 2-D plus noise
    t = g.normal(size=(10, 2))[y] + 0.7 * g.normal(size=(200, 2))
    i = label_information(t, y)
    s_t = renyi_entropy(gram_matrix(t))
    assert 0 < i <= min(s_t, s_y) + 1e-6
    # T = the one-hot labels, far apart (distance 10·√2 at σ = 1.37): A_T = A_Y, I = S(Y) = H_α(Y)
    assert label_information(10.0 * np.eye(10)[y], y) == pytest.approx(s_y, abs=1e-6)
    assert label_information(10.0 * np.eye(4)[UNBALANCED], UNBALANCED) == pytest.approx(
        label_entropy(UNBALANCED, 1.01), abs=1e-6)


def test_label_information_of_an_independent_layer_is_its_positive_bias():
    """T independent of Y, N = 200, ten balanced classes, Scott's γ = 2, α = 1.01. Measured (10
    draws): 0.17 bit at d = 1 (0.15 - 0.23), 0.56 at d = 2, 1.08 at d = 3, 2.04 at d = 5, 3.06 at
    d = 10: the bias grows with T's width, until the kernel tells every row apart and I = S(Y)."""
    y = np.arange(200) % 10
    i1 = label_information(np.random.default_rng(0).normal(size=(200, 1)), y)
    assert 0.1 < i1 < 0.3                                     # 0.157 at this draw
    i10 = label_information(np.random.default_rng(0).normal(size=(200, 10)), y)
    assert 2.9 < i10 <= label_entropy(y, 1.01) + 1e-6         # 3.06 of 3.32: saturated, not information


@pytest.mark.parametrize("y, message", [
    (np.arange(99) % 10, "y must have one label per sample of the layer: N = 100; got 99 labels"),
    (np.linspace(0, 1, 100), "y must be class indices (integers); got non-integer values"),
    (np.eye(10)[BALANCED], "y must be class indices of shape (N,) or (N, 1); got shape (100, 10)"),
    (np.zeros(100, dtype=bool), "y must be class indices (integers); got dtype torch.bool"),
    ("abc", "y must be a numpy array, a torch tensor or a list of class indices"),
])
def test_bad_labels_get_one_line_naming_what_is_wrong(y, message):
    t = np.random.default_rng(0).normal(size=(100, 3))
    for f in (label_information, decoding_bound):
        with pytest.raises(ValueError) as err:
            f(t, y)
        assert message in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ValueError, match="y needs at least N = 2 samples; got N = 1"):
        label_gram([3])
    with pytest.raises(ValueError, match="t needs at least N = 2 samples"):
        label_information(np.zeros((1, 3)), [0])
    # whole-number floats and (N, 1) columns are labels
    assert label_information(t, BALANCED.astype(float)[:, None]) == label_information(t, BALANCED)


# ----------------------------------------------------------------------------- the decoding bound
def test_decoding_bound_reaches_h_y_when_t_is_the_labels():
    y = np.arange(1000) % 10
    t = np.eye(10)[y] + 0.01 * np.random.default_rng(0).normal(size=(1000, 10))
    bits, se = decoding_bound(t, y)
    assert math.log2(10) - 0.05 < bits <= math.log2(10)      # 3.306: the ridge keeps q(y|t) < 1
    assert 0 <= se < 0.01
    assert decoding_bound(t, y) == (bits, se)                 # deterministic for a seed


def test_decoding_bound_of_an_independent_layer_is_near_zero_or_negative():
    """T independent of Y, N = 1000, ten balanced classes. Measured (5 draws): −0.010 to +0.006 bit
    at d = 1, −0.15 to −0.06 at d = 10 (the decoder's overfitting, ≈ −(d+1)(C−1)/(2 N_train ln 2)
    = −0.14), about −1.0 at d = 50. Reported as it is, not clamped."""
    y = np.arange(1000) % 10
    for d, low in ((1, -0.05), (10, -0.3)):
        bits, se = decoding_bound(np.random.default_rng(0).normal(size=(1000, d)), y)
        assert low <= bits <= 0.05 and se > 0, (d, bits)
    bits, _ = decoding_bound(np.random.default_rng(0).normal(size=(1000, 10)), y)
    assert bits < 0                                            # −0.147 at this draw: negative, kept


def _two_gaussians_truth(mu):
    """I(T; Y) in bits for Y uniform on {0, 1}, T | Y ~ N(±μ, 1): 1 − E_T[H_b(P(Y = 1 | T))],
    P(Y = 1 | t) = 1 / (1 + e^(−2μt)), by quadrature."""
    def integrand(t):
        p = 1.0 / (1.0 + math.exp(-2.0 * mu * t))
        hb = 0.0 if p <= 0 or p >= 1 else -(p * math.log2(p) + (1 - p) * math.log2(1 - p))
        return 0.5 * (norm.pdf(t, mu) + norm.pdf(t, -mu)) * hb
    return 1.0 - quad(integrand, -mu - 12, mu + 12, limit=200)[0]


def test_decoding_bound_against_the_closed_form_of_two_gaussians():
    """The logistic model is the true posterior here, so the bound is tight up to noise. Measured
    at N = 4000: μ = 1, truth 0.4859, bound 0.5017 ± 0.0125 (seed 0; 8 draws within −1.2 to +1.3
    stderr); μ = 0.5, truth 0.1607, bound 0.1773 ± 0.0100."""
    assert _two_gaussians_truth(1.0) == pytest.approx(0.48594, abs=1e-4)
    for mu in (0.5, 1.0):
        g = np.random.default_rng(0)
        y = g.integers(0, 2, 4000)
        t = (2 * y - 1) * mu + g.normal(size=4000)
        truth = _two_gaussians_truth(mu)
        bits, se = decoding_bound(t[:, None], y)
        assert truth - 3 * se - 0.02 <= bits <= truth + 3 * se, (mu, bits, se, truth)


def test_decoding_bound_checks_its_settings():
    t, y = np.random.default_rng(0).normal(size=(100, 3)), BALANCED
    for kw, message in (({"folds": 0}, "folds must be an integer >= 1"), ({"l2": -1.0}, "l2 must be a finite number >= 0"),
                        ({"max_iter": 0}, "max_iter must be an integer >= 1")):
        with pytest.raises(ValueError, match=message):
            decoding_bound(t, y, **kw)
    with pytest.raises(ValueError, match="needs at least one sample per part: N >= 5 for folds = 5; got N = 4"):
        decoding_bound(t[:4], y[:4], folds=5)
    one, _ = decoding_bound(t, y, folds=1)
    five, _ = decoding_bound(t, y, folds=5)
    assert math.isfinite(one) and math.isfinite(five)


# ----------------------------------------------------------------------------- behind the one interface
def test_the_label_estimators_are_specs_with_ceiling_h_y():
    y = np.arange(200) % 10
    t = np.random.default_rng(0).normal(size=(10, 2))[y] + 0.7 * np.random.default_rng(1).normal(size=(200, 2))
    for spec in ("matrix-label", "matrix-label:gamma=8", "matrix-label:rule=median,alpha=2", "decoding",
                 "decoding:folds=1,l2=0.01,seed=3"):
        est = parse_spec(spec)
        assert est.spec == spec and parse_spec(est.spec) == est
        assert est.ceiling(200) == math.log2(200)
        assert est.estimate(t, y) <= est.label_ceiling(y) + 1e-6
    assert parse_spec("matrix-label:gamma=2,alpha=1.01").spec == "matrix-label" == MatrixLabel().spec
    assert parse_spec("decoding:folds=2,l2=1e-3,seed=0") == DecodingBound()
    assert parse_spec("matrix-label").estimate(t, y) == label_information(t, y)
    assert parse_spec("matrix-label:rule=median").estimate(t, y) == label_information(t, y, rule="median", gamma=1.0)
    assert parse_spec("decoding:seed=3").estimate(t, y) == decoding_bound(t, y, seed=3)[0]
    assert parse_spec("decoding").label_ceiling(y) == pytest.approx(math.log2(10), abs=1e-12)
    assert parse_spec("matrix-label:alpha=2").label_ceiling(UNBALANCED) == pytest.approx(_renyi([.5, .3, .15, .05], 2))
    for spec, message in (("matrix-label:method=lanczos", "matrix-label takes rule=, gamma= and alpha= once each"),
                          ("decoding:folds=0", "decoding takes folds as an integer >= 1"),
                          ("decoding:seed=x", "decoding takes seed as an integer"),
                          ("decoding:k=2", "decoding takes folds=, l2= and seed= once each")):
        with pytest.raises(ValueError, match=f"bad estimator spec '{spec}': {message}"):
            parse_spec(spec)
