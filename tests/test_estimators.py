"""The matrix-based Rényi estimator against textbook formulas, analytic values and invariants."""
import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import pdist, squareform

from ipbook.estimators.binning import binned_mutual_information
from ipbook.estimators.matrix import gram_matrix, information_plane, joint_entropy, mutual_information, renyi_entropy, scott_bandwidth

rng = np.random.default_rng(1234)


def textbook_gram(x, gamma=2.0):
    """A_ij = K_ij / (N sqrt(K_ii K_jj)), Gaussian kernel, Scott's rule: written out plainly."""
    n, d = x.shape
    sigma = gamma * n ** (-1.0 / (4 + d))
    k = np.exp(-squareform(pdist(x, "sqeuclidean")) / (2 * sigma**2))
    return k / (n * np.sqrt(np.outer(np.diag(k), np.diag(k))))


def textbook_entropy(a, alpha):
    lam = np.linalg.eigvalsh(a)
    lam = np.clip(lam, 0, None)
    lam = lam / lam.sum()
    if alpha == 1:
        lam = lam[lam > 0]
        return float(-(lam * np.log2(lam)).sum())
    return float(np.log2(np.sum(lam**alpha)) / (1 - alpha))


def gaussian_pair(rho, n, seed=0):
    g = np.random.default_rng(seed)
    return g.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.01, 2.0])
def test_entropy_equals_textbook_sum(alpha):
    x = rng.normal(size=(60, 5))
    a = textbook_gram(x)
    assert np.allclose(gram_matrix(x).numpy(), a, atol=1e-14)
    assert renyi_entropy(a, alpha=alpha) == pytest.approx(textbook_entropy(a, alpha), abs=1e-10)


def test_mutual_information_equals_textbook_formula():
    x, y = rng.normal(size=(50, 3)), rng.normal(size=(50, 7))
    a, b = textbook_gram(x), textbook_gram(y)
    ab = a * b / np.trace(a * b)
    expected = textbook_entropy(a, 1.01) + textbook_entropy(b, 1.01) - textbook_entropy(ab, 1.01)
    assert mutual_information(x, y) == pytest.approx(expected, abs=1e-10)
    assert joint_entropy(a, b) == pytest.approx(textbook_entropy(ab, 1.01), abs=1e-10)


def test_entropy_ceiling_log2_n_reached_by_identity():
    n = 64
    assert renyi_entropy(np.eye(n) / n) == pytest.approx(math.log2(n), abs=1e-10)
    assert renyi_entropy(np.eye(n) / n, alpha=1.0) == pytest.approx(math.log2(n), abs=1e-10)
    # Any Gram matrix stays at or below the ceiling, and a tiny bandwidth reaches it.
    x = rng.normal(size=(n, 10))
    assert renyi_entropy(gram_matrix(x)) <= math.log2(n) + 1e-12
    assert renyi_entropy(gram_matrix(x, sigma=1e-3)) == pytest.approx(math.log2(n), abs=1e-9)
    # A huge bandwidth makes all samples alike: entropy -> 0 (Eq. A9).
    assert renyi_entropy(gram_matrix(x, sigma=1e6)) < 1e-6


def test_mutual_information_symmetric_and_self_information():
    x, y = rng.normal(size=(80, 4)), rng.uniform(size=(80, 2))
    assert mutual_information(x, y) == pytest.approx(mutual_information(y, x), abs=1e-12)
    # S(A∘B) >= max(S(A), S(B)) (Sánchez Giraldo et al. 2015), so I(X;X) <= S(X) for any data,
    # and I(X;Y) <= min(S(X), S(Y)).
    s_x = renyi_entropy(gram_matrix(x))
    assert mutual_information(x, x) <= s_x + 1e-9
    assert mutual_information(x, y) <= min(s_x, renyi_entropy(gram_matrix(y))) + 1e-9


def test_self_information_equals_entropy_for_separated_clusters():
    # With a 0/1 kernel (identical or far-apart points) A∘A/tr(A∘A) = A, hence I(X;X) = S(X):
    # four equally likely, well-separated points give exactly 2 bits.
    x = np.repeat(np.array([[0.0], [100.0], [200.0], [300.0]]), 25, axis=0)
    assert renyi_entropy(gram_matrix(x)) == pytest.approx(2.0, abs=1e-9)
    assert mutual_information(x, x) == pytest.approx(2.0, abs=1e-9)
    # For continuous data the kernel estimate of I(X;X) stays well below S(X): the Hadamard
    # square halves the effective bandwidth. This is a property of the estimator, not a bug.
    z = rng.normal(size=(80, 4))
    assert mutual_information(z, z) < renyi_entropy(gram_matrix(z)) - 0.3


def test_alpha_one_limit_is_continuous():
    x = rng.normal(size=(100, 3))
    a = gram_matrix(x)
    s1, s1001 = renyi_entropy(a, alpha=1.0), renyi_entropy(a, alpha=1.001)
    assert abs(s1 - s1001) < 5e-3
    assert abs(s1 - s1001) > 0  # really evaluated through the two different branches


@pytest.mark.parametrize("rho", [0.0, 0.2, 0.4, 0.6, 0.8])
def test_gaussian_mi_close_to_theory(rho):
    # Exact I = -1/2 log2(1 - rho^2) bits. Tolerance 0.1 bits at N = 1000, gamma = 2.
    xy = gaussian_pair(rho, 1000)
    theory = -0.5 * math.log2(1 - rho**2)
    est = mutual_information(xy[:, :1], xy[:, 1:])
    assert est == pytest.approx(theory, abs=0.1)


def test_gaussian_mi_below_theory_at_high_correlation():
    # The kernel estimate saturates: at rho = 0.99 (theory 2.83 bits) it is well below theory.
    xy = gaussian_pair(0.99, 1000)
    theory = -0.5 * math.log2(1 - 0.99**2)
    assert mutual_information(xy[:, :1], xy[:, 1:]) < theory - 0.3


def test_information_plane_equals_pairwise_and_obeys_bounds():
    n = 100
    x = torch.rand(n, 784)
    w1, w2 = torch.randn(784, 64) * 0.1, torch.randn(64, 16) * 0.5
    t1 = torch.sigmoid(x @ w1)
    t2 = torch.sigmoid(t1 @ w2)
    x_hat = torch.sigmoid(t2 @ torch.randn(16, 784))
    i_xt, i_tx = information_plane(x, [t1, t2], x_hat)
    assert i_xt.shape == i_tx.shape == (2,)
    for k, t in enumerate([t1, t2]):
        assert i_xt[k] == pytest.approx(mutual_information(x, t), abs=1e-10)
        assert i_tx[k] == pytest.approx(mutual_information(t, x_hat), abs=1e-10)
    assert np.all(i_xt <= math.log2(n) + 1e-9) and np.all(i_tx >= -1e-9)
    # Data processing along X -> T1 -> T2, within 0.05 bits.
    assert i_xt[1] <= i_xt[0] + 0.05


def test_accepts_numpy_and_torch_alike():
    x, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    a = mutual_information(x, y)
    b = mutual_information(torch.from_numpy(x).float(), torch.from_numpy(y))
    assert a == pytest.approx(b, abs=1e-5)  # float32 input rounding only


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: mutual_information(np.zeros((10, 2)), np.zeros((11, 2))), "same number of samples"),
        (lambda: mutual_information(np.zeros((1, 2)), np.zeros((1, 2))), "N = 2"),
        (lambda: mutual_information(np.zeros(10), np.zeros((10, 2))), "2-D"),
        (lambda: mutual_information(np.full((10, 2), np.nan), np.zeros((10, 2))), "NaN or inf"),
        (lambda: mutual_information(np.array([[np.inf], [0.0]]), np.zeros((2, 1))), "NaN or inf"),
        (lambda: mutual_information(np.zeros((10, 2)), np.zeros((10, 2)), alpha=0), "alpha"),
        (lambda: mutual_information(np.zeros((10, 2)), np.zeros((10, 2)), alpha=-1), "alpha"),
        (lambda: mutual_information(np.zeros((10, 2)), np.zeros((10, 2)), gamma=0), "gamma"),
        (lambda: mutual_information(np.zeros((10, 2)), np.zeros((10, 2)), gamma=-2), "gamma"),
        (lambda: mutual_information([[0.0]], np.zeros((10, 2))), "numpy array or a torch tensor"),
        (lambda: information_plane(np.zeros((10, 2)), [], np.zeros((10, 2))), "non-empty"),
        (lambda: information_plane(np.zeros((10, 2)), [np.zeros((9, 2))], np.zeros((10, 2))), "layers\\[0\\]: N = 9"),
        (lambda: gram_matrix(np.zeros((10, 2)), sigma=0.0), "sigma"),
        (lambda: renyi_entropy(np.zeros((3, 4))), "square"),
        (lambda: binned_mutual_information(np.zeros(10), np.zeros(10), bins=1), "bins"),
        (lambda: binned_mutual_information(np.zeros(10), np.zeros(9)), "same number of samples"),
    ],
)
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_scott_bandwidth():
    assert scott_bandwidth(100, 50, 2.0) == pytest.approx(2.0 * 100 ** (-1 / 54))


def test_binned_mutual_information_against_hand_count():
    # Perfectly dependent 4-symbol variable: I = H = 2 bits.
    x = np.repeat(np.arange(4.0), 25)
    assert binned_mutual_information(x, x, bins=4) == pytest.approx(2.0, abs=1e-12)
    # Independent product design: I = 0 exactly.
    a, b = np.meshgrid(np.arange(4.0), np.arange(4.0))
    assert binned_mutual_information(a.ravel(), b.ravel(), bins=4) == pytest.approx(0.0, abs=1e-12)
    # Gaussian at rho = 0.8 with 20 bins: near theory (0.74 bits), biased upwards.
    xy = gaussian_pair(0.8, 1000)
    est = binned_mutual_information(xy[:, 0], xy[:, 1], bins=20)
    assert 0.74 < est < 0.74 + 0.45


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not present")
def test_cpu_and_cuda_agree():
    x = torch.rand(100, 784)
    layers = [torch.rand(100, w) for w in (256, 128, 50)]
    x_hat = torch.rand(100, 784)
    cpu = information_plane(x, layers, x_hat)
    gpu = information_plane(x.cuda(), [t.cuda() for t in layers], x_hat.cuda())
    for c, g in zip(cpu, gpu):
        assert np.allclose(c, g, atol=1e-6)


def test_information_plane_object_reuses_x_and_matches_function():
    from ipbook.estimators.matrix import InformationPlane

    x = torch.rand(50, 30)
    plane = InformationPlane(x)
    for seed in range(2):
        g = torch.Generator().manual_seed(seed)
        t = torch.sigmoid(x @ torch.randn(30, 8, generator=g))
        r = torch.sigmoid(t @ torch.randn(8, 30, generator=g))
        ours, ref = plane([t], r), information_plane(x, [t], r)
        # Equal up to round-off, not bit for bit: with two threads, MKL's kernels can take paths
        # that depend on where a buffer lies in memory, and some processes see 3e-14 bits apart.
        np.testing.assert_allclose(ours[0], ref[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(ours[1], ref[1], rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="same number of samples"):
        plane([torch.rand(49, 8)], torch.rand(49, 30))


def test_eigen_step_split_over_threads_equals_one_batched_call():
    from ipbook.estimators.matrix import entropies, information_plane

    g = torch.Generator().manual_seed(0)
    a = torch.randn(17, 100, 100, generator=g, dtype=torch.float64)
    mats = a @ a.mT
    mats /= torch.diagonal(mats, dim1=-2, dim2=-1).sum(-1)[:, None, None]      # unit trace
    lam = torch.linalg.eigvalsh(mats).clamp_min(0.0)                          # one batched call
    ref = torch.log2(lam.pow(1.01).sum(-1)) / (1 - 1.01)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        split = entropies(mats, 1.01)                                         # split over two threads
        x = torch.rand(100, 30, generator=g)
        two = information_plane(x, [x[:, :10], x[:, 10:]], x)
        torch.set_num_threads(1)
        one = information_plane(x, [x[:, :10], x[:, 10:]], x)
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_allclose(split.numpy(), ref.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.r_[two], np.r_[one], rtol=0, atol=1e-10)
