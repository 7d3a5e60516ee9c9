r"""The estimators on known mutual information: samplers with closed-form I(X; Y), and a grid.

The paper checks its estimator on one bivariate Gaussian (Appendix A1, d = 1, N = 1000). Its
layers have 10 to 784 units and it uses N = 100. Following Kraskov et al. (2004) and Czyż et al.
(2023), this module draws from distributions whose mutual information is known, across dimension
and sample size, and records what each estimator of :mod:`ipbook.estimators` returns. Every value
is in **bits**.

Families (each sampler returns ``(x, y)`` of shape (N, d_x), (N, d_y); :func:`true_mi` gives the
truth):

* ``gaussian-dense``: X, Y each d-dimensional, unit variances, every off-diagonal correlation 0.5
  (within X, within Y and across). I = ½ log2(det Σ_X det Σ_Y / det Σ).
* ``gaussian-sparse``: X, Y each d-dimensional standard normal; only (x₁, y₁) and (x₂, y₂) are
  correlated, each with ρ = 0.8. I = −log2(1 − ρ²) = 1.47 bits at every d ≥ 2.
* ``student-t``: the multivariate Student-t with ν degrees of freedom and dispersion
  Σ = [[I, 0.5 I], [0.5 I, I]] (x_k paired with y_k). From the entropy of the t distribution
  (Arellano-Valle, Contreras-Reyes & Genton 2013),

  .. math::  I = \tfrac12\log\frac{|\Sigma_X||\Sigma_Y|}{|\Sigma|} + c(d_x) + c(d_y) - c(d_x + d_y),
  .. math::  c(d) = \log\Gamma(\tfrac\nu2) - \log\Gamma(\tfrac{\nu+d}2)
             + \tfrac{\nu+d}{2}\big[\psi(\tfrac{\nu+d}2) - \psi(\tfrac\nu2)\big],

  which is positive even where Σ is diagonal (the shared scale couples X and Y), and tends to the
  Gaussian value as ν → ∞.
* ``gaussian-sparse+<map>``: the sparse Gaussian through a map that leaves I unchanged (an
  invertible map of X alone, or of Y alone): ``cdf`` (the normal CDF per coordinate: uniform
  margins), ``halfcube`` (x ↦ x·|x|^½), ``rescale`` (each coordinate times a factor in
  [0.1, 10]) and ``rotate`` (a random rotation within X).
* ``linear-channel``: T = A X + σ ε with X ~ N(0, I_d), ε ~ N(0, I_{n_T}), A with entries
  N(0, 1/d). I(X; T) = ½ log2 det(I + A Aᵀ/σ²). This is the model the noisy-layer bounds assume:
  they are evaluated on the noiseless A X with noise variance σ².

The noisy-layer bounds are also checked where the truth is not closed-form but computed to any
precision (:func:`mixture_bounds`): on mixtures of N Gaussians N(t_i, σ² I) whose centres t_i look
like the book's sigmoid layers (:func:`layer_like`: N probes in [0, 1]^d, a few class clusters with
spread), the pairwise-distance bounds of Kolchinsky & Tracey (2017) against the Monte-Carlo value
of :func:`ipbook.estimators.noisy.monte_carlo` that they bracket.

References
----------
A. Kraskov, H. Stögbauer, P. Grassberger, "Estimating mutual information", Phys. Rev. E 69,
066138 (2004).
P. Czyż, F. Grabowski, J. E. Vogt, N. Beerenwinkel, A. Marx, "Beyond normal: on the evaluation of
mutual information estimators", NeurIPS (2023).
R. B. Arellano-Valle, J. E. Contreras-Reyes, M. G. Genton, "Shannon entropy and mutual information
for multivariate skew-elliptical distributions", Scand. J. Stat. 40(1), 42 (2013).
A. Kolchinsky, B. D. Tracey, "Estimating mixture entropy with pairwise distances", Entropy 19(7),
361 (2017).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy.special import digamma, expit, gammaln, ndtr

from ipbook.estimators.noisy import monte_carlo, NOISE_VARIANCES, noisy_lower, noisy_upper

__all__ = ["FAMILIES", "MAPS", "Task", "sample", "true_mi", "dense_covariance", "sparse_covariance",
           "student_t_covariance", "gaussian_mi", "student_t_mi", "channel_matrix", "linear_channel_mi",
           "paper_tasks", "quick_tasks", "zscore", "apply_map", "MIXTURE_COLUMNS", "MIXTURE_GRIDS", "layer_like",
           "mixture_row", "mixture_bounds"]

FAMILIES = ("gaussian-dense", "gaussian-sparse", "student-t", "linear-channel")
#: The MI-preserving maps of the sparse Gaussian.
MAPS = ("cdf", "halfcube", "rescale", "rotate")
_LN2 = math.log(2.0)


@dataclass(frozen=True)
class Task:
    """One distribution of known MI: ``family`` (one of :data:`FAMILIES`, or
    ``gaussian-sparse+<map>``), dimension ``d`` (of X and Y; the input's for the channel),
    ``nu`` (Student-t), ``n_t`` and ``variance`` σ² (the channel's width and noise)."""

    family: str
    d: int
    nu: float | None = None
    n_t: int | None = None
    variance: float | None = None

    def __post_init__(self):
        base, _, mapped = self.family.partition("+")
        if base not in FAMILIES or (mapped and (base != "gaussian-sparse" or mapped not in MAPS)):
            raise ValueError(f"unknown family {self.family!r}; valid: {', '.join(FAMILIES)}, or "
                             f"gaussian-sparse+<map> with a map in {', '.join(MAPS)}")
        if not (isinstance(self.d, (int, np.integer)) and self.d >= 1):
            raise ValueError(f"d must be an integer >= 1; got {self.d!r}")
        if base == "gaussian-sparse" and self.d < 2:
            raise ValueError(f"the sparse Gaussian correlates two coordinate pairs, so d >= 2; got d = {self.d}")
        if base == "student-t" and not (self.nu is not None and math.isfinite(self.nu) and self.nu > 0):
            raise ValueError(f"the Student-t needs degrees of freedom nu > 0; got nu = {self.nu!r}")
        if base == "linear-channel":
            if not (isinstance(self.n_t, (int, np.integer)) and self.n_t >= 1):
                raise ValueError(f"the linear channel needs a width n_t >= 1; got {self.n_t!r}")
            if not (self.variance is not None and self.variance > 0):
                raise ValueError(f"the linear channel needs a noise variance > 0; got {self.variance!r}")

    @property
    def setting(self) -> str:
        """What else fixes the distribution, for the table: ν, or σ² of the channel, else ''."""
        if self.nu is not None:
            return f"nu={self.nu:g}"
        if self.variance is not None:
            return f"n_t={self.n_t};var={self.variance:g}"
        return ""


# ----------------------------------------------------------------------------- closed forms
def _check_rho(rho: float) -> float:
    if not (-1 < rho < 1):
        raise ValueError(f"a correlation must lie in (-1, 1); got rho = {rho!r}")
    return float(rho)


def dense_covariance(d: int, rho: float = 0.5) -> np.ndarray:
    """The (2d, 2d) covariance with unit variances and every off-diagonal entry ``rho``."""
    _check_rho(rho)
    if d < 1:
        raise ValueError(f"d must be >= 1; got {d}")
    return np.full((2 * d, 2 * d), rho) + (1 - rho) * np.eye(2 * d)


def sparse_covariance(d: int, rho: float = 0.8, pairs: int = 2) -> np.ndarray:
    """The (2d, 2d) covariance of standard normals where only (x_k, y_k), k < ``pairs``, correlate."""
    _check_rho(rho)
    if d < pairs:
        raise ValueError(f"d must be >= {pairs} for {pairs} correlated pairs; got d = {d}")
    cov = np.eye(2 * d)
    for k in range(pairs):
        cov[k, d + k] = cov[d + k, k] = rho
    return cov


def student_t_covariance(d: int, rho: float = 0.5) -> np.ndarray:
    """The dispersion [[I, ρI], [ρI, I]] of the Student-t family."""
    _check_rho(rho)
    return np.block([[np.eye(d), rho * np.eye(d)], [rho * np.eye(d), np.eye(d)]])


def gaussian_mi(cov: np.ndarray, d_x: int) -> float:
    """½ log2(det Σ_X det Σ_Y / det Σ) for a Gaussian with covariance ``cov``, X its first d_x
    coordinates."""
    logdet = lambda m: np.linalg.slogdet(m)[1]  # noqa: E731
    return float(0.5 * (logdet(cov[:d_x, :d_x]) + logdet(cov[d_x:, d_x:]) - logdet(cov)) / _LN2)


def student_t_mi(cov: np.ndarray, d_x: int, nu: float) -> float:
    """I(X; Y) in bits of the multivariate Student-t with dispersion ``cov`` and ``nu`` degrees of
    freedom (see the module docstring)."""
    if not nu > 0:
        raise ValueError(f"nu must be > 0; got {nu!r}")
    d_y = cov.shape[0] - d_x

    def c(d):
        return (gammaln(nu / 2) - gammaln((nu + d) / 2)
                + (nu + d) / 2 * (digamma((nu + d) / 2) - digamma(nu / 2)))
    return gaussian_mi(cov, d_x) + float(c(d_x) + c(d_y) - c(d_x + d_y)) / _LN2


def channel_matrix(d: int, n_t: int, seed: int = 0) -> np.ndarray:
    """The channel's (n_t, d) matrix A, entries N(0, 1/d), fixed by ``seed`` (the task, not the
    sample: every sample seed sees the same channel)."""
    return np.random.default_rng(10_000 + int(seed)).normal(size=(n_t, d)) / math.sqrt(d)


def linear_channel_mi(a: np.ndarray, variance: float) -> float:
    """I(X; AX + σε) = ½ log2 det(I + A Aᵀ/σ²) for X ~ N(0, I), ε ~ N(0, I), in bits."""
    return float(0.5 * np.linalg.slogdet(np.eye(a.shape[0]) + a @ a.T / variance)[1] / _LN2)


def true_mi(task: Task) -> float:
    """The closed-form I(X; Y) of ``task`` in bits (a map leaves the sparse Gaussian's unchanged)."""
    base = task.family.partition("+")[0]
    if base == "gaussian-dense":
        return gaussian_mi(dense_covariance(task.d), task.d)
    if base == "gaussian-sparse":
        return gaussian_mi(sparse_covariance(task.d), task.d)
    if base == "student-t":
        return student_t_mi(student_t_covariance(task.d), task.d, task.nu)
    return linear_channel_mi(channel_matrix(task.d, task.n_t), task.variance)


# ----------------------------------------------------------------------------- samplers
def apply_map(name: str, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An invertible map of X alone (so I(X; Y) is unchanged)."""
    if name == "cdf":
        return ndtr(x)
    if name == "halfcube":
        return x * np.sqrt(np.abs(x))
    if name == "rescale":
        return x * np.exp(rng.uniform(math.log(0.1), math.log(10.0), size=x.shape[1]))
    q, r = np.linalg.qr(rng.normal(size=(x.shape[1], x.shape[1])))
    return x @ (q * np.sign(np.diag(r)))          # "rotate": a Haar-random orthogonal matrix


def sample(task: Task, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` draws of (X, Y) from ``task`` with a numpy Generator seeded by ``seed``. For the
    linear channel, Y is the noiseless A X (the noisy-layer bounds add the noise themselves) and
    ``sample_channel_output`` the noisy T."""
    if not (isinstance(n, (int, np.integer)) and n >= 2):
        raise ValueError(f"n must be an integer >= 2; got {n!r}")
    rng = np.random.default_rng(int(seed))
    base, _, mapped = task.family.partition("+")
    d = task.d
    if base == "linear-channel":
        x = rng.normal(size=(n, d))
        return x, x @ channel_matrix(d, task.n_t).T
    cov = {"gaussian-dense": dense_covariance, "gaussian-sparse": sparse_covariance,
           "student-t": student_t_covariance}[base](d)
    z = rng.multivariate_normal(np.zeros(2 * d), cov, size=n, method="cholesky")
    if base == "student-t":
        z = z / np.sqrt(rng.chisquare(task.nu, size=n) / task.nu)[:, None]
    x, y = z[:, :d], z[:, d:]
    if mapped:
        x = apply_map(mapped, x, np.random.default_rng(20_000 + int(seed)))
    return x, y


def sample_channel_output(task: Task, y_clean: np.ndarray, seed: int) -> np.ndarray:
    """The channel's noisy output T = A X + σ ε from its noiseless part."""
    rng = np.random.default_rng(30_000 + int(seed))
    return y_clean + math.sqrt(task.variance) * rng.normal(size=y_clean.shape)


def zscore(v: np.ndarray) -> np.ndarray:
    """Every coordinate to zero mean and unit variance over the sample (constant ones to 0)."""
    sd = v.std(axis=0)
    return (v - v.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


# ----------------------------------------------------------------------------- grids
def paper_tasks() -> list[Task]:
    """The calibration grid: the dense Gaussian at d = 1-50, the sparse at d = 2-50, the Student-t at
    d = 1-5 and ν = 1-3, the four maps of the sparse Gaussian, and linear channels of the paper's
    layer widths from d = 784 at σ² = 1 and 10."""
    tasks = [Task("gaussian-dense", d) for d in (1, 2, 3, 5, 10, 25, 50)]
    tasks += [Task("gaussian-sparse", d) for d in (2, 3, 5, 10, 25, 50)]
    tasks += [Task("student-t", d, nu=float(nu)) for d in (1, 2, 3, 5) for nu in (1, 2, 3)]
    tasks += [Task(f"gaussian-sparse+{m}", d) for m in MAPS for d in (2, 3, 5, 10, 25, 50)]
    tasks += [Task("linear-channel", 784, n_t=n_t, variance=v) for n_t in (10, 50, 128, 256) for v in (1.0, 10.0)]
    return tasks


def quick_tasks() -> list[Task]:
    """A small grid for the quick profile: one task per family and map, low dimensions."""
    return ([Task("gaussian-dense", d) for d in (1, 5)] + [Task("gaussian-sparse", d) for d in (2, 10)]
            + [Task("student-t", 2, nu=1.0)] + [Task(f"gaussian-sparse+{m}", 2) for m in MAPS]
            + [Task("linear-channel", 50, n_t=10, variance=1.0)])


# ----------------------------------------------------------------------------- noisy-layer mixtures
#: Columns of :func:`mixture_bounds`: the setting, the bounds, the Monte-Carlo value and its
#: standard error, the ceiling log2 N and the gaps upper − MC and MC − lower, all in bits.
MIXTURE_COLUMNS = ["n", "d", "variance", "lower", "mc", "stderr", "upper", "ceiling", "gap_upper", "gap_lower"]
#: The grids of :func:`mixture_bounds` by name: (N values, d values, σ² values, Monte-Carlo draws).
MIXTURE_GRIDS = {"paper": ((100, 1000), (2, 10, 50, 256), NOISE_VARIANCES, 20_000),
                 "quick": ((100, 1000), (2, 10, 50), NOISE_VARIANCES, 5_000)}


def layer_like(n: int, d: int, *, classes: int = 10, scale: float = 2.0, spread: float = 0.5,
               seed: int = 0) -> np.ndarray:
    """N probes of a d-unit sigmoid layer: the centres of the book's noisy-layer mixtures.

    Probe i belongs to class i mod ``classes``; its pre-activation is its class's centre, drawn
    N(0, ``scale``² I), plus N(0, ``spread``² I), and the layer is its sigmoid. The classes are
    clusters a few tenths apart per unit and the probes within one spread by about 0.1 per unit,
    so at the book's noise variances the noise hides probes, then clusters, then the layer.

    Parameters
    ----------
    n, d : int
        Probes N >= 2 and units d >= 1.
    classes : int, default 10
        Class clusters (the book's data sets have 10 classes).
    scale, spread : float, default 2.0 and 0.5
        Standard deviations of the class centres and of the probes around them, before the sigmoid.
    seed : int, default 0

    Returns
    -------
    (n, d) float64 array in (0, 1).
    """
    if not (isinstance(n, (int, np.integer)) and n >= 2 and isinstance(d, (int, np.integer)) and d >= 1):
        raise ValueError(f"a layer needs integers n >= 2 probes and d >= 1 units; got n = {n!r}, d = {d!r}")
    if not (isinstance(classes, (int, np.integer)) and classes >= 1 and scale >= 0 and spread >= 0):
        raise ValueError(f"classes must be an integer >= 1 and scale, spread >= 0; got {classes!r}, {scale!r}, {spread!r}")
    rng = np.random.default_rng(int(seed))
    centres = rng.normal(scale=scale, size=(classes, d))
    return expit(centres[np.arange(n) % classes] + spread * rng.normal(size=(n, d)))


def mixture_row(t, variance: float, *, samples: int = 20_000, seed: int = 0) -> dict:
    """The bounds and the Monte-Carlo I(X; T + ε) of one layer ``t`` (N, d) at noise variance σ²
    = ``variance``: one row of :data:`MIXTURE_COLUMNS`, in bits (``samples`` and ``seed`` as in
    :func:`ipbook.estimators.noisy.monte_carlo`)."""
    t = torch.as_tensor(t, dtype=torch.float64)
    lower, upper = noisy_lower(t, variance), noisy_upper(t, variance)
    mc, stderr = monte_carlo(t, variance, samples=samples, seed=seed)
    n, d = t.shape
    return {"n": int(n), "d": int(d), "variance": float(variance), "lower": lower, "mc": mc, "stderr": stderr,
            "upper": upper, "ceiling": math.log2(n), "gap_upper": upper - mc, "gap_lower": mc - lower}


def mixture_bounds(ns=(100, 1000), ds=(2, 10, 50, 256), variances=NOISE_VARIANCES, *, samples: int = 20_000,
                   seed: int = 0, **layer) -> pd.DataFrame:
    """The noisy-layer bounds against the Monte-Carlo value they bracket, on book-like layers.

    For every N in ``ns`` and d in ``ds``, one layer :func:`layer_like` (N, d, ``seed``,
    keyword arguments ``layer``), and at every σ² in ``variances`` one :func:`mixture_row`.

    Parameters
    ----------
    ns, ds : sequences of int
        Probes N and units d (default: the book's N = 100 and 1000, and d = 2 to 256).
    variances : sequence of float
        Noise variances σ² (default: the book's, :data:`ipbook.estimators.noisy.NOISE_VARIANCES`).
    samples : int, default 20000
        Monte-Carlo draws per setting (standard errors of at most about 0.02 bits on this grid).
    seed : int, default 0
        Seeds the layers and the draws.

    The grid runs on one intra-op thread (restored after): its distance blocks are small, and on
    busy cores more threads only contend. The default grid takes about 13 s on one core.

    Returns
    -------
    DataFrame with columns :data:`MIXTURE_COLUMNS`, one row per N, d and σ².
    """
    if not (len(ns) and len(ds) and len(variances)):
        raise ValueError(f"give at least one N, d and variance; got ns = {ns!r}, ds = {ds!r}, variances = {variances!r}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # small chunks: more threads than free cores slowed the grid ~6x (13 s -> 82 s)
    try:
        rows = [mixture_row(layer_like(int(n), int(d), seed=seed, **layer), v, samples=samples, seed=seed)
                for n in ns for d in ds for v in variances]
    finally:
        torch.set_num_threads(threads)
    return pd.DataFrame(rows, columns=MIXTURE_COLUMNS)
