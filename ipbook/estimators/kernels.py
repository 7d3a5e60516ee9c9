"""The kernel settings of the matrix-based estimator on one sample: pairwise distances, the
bandwidth rules (Scott's, the median heuristic, Tapia & Estévez's) and the normalized Gaussian
Gram matrix, with :class:`VariableSample` caching a sample's distances for every setting; and the
label kernel of class labels (:func:`label_gram`), whose entropy is that of the class proportions
(:func:`label_entropy`)."""
from __future__ import annotations

import math

import torch

from .inputs import as_labels, as_matrix, check_params

__all__ = ["RULES", "VariableSample", "bandwidth", "gram_from_distances", "label_entropy", "label_gram",
           "scott_bandwidth", "squared_distances"]


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


def label_gram(y) -> torch.Tensor:
    r"""The normalized Gram matrix of the label kernel on N class labels.

    .. math::  K_{ij} = \mathbb{1}[y_i = y_j], \qquad A = \frac{K}{\mathrm{tr}\,K} = \frac{K}{N} .

    K is the limit σ → 0 of the Gaussian kernel on one-hot labels (the kernel of
    :func:`gram_from_distances` at any σ when the classes are infinitely far apart), and A is
    normalized as every Gram matrix of the package (unit diagonal K, A = K / N). Sorted by class, A
    is block diagonal with all-ones blocks of size n_c, so its non-zero eigenvalues are the class
    proportions p_c = n_c / N and its matrix-based Rényi entropy is exactly the Rényi entropy of
    the class proportions, :math:`S_\alpha(A) = H_\alpha(p)` (:func:`label_entropy`): at α → 1,
    the Shannon H(Y), log2 C for C balanced classes, whatever N. (The Gaussian kernel at Scott's
    width on one-hot rows gives less: 2.01 bits for ten balanced classes at N = 100.)

    Parameters
    ----------
    y : (N,) or (N, 1) integer array, tensor or list
        Class indices, N >= 2 (any integer values; only equality is read).

    Returns
    -------
    A : (N, N) float64 tensor on the CPU, symmetric PSD with trace 1.

    References
    ----------
    L. G. Sánchez Giraldo, M. Rao, J. C. Príncipe, "Measures of entropy from data using infinitely
    divisible kernels", IEEE Trans. Inf. Theory 61(1), 535 (2015).
    S. Yu, L. G. Sánchez Giraldo, R. Jenssen, J. C. Príncipe, "Multivariate extension of matrix-based
    Rényi's α-order entropy functional", IEEE Trans. PAMI 42(11), 2960 (2020).
    """
    labels = as_labels("y", y)
    return (labels[:, None] == labels[None, :]).to(torch.float64).div_(labels.shape[0])


def label_entropy(y, alpha: float = 1.0) -> float:
    r"""The Rényi α-entropy in bits of the class proportions of N labels, the plug-in H_α(Y).

    .. math::  H_\alpha(p) = \frac{1}{1-\alpha} \log_2 \sum_c p_c^\alpha ,
               \qquad H_1(p) = -\sum_c p_c \log_2 p_c , \qquad p_c = n_c / N ,

    equal to the matrix-based entropy of :func:`label_gram` (its spectrum is p and zeros).

    Parameters
    ----------
    y : (N,) or (N, 1) integer array, tensor or list
    alpha : float, default 1.0
        Rényi order, > 0; 1 gives the Shannon entropy.

    Returns
    -------
    float in [0, log2 C], C the number of classes present.
    """
    check_params(alpha)
    labels = as_labels("y", y)
    p = torch.unique(labels, return_counts=True)[1].to(torch.float64) / labels.shape[0]
    if alpha == 1.0:
        return float(-(p * torch.log2(p)).sum())
    return float(torch.log2((p ** float(alpha)).sum()) / (1.0 - float(alpha)))
