r"""The estimator checks of Appendix A (Figs. A1 and A2 of Lee & Jo 2021), as plain functions.

Every function is seeded (``seed``, a :class:`numpy.random.Generator` seed), returns numpy arrays
or dicts of them, and reports mutual information in **bits**.

Fig. A1 (a bivariate normal with known mutual information)
    :func:`gaussian_samples`, :func:`gaussian_mi_theory`, :func:`gaussian_mi_scan`.
Fig. A2 (input information of a layer ``z = f(w x)`` as the weights grow)
    :func:`weight_scan_scalar`, :func:`weight_scan_matrix`.

Cost: one kernel estimate :func:`ipbook.estimators.mutual_information` takes three float64
eigendecompositions of N×N matrices (batched), about 0.2–0.3 s in all at N = 1000 on 2 CPU cores,
and 1/8 of that at N = 500. Binning is essentially free.
"""
from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np
from scipy.special import expit

from ipbook.estimators.binning import binned_mutual_information
from ipbook.estimators.matrix import mutual_information

__all__ = [
    "NUMPY_ACTIVATIONS",
    "gaussian_samples",
    "gaussian_mi_theory",
    "gaussian_mi_scan",
    "weight_scan_scalar",
    "weight_scan_matrix",
]

#: Activation functions of Fig. A2 (``tanh`` is extra: Saxe et al.'s double-saturating case).
NUMPY_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda s: s,
    "relu": lambda s: np.maximum(s, 0.0),
    "sigmoid": expit,  # 1 / (1 + exp(-s)) without overflow warnings
    "tanh": np.tanh,
}


def _activation(name: str) -> Callable[[np.ndarray], np.ndarray]:
    try:
        return NUMPY_ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(NUMPY_ACTIVATIONS)}") from None


# ----------------------------------------------------------------------------- Fig. A1
def gaussian_samples(rho: float, n: int = 1000, seed: int = 0) -> np.ndarray:
    r"""N samples of a bivariate normal with means 0, variances 1 and correlation ``rho``.

    Built as :math:`X_1 = Z_1`, :math:`X_2 = \rho Z_1 + \sqrt{1-\rho^2} Z_2` from i.i.d. standard
    normals :math:`Z` drawn with ``numpy.random.default_rng(seed)``. The same seed gives the same
    :math:`Z` for every ρ (common random numbers, so curves over ρ are smooth), and the first
    ``m`` rows of ``gaussian_samples(rho, n)`` are ``gaussian_samples(rho, m)``: a sample fraction
    p is the first p·N rows.

    Returns
    -------
    (n, 2) float64 array; column 0 is X_1, column 1 is X_2.
    """
    if not -1.0 < rho < 1.0:
        raise ValueError(f"rho must lie in (-1, 1); got {rho!r}")
    if n < 2:
        raise ValueError(f"n must be >= 2; got {n!r}")
    z = np.random.default_rng(seed).standard_normal((n, 2))
    return np.column_stack([z[:, 0], rho * z[:, 0] + np.sqrt(1.0 - rho * rho) * z[:, 1]])


def gaussian_mi_theory(rho):
    r"""Exact :math:`I(X_1; X_2) = -\tfrac12 \log_2(1-\rho^2)` in **bits** (Eq. A14 over ln 2).

    Accepts a scalar or an array; returns the same shape (a float for a scalar). +inf at |ρ| = 1.
    """
    r = np.asarray(rho, dtype=np.float64)
    with np.errstate(divide="ignore"):
        out = -0.5 * np.log1p(-r * r) / np.log(2.0) + 0.0  # + 0.0 turns -0.0 into 0.0
    return float(out) if out.ndim == 0 else out


def gaussian_mi_scan(
    rhos: Sequence[float],
    n: int = 1000,
    bins: Sequence[int] = (20,),
    gammas: Sequence[float] = (2.0,),
    fractions: Sequence[float] | None = None,
    seed: int = 0,
    alpha: float = 1.01,
) -> dict:
    r"""Theory, binning and kernel estimates of :math:`I(X_1; X_2)` over ρ: every panel of Fig. A1.

    For each ρ one sample of ``n`` points is drawn (:func:`gaussian_samples`, same ``seed`` for
    every ρ); for each sample fraction p its first ``round(p·n)`` rows are used. Binning is
    :func:`~ipbook.estimators.binned_mutual_information` at each level in ``bins`` (equal-width
    bins over the observed range of each variable); the kernel is
    :func:`~ipbook.estimators.mutual_information` (Rényi α, Scott's rule σ = γ·N^(−1/5) for each
    1-D variable, N the subsample size) at each γ in ``gammas``.

    Parameters
    ----------
    rhos : sequence of float in (-1, 1)
    n : int, default 1000 (the paper's sample size)
    bins : sequence of int, default (20,)
    gammas : sequence of float, default (2.0,). Pass ``()`` to skip the kernel (it is the cost:
        ``len(rhos) * len(fractions) * len(gammas)`` estimates, ~0.25 s each at N = 1000).
    fractions : sequence of float in (0, 1], default (1.0,)
    seed : int, default 0
    alpha : float, default 1.01

    Returns
    -------
    dict with numpy arrays
        ``rho`` (R,), ``fraction`` (F,), ``n_used`` (F,) sample sizes, ``bins`` (B,),
        ``gamma`` (G,), ``theory`` (R,), ``binning`` (F, B, R), ``kernel`` (F, G, R); all
        information in bits.
    """
    rhos = np.asarray(rhos, dtype=np.float64)
    fractions = np.asarray((1.0,) if fractions is None else fractions, dtype=np.float64)
    if np.any((fractions <= 0) | (fractions > 1)):
        raise ValueError(f"fractions must lie in (0, 1]; got {fractions.tolist()}")
    bins_a = np.asarray(bins, dtype=np.int64)
    gammas_a = np.asarray(gammas, dtype=np.float64)
    n_used = np.maximum(2, np.round(fractions * n).astype(np.int64))
    binning = np.empty((fractions.size, bins_a.size, rhos.size))
    kernel = np.empty((fractions.size, gammas_a.size, rhos.size))
    for r, rho in enumerate(rhos):
        xy = gaussian_samples(float(rho), n, seed)
        for f, m in enumerate(n_used):
            x, y = xy[:m, :1], xy[:m, 1:]
            for b, k in enumerate(bins_a):
                binning[f, b, r] = binned_mutual_information(x, y, bins=int(k))
            for g, gamma in enumerate(gammas_a):
                kernel[f, g, r] = mutual_information(x, y, alpha=alpha, gamma=float(gamma))
    return {
        "rho": rhos,
        "fraction": fractions,
        "n_used": n_used,
        "bins": bins_a,
        "gamma": gammas_a,
        "theory": np.asarray(gaussian_mi_theory(rhos), dtype=np.float64).reshape(rhos.shape),
        "binning": binning,
        "kernel": kernel,
    }


# ----------------------------------------------------------------------------- Fig. A2
def weight_scan_scalar(
    ws: Iterable[float],
    activations: Sequence[str] = ("linear", "relu", "sigmoid"),
    n: int = 1000,
    seed: int = 0,
    alpha: float = 1.01,
    gamma: float = 2.0,
) -> dict:
    r"""Fig. A2a: kernel :math:`I_\alpha(x; z)` of the three-neuron net, :math:`z = f(w x)`, vs w.

    One input sample :math:`x_t \sim \mathcal N(0, 1)`, t = 1..n, is drawn with
    ``default_rng(seed)`` and reused for every w and every activation, so the curves differ only
    through w and f. Each point is one :func:`~ipbook.estimators.mutual_information` call with
    Scott's-rule widths for 1-D x and z (σ = γ·n^(−1/5), 0.5 at n = 1000, γ = 2).

    Parameters
    ----------
    ws : weights w (any real numbers)
    activations : names from :data:`NUMPY_ACTIVATIONS` ("linear", "relu", "sigmoid", "tanh")
    n : int, default 1000
        Cost: ``len(ws) * len(activations)`` estimates, ~0.25 s each at n = 1000.

    Returns
    -------
    dict
        ``w`` (W,) and, for each activation name, an array (W,) of I(x; z) in bits.
    """
    ws = np.asarray(list(ws), dtype=np.float64)
    x = np.random.default_rng(seed).standard_normal((n, 1))
    out: dict = {"w": ws}
    for name in activations:
        f = _activation(name)
        out[name] = np.array([mutual_information(x, f(w * x), alpha=alpha, gamma=gamma) for w in ws])
    return out


def weight_scan_matrix(
    stds: Iterable[float],
    activations: Sequence[str] = ("linear", "relu", "sigmoid"),
    n: int = 1000,
    d_in: int = 100,
    d_out: int = 50,
    seed: int = 0,
    alpha: float = 1.01,
    gamma: float = 2.0,
) -> dict:
    r"""Fig. A2b: kernel :math:`I_\alpha(X; Z)` for :math:`Z = f(W X)`, X ∈ R^100, Z ∈ R^50, vs std(W).

    With ``rng = default_rng(seed)``: the inputs are an (n, d_in) matrix of i.i.d. N(0, 1) entries
    (row t is the sample :math:`X_t`), then one (d_out, d_in) matrix U of i.i.d. U(0, 1) entries is
    drawn, and for each target standard deviation s the weight is

    .. math::  W_s = s \, U / \operatorname{std}(U),

    with std(U) the standard deviation of the drawn entries (≈ 1/√12), so that std(W_s) = s
    exactly. **Choice:** W is a pure rescaling of a U(0, 1) draw. The paper samples W from
    U(0, 1) and then varies "the standard deviation of weight W"; multiplying by a constant is the
    only way to do that while keeping the entries uniform on [0, c] as drawn. (The alternative,
    centring first, :math:`s(U - \bar U)/\operatorname{std}(U)`, would turn the law into
    U(−a, a), which the paper does not describe.) One consequence: all entries are positive, the
    mean of W is s·√3 ≈ 1.73·s, so the 50 pre-activations are strongly correlated. The same U
    and X are reused for every s, so the curves differ only through s and f.

    Z_t = f(W_s X_t) row by row, i.e. ``Z = f(X @ W_s.T)``. Each point is one
    :func:`~ipbook.estimators.mutual_information` call (σ_X = γ·n^(−1/104), σ_Z = γ·n^(−1/54)).
    Note that at d = 100 every input sample is distinguishable at width σ_X, so S(A) = log2 n and
    the estimate is capped at log2 n (9.97 bits at n = 1000).

    Returns
    -------
    dict
        ``std`` (S,) and, for each activation name, an array (S,) of I(X; Z) in bits.
    """
    stds = np.asarray(list(stds), dtype=np.float64)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d_in))
    u = rng.uniform(0.0, 1.0, size=(d_out, d_in))
    base = u / u.std()
    pre = x @ base.T  # (n, d_out): pre-activations at s = 1; W_s X = s * pre
    out: dict = {"std": stds}
    for name in activations:
        f = _activation(name)
        out[name] = np.array([mutual_information(x, f(s * pre), alpha=alpha, gamma=gamma) for s in stds])
    return out
