"""The matrix estimator's fast path (Krylov-deflated stochastic Lanczos quadrature) against
closed-form spectra and against the exact eigen-decomposition on real layers."""
import math

import numpy as np
import pytest
import torch

from ipbook.estimators import inputs, parse_spec
from ipbook.estimators.lanczos import entropy_lanczos
from ipbook.estimators.matrix import (
    AUTO_MIN_N,
    VariableSample,
    entropies,
    joint_gram,
    mutual_information,
    planes_under,
    renyi_entropy,
    resolve_method,
)
from ipbook.nets.data import load_dataset


def renyi_of(lam: np.ndarray, alpha: float) -> float:
    """The textbook S_α of a spectrum that sums to 1."""
    lam = lam[lam > 0]
    if alpha == 1.0:
        return float(-(lam * np.log2(lam)).sum())
    return float(np.log2((lam ** alpha).sum()) / (1 - alpha))


@pytest.mark.parametrize("alpha", [1.01, 1.0])
def test_identity_gives_log2_n(alpha):
    n = 500
    est = entropy_lanczos(torch.eye(n, dtype=torch.float64) / n, alpha)
    assert est.value == pytest.approx(math.log2(n), abs=1e-9)
    assert est.value <= math.log2(n)


@pytest.mark.parametrize("alpha", [1.01, 1.0])
def test_rank_one_gives_zero(alpha):
    n = 400
    est = entropy_lanczos(torch.full((n, n), 1.0 / n, dtype=torch.float64), alpha)
    assert est.value == pytest.approx(0.0, abs=1e-6)


def block_matrix(sizes, c):
    """c·I/N + (1 − c)·(blocks of ones)/N: one eigenvalue c/N + (1 − c)·n_i/N per block, and
    c/N for the other N − k."""
    n = sum(sizes)
    blocks = torch.block_diag(*[torch.ones(k, k, dtype=torch.float64) for k in sizes])
    a = c * torch.eye(n, dtype=torch.float64) / n + (1 - c) * blocks / n
    lam = np.concatenate([c / n + (1 - c) * np.array(sizes) / n, np.full(n - len(sizes), c / n)])
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(1))   # no structure in the order
    return a[perm][:, perm], lam


@pytest.mark.parametrize("c", [0.02, 0.5])
@pytest.mark.parametrize("alpha", [1.01, 1.0, 1.5])
def test_block_diagonal_matches_its_closed_form(alpha, c):
    a, lam = block_matrix([300, 150, 100, 50, 25, 25], c)
    est = entropy_lanczos(a, alpha)
    assert est.value == pytest.approx(renyi_of(lam, alpha), abs=0.01)
    assert est.error < 0.01


@pytest.fixture(scope="module")
def layers():
    """Fashion-MNIST test images and three sigmoid layers of random projections, N = 2000: flat
    (X), intermediate and steep spectra."""
    g = torch.Generator().manual_seed(0)
    x = load_dataset("fashion-mnist", "test").x[:2000].double()
    out, t = {"x": x}, x
    for name, width in (("t1", 256), ("t2", 128), ("t3", 50)):
        w = torch.randn(t.shape[1], width, generator=g, dtype=torch.float64) * 3 / t.shape[1] ** 0.5
        t = out[name] = torch.sigmoid(t @ w)
    return out


@pytest.mark.parametrize("n", [200, 1000, 2000])
@pytest.mark.parametrize("alpha", [1.01, 2.0])
def test_real_layers_within_tolerance_of_the_exact_path(layers, n, alpha):
    grams = {k: VariableSample(v[:n]).gram("scott", 2.0) for k, v in layers.items()}
    grams["x*t1"] = joint_gram(grams["x"], grams["t1"])
    mats = torch.stack(list(grams.values()))
    exact = entropies(mats, alpha)
    fast, err = entropies(mats, alpha, method="lanczos", return_error=True)
    assert (fast - exact).abs().max() < 0.01, (fast - exact)
    assert float(err.max()) < 0.01
    assert float(fast.max()) <= math.log2(n)
    if alpha == 2.0:                       # the Frobenius identity: no spectrum, one answer
        assert torch.equal(fast, exact)


def test_the_same_seed_gives_the_same_value_and_another_seed_one_within_tolerance(layers):
    a = VariableSample(layers["t1"][:1000]).gram("scott", 2.0)
    first, again = renyi_entropy(a, method="lanczos", seed=3), renyi_entropy(a, method="lanczos", seed=3)
    other = renyi_entropy(a, method="lanczos", seed=4)
    assert first == again
    assert first != other and abs(first - other) < 0.02


def test_a_tighter_tolerance_gives_a_smaller_error(layers):
    a = VariableSample(layers["t1"][:1000]).gram("scott", 2.0)
    exact = renyi_entropy(a)
    loose = renyi_entropy(a, method="lanczos", tol=0.05, return_error=True)
    tight = renyi_entropy(a, method="lanczos", tol=0.004, return_error=True)
    assert tight[1] < loose[1] and tight[1] < 0.004
    assert abs(tight[0] - exact) < 0.004


def test_planes_and_mutual_information_take_the_method(layers):
    x, ts = layers["x"][:1000], [layers["t1"][:1000], layers["t3"][:1000]]
    exact = planes_under(x, ts, [("scott", 2.0, 1.01)], target=layers["t2"][:1000])
    fast = planes_under(x, ts, [("scott", 2.0, 1.01)], target=layers["t2"][:1000], method="lanczos")
    assert exact["error"] == 0.0 and 0 < fast["error"] < 0.01
    for key in ("i_xt", "i_ty", "s_t"):     # each I is three entropies, each within 0.01 bit
        np.testing.assert_allclose(fast[key], exact[key], atol=0.03)
    mi = mutual_information(x, ts[0], method="lanczos")
    assert mi == pytest.approx(float(exact["i_xt"][0, 0]), abs=0.03)


def test_the_spec_names_the_method_and_the_exact_default_is_unchanged(layers):
    est = parse_spec("matrix:method=lanczos")
    assert est.method == "lanczos" and est.spec == "matrix:method=lanczos"
    assert parse_spec("matrix").spec == "matrix" and parse_spec("matrix").method == "exact"
    x, t = layers["x"][:300], layers["t1"][:300]
    assert est.estimate(x, t) == pytest.approx(parse_spec("matrix").estimate(x, t), abs=0.03)


def test_auto_takes_lanczos_only_from_the_crossover_on():
    assert resolve_method("auto", AUTO_MIN_N - 1, 1.01) == "exact"
    assert resolve_method("auto", AUTO_MIN_N, 1.01) == "lanczos"
    assert resolve_method("auto", AUTO_MIN_N, 0.5) == "exact"
    assert resolve_method("lanczos", 100, 2.0) == "exact"


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "fast"}, "method must be one of 'exact', 'lanczos', 'auto'; got 'fast'"),
    ({"method": "lanczos", "tol": 0}, "tol must be a finite number of bits > 0"),
    ({"method": "lanczos", "tol": float("nan")}, "tol must be a finite number of bits > 0"),
])
def test_a_bad_method_or_tolerance_gets_one_line(kwargs, message):
    with pytest.raises(ValueError, match=message):
        renyi_entropy(torch.eye(4, dtype=torch.float64) / 4, **kwargs)


def test_too_large_an_n_is_refused_before_any_work(monkeypatch):
    monkeypatch.setattr(inputs, "available_memory", lambda: 2**30)
    x = torch.rand(6000, 3, dtype=torch.float64)
    with pytest.raises(MemoryError, match=r"at N = 6000 needs about .* GiB .* 1\.0 GiB is available"):
        planes_under(x, [x], [("scott", 2.0, 1.01)])


def test_a_plane_of_matrix_estimators_takes_each_ones_method(layers):
    """The recorder builds its plane from its matrix specs: 'matrix:method=lanczos' reaches the
    Lanczos path (an error estimate above 0), 'matrix' stays exact."""
    from ipbook.estimators.matrix import InformationPlane

    x, t = layers["x"][:600], layers["t1"][:600]
    fast = InformationPlane(x, kernels=[parse_spec("matrix:method=lanczos")]).planes([t])
    exact = InformationPlane(x, kernels=[parse_spec("matrix")]).planes([t])
    assert fast["error"] > 0 and exact["error"] == 0.0
    assert fast["i_xt"][0, 0] == pytest.approx(exact["i_xt"][0, 0], abs=0.03)
