r"""Matrix-based Rényi entropy without a full eigen-decomposition: Krylov-deflated stochastic
Lanczos quadrature.

The matrix-based entropy of a unit-trace Gram matrix A (N × N, symmetric PSD) needs the trace of
a matrix function, :math:`S_\alpha(A) = \log_2 \mathrm{tr}\, f(A) / (1-\alpha)` with
:math:`f(\lambda) = \lambda^\alpha` (α ≠ 1), or :math:`S_1(A) = \mathrm{tr}\, f(A)` with
:math:`f(\lambda) = -\lambda \log_2 \lambda`. An eigen-decomposition costs O(N³). This module
estimates :math:`\mathrm{tr}\, f(A)` from block matrix products :math:`A V` (BLAS-3) only:

1. **Deflation** (Krylov-aware trace estimation, Chen & Hallman 2023). A block Lanczos run from
   ``block`` Rademacher vectors builds an orthonormal basis Q (N × k) of a block Krylov space,
   which holds the top of the spectrum; its part of the trace, :math:`\mathrm{tr}(Q^\top f(A)
   Q)`, comes from block Gauss quadrature on a Krylov space a few blocks larger.
2. **The rest**, :math:`\mathrm{tr}(P f(A) P)` with :math:`P = I - QQ^\top`, by Hutchinson's
   estimator over ``probes`` projected Rademacher vectors z = P g, each
   :math:`z^\top f(A) z` by Lanczos quadrature (Ubaru, Chen & Saad 2017).
3. **Control variates.** f is nearly linear (α = 1.01: :math:`\lambda^{1.01} = \lambda \cdot
   \lambda^{0.01}`), and the traces of A and A² are known exactly in O(N²):
   :math:`\mathrm{tr}(PAP) = 1 - \mathrm{tr}(Q^\top A Q)`, :math:`\mathrm{tr}(PA^2P) = \lVert A
   \rVert_F^2 - \lVert AQ \rVert_F^2`. The probes estimate only :math:`h(\lambda) = f(\lambda) -
   \beta_1 \lambda - \beta_2 \lambda^2` (β fitted on the probes' quadrature nodes), whose
   variance is orders of magnitude smaller than f's.

The error estimate is the standard error of the probes' mean (step 2), converted to bits; the
number of probes grows, in blocks, until it is below a third of the tolerance. Every random draw
comes from a generator seeded by ``seed``, so a result is reproducible on one machine.

References
----------
S. Ubaru, J. Chen, Y. Saad, "Fast estimation of tr(f(A)) via stochastic Lanczos quadrature",
SIAM J. Matrix Anal. Appl. 38(4), 1075 (2017).
T. Chen, E. Hallman, "Krylov-aware stochastic trace estimation", SIAM J. Matrix Anal. Appl.
44(3), 1218 (2023).
Y. Dong, T. Gong, S. Yu, C. Li, "Optimal randomized approximations for matrix-based Rényi's
entropy", IEEE Trans. Inf. Theory 69(7), 4218 (2023).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch

__all__ = ["KrylovSettings", "TraceEstimate", "entropy_lanczos", "trace_function"]


class KrylovSettings(NamedTuple):
    """How hard the fast path works on one matrix: the deflation's block and its most Lanczos
    steps (it stops when the rest of the spectrum is flat), the quadrature's extra steps, the
    probes of the first block (later blocks hold what the standard error asks for, 8 to twice
    as many), their most Lanczos steps, and the most probe blocks."""

    block: int = 32
    max_deflate_steps: int = 6
    extra_steps: int = 1
    probes: int = 16
    probe_steps: int = 16
    max_probe_blocks: int = 8


class TraceEstimate(NamedTuple):
    """An entropy in bits from the fast path, and its error estimate in bits: one standard error
    of the probes' mean plus the quadrature error left (1.5 × the last Lanczos step's change);
    and the cost, the number of columns V of all the products A V it took."""

    value: float
    error: float
    columns: int = 0


def _rademacher(n: int, k: int, gen: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    signs = torch.randint(0, 2, (n, k), generator=gen, dtype=torch.int8)
    return (signs.to(like.dtype) * 2 - 1).to(like.device)


def _block_lanczos(a: torch.Tensor, start: torch.Tensor, steps: int):
    """Block Lanczos from ``start`` (N × b), one step at a time: after step j it yields the
    orthonormal basis Q (N × b·j) of the block Krylov space, T = Qᵀ A Q (symmetric), A Q, and R
    with start = Q[:, :b] R. Full reorthogonalization (twice); columns that vanish are kept
    (orthonormal noise), so T is always a Rayleigh quotient of A. Each step costs one product
    of A with b columns and O(N b² j) for the rest. Vectors are stored as rows (Qᵀ, (AQ)ᵀ), so
    that every product is a contiguous BLAS-3 call: Vᵀ A = (A V)ᵀ for a symmetric A."""
    n, b = start.shape
    basis = start.new_empty((b * steps, n))          # Qᵀ
    image = start.new_empty((b * steps, n))          # (A Q)ᵀ
    t = start.new_zeros((b * steps, b * steps))
    q, r = torch.linalg.qr(start)
    basis[:b] = q.T
    for j in range(steps):
        lo, hi = b * j, b * (j + 1)
        image[lo:hi] = basis[lo:hi] @ a
        col = basis[:hi] @ image[lo:hi].T
        t[:hi, lo:hi], t[lo:hi, :hi] = col, col.T
        t[lo:hi, lo:hi] = (col[lo:hi] + col[lo:hi].T) / 2
        yield basis[:hi].T, t[:hi, :hi], image[:hi].T, r
        if j + 1 < steps:
            w = image[lo:hi] - col.T @ basis[:hi]
            for _ in range(2):   # a rank-deficient w (an invariant subspace reached) gives QR
                w = w - (w @ basis[:hi].T) @ basis[:hi]      # columns outside the complement
                w = torch.linalg.qr(w.T)[0].T                # project again, orthonormalize again
            basis[hi:hi + b] = w


def _f(theta: torch.Tensor, alpha: float) -> torch.Tensor:
    lam = theta.clamp_min(0.0)
    if alpha == 1.0:
        return -torch.where(lam > 0, lam * torch.log2(torch.where(lam > 0, lam, 1.0)), 0.0)
    return lam ** alpha


def _deflated_part(a: torch.Tensor, alpha: float, fro2: float, s: KrylovSettings, gen: torch.Generator):
    """The deflation basis Q (N × k), tr(Qᵀ f(A) Q) by block Gauss quadrature, tr(Qᵀ A Q),
    ‖A Q‖²_F and the columns multiplied by A. Block Lanczos steps are added until the rest of the spectrum is flat, i.e. its
    effective rank tr(PAP)² / tr(PA²P) exceeds N/8 (where the control variates alone suffice),
    or ``s.max_deflate_steps`` are spent; then ``s.extra_steps`` more for the quadrature."""
    n = a.shape[0]
    if fro2 * n < 8:                               # effective rank 1/‖A‖²_F > N/8: flat already
        return a.new_zeros((n, 0)), 0.0, 0.0, 0.0, 0
    k, left = None, s.extra_steps
    for basis, t, image, _ in _block_lanczos(a, _rademacher(n, s.block, gen, a), s.max_deflate_steps + s.extra_steps):
        if k is None:
            mass, square = 1.0 - float(torch.diagonal(t).sum()), fro2 - float((image ** 2).sum())
            if mass * mass > square * n / 8 or mass < 1e-12 or t.shape[0] >= s.block * s.max_deflate_steps:
                k = t.shape[0]
        elif left > 0:
            left -= 1
        if k is not None and left == 0:
            break
    theta, v = torch.linalg.eigh(t)
    part = (_f(theta, alpha) * (v[:k] ** 2).sum(dim=0)).sum()
    return (basis[:, :k], float(part), float(torch.diagonal(t)[:k].sum()), float((image[:, :k] ** 2).sum()),
            t.shape[0])


def _probe_block(a, q, alpha, s, gen, tol_move, count):
    """Per-probe quadratures of zᵀ f(A) z, zᵀ A z and zᵀ A² z, the nodes and weights, and the
    last step's change of the mean quadrature, for one block of projected probes
    z = (I − QQᵀ) g. Lanczos steps are added until the mean moves by less than ``tol_move``
    (Gauss quadrature converges about geometrically, so the last move bounds the error left),
    at most ``s.probe_steps``."""
    g = _rademacher(a.shape[0], count, gen, a)
    z = g - q @ (q.T @ g)
    before, move = None, math.inf
    for basis, t, image, r in _block_lanczos(a, z, s.probe_steps):
        theta, v = torch.linalg.eigh(t)
        w = (v[:count].T @ r) ** 2                 # (nodes, probes): node i's weight for probe j
        quad = (_f(theta, alpha)[:, None] * w).sum(dim=0)
        if before is not None:
            move = abs(float(quad.mean()) - before)
            if move < tol_move:
                break
        before = float(quad.mean())
    az = image[:, :count] @ r                     # A z (z = Q₀ R)
    return quad, (z * az).sum(dim=0), (az ** 2).sum(dim=0), theta, w, move


def trace_function(a: torch.Tensor, alpha: float, *, tol_trace: float, seed: int = 0,
                   settings: KrylovSettings = KrylovSettings()) -> tuple[float, float, int]:
    """tr f(A), its error estimate and the columns multiplied by A (f = λ^α, or −λ log2 λ for
    α = 1), for one symmetric PSD (N, N) float64 matrix A of unit trace. Probe blocks are added until the standard error is
    below ``tol_trace`` / 3, and each block's Lanczos steps until the quadrature moves by less
    than ``tol_trace`` / 6, within the limits of ``settings``."""
    gen = torch.Generator().manual_seed(int(seed))
    flat = a.reshape(-1)
    fro2 = float(torch.dot(flat, flat))
    q, top, tr_a_q, fro_q, columns = _deflated_part(a, alpha, fro2, settings, gen)
    tr_pap, tr_pa2p = float(torch.diagonal(a).sum()) - tr_a_q, fro2 - fro_q
    quads, lins, sqs, nodes, weights, moves = [], [], [], [], [], []
    count = settings.probes
    for _ in range(settings.max_probe_blocks):
        quad, lin, sq, theta, w, move = _probe_block(a, q, alpha, settings, gen, tol_trace / 6, count)
        quads.append(quad), lins.append(lin), sqs.append(sq), moves.append(move)
        columns += theta.numel()
        nodes.append(theta[:, None].expand_as(w).reshape(-1)), weights.append(w.reshape(-1))
        quad, lin, sq = torch.cat(quads), torch.cat(lins), torch.cat(sqs)
        beta = _fit_controls(torch.cat(nodes), torch.cat(weights), alpha)
        h = quad - beta[0] * lin - beta[1] * sq
        se = float(h.std() / math.sqrt(h.numel()))
        if se < tol_trace / 3:
            break
        # the probes the standard error asks for (it falls as 1/sqrt(probes)), 10 % spare
        wanted = math.ceil(1.1 * h.numel() * (3 * se / tol_trace) ** 2) - h.numel()
        count = min(max(wanted, 8), 2 * settings.probes)
    value = top + float(h.mean()) + float(beta[0]) * tr_pap + float(beta[1]) * tr_pa2p
    return value, se + 1.5 * max(moves), columns


def _fit_controls(theta: torch.Tensor, w: torch.Tensor, alpha: float) -> torch.Tensor:
    """β minimizing Σ w (f(θ) − β1 θ − β2 θ²)²: the probes' estimate of ‖h(A)‖²_F, which is what
    the variance of Hutchinson's estimator of tr h(A) grows with."""
    sw = w.sqrt()
    design = torch.stack([theta, theta ** 2], dim=1) * sw[:, None]
    scale = design.abs().amax(dim=0).clamp_min(1e-300)
    beta = torch.linalg.lstsq(design / scale, (_f(theta, alpha) * sw)[:, None]).solution[:, 0]
    return beta / scale


def entropy_lanczos(a: torch.Tensor, alpha: float, *, tol: float = 0.01, seed: int = 0,
                    settings: KrylovSettings = KrylovSettings()) -> TraceEstimate:
    r"""S_α(A) in bits of one unit-trace Gram matrix by deflated stochastic Lanczos quadrature.

    Parameters
    ----------
    a : (N, N) float64 tensor
        Symmetric PSD with unit trace (:func:`~ipbook.estimators.matrix.gram_matrix`,
        :func:`~ipbook.estimators.matrix.joint_gram`); not checked here.
    alpha : float
        Rényi order > 0; 1 gives −Σ λ log2 λ. Orders below 1 work but converge slowly
        (λ^α is steep at 0).
    tol : float, default 0.01
        The error asked for, in bits: probes are added until three standard errors, and Lanczos
        steps until the quadrature's last move, fit within it (up to the limits of ``settings``;
        the returned error says when they were reached first).
    seed : int, default 0
        Seeds every random probe: the same seed gives the same value on one machine.
    settings : KrylovSettings

    Returns
    -------
    TraceEstimate
        ``value`` in [0, log2 N] (bits), ``error`` (bits: one standard error plus the quadrature
        error left) and ``columns`` (the cost: columns of the products A V).
    """
    n = a.shape[0]
    if alpha == 1.0:
        tr, err, columns = trace_function(a, alpha, tol_trace=tol, seed=seed, settings=settings)
        value, err_bits = tr, err
    else:
        # δS = δtr / (tr · ln 2 · |1 − α|), and tr f(A) ≥ N^(1−α) for α > 1 (≥ 1 for α < 1)
        scale = math.log(2) * abs(1.0 - alpha)
        tr, err, columns = trace_function(a, alpha, tol_trace=scale * tol * min(1.0, float(n) ** (1 - alpha)),
                                 seed=seed, settings=settings)
        value, err_bits = math.log2(max(tr, 1e-300)) / (1.0 - alpha), err / (max(tr, 1e-300) * scale)
    return TraceEstimate(min(max(value, 0.0), math.log2(n)), err_bits, columns)
