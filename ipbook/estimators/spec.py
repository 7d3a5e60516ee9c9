r"""One interface for every estimator: a spec string names it, :func:`parse_spec` makes it.

An estimator of the package is named by one string, used by the recorder
(``InformationPlaneRecorder(estimators=...)``, ``TrainConfig.estimators``), the grids and the
calibration alike, and parsed and checked here only::

    matrix                          the paper's: Scott's rule, γ = 2, α = 1.01
    matrix:gamma=8                  Scott's rule with γ = 8
    matrix:rule=median              the median heuristic (γ = 1 unless given)
    matrix:rule=tapia,alpha=2       Tapia & Estévez's rule (γ = 1), α = 2
    matrix:method=lanczos           the paper's, each entropy by stochastic Lanczos quadrature
    noisy-upper:0.1, noisy-lower:0.1   bounds on I(X; T + ε) at noise variance σ² (default 0.1)
    binning:30                      plug-in MI with 30 equal-width bins per column (default 30)
    ksg                             KSG, k = 3
    vae-rate, vae-lower             a VAE's bounds on I(X; Z) from its encoder's μ and log σ²
    matrix-label[:gamma=8,...]      I(T; Y) of a layer and class labels, the label kernel on Y
    decoding[:folds=1,l2=0.01,seed=3]   the decoding lower bound on I(T; Y) of a layer and class labels

:func:`parse_spec` returns an :class:`Estimator` in the spirit of bmi's ``estimate(x, y)`` and
scikit-learn's estimators: ``.spec`` (the canonical string: defaults dropped, numbers in their
shortest form, so that ``parse_spec(e.spec) == e``), ``.estimate(x, y)`` (bits) and
``.ceiling(n)`` (the largest value on N samples, log2 N where the estimator has one). The two
label estimators (``matrix-label``, ``decoding``) take ``estimate(t, labels)``: a layer (N, d) and
N class indices; their ceiling on given labels is ``.label_ceiling(labels)``, H(Y) (H_α(Y) for
``matrix-label``), at most log2 N.

The module also holds :class:`Setting`, a point of the sensitivity grid: a matrix kernel setting
(checked by :class:`MatrixEstimator`) and the probe sample it is taken on; :data:`PAPER` is the
paper's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .binning import binned_mutual_information
from .decoding import decoding_bound
from .ksg import ksg_mutual_information
from .inputs import METHODS
from .kernels import label_entropy
from .matrix import RULES, label_information, mutual_information
from .noisy import noisy_lower, noisy_upper
from .vae import vae_lower_bound, vae_rate

__all__ = ["Estimator", "MatrixEstimator", "NoisyBound", "Binning", "KSG", "VaeRate", "VaeLower",
           "MatrixLabel", "DecodingBound", "parse_spec", "SPEC_GRAMMAR", "Setting", "PAPER"]

#: What :func:`parse_spec` accepts, as its error messages print it.
SPEC_GRAMMAR = ("matrix[:rule=scott|median|tapia,gamma=G,alpha=A,method=exact|lanczos|auto], noisy-upper[:VARIANCE], "
                "noisy-lower[:VARIANCE], binning[:BINS], ksg, vae-rate, vae-lower, "
               "matrix-label[:rule=scott|median|tapia,gamma=G,alpha=A], decoding[:folds=K,l2=L,seed=S]")


def _number(x: float) -> str:
    """The shortest text that reads back as the float ``x``: 8.0 -> '8', 0.001 -> '0.001'."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _log2_n(n: int) -> float:
    return math.log2(int(n))


class Estimator:
    """An estimator of mutual information in bits, named by its spec (see :func:`parse_spec`).

    Subclasses are frozen dataclasses holding the estimator's settings; two estimators with the
    same settings are equal and have the same :attr:`spec`.
    """

    #: The family's name: the spec's text before ``:``.
    family: ClassVar[str] = ""

    @property
    def setting(self) -> str:
        """The canonical text after ``:`` (empty where every setting is the default)."""
        return ""

    @property
    def spec(self) -> str:
        """The canonical spec string: ``family`` or ``family:setting``."""
        return f"{self.family}:{self.setting}" if self.setting else self.family

    def estimate(self, x, y) -> float:
        """The estimate of I(X; Y) in bits from N paired samples (rows) of ``x`` and ``y``."""
        raise NotImplementedError

    def ceiling(self, n: int) -> float | None:
        """The largest value the estimator can give on ``n`` samples: log2 N, or None where it
        has no such bound."""
        return _log2_n(n)

    def __str__(self) -> str:
        return self.spec


@dataclass(frozen=True)
class MatrixEstimator(Estimator):
    r"""The matrix-based Rényi α-entropy estimator (:func:`~ipbook.estimators.matrix.mutual_information`).

    .. math::  I_\alpha(X; Y) = S_\alpha(A) + S_\alpha(B) - S_\alpha\!\left(\frac{A \circ B}{\mathrm{tr}(A \circ B)}\right),
               \qquad S_\alpha(A) = \frac{1}{1-\alpha} \log_2 \sum_i \lambda_i(A)^\alpha ,

    with A and B the unit-trace Gaussian Gram matrices of the N samples of X and of Y, each at
    its own kernel width σ from the bandwidth ``rule``: ``scott`` σ = γ·N^(−1/(4+d)) (the paper,
    γ = 2); ``median`` σ = γ × the median pairwise distance; ``tapia`` σ = γ·√d·N^(−1/(4+d)) on
    z-scored features. Ceiling log2 N.

    Parameters
    ----------
    rule : {"scott", "median", "tapia"}, default "scott"
    gamma : float, optional
        The rule's scale, > 0. Default: 2 for Scott's rule (the paper's), 1 for the others (the
        median heuristic and Tapia & Estévez's rule as their authors give them).
    alpha : float, default 1.01
        The Rényi order, > 0 (the paper's 1.01; 2 needs no eigen-decomposition).
    method : {"exact", "lanczos", "auto"}, default "exact"
        How each entropy is taken: every eigenvalue (O(N³)), or Krylov-deflated stochastic
        Lanczos quadrature within 0.01 bit per entropy (O(N²) per matrix product; for N in the
        thousands, see :func:`~ipbook.estimators.matrix.entropies`); ``auto`` picks by N.

    References
    ----------
    L. G. Sánchez Giraldo, M. Rao, J. C. Príncipe, IEEE Trans. Inf. Theory 61(1), 535 (2015).
    S. Lee, J. Jo, Entropy 23(7), 862 (2021), Appendix A.
    """

    rule: str = "scott"
    gamma: float | None = None
    alpha: float = 1.01
    method: str = "exact"
    family: ClassVar[str] = "matrix"

    def __post_init__(self):
        if self.rule not in RULES:
            raise ValueError(f"unknown bandwidth rule {self.rule!r}; valid: {', '.join(RULES)}")
        gamma = self.default_gamma(self.rule) if self.gamma is None else self.gamma
        for name, value in (("gamma", gamma), ("alpha", self.alpha)):
            if not (isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
                    and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0; got {value!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}; got {self.method!r}")
        object.__setattr__(self, "gamma", float(gamma))
        object.__setattr__(self, "alpha", float(self.alpha))

    @staticmethod
    def default_gamma(rule: str) -> float:
        """The scale ``gamma`` a spec leaves out: 2 for Scott's rule, 1 for the others."""
        return 2.0 if rule == "scott" else 1.0

    @property
    def setting(self) -> str:
        parts = [f"rule={self.rule}"] if self.rule != "scott" else []
        parts += [f"gamma={_number(self.gamma)}"] if self.gamma != self.default_gamma(self.rule) else []
        parts += [f"alpha={_number(self.alpha)}"] if self.alpha != 1.01 else []
        parts += [f"method={self.method}"] if self.method != "exact" else []
        return ",".join(parts)

    def estimate(self, x, y) -> float:
        """I_α(X; Y) in bits: ``mutual_information(x, y, alpha=, gamma=, rule=)``; ``x`` (N, d_x)
        and ``y`` (N, d_y) arrays or tensors."""
        return mutual_information(x, y, alpha=self.alpha, gamma=self.gamma, rule=self.rule, method=self.method)


@dataclass(frozen=True)
class NoisyBound(Estimator):
    r"""A pairwise-distance bound on I(X; T + ε) of a deterministic layer T = f(X), ε ~ N(0, σ²I),
    X uniform over N distinct inputs (Kolchinsky & Tracey 2017; Saxe et al. 2018):

    .. math::  I = -\frac{1}{N}\sum_i \log_2 \frac{1}{N}\sum_j
               \exp\!\left(-\frac{\lVert t_i - t_j\rVert^2}{c\,\sigma^2}\right),

    c = 2 for the ``upper`` bound (pairwise KL), c = 8 for the ``lower`` (Bhattacharyya).
    Ceiling log2 N.

    Parameters
    ----------
    bound : {"upper", "lower"}
    variance : float, default 0.1
        σ² > 0 (Saxe et al.'s 0.1).
    """

    bound: str = "upper"
    variance: float = 0.1

    def __post_init__(self):
        if self.bound not in ("upper", "lower"):
            raise ValueError(f"bound must be 'upper' or 'lower'; got {self.bound!r}")
        if not (isinstance(self.variance, (int, float, np.floating, np.integer)) and not isinstance(self.variance, bool)
                and math.isfinite(self.variance) and self.variance > 0):
            raise ValueError(f"noisy-{self.bound} takes a noise variance > 0 (finite), e.g. "
                             f"'noisy-{self.bound}:0.1'; got {self.variance!r}")
        object.__setattr__(self, "variance", float(self.variance))

    @property
    def family(self) -> str:  # type: ignore[override]
        return f"noisy-{self.bound}"

    @property
    def setting(self) -> str:
        """σ², always written: ``noisy-upper:0.1``."""
        return _number(self.variance)

    def estimate(self, x, y) -> float:
        """The bound on I(X; Y + ε) in bits: ``noisy_upper(y, variance)`` (or ``noisy_lower``).
        ``x``: the N inputs (only N is read: X is uniform over its rows, taken distinct);
        ``y``: the layer T, (N, d) array, tensor or VariableSample."""
        n_x, n_y = (v.n if hasattr(v, "d2") else len(v) for v in (x, y))
        if n_x != n_y:
            raise ValueError(f"x and y must have the same number of samples (rows); got {n_x} and {n_y}")
        return (noisy_upper if self.bound == "upper" else noisy_lower)(y, self.variance)


@dataclass(frozen=True)
class Binning(Estimator):
    r"""The plug-in mutual information of binned samples
    (:func:`~ipbook.estimators.binning.binned_mutual_information`):
    :math:`I = H(\mathrm{bin}(X)) + H(\mathrm{bin}(Y)) - H(\mathrm{bin}(X), \mathrm{bin}(Y))`,
    every column cut into ``bins`` equal-width bins over its range. Ceiling log2 N.

    Parameters
    ----------
    bins : int, default 30
        Bins per column, >= 2 (Shwartz-Ziv & Tishby's 30).
    """

    bins: int = 30
    family: ClassVar[str] = "binning"

    def __post_init__(self):
        if not (isinstance(self.bins, (int, np.integer)) and not isinstance(self.bins, bool) and self.bins >= 2):
            raise ValueError(f"binning takes a bin count >= 2, e.g. 'binning:30'; got {self.bins!r}")
        object.__setattr__(self, "bins", int(self.bins))

    @property
    def setting(self) -> str:
        """The bin count, always written: ``binning:30``."""
        return str(self.bins)

    def estimate(self, x, y) -> float:
        """``binned_mutual_information(x, y, bins=bins)`` in bits."""
        return binned_mutual_information(x, y, bins=self.bins)


@dataclass(frozen=True)
class KSG(Estimator):
    """KSG (Kraskov, Stögbauer & Grassberger 2004) with k = 3 neighbours, by ``ennemi``
    (:func:`~ipbook.estimators.ksg.ksg_mutual_information`): at most 10 columns per variable. It
    has no ceiling (the value can exceed log2 N, and be slightly negative)."""

    family: ClassVar[str] = "ksg"

    def estimate(self, x, y) -> float:
        """``ksg_mutual_information(x, y)`` in bits."""
        return ksg_mutual_information(x, y)

    def ceiling(self, n: int) -> None:
        return None


@dataclass(frozen=True)
class VaeRate(Estimator):
    r"""A VAE's rate, an upper bound on I(X; Z) (:func:`~ipbook.estimators.vae.vae_rate`):
    :math:`\mathbb{E}_x \mathrm{KL}(q(z|x) \,\|\, \mathcal{N}(0, I))` in bits. No ceiling."""

    family: ClassVar[str] = "vae-rate"

    def estimate(self, x, y) -> float:
        """``vae_rate(mu, logvar)``: ``x`` is the encoder's means μ, ``y`` its log-variances
        log σ², both (N, d) on the N probes."""
        return vae_rate(x, y)

    def ceiling(self, n: int) -> None:
        return None


@dataclass(frozen=True)
class VaeLower(Estimator):
    r"""The minibatch lower bound on a VAE's I(X; Z) (:func:`~ipbook.estimators.vae.vae_lower_bound`):
    :math:`\frac{1}{N}\sum_i \log_2 \frac{q(z_i|x_i)}{\frac{1}{N}\sum_j q(z_i|x_j)}`, one z_i drawn
    per probe (seed 0). Ceiling log2 N."""

    family: ClassVar[str] = "vae-lower"

    def estimate(self, x, y) -> float:
        """``vae_lower_bound(mu, logvar)``: ``x`` is the encoder's means μ, ``y`` its
        log-variances log σ², both (N, d) on the N probes."""
        return vae_lower_bound(x, y)


@dataclass(frozen=True)
class MatrixLabel(Estimator):
    r"""The matrix-based Rényi I_α(T; Y) of a layer T and class labels Y with the label kernel on Y
    (:func:`~ipbook.estimators.matrix.label_information`):

    .. math::  I_\alpha(T; Y) = S_\alpha(A_T) + S_\alpha(A_Y) - S_\alpha\!\left(\frac{A_T \circ A_Y}
               {\mathrm{tr}(A_T \circ A_Y)}\right), \qquad (A_Y)_{ij} = \mathbb{1}[y_i = y_j] / N,

    A_T as in :class:`MatrixEstimator` (``rule``, ``gamma``, ``alpha`` checked and defaulted as
    there; every entropy exact). S_α(A_Y) = H_α(Y), so the ceiling on given labels is H_α(Y)
    (:meth:`label_ceiling`; log2 C for C balanced classes), not the Gaussian kernel's S(Y) on
    one-hot rows. Biased upwards at finite N, more so the wider T (see
    :func:`~ipbook.estimators.matrix.label_information`).
    """

    rule: str = "scott"
    gamma: float | None = None
    alpha: float = 1.01
    family: ClassVar[str] = "matrix-label"

    def __post_init__(self):
        kernel = MatrixEstimator(self.rule, self.gamma, self.alpha)      # the one check of a kernel setting
        object.__setattr__(self, "gamma", kernel.gamma)
        object.__setattr__(self, "alpha", kernel.alpha)

    @property
    def setting(self) -> str:
        return MatrixEstimator(self.rule, self.gamma, self.alpha).setting

    def estimate(self, x, y) -> float:
        """I_α(T; Y) in bits: ``label_information(x, y, alpha=, gamma=, rule=)``; ``x`` the layer T
        (N, d), ``y`` its N class labels."""
        return label_information(x, y, alpha=self.alpha, gamma=self.gamma, rule=self.rule)

    def label_ceiling(self, y) -> float:
        """H_α(Y) in bits of the labels ``y``, the largest value on them (:func:`~ipbook.estimators.kernels.label_entropy`)."""
        return label_entropy(y, self.alpha)


@dataclass(frozen=True)
class DecodingBound(Estimator):
    r"""The decoding lower bound on I(T; Y) of a layer T and class labels Y
    (:func:`~ipbook.estimators.decoding.decoding_bound`): H(Y) minus the cross-fitted cross-entropy
    in bits of a multinomial logistic regression of Y on the standardized T. At most H(Y)
    (:meth:`label_ceiling`), a lower bound on the true I(T; Y) up to finite-sample noise, and
    negative (not clamped) where T tells the decoder nothing.

    Parameters
    ----------
    folds : int, default 2
        1 (one half scored), 2 (both halves), or k > 2 (k-fold cross-fitting).
    l2 : float, default 0.001
        Ridge penalty weight, >= 0.
    seed : int, default 0
        Fixes the stratified split.
    """

    folds: int = 2
    l2: float = 1e-3
    seed: int = 0
    family: ClassVar[str] = "decoding"

    def __post_init__(self):
        for name, value in (("folds", self.folds), ("seed", self.seed)):
            low = 1 if name == "folds" else 0
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"decoding takes {name} as an integer >= {low}, e.g. 'decoding:{name}={low + 1}'; "
                                 f"got {value!r}")
        if isinstance(self.l2, bool) or not (isinstance(self.l2, (int, float, np.floating, np.integer))
                                             and math.isfinite(self.l2) and self.l2 >= 0):
            raise ValueError(f"decoding takes l2 as a finite number >= 0, e.g. 'decoding:l2=0.01'; got {self.l2!r}")
        object.__setattr__(self, "folds", int(self.folds))
        object.__setattr__(self, "seed", int(self.seed))
        object.__setattr__(self, "l2", float(self.l2))

    @property
    def setting(self) -> str:
        parts = [f"folds={self.folds}"] if self.folds != 2 else []
        parts += [f"l2={_number(self.l2)}"] if self.l2 != 1e-3 else []
        parts += [f"seed={self.seed}"] if self.seed != 0 else []
        return ",".join(parts)

    def estimate(self, x, y) -> float:
        """The bound in bits (``decoding_bound(x, y, ...)[0]``; the function also gives its
        standard error); ``x`` the layer T (N, d), ``y`` its N class labels."""
        return decoding_bound(x, y, seed=self.seed, folds=self.folds, l2=self.l2)[0]

    def label_ceiling(self, y) -> float:
        """H(Y) in bits of the labels ``y`` (plug-in), which the bound never exceeds."""
        return label_entropy(y)


def _options(spec: str, family: str, text: str, keys: tuple[str, ...], example: str) -> dict[str, str]:
    """``key=value`` items of a spec's setting, each key one of ``keys`` and given once."""
    options = {}
    for item in filter(None, text.split(",")):
        key, eq, value = item.partition("=")
        if not eq or key not in keys or key in options:
            names = ", ".join(f"{k}=" for k in keys[:-1]) + f" and {keys[-1]}="
            raise ValueError(f"bad estimator spec {spec!r}: {family} takes {names} once each, e.g. {example!r}")
        options[key] = value
    return options


def _matrix(spec: str, text: str, family: str = "matrix"):
    label = family == "matrix-label"
    keys = ("rule", "gamma", "alpha") if label else ("rule", "gamma", "alpha", "method")
    options = _options(spec, family, text, keys, f"{family}:rule=median,alpha=2")
    options = {k: v if k in ("rule", "method") else _float(spec, v) for k, v in options.items()}
    return MatrixLabel(**options) if label else MatrixEstimator(**options)


def _decoding(spec: str, text: str) -> DecodingBound:
    options = _options(spec, "decoding", text, ("folds", "l2", "seed"), "decoding:folds=1,l2=0.01")
    for key in ("folds", "seed"):
        if key in options:
            if not options[key].strip().isdigit():
                raise ValueError(f"bad estimator spec {spec!r}: decoding takes {key} as an integer, e.g. "
                                 f"'decoding:{key}=1'; got {options[key]!r}")
            options[key] = int(options[key])
    if "l2" in options:
        options["l2"] = _float(spec, options["l2"])
    return DecodingBound(**options)


def _float(spec: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"bad estimator spec {spec!r}: {value!r} is not a number; accepted: {SPEC_GRAMMAR}") from None


def _bins(spec: str, value: str) -> int:
    if not value.strip().isdigit():
        raise ValueError(f"bad estimator spec {spec!r}: binning takes a bin count >= 2, e.g. 'binning:30'")
    return int(value)


def parse_spec(text) -> Estimator:
    """The :class:`Estimator` a spec string names.

    Parameters
    ----------
    text : str or Estimator
        ``family`` or ``family:setting``, one of :data:`SPEC_GRAMMAR` (see the module's
        docstring); an Estimator is returned as it is.

    Returns
    -------
    Estimator
        ``parse_spec(text).spec`` is the canonical spelling, and parses back to an equal estimator.

    Raises
    ------
    ValueError
        One line naming what was wrong and what is accepted.
    """
    if isinstance(text, Estimator):
        return text
    if not isinstance(text, str):
        raise ValueError(f"an estimator spec must be a string such as 'matrix' or 'binning:30'; got {text!r}")
    family, colon, setting = text.strip().partition(":")
    try:
        if family in ("matrix", "matrix-label"):
            return _matrix(text, setting, family)
        if family == "decoding":
            return _decoding(text, setting)
        if family in ("noisy-upper", "noisy-lower"):
            return NoisyBound(family.split("-")[1], _float(text, setting) if colon else 0.1)
        if family == "binning":
            return Binning(_bins(text, setting) if colon else 30)
        simple = {"ksg": KSG, "vae-rate": VaeRate, "vae-lower": VaeLower}
        if family in simple and not colon:
            return simple[family]()
    except ValueError as err:
        message = str(err)
        raise ValueError(message if message.startswith("bad estimator spec") else
                         f"bad estimator spec {text!r}: {message}") from None
    what = f"{family} takes no setting" if family in ("ksg", "vae-rate", "vae-lower") else f"unknown estimator {family!r}"
    raise ValueError(f"bad estimator spec {text!r}: {what}; accepted: {SPEC_GRAMMAR}")


# ----------------------------------------------------------------------------- the sensitivity grid's points
@dataclass(frozen=True)
class Setting:
    """One point of the sensitivity grid: a matrix kernel setting (bandwidth ``rule`` and its scale
    ``gamma``, Rényi order ``alpha``; checked as :class:`MatrixEstimator` checks them) and the
    sample it is taken on, ``n`` probe images from the ``probe`` split (``"test"`` or
    ``"train"``), probe ``draw``."""

    rule: str = "scott"
    gamma: float = 2.0
    alpha: float = 1.01
    n: int = 100
    probe: str = "test"
    draw: int = 0

    def __post_init__(self):
        MatrixEstimator(self.rule, self.gamma, self.alpha)
        if self.probe not in ("test", "train"):
            raise ValueError(f"probe must be 'test' or 'train'; got {self.probe!r}")
        if not (isinstance(self.n, (int, np.integer)) and self.n >= 2):
            raise ValueError(f"n must be an integer >= 2; got {self.n!r}")
        if not (isinstance(self.draw, (int, np.integer)) and self.draw >= 0):
            raise ValueError(f"draw must be an integer >= 0; got {self.draw!r}")

    @property
    def estimator(self) -> MatrixEstimator:
        """The kernel setting as an :class:`Estimator` (its ``.spec``: ``matrix:gamma=8``, ...)."""
        return MatrixEstimator(self.rule, self.gamma, self.alpha)

    @property
    def probe_set(self) -> tuple[str, int, int]:
        """What fixes the probe images: ``(probe, n, draw)``."""
        return self.probe, int(self.n), int(self.draw)

    def label(self) -> str:
        """A short name for tables and figure columns, e.g. ``scott γ=2``, ``α=2``, ``N=500``."""
        parts = [self.rule if self.rule != "scott" else f"scott γ={self.gamma:g}"]
        if self.rule != "scott" and self.gamma != 1:
            parts[0] += f" γ={self.gamma:g}"
        if self.alpha != PAPER.alpha:
            parts.append(f"α={self.alpha:g}")
        if self.n != PAPER.n:
            parts.append(f"N={self.n}")
        if self.probe != PAPER.probe:
            parts.append(f"{self.probe} probe")
        if self.draw:
            parts.append(f"draw {self.draw}")
        return ", ".join(parts)


#: The paper's setting (Appendix A): the estimator ``"matrix"`` (α = 1.01, Scott's rule with
#: γ = 2) on N = 100 test images.
PAPER = Setting()
