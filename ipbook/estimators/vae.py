r"""Bounds on the true I(X; Z) of a VAE, from its stochastic encoder q(z|x) = N(μ(x), diag σ²(x)).

With X uniform over N probes, the encoder defines a real channel, so I(X; Z) is a defined
quantity, bracketed by

* the **rate** (Alemi et al. 2018), an upper bound:

  .. math::  R = \frac{1}{N}\sum_i \mathrm{KL}\big(q(z|x_i)\,\Vert\,\mathcal{N}(0, I)\big)
             = \frac{1}{N}\sum_i \frac{1}{2}\sum_k \big(\mu_{ik}^2 + \sigma_{ik}^2 - 1 - \ln\sigma_{ik}^2\big)
             \ \text{nats} \ \ge I(X; Z);

* a **lower bound** from the same encoder (the minibatch, or InfoNCE, bound; Poole et al. 2019):
  with z_i drawn from q(z|x_i),

  .. math::  I_{\mathrm{lower}} = \frac{1}{N}\sum_i \Big[\log q(z_i|x_i)
             - \log \frac{1}{N}\sum_j q(z_i|x_j)\Big] \le \min(I(X;Z), \log N).

Both are returned in **bits**. The lower bound cannot exceed log2 N: where the encoder's
posteriors barely overlap it saturates there, while the rate can be far above it.

References
----------
A. Alemi et al., "Fixing a broken ELBO", ICML (2018).
B. Poole et al., "On variational bounds of mutual information", ICML (2019).
"""
from __future__ import annotations

import math

import torch

from .inputs import as_matrix, same_n

__all__ = ["vae_rate", "vae_lower_bound"]

_LN2 = math.log(2.0)


def _check(mu, logvar) -> tuple[torch.Tensor, torch.Tensor]:
    m, lv = as_matrix("mu", mu), as_matrix("logvar", logvar)
    same_n([("mu", m), ("logvar", lv)])
    if m.shape != lv.shape:
        raise ValueError(f"mu and logvar must have the same shape (N, d); got {tuple(m.shape)} and {tuple(lv.shape)}")
    return m, lv


def vae_rate(mu, logvar) -> float:
    """E_x KL(q(z|x) ‖ N(0, I)) in bits, an upper bound on I(X; Z).

    Parameters
    ----------
    mu, logvar : (N, d) arrays or tensors
        The encoder's means and log-variances on the N probes.
    """
    m, lv = _check(mu, logvar)
    return float((0.5 * (m * m + lv.exp() - 1.0 - lv).sum(dim=1)).mean() / _LN2)


def _log_densities(z: torch.Tensor, m: torch.Tensor, lv: torch.Tensor) -> torch.Tensor:
    """(N, N) log q(z_i | x_j) up to the constant −(d/2) log 2π shared by every term:
    −½ Σ_k (z_ik − μ_jk)² / σ²_jk − ½ Σ_k log σ²_jk, with the square expanded into two matrix
    products (no (N, N, d) intermediate)."""
    prec = (-lv).exp()                                    # 1 / σ²_jk
    quad = ((z * z) @ prec.T - 2.0 * z @ (m * prec).T + (m * m * prec).sum(-1)[None, :]).clamp_min(0.0)
    return -0.5 * quad - 0.5 * lv.sum(-1)[None, :]


def vae_lower_bound(mu, logvar, *, samples: int = 1, seed: int = 0) -> float:
    """The minibatch lower bound on I(X; Z) in bits, averaged over ``samples`` draws of z_i ~ q(z|x_i)
    (drawn from a generator seeded with ``seed``, so the value is reproducible); at most log2 N."""
    m, lv = _check(mu, logvar)
    if not (isinstance(samples, int) and samples >= 1):
        raise ValueError(f"samples must be an integer >= 1; got {samples!r}")
    n = m.shape[0]
    gen = torch.Generator(device=m.device).manual_seed(int(seed))
    sd, total = (0.5 * lv).exp(), 0.0
    for _ in range(samples):
        z = m + sd * torch.randn(m.shape, generator=gen, dtype=m.dtype, device=m.device)
        logq = _log_densities(z, m, lv)
        total += float((logq.diagonal() - (torch.logsumexp(logq, dim=1) - math.log(n))).mean())
    return total / samples / _LN2
