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

from .matrix import VariableSample

__all__ = ["NOISE_VARIANCES", "noisy_bounds", "noisy_upper", "noisy_lower"]

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
