r"""The matrix-based Rényi α-entropy estimator of mutual information, and its kernel settings.

The matrix-based estimator (Sánchez Giraldo, Rao & Príncipe 2014; Appendix A of Lee & Jo 2021)
never estimates a density. For N samples :math:`x_1, \dots, x_N \in \mathbb{R}^d` it builds the
Gaussian Gram matrix

.. math::  K_{ij} = \exp\!\left(-\frac{\lVert x_i - x_j \rVert^2}{2\sigma^2}\right),
           \qquad \sigma = \gamma\, N^{-1/(4+d)} \quad\text{(Scott's rule)},

normalizes it to unit trace, :math:`A_{ij} = K_{ij} / (N \sqrt{K_{ii} K_{jj}})`, and takes the
Rényi entropy of its eigenvalue spectrum,

.. math::  S_\alpha(A) = \frac{1}{1-\alpha} \log_2 \sum_i \lambda_i(A)^\alpha ,
           \qquad S_1(A) = -\sum_i \lambda_i \log_2 \lambda_i .

Joint entropy uses the Hadamard product, :math:`S_\alpha(A, B) = S_\alpha(A \circ B / \mathrm{tr}(A
\circ B))`, and the mutual information is :math:`I_\alpha = S_\alpha(A) + S_\alpha(B) - S_\alpha(A,
B)`. Every value is in **bits** and lies in :math:`[0, \log_2 N]`: the estimator saturates at
:math:`\log_2 N` (6.64 bits for N = 100) when every sample is distinguishable at bandwidth σ.

Many kernel settings (bandwidth rule, γ, α) on one sample share its pairwise distances, and the
entropies of all settings with one α come from one batched eigen-decomposition:
:func:`planes_under` and :class:`InformationPlane` are the one batched estimate, which every
caller in the package (:func:`mutual_information`, :func:`information_plane`, the recorder, the
sensitivity and calibration grids) goes through.

References
----------
L. G. Sánchez Giraldo, M. Rao, J. C. Príncipe, "Measures of entropy from data using infinitely
divisible kernels", IEEE Trans. Inf. Theory 61(1), 535 (2015).
S. Lee, J. Jo, "Information flows of diverse autoencoders", Entropy 23(7), 862 (2021), Appendix A.
"""
from __future__ import annotations

import math


import numpy as np
import torch

from .inputs import as_labels, as_matrix, check_memory, check_method, check_params, same_n
from .kernels import (RULES, VariableSample, bandwidth, gram_from_distances, label_gram, scott_bandwidth,
                      squared_distances)
from .lanczos import entropy_lanczos

__all__ = [
    "entropies",
    "joint_gram",
    "planes_under",
    "scott_bandwidth",
    "squared_distances",
    "gram_from_distances",
    "gram_matrix",
    "renyi_entropy",
    "joint_entropy",
    "mutual_information",
    "label_information",
    "label_gram",
    "information_plane",
    "InformationPlane",
    "RULES",
    "bandwidth",
    "VariableSample",
    "AUTO_MIN_N",
    "resolve_method",
]

#: ``method="auto"`` takes the Lanczos path from this N on (for 1 ≤ α ≠ 2). Measured by
#: ``benchmarks/estimator_large_n.py`` (one thread, 11 entropies of a plane): the two paths take
#: as long at N = 500; at N = 1000 the Lanczos path is 2.0x faster, within 0.0042 bit.
AUTO_MIN_N = 1000


def resolve_method(method: str, n: int, alpha: float) -> str:
    """``exact`` or ``lanczos``: what ``method`` means for an N × N matrix and order α. α = 2
    is always exact (the Frobenius identity needs no spectrum), and ``auto`` is ``lanczos``
    for N ≥ :data:`AUTO_MIN_N` and α ≥ 1 (below 1, f(λ) = λ^α is too steep at 0 for a short
    quadrature)."""
    if alpha == 2.0 or method == "exact":
        return "exact"
    if method == "auto":
        return "lanczos" if n >= AUTO_MIN_N and alpha >= 1.0 else "exact"
    return "lanczos"

# ----------------------------------------------------------------------------- building blocks
def _normalized_gram(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """A = K / (N sqrt(K_ii K_jj)) for the Gaussian kernel of width sigma; x is (N, d) float64.

    For the Gaussian kernel K_ii = 1, so A = K / N.
    """
    d2 = squared_distances(x)
    return torch.exp_(d2.mul_(-0.5 / (sigma * sigma))).div_(x.shape[0])


def gram_matrix(x, *, sigma: float | None = None, gamma: float = 2.0) -> torch.Tensor:
    """Normalized Gaussian Gram matrix of the rows of ``x`` (Eqs. A2, A7).

    Parameters
    ----------
    x : (N, d) array or tensor
    sigma : float, optional
        Kernel width. Default: Scott's rule, σ = γ·N^(−1/(4+d)).
    gamma : float, default 2.0
        Scale of Scott's rule; ignored when ``sigma`` is given.

    Returns
    -------
    A : (N, N) float64 tensor, symmetric positive semi-definite with trace 1.
    """
    t = as_matrix("x", x)
    if sigma is None:
        sigma = scott_bandwidth(t.shape[0], t.shape[1], gamma)
    elif not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be a finite number > 0; got {sigma!r}")
    return _normalized_gram(t, float(sigma))


def _entropy_from_eigenvalues(lam: torch.Tensor, alpha: float) -> torch.Tensor:
    """Rényi entropy in bits along the last axis of a batch of eigenvalue spectra.

    Round-off can leave eigenvalues slightly below zero; they are clipped to 0 and the spectrum is
    renormalized to sum to 1 before the entropy is taken.
    """
    lam = lam.clamp_min(0.0)
    lam = lam / lam.sum(dim=-1, keepdim=True)
    if alpha == 1.0:
        terms = torch.where(lam > 0, lam * torch.log2(torch.where(lam > 0, lam, 1.0)), 0.0)
        return -terms.sum(dim=-1)
    return torch.log2((lam ** alpha).sum(dim=-1)) / (1.0 - alpha)


_POOL = None


def _eigvalsh(mats: torch.Tensor) -> torch.Tensor:
    """``torch.linalg.eigvalsh`` of a (B, N, N) batch on the CPU, in up to
    ``torch.get_num_threads()`` chunks on as many threads. The batched call decomposes one matrix
    after another, and small matrices keep a second core idle. A process limited to one thread
    (the trainer, each sweep worker) makes exactly the one batched call."""
    global _POOL
    k = min(torch.get_num_threads(), mats.shape[0]) if mats.dim() == 3 and mats.device.type == "cpu" else 1
    if k < 2 or mats.shape[-1] < 32:
        return torch.linalg.eigvalsh(mats)
    if _POOL is None or _POOL._max_workers < k:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max_workers=k, thread_name_prefix="ipbook-eig")
    # Each chunk single-threaded: k threads each running a multi-threaded LAPACK call would start
    # OpenMP teams of their own, which oversubscribe the cores and slow every later call ~10x.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return torch.cat(list(_POOL.map(torch.linalg.eigvalsh, mats.chunk(k))))
    finally:
        torch.set_num_threads(threads)


def entropies(mats: torch.Tensor, alpha: float, *, method: str = "exact", tol: float = 0.01,
              seed: int = 0, return_error: bool = False):
    r"""Rényi α-entropies in bits of a batch of normalized Gram matrices.

    .. math::  S_\alpha(A_b) = \frac{1}{1-\alpha} \log_2 \sum_i \lambda_i(A_b)^\alpha ,
               \qquad b = 1, \dots, B .

    ``method="exact"`` takes every eigenvalue from one batched float64 ``eigvalsh`` (O(N³) per
    matrix). ``method="lanczos"`` estimates each entropy from block matrix products only
    (O(N²) per product; :func:`~ipbook.estimators.lanczos.entropy_lanczos`), one matrix at a
    time, to within ``tol`` bits. For α = 2 no spectrum is needed by either: Σ λ_i² = ‖A‖²_F
    for a symmetric A, so S_2(A) = −log2 ‖A‖²_F (the α = 2 Frobenius identity).

    Parameters
    ----------
    mats : (..., N, N) tensor
        Symmetric PSD matrices of unit trace (:func:`gram_matrix`, :func:`joint_gram`), on any
        device; no input checks (use :func:`renyi_entropy` for one checked matrix).
    alpha : float
        Rényi order > 0; 1 gives −Σ λ log2 λ.
    method : {"exact", "lanczos", "auto"}, default "exact"
        See :func:`resolve_method`.
    tol : float, default 0.01
        The Lanczos path's error target in bits (ignored by the exact path).
    seed : int, default 0
        The Lanczos path's random probes; the same seed gives the same values on one machine.
    return_error : bool, default False
        Also return each entropy's error estimate in bits (0 on the exact path).

    Returns
    -------
    (...,) float64 tensor, each entropy in [0, log2 N]; with ``return_error``, ``(values,
    errors)``.
    """
    mats = mats.to(torch.float64)
    if resolve_method(method, mats.shape[-1], alpha) == "exact":
        if alpha == 2.0:
            values = -torch.log2((mats * mats).sum(dim=(-2, -1)))
        else:
            values = _entropy_from_eigenvalues(_eigvalsh(mats), alpha)
        return (values, torch.zeros_like(values)) if return_error else values
    flat = mats.reshape(-1, *mats.shape[-2:])
    est = [entropy_lanczos(m, alpha, tol=tol, seed=seed) for m in flat]
    values = torch.tensor([e.value for e in est], dtype=torch.float64, device=mats.device).view(mats.shape[:-2])
    errors = torch.tensor([e.error for e in est], dtype=torch.float64, device=mats.device).view(mats.shape[:-2])
    return (values, errors) if return_error else values


def joint_gram(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The joint Gram matrix A∘B / tr(A∘B) of Eq. A5 (Hadamard product, unit trace), batched over
    leading axes: (..., N, N) and (..., N, N) broadcast to (..., N, N)."""
    ab = a * b
    return ab / torch.diagonal(ab, dim1=-2, dim2=-1).sum(-1)[..., None, None]


def renyi_entropy(a, *, alpha: float = 1.01, method: str = "exact", tol: float = 0.01, seed: int = 0,
                  return_error: bool = False):
    """Matrix-based Rényi α-entropy S_α(A) = log2(Σ λ_i^α)/(1−α) in bits (Eq. A3).

    Parameters
    ----------
    a : (N, N) array or tensor
        A normalized Gram matrix (symmetric, PSD, trace 1), e.g. from :func:`gram_matrix`.
    alpha : float, default 1.01
        Order of the entropy, > 0. ``alpha == 1`` gives the exact limit −Σ λ log2 λ (Eq. A4).

    method : {"exact", "lanczos", "auto"}, default "exact"
        Every eigenvalue, or the Lanczos estimate within ``tol`` bits (see :func:`entropies`).
    tol : float, default 0.01
    seed : int, default 0
    return_error : bool, default False
        Return ``(value, error)``, the error estimate in bits (0 for the exact path).

    Notes
    -----
    Eigenvalues come from ``torch.linalg.eigvalsh`` in float64; negative round-off is clipped to 0
    and the spectrum renormalized to sum 1. The result lies in [0, log2 N].
    """
    check_params(alpha)
    check_method(method, tol)
    m = as_matrix("a", a)
    if m.shape[0] != m.shape[1]:
        raise ValueError(f"a must be a square (N, N) matrix; got shape {tuple(m.shape)}")
    value, error = entropies(m, float(alpha), method=method, tol=tol, seed=seed, return_error=True)
    return (float(value), float(error)) if return_error else float(value)


def joint_entropy(a, b, *, alpha: float = 1.01, method: str = "exact", tol: float = 0.01, seed: int = 0) -> float:
    """Joint entropy S_α(A, B) = S_α(A∘B / tr(A∘B)) in bits (Eq. A5) of two Gram matrices;
    ``method``, ``tol`` and ``seed`` as in :func:`renyi_entropy`."""
    check_params(alpha)
    check_method(method, tol)
    ma, mb = as_matrix("a", a), as_matrix("b", b)
    if ma.shape != mb.shape or ma.shape[0] != ma.shape[1]:
        raise ValueError(f"a and b must be square matrices of one shape; got {tuple(ma.shape)} and {tuple(mb.shape)}")
    return float(entropies(joint_gram(ma, mb.to(ma.device)), float(alpha), method=method, tol=tol, seed=seed))


# ----------------------------------------------------------------------------- public estimators
def mutual_information(x, y, *, alpha: float = 1.01, gamma: float = 2.0, rule: str = "scott",
                       method: str = "exact", tol: float = 0.01, seed: int = 0) -> float:
    """Matrix-based Rényi mutual information I_α(X; Y) in bits (Eq. A6).

    Parameters
    ----------
    x : (N, d_x) array or tensor
    y : (N, d_y) array or tensor
        Paired samples: row i of ``x`` goes with row i of ``y``.
    alpha : float, default 1.01
        Rényi order (> 0); 1 gives the Shannon-like limit.
    gamma : float, default 2.0
        Scott's-rule scale of each variable's own kernel width, σ = γ·N^(−1/(4+d)), or the
        scale of the other ``rule``.
    rule : {"scott", "median", "tapia"}, default "scott"
        The bandwidth rule of each variable's kernel width (:func:`bandwidth`); the paper's is
        Scott's.
    method : {"exact", "lanczos", "auto"}, default "exact"
        How each entropy is taken (:func:`entropies`): every eigenvalue, or the Lanczos estimate
        within ``tol`` bits per entropy (``seed`` fixes its probes).
    tol : float, default 0.01
    seed : int, default 0

    Returns
    -------
    float
        I_α = S_α(A) + S_α(B) − S_α(A, B), in bits, between 0 and log2 N up to round-off. Its
        ceiling is log2 N, reached when the kernel tells every sample apart.
    """
    check_params(alpha, gamma)
    check_method(method, tol)
    tx, ty = as_matrix("x", x), as_matrix("y", y)
    same_n([("x", tx), ("y", ty)])
    return float(planes_under(tx, [ty], [(rule, gamma, alpha)], method=method, tol=tol, seed=seed)["i_xt"][0, 0])


def label_information(t, y, *, alpha: float = 1.01, gamma: float = 2.0, rule: str = "scott") -> float:
    r"""Matrix-based Rényi mutual information I_α(T; Y) in bits of a layer T and class labels Y,
    with the label kernel on Y.

    .. math::  I_\alpha(T; Y) = S_\alpha(A_T) + S_\alpha(A_Y)
               - S_\alpha\!\left(\frac{A_T \circ A_Y}{\mathrm{tr}(A_T \circ A_Y)}\right),
               \qquad (A_Y)_{ij} = \frac{\mathbb{1}[y_i = y_j]}{N},

    A_T the Gaussian Gram matrix of T under ``rule`` and ``gamma`` (as in
    :func:`mutual_information`), A_Y the label Gram matrix (:func:`~ipbook.estimators.kernels.label_gram`)
    and the joint the Hadamard product (:func:`joint_gram`). S_α(A_Y) is exactly the Rényi entropy
    of the class proportions, H_α(Y) (log2 C for C balanced classes, whatever N), so the ceiling of
    this I(T; Y) is H_α(Y): the Gaussian kernel on one-hot labels (what :func:`mutual_information`
    and the recorder take) caps I(T; Y) at its own S(Y) instead, 2.01 bits for ten balanced classes
    at the paper's setting and N = 100, against H(Y) = 3.32.

    Parameters
    ----------
    t : (N, d) array or tensor
        The layer, one row per sample.
    y : (N,) or (N, 1) integer array, tensor or list
        The class of each row of ``t``.
    alpha : float, default 1.01
        Rényi order (> 0), of every entropy.
    gamma : float, default 2.0
        The scale of T's bandwidth rule (σ = γ·N^(−1/(4+d)) under Scott's).
    rule : {"scott", "median", "tapia"}, default "scott"
        T's bandwidth rule (:func:`bandwidth`).

    Returns
    -------
    float
        I_α(T; Y) in bits, in [0, min(S_α(A_T), H_α(Y))] up to round-off (the joint entropy of
        two unit-diagonal Grams is at least the larger of theirs; Sánchez Giraldo et al. 2015).
        At finite N it is biased upwards, and the bias grows with T's dimension at a fixed rule:
        for T independent of Y (N = 200 standard Gaussian rows, ten balanced classes, Scott's
        γ = 2, α = 1.01; mean of 10 draws) it gives 0.17 bit at d = 1, 0.56 at d = 2, 1.08 at
        d = 3, 2.04 at d = 5 and 3.06 at d = 10, of S(Y) = 3.32. Where the kernel tells every row
        of T apart (A_T ≈ I/N, S(A_T) ≈ log2 N) the joint is ≈ A_T too and I_α ≈ H_α(Y) whatever
        T is: a value near H_α(Y) says nothing unless S(A_T) is well below log2 N.

    Raises
    ------
    ValueError
        One line: ``t`` not an (N, d) real sample, ``y`` not N integer labels, N < 2, bad α or γ.

    References
    ----------
    L. G. Sánchez Giraldo, M. Rao, J. C. Príncipe, "Measures of entropy from data using infinitely
    divisible kernels", IEEE Trans. Inf. Theory 61(1), 535 (2015).
    S. Yu, L. G. Sánchez Giraldo, R. Jenssen, J. C. Príncipe, "Multivariate extension of matrix-based
    Rényi's α-order entropy functional", IEEE Trans. PAMI 42(11), 2960 (2020).
    """
    check_params(alpha, gamma)
    if rule not in RULES:
        raise ValueError(f"unknown bandwidth rule {rule!r}; valid: {', '.join(RULES)}")
    sample = VariableSample(as_matrix("t", t))
    labels = as_labels("y", y, sample.n)
    a_t = sample.gram(rule, float(gamma))
    a_y = label_gram(labels).to(a_t.device)
    s_t, s_y, s_ty = entropies(torch.stack([a_t, a_y, joint_gram(a_t, a_y)]), float(alpha)).tolist()
    return s_t + s_y - s_ty


def _kernel(k) -> tuple[str, float, float]:
    """``(rule, gamma, alpha)`` of a kernel setting: a triple, or anything with ``rule``, ``gamma``
    and ``alpha`` attributes (:class:`~ipbook.estimators.spec.MatrixEstimator`, a grid's
    ``Setting``), checked."""
    rule, gamma, alpha = (k.rule, k.gamma, k.alpha) if hasattr(k, "rule") else k
    if rule not in RULES:
        raise ValueError(f"unknown bandwidth rule {rule!r}; valid: {', '.join(RULES)}")
    check_params(alpha, gamma)
    return str(rule), float(gamma), float(alpha)


class InformationPlane:
    r"""The information plane of a fixed input X under one or more kernel settings, reused across
    training iterations or checkpoints.

    For each kernel setting k (bandwidth rule, scale γ, order α) and each layer T_l,

    .. math::  I_k(X; T_l) = S_\alpha(A_X) + S_\alpha(A_{T_l}) - S_\alpha(A_X, A_{T_l}),
               \qquad I_k(T_l; Y) = S_\alpha(A_{T_l}) + S_\alpha(A_Y) - S_\alpha(A_{T_l}, A_Y),

    with every Gram matrix built under setting k (:meth:`VariableSample.gram`). X does not change,
    so its Gram matrices and entropies are built once here. Each call then builds, per setting,
    L + 1 Gram matrices (the layers and the target Y, e.g. the network's output X′) and takes the
    3L + 1 entropies of all settings that share an α from one batched float64 ``eigvalsh``
    (:func:`entropies`), on the device of ``x`` (CPU or CUDA). With ``method="lanczos"`` the
    entropies are estimated one matrix at a time from matrix products instead (memory: about
    L + 5 N × N matrices, not 4L + 2), each within ``tol`` bits. This is the one batched
    matrix-based mutual information of the package: :func:`information_plane`,
    :func:`planes_under`, the recorder and the grids all go through :meth:`planes`.

    Parameters
    ----------
    x : (N, d_X) array or tensor, or :class:`VariableSample`
        Network input; its device is where every later computation runs.
    alpha, gamma : float
        The one kernel setting when ``kernels`` is not given: Scott's rule with scale ``gamma``,
        order ``alpha`` (the paper's 1.01 and 2).
    kernels : sequence of kernel settings, optional
        ``(rule, gamma, alpha)`` triples, or objects with those attributes
        (:class:`~ipbook.estimators.spec.MatrixEstimator`, ``Setting``).
    method : {"exact", "lanczos", "auto"}, optional
        How every entropy is taken (:func:`entropies`). Default: each kernel setting's own
        ``method`` attribute where it has one (a :class:`~ipbook.estimators.spec.MatrixEstimator`),
        else ``"exact"``.
    tol, seed
        The Lanczos path's error target per entropy (bits) and its probes' seed.

    Examples
    --------
    >>> plane = InformationPlane(x_probe)                          # doctest: +SKIP
    >>> i_xt, i_tx = plane(list(out.layers.values()), out.x_hat)  # doctest: +SKIP
    """

    def __init__(self, x, *, alpha: float = 1.01, gamma: float = 2.0, kernels=None, method: str | None = None,
                 tol: float = 0.01, seed: int = 0, _defer_entropy: bool = False):
        given = list(kernels) if kernels is not None else [("scott", gamma, alpha)]
        self.kernels = [_kernel(k) for k in given]
        if not self.kernels:
            raise ValueError("kernels must hold at least one (rule, gamma, alpha) setting")
        methods = [method or getattr(k, "method", None) or "exact" for k in given]
        for m in methods:
            check_method(m, tol)
        self.alpha, self.gamma = self.kernels[0][2], self.kernels[0][1]
        if not isinstance(x, VariableSample) and hasattr(x, "shape") and len(x.shape) == 2:
            check_memory(int(x.shape[0]), 1 + len(self.kernels), "the matrix-based information plane")
        self.x = x if isinstance(x, VariableSample) else VariableSample(x)
        self.n, self.device = self.x.n, self.x.x.device
        self.tol, self.seed = float(tol), int(seed)
        self.groups: dict[tuple[float, str], list[int]] = {}   # settings by (α, method): one eigen batch each
        for k, ((_, _, a), m) in enumerate(zip(self.kernels, methods)):
            self.groups.setdefault((a, resolve_method(m, self.n, a)), []).append(k)
        self.gram_x = torch.stack([self.x.gram(rule, g) for rule, g, _ in self.kernels])
        # S(A_X) once; a one-off plane (information_plane, planes_under) takes it in the layers' batch
        self.entropy_x = None if _defer_entropy else torch.cat(
            [self._entropies(self.gram_x[ks], a, m)[0] for (a, m), ks in self.groups.items()])[self._order()]

    def _entropies(self, mats, alpha: float, method: str):
        return entropies(mats, alpha, method=method, tol=self.tol, seed=self.seed, return_error=True)

    def _order(self) -> list[int]:
        """Positions, in the groups' concatenation, of settings 0..K−1."""
        flat = [k for ks in self.groups.values() for k in ks]
        return [flat.index(k) for k in range(len(self.kernels))]

    def _sample(self, name: str, t) -> VariableSample:
        if isinstance(t, VariableSample) and t.x.device == self.device:
            return t
        return VariableSample((t.x if isinstance(t, VariableSample) else as_matrix(name, t)).to(self.device))

    def planes(self, layers, target=None) -> dict[str, np.ndarray | None]:
        """I(X; T_l), I(T_l; Y) and S(T_l) of every layer under every kernel setting.

        Parameters
        ----------
        layers : non-empty sequence of L (N, d_T) arrays, tensors or :class:`VariableSample`
        target : (N, d_Y) array, tensor or :class:`VariableSample`, optional
            The second variable Y (an autoencoder's X′, one-hot labels); None: no I(T; Y).

        Returns
        -------
        dict of float64 numpy arrays in bits, K settings by L layers: ``i_xt`` (K, L), ``i_ty``
        (K, L) or None, ``s_t`` (K, L), ``s_x`` (K,), ``s_y`` (K,) or None; and ``error``, the
        largest error estimate of any entropy of the call in bits (0.0 on the exact path).
        """
        if isinstance(layers, (np.ndarray, torch.Tensor)) or len(layers) == 0:
            raise ValueError("layers must be a non-empty list of (N, d_T) arrays or tensors")
        ts = [self._sample(f"layers[{i}]", t) for i, t in enumerate(layers)]
        y = None if target is None else self._sample("target", target)
        same_n([("x", self.x.x)] + [(f"layers[{i}]", t.x) for i, t in enumerate(ts)]
                + ([("x_hat", y.x)] if y is not None else []))
        n_k, n_l, defer = len(self.kernels), len(ts), self.entropy_x is None
        self._check_memory(n_l, y is not None)
        out = {k: np.empty((n_k, n_l)) for k in ("i_xt", "s_t")}
        out.update(s_x=np.empty(n_k), i_ty=np.empty((n_k, n_l)) if y is not None else None,
                   s_y=np.empty(n_k) if y is not None else None, error=0.0)
        for (alpha, method), ks in self.groups.items():
            if method == "exact":
                ent, err = self._entropies(torch.cat([self._batch(k, ts, y, defer) for k in ks]), alpha, method)
            else:   # one matrix at a time: a few N x N matrices in memory, not the whole batch
                pairs = [pair for k in ks for pair in self._one_by_one(k, ts, y, defer, alpha, method)]
                ent, err = (torch.cat(p) for p in zip(*pairs))
            ent = ent.view(len(ks), -1).cpu().numpy()
            out["error"] = max(out["error"], float(err.max()))
            s_x = ent[:, 0] if defer else self.entropy_x[ks].cpu().numpy()
            j = int(defer) + int(y is not None)
            s_t, s_xt = ent[:, j:j + n_l], ent[:, j + n_l:j + 2 * n_l]
            out["s_x"][ks], out["s_t"][ks] = s_x, s_t
            out["i_xt"][ks] = s_x[:, None] + s_t - s_xt
            if y is not None:
                s_y, s_ty = ent[:, j - 1], ent[:, j + 2 * n_l:]
                out["s_y"][ks], out["i_ty"][ks] = s_y, s_t + s_y[:, None] - s_ty
        return out

    def _check_memory(self, n_l: int, with_y: bool) -> None:
        """One line, before any work, when the call's N × N matrices would not fit in memory."""
        held = len(self.kernels) + n_l + 1 + int(with_y)        # X's Grams; every variable's distances
        exact = max((len(ks) for (_, m), ks in self.groups.items() if m == "exact"), default=0)
        batch = exact * (3 * n_l + 2) * 2 if exact else 4      # a batch and eigvalsh's copy, or a few
        check_memory(self.n, held + batch, "the matrix-based information plane")

    def _one_by_one(self, k: int, ts: list[VariableSample], y: VariableSample | None, with_x: bool,
                    alpha: float, method: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Setting k's entropies and errors in :meth:`_batch`'s order, each matrix built when its
        entropy is taken: A_X, A_Y, one layer's A_T and one joint at a time in memory."""
        rule, gamma, _ = self.kernels[k]
        a_x = self.gram_x[k]
        a_y = y.gram(rule, gamma) if y is not None else None
        head = [self._entropies(m[None], alpha, method) for m in ([a_x] if with_x else []) + ([a_y] if y is not None else [])]
        rows = []
        for t in ts:
            a_t = t.gram(rule, gamma)
            mats = [a_t, joint_gram(a_x, a_t)] + ([joint_gram(a_t, a_y)] if y is not None else [])
            rows.append([self._entropies(m[None], alpha, method) for m in mats])
        return head + [r[0] for r in rows] + [r[1] for r in rows] + ([r[2] for r in rows] if y is not None else [])

    def _batch(self, k: int, ts: list[VariableSample], y: VariableSample | None, with_x: bool) -> torch.Tensor:
        """Setting k's Gram matrices, in the order [X], [Y], T_1..T_L, X∘T_1.., [T_1∘Y..]."""
        rule, gamma, _ = self.kernels[k]
        a_x = self.gram_x[k]
        a_t = torch.stack([t.gram(rule, gamma) for t in ts])
        mats = [a_x[None]] if with_x else []
        a_y = y.gram(rule, gamma) if y is not None else None
        mats += ([a_y[None]] if y is not None else []) + [a_t, joint_gram(a_x, a_t)]
        return torch.cat(mats + ([joint_gram(a_t, a_y)] if y is not None else []))

    def __call__(self, layers, x_hat):
        """Return ``(i_xt, i_tx)``: I(X; T_l) and I(T_l; X′) in bits under the (first) setting, as
        (L,) numpy arrays; ``x_hat`` may be None (no second axis), and then ``i_tx`` is None."""
        out = self.planes(layers, x_hat)
        return out["i_xt"][0], None if out["i_ty"] is None else out["i_ty"][0]


def planes_under(x, layers, kernels, target=None, *, method: str | None = None, tol: float = 0.01,
                 seed: int = 0) -> dict[str, np.ndarray | None]:
    """I(X; T_l), I(T_l; Y) and S(T_l) of every layer under every kernel setting, on one sample.

    The batched matrix-based mutual information: one sample of X, L layers (or any variables) and
    an optional target Y, K kernel settings; every variable's pairwise distances are computed once
    (pass :class:`VariableSample` objects to share them further), and the entropies of all
    settings that share an α come from one batched float64 ``eigvalsh``. See
    :class:`InformationPlane`, whose :meth:`~InformationPlane.planes` this is.

    Parameters
    ----------
    x : (N, d_X) array, tensor or :class:`VariableSample`
    layers : sequence of L (N, d_T) arrays, tensors or :class:`VariableSample`
    kernels : sequence of K kernel settings
        ``(rule, gamma, alpha)`` triples, or objects with those attributes
        (:class:`~ipbook.estimators.spec.MatrixEstimator`, ``Setting``).
    target : (N, d_Y) array, tensor or :class:`VariableSample`, optional
    method, tol, seed
        As in :class:`InformationPlane`.

    Returns
    -------
    dict of float64 numpy arrays in bits: ``i_xt`` (K, L), ``i_ty`` (K, L) or None, ``s_t``
    (K, L), ``s_x`` (K,), ``s_y`` (K,) or None; ``error`` (float, bits). ``i_xt[k, l]`` equals
    ``mutual_information(x, layers[l], rule=..., gamma=..., alpha=...)`` of setting k up to
    float64 round-off.
    """
    return InformationPlane(x, kernels=kernels, method=method, tol=tol, seed=seed,
                            _defer_entropy=True).planes(layers, target)


def information_plane(x, layers, x_hat, *, alpha: float = 1.01, gamma: float = 2.0, method: str = "exact",
                      tol: float = 0.01, seed: int = 0):
    """I(X; T) and I(T; X′) for every hidden layer T, in one batched pass.

    Parameters
    ----------
    x : (N, d_X) array or tensor
        Network input.
    layers : sequence of (N, d_T) arrays or tensors
        Hidden activations, L of them, in network order.
    x_hat : (N, d_X′) array or tensor
        Network output X′.
    alpha, gamma, method, tol, seed
        As in :func:`mutual_information`.

    Returns
    -------
    i_xt, i_tx : (L,) float64 numpy arrays
        I_α(X; T_l) and I_α(T_l; X′) in bits.

    Notes
    -----
    Each of the L + 2 Gram matrices is built once and the 3L + 2 entropies (L + 2 marginals,
    2L joints) come from batched float64 ``eigvalsh`` calls, on the device of ``x`` (CPU or CUDA).
    The values equal those of :func:`mutual_information` called pair by pair. To evaluate many
    networks on one fixed input, use :class:`InformationPlane`, which builds X's part once.
    """
    return InformationPlane(x, alpha=alpha, gamma=gamma, method=method, tol=tol, seed=seed,
                            _defer_entropy=True)(layers, x_hat)


