"""Estimators of mutual information, one module per family, every value in bits.

- :mod:`~ipbook.estimators.matrix`: the matrix-based Rényi α-entropy estimator of the paper
  (``mutual_information``, ``information_plane``, ``InformationPlane``) and its kernel settings
  (Scott's, the median and Tapia & Estévez's bandwidth rules; α = 2 by the Frobenius norm;
  ``VariableSample``, a sample with its pairwise distances cached). Ceiling log2 N. With class
  labels, ``label_information`` takes I(T; Y) with the label kernel on Y (``label_gram``), whose
  ceiling is H_α(Y) (``label_entropy``), not the Gaussian kernel's S(Y) of one-hot rows.
- :mod:`~ipbook.estimators.kernels`: the kernel settings on one sample (pairwise distances,
  bandwidth rules, Gram matrices; ``VariableSample``), shared by the matrix and noisy families.
- :mod:`~ipbook.estimators.decoding`: the decoding lower bound on I(T; Y) of a layer and class
  labels (``decoding_bound``): H(Y) minus the cross-fitted cross-entropy of a logistic
  regression of Y on T. Ceiling H(Y).
- :mod:`~ipbook.estimators.lanczos`: the matrix estimator's fast path for large N (``method=
  "lanczos"``): Krylov-deflated stochastic Lanczos quadrature, O(N²) per matrix product.
- :mod:`~ipbook.estimators.noisy`: the pairwise-distance bounds on the noisy layer's I(X; T + ε)
  (Kolchinsky & Tracey 2017; Saxe et al. 2018), the Monte-Carlo value they bracket, and sample
  propagation for networks with noise inside (Goldfeld et al. 2019). Ceiling log2 N.
- :mod:`~ipbook.estimators.quantized`: exact H(T) and I(T; Y) of a quantized layer by counting
  codes (Lorenzen et al. 2022). Ceiling log2 N.
- :mod:`~ipbook.estimators.binning`: the plug-in MI of binned variables and H(bin(T)) of a layer
  (Shwartz-Ziv & Tishby 2017). Ceiling log2 N.
- :mod:`~ipbook.estimators.vae`: the VAE's rate (an upper bound on I(X; Z)) and a minibatch lower
  bound (at most log2 N) from its encoder.
- :mod:`~ipbook.estimators.ksg`: KSG (Kraskov et al. 2004) from ``ennemi``, for narrow variables.
- :mod:`~ipbook.estimators.spec`: the one interface. An estimator is named by a spec string
  (``"matrix"``, ``"matrix:gamma=8"``, ``"noisy-upper:0.1"``, ``"binning:30"``, ``"ksg"``, ...);
  :func:`parse_spec` checks it and returns an :class:`Estimator` with ``.spec``,
  ``.estimate(x, y)`` (bits) and ``.ceiling(n)``; the label estimators ``"matrix-label"`` and
  ``"decoding"`` take ``.estimate(t, labels)`` and give their ceiling H(Y) on given labels by
  ``.label_ceiling(labels)``.

The batched matrix estimate, many kernel settings on one sample sharing its pairwise distances
and eigen-decompositions, is :func:`~ipbook.estimators.matrix.planes_under` (and
:class:`InformationPlane`, which keeps X's part between calls).

The functions that take a layer accept an (N, d) array or tensor, or a
:class:`~ipbook.estimators.matrix.VariableSample`, whose pairwise distances are then computed
once and shared by every estimator and setting that needs them.
"""
from .binning import BINS, binned_layer_information, binned_mutual_information
from .decoding import decoding_bound
from .kernels import label_entropy
from .ksg import KSG_MAX_DIM, ksg_mutual_information
from .matrix import (
    RULES,
    InformationPlane,
    VariableSample,
    bandwidth,
    entropies,
    gram_from_distances,
    gram_matrix,
    information_plane,
    joint_entropy,
    joint_gram,
    label_gram,
    label_information,
    mutual_information,
    planes_under,
    renyi_entropy,
    scott_bandwidth,
    squared_distances,
)
from .inputs import as_matrix
from .noisy import NOISE_VARIANCES, noisy_bounds, noisy_lower, noisy_upper
from .spec import (
    KSG,
    PAPER,
    SPEC_GRAMMAR,
    Binning,
    DecodingBound,
    Estimator,
    MatrixEstimator,
    MatrixLabel,
    NoisyBound,
    Setting,
    VaeLower,
    VaeRate,
    parse_spec,
)
from .vae import vae_lower_bound, vae_rate

__all__ = [
    "scott_bandwidth", "squared_distances", "gram_from_distances", "gram_matrix", "renyi_entropy",
    "joint_entropy", "mutual_information", "information_plane", "InformationPlane", "RULES", "bandwidth",
    "VariableSample", "binned_mutual_information", "binned_layer_information", "BINS", "NOISE_VARIANCES",
    "noisy_bounds", "noisy_upper", "noisy_lower", "vae_rate", "vae_lower_bound", "ksg_mutual_information",
    "KSG_MAX_DIM", "as_matrix", "entropies", "joint_gram", "planes_under", "parse_spec", "SPEC_GRAMMAR", "Estimator",
    "MatrixEstimator", "NoisyBound", "Binning", "KSG", "VaeRate", "VaeLower", "Setting", "PAPER",
    "label_gram", "label_entropy", "label_information", "decoding_bound", "MatrixLabel", "DecodingBound",
]
