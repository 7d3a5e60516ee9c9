"""The kernel settings of the matrix-based estimator on one sample: pairwise distances, the
bandwidth rules (Scott's, the median heuristic, Tapia & Estévez's) and the normalized Gaussian
Gram matrix, with :class:`VariableSample` caching a sample's distances for every setting."""
from __future__ import annotations

import math

import torch

from .inputs import as_matrix, check_params

__all__ = ["RULES", "VariableSample", "bandwidth", "gram_from_distances", "scott_bandwidth", "squared_distances"]


def scott_bandwidth(n: int, d: int, gamma: float = 2.0) -> float:
    """Scott's-rule kernel width σ = γ·N^(−1/(4+d)) for N samples of dimension d (Eq. A10)."""
    check_params(1.0, gamma)
    return float(gamma) * float(n) ** (-1.0 / (4.0 + float(d)))


def squared_distances(x: torch.Tensor) -> torch.Tensor:
    """(N, N) squared Euclidean distances ‖x_i − x_j‖² of the rows of a float64 (N, d) tensor,
    as |x_i|² + |x_j|² − 2 x_i·x_j with round-off below zero clipped and the diagonal set to 0."""
    sq = (x * x).sum(dim=1)
    d2 = torch.addmm(sq[:, None] + sq[None, :], x, x.T, alpha=-2.0).clamp_min_(0.0)
    d2.diagonal().zero_()
    return d2


def gram_from_distances(d2: torch.Tensor, sigma: float) -> torch.Tensor:
    """A = exp(−D²/(2σ²)) / N from squared distances D² (batched over leading axes; not in place)."""
    return torch.exp(d2 * (-0.5 / (sigma * sigma))).div_(d2.shape[-1])


#: The bandwidth rules of :func:`bandwidth`: ``scott`` (the paper), ``median`` (the median
#: heuristic) and ``tapia`` (Tapia & Estévez 2020, on z-scored features).
RULES = ("scott", "median", "tapia")


class VariableSample:
    """One variable (X, a layer T, or X′) on one probe set: its squared pairwise distances, kept
    to be reused by every bandwidth and α.

    Parameters
    ----------
    x : (N, d) array or tensor
    """

    def __init__(self, x):
        self.x = as_matrix("x", x)
        self.n, self.d = self.x.shape
        self.d2 = squared_distances(self.x)
        self._d2z = None
        self._median = None

    @property
    def d2_standardized(self) -> torch.Tensor:
        """Squared distances after z-scoring every feature over the sample (constant features
        become 0), as Tapia & Estévez's rule asks."""
        if self._d2z is None:
            sd = self.x.std(dim=0, unbiased=False)
            z = (self.x - self.x.mean(dim=0)) / torch.where(sd > 0, sd, 1.0)
            self._d2z = squared_distances(z)
        return self._d2z

    @property
    def median_distance(self) -> float:
        """Median of the N(N−1)/2 pairwise distances ‖x_i − x_j‖, i < j."""
        if self._median is None:
            i, j = torch.triu_indices(self.n, self.n, offset=1)
            self._median = float(torch.quantile(self.d2[i, j].sqrt(), 0.5))  # the mean of the two middle values
        return self._median

    def bandwidth(self, rule: str, gamma: float) -> float:
        """The kernel width σ of ``rule`` with scale ``gamma`` (see :func:`bandwidth`)."""
        if rule == "scott":
            return scott_bandwidth(self.n, self.d, gamma)
        if rule == "tapia":
            return math.sqrt(self.d) * scott_bandwidth(self.n, self.d, gamma)
        if rule == "median":
            # All points equal (median 0): any width gives the all-ones kernel; take a tiny one.
            return gamma * max(self.median_distance, 1e-12)
        raise ValueError(f"unknown bandwidth rule {rule!r}; valid: {', '.join(RULES)}")

    def gram(self, rule: str, gamma: float) -> torch.Tensor:
        """The normalized Gram matrix A = exp(−D²/(2σ²))/N under ``rule``."""
        d2 = self.d2_standardized if rule == "tapia" else self.d2
        return gram_from_distances(d2, self.bandwidth(rule, gamma))


def bandwidth(x, rule: str = "scott", gamma: float = 2.0) -> float:
    """Kernel width σ of the (N, d) sample ``x`` under a bandwidth rule.

    ``scott``: γ·N^(−1/(4+d)); ``median``: γ times the median pairwise distance; ``tapia``:
    γ·√d·N^(−1/(4+d)), meant for per-feature z-scored data (:class:`VariableSample` z-scores).
    """
    return VariableSample(x).bandwidth(rule, float(gamma))
