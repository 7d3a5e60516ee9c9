r"""Noisy-layer mutual information: bounds on I(X; T + ε) for a deterministic layer T = f(X).

With X uniform over N probes and ε ~ N(0, σ²I), the noisy layer T + ε is a mixture of N Gaussians
of equal weight centred on the probes' activations t_i. Its mutual information with X is
I(X; T + ε) = H(T + ε) − H(ε), and Kolchinsky & Tracey (2017) bracket the mixture's entropy with
pairwise distances between its components. In bits:

.. math::  I_{\mathrm{upper}} = -\frac{1}{N}\sum_i \log_2 \frac{1}{N}\sum_j
           \exp\!\left(-\frac{\lVert t_i - t_j\rVert^2}{2\sigma^2}\right)
           \quad\text{(pairwise KL divergence)},

.. math::  I_{\mathrm{lower}} = -\frac{1}{N}\sum_i \log_2 \frac{1}{N}\sum_j
           \exp\!\left(-\frac{\lVert t_i - t_j\rVert^2}{8\sigma^2}\right)
           \quad\text{(Bhattacharyya distance)}.

Both lie in [0, log2 N]: the term j = i contributes 1, so the inner mean is at least 1/N. They
reach the ceiling log2 N when every pair of probes is many σ apart (the noise hides nothing), and
fall to 0 when the layer maps every probe to one point. Saxe et al. (2018) used these bounds with
σ² = 0.1; Goldfeld et al. (2019) showed that their decrease during training is clustering.

The value the two bounds bracket is computed by :func:`monte_carlo`, to any precision:

.. math::  I(X; T + \varepsilon) = \log_2 N + \mathbb{E}\left[\log_2 p(i \mid y)\right],
           \qquad y = t_i + \sigma z,\; i \sim \mathrm{U}\{1..N\},\; z \sim \mathcal{N}(0, I),

with the posterior :math:`p(i \mid y) = e^{a_i} / \sum_j e^{a_j}`, :math:`a_j = -\lVert y - t_j
\rVert^2 / 2\sigma^2`: each draw's term lies in [0, log2 N] + its log posterior, and the mean's
standard error comes with it.

References
----------
A. Kolchinsky, B. D. Tracey, "Estimating mixture entropy with pairwise distances", Entropy 19(7),
361 (2017).
A. M. Saxe et al., "On the information bottleneck theory of deep learning", ICLR (2018).
Z. Goldfeld et al., "Estimating information flow in deep neural networks", ICML (2019).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from .inputs import as_matrix
from .matrix import VariableSample

__all__ = ["NOISE_VARIANCES", "mixture_entropy", "monte_carlo", "noisy_bounds", "noisy_lower", "noisy_upper",
           "sample_propagation"]

#: The noise variances σ² the book evaluates: Saxe et al.'s 0.1 (On the information bottleneck
#: theory of deep learning, ICLR 2018) and 1e-3, 1e-2 and 1 around it.
NOISE_VARIANCES = (1e-3, 1e-2, 1e-1, 1.0)


def _sample(t) -> VariableSample:
    return t if isinstance(t, VariableSample) else VariableSample(t)


def _pairwise_bound(d2: torch.Tensor, scale: float) -> float:
    """−(1/N) Σ_i log2 (1/N) Σ_j exp(−D²_ij / scale), by log-sum-exp."""
    n = d2.shape[0]
    lse = torch.logsumexp(-d2 / scale, dim=1) - math.log(n)
    return float(-lse.mean() / math.log(2.0))


def _check_variance(variance: float) -> float:
    v = float(variance)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"the noise variance sigma^2 must be a finite number > 0; got {variance!r}")
    return v


def noisy_upper(t, variance: float) -> float:
    """The pairwise-KL upper bound on I(X; T + ε), ε ~ N(0, ``variance``·I), in bits.

    Parameters
    ----------
    t : (N, d) array or tensor, or :class:`~ipbook.estimators.matrix.VariableSample`
        The layer on N probes (a VariableSample reuses its cached pairwise distances).
    variance : float
        σ² > 0.
    """
    return _pairwise_bound(_sample(t).d2, 2.0 * _check_variance(variance))


def noisy_lower(t, variance: float) -> float:
    """The Bhattacharyya lower bound on I(X; T + ε), ε ~ N(0, ``variance``·I), in bits (the
    upper bound's formula with 8σ² in place of 2σ²)."""
    return _pairwise_bound(_sample(t).d2, 8.0 * _check_variance(variance))


def noisy_bounds(t, variances: Sequence[float] = NOISE_VARIANCES) -> dict[str, np.ndarray]:
    """Both bounds at every noise variance from one set of pairwise distances.

    Returns
    -------
    dict with ``upper`` and ``lower``: (len(variances),) arrays in bits, each in [0, log2 N],
    lower <= upper.
    """
    v = _sample(t)
    return {"upper": np.array([noisy_upper(v, s) for s in variances]),
            "lower": np.array([noisy_lower(v, s) for s in variances])}


def monte_carlo(t, sigma2: float, *, samples: int = 10_000, seed: int = 0) -> tuple[float, float]:
    r"""I(X; T + ε) in bits by Monte Carlo, with its standard error, for X uniform over the N rows
    of ``t`` and ε ~ N(0, σ² I): the value :func:`noisy_lower` and :func:`noisy_upper` bracket.

    .. math::  \hat I = \log_2 N + \frac{1}{S} \sum_{s=1}^{S} \log_2
               \frac{e^{a_{i_s}}}{\sum_j e^{a_j}}, \qquad a_j = -\frac{\lVert t_{i_s} +
               \sigma z_s - t_j \rVert^2}{2\sigma^2},

    with the draws' rows :math:`i_s` taken in turn (every row ``samples`` / N times, the rest at
    random) and :math:`z_s \sim \mathcal{N}(0, I_d)`.

    Parameters
    ----------
    t : (N, d) array or tensor
        The layer on N probes (rows may repeat: repeated rows are one code).
    sigma2 : float
        The noise variance σ² > 0.
    samples : int, default 10000
        Monte-Carlo draws S ≥ 2; the cost is S · N · d.
    seed : int, default 0
        Seeds the draws: the same seed gives the same value.

    Returns
    -------
    (bits, stderr) : the estimate, in [0, log2 N] up to its noise, and its standard error (bits).

    References
    ----------
    Z. Goldfeld et al., "Estimating information flow in deep neural networks", ICML (2019).
    """
    x = t.x if isinstance(t, VariableSample) else as_matrix("t", t)
    variance = _check_variance(sigma2)
    _check_samples(samples)
    gen = torch.Generator().manual_seed(int(seed))
    n, d = x.shape
    rows = _draws(n, samples, gen)
    terms = torch.empty(len(rows), dtype=torch.float64)
    for lo in range(0, len(rows), 1024):             # 1024 draws at a time: 1024 x N distances
        i = rows[lo:lo + 1024]
        z = torch.randn(len(i), d, generator=gen, dtype=torch.float64)
        a = -torch.cdist(x[i] + math.sqrt(variance) * z, x).square_() / (2 * variance)
        terms[lo:lo + len(i)] = a.gather(1, i[:, None])[:, 0] - torch.logsumexp(a, dim=1)
    terms = (terms + math.log(n)) / math.log(2.0)
    return float(terms.mean()), float(terms.std() / math.sqrt(len(terms)))


def _draws(m: int, samples: int, gen: torch.Generator) -> torch.Tensor:
    """Components of ``samples`` draws from M equal ones: each in turn, the rest at random."""
    return torch.cat([torch.arange(m).repeat(samples // m), torch.randperm(m, generator=gen)[: samples % m]])


def _check_samples(samples) -> None:
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 2:
        raise ValueError(f"samples must be an integer >= 2; got {samples!r}")


def mixture_entropy(centres, sigma2: float, *, samples: int = 10_000, seed: int = 0) -> tuple[float, float]:
    r"""Differential entropy in bits of the equal mixture of M Gaussians N(c_m, σ² I) in d
    dimensions, by Monte Carlo, with its standard error.

    .. math::  h = \frac{d}{2}\log_2(2\pi e\sigma^2) + \log_2 M - \frac{1}{S}\sum_s \log_2
               \sum_j \exp\!\left(a_{s,j} - a_{s,m_s}\right),
               \qquad a_{s,j} = -\frac{\lVert y_s - c_j \rVert^2}{2\sigma^2},\;
               y_s = c_{m_s} + \sigma z_s ,

    (the draw's own term −a_{s,m_s} = ‖z_s‖²/2 replaced by its mean d/2: a control variate).

    Parameters
    ----------
    centres : (M, d) array or tensor
    sigma2 : float, σ² > 0
    samples, seed : as in :func:`monte_carlo`.
    """
    c = as_matrix("centres", centres)
    variance = _check_variance(sigma2)
    _check_samples(samples)
    gen = torch.Generator().manual_seed(int(seed))
    rows = _draws(c.shape[0], samples, gen)
    terms = torch.empty(len(rows), dtype=torch.float64)
    for lo in range(0, len(rows), 1024):
        i = rows[lo:lo + 1024]
        y = c[i] + math.sqrt(variance) * torch.randn(len(i), c.shape[1], generator=gen, dtype=torch.float64)
        a = -torch.cdist(y, c).square_() / (2 * variance)
        # −log Σ_j e^{a_j} = −a_own − log Σ_j e^{a_j − a_own}, and E[−a_own] = E‖z‖²/2 = d/2 exactly:
        # the known mean replaces −a_own (a control variate), so far-apart centres have no variance
        terms[lo:lo + len(i)] = -torch.logsumexp(a - a.gather(1, i[:, None]), dim=1)
    const = 0.5 * c.shape[1] * math.log(2 * math.pi * math.e * variance) + math.log(c.shape[0])
    terms = (terms + const) / math.log(2.0)
    return float(terms.mean()), float(terms.std() / math.sqrt(len(terms)))


def sample_propagation(centres, sigma2: float, *, samples: int = 10_000, seed: int = 0) -> tuple[float, float]:
    r"""I(X; T) in bits of a noisy layer T = g(X) + ε, ε ~ N(0, σ² I), by sample propagation
    (Goldfeld et al. 2019), with its standard error.

    ``centres[i, k]`` is the k-th of K noisy passes of input i up to the layer, before the layer's
    own noise: T | X = x_i is the mixture of K Gaussians N(centres[i, k], σ² I), and T the
    mixture of all N·K. Then

    .. math::  I(X; T) = h(T) - \frac{1}{N}\sum_i h(T \mid X = x_i).

    With K = 1 (the first noisy layer, whose input is noise-free) h(T | X) is the Gaussian's,
    (d/2) log2(2πeσ²), and the value is :func:`monte_carlo`'s.

    Parameters
    ----------
    centres : (N, K, d) array or tensor
    sigma2 : float, σ² > 0
    samples : int, default 10000
        Draws for h(T), and for each h(T | X = x_i) ``samples`` / N (at least 2).
    seed : int, default 0

    Returns
    -------
    (bits, stderr)
    """
    c = torch.as_tensor(centres, dtype=torch.float64)
    if c.dim() != 3:
        raise ValueError(f"centres must be (N, K, d): N inputs, K noisy passes, d units; got shape {tuple(c.shape)}")
    n, k, d = c.shape
    if k == 1:
        return monte_carlo(c[:, 0], sigma2, samples=samples, seed=seed)
    h_t, se_t = mixture_entropy(c.reshape(n * k, d), sigma2, samples=samples, seed=seed)
    per = max(samples // n, 2)
    conds = [mixture_entropy(c[i], sigma2, samples=per, seed=seed + 1 + i) for i in range(n)]
    h_cond = sum(h for h, _ in conds) / n
    se = math.sqrt(se_t ** 2 + sum(e ** 2 for _, e in conds) / n ** 2)
    return h_t - h_cond, se
