"""Input checks shared by every estimator: one clear error per kind of bad input."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from ipbook.store import available_memory

def as_matrix(name: str, x) -> torch.Tensor:
    """A sample as the estimators take it: ``x`` as an (N, d) float64 tensor on its own device.

    Parameters
    ----------
    name : str
        What the error messages call ``x``.
    x : (N, d) numpy array or torch tensor of real numbers, N >= 2, d >= 1, all finite.

    Returns
    -------
    (N, d) float64 tensor (detached; ``x`` itself when it already is one).

    Raises
    ------
    ValueError
        One line naming what is wrong: the type, the shape, N < 2, the dtype, NaN or inf.
    """
    if isinstance(x, torch.Tensor):
        t = x.detach()
    elif isinstance(x, np.ndarray):
        t = torch.from_numpy(np.asarray(x))
    else:
        raise ValueError(
            f"{name} must be a numpy array or a torch tensor of shape (N, d); got {type(x).__name__}"
        )
    if t.dim() != 2:
        raise ValueError(f"{name} must be 2-D of shape (N, d); got shape {tuple(t.shape)}")
    if t.shape[0] < 2:
        raise ValueError(f"{name} needs at least N = 2 samples (rows); got N = {t.shape[0]}")
    if t.shape[1] < 1:
        raise ValueError(f"{name} needs at least one feature (column); got shape {tuple(t.shape)}")
    if not (t.is_floating_point() or t.dtype in (torch.int8, torch.int16, torch.int32,
                                                 torch.int64, torch.uint8, torch.bool)):
        raise ValueError(f"{name} must hold real numbers; got dtype {t.dtype}")
    t = t.to(torch.float64)
    if not bool(torch.isfinite(t.sum())):  # one reduction; NaN and inf propagate into the sum
        bad = int((~torch.isfinite(t)).sum())
        raise ValueError(f"{name} contains {bad} NaN or inf value(s); the estimator needs finite input")
    return t


def as_labels(name: str, y, n: int | None = None) -> torch.Tensor:
    """Class labels as the label estimators take them: ``y`` as an (N,) int64 tensor on the CPU.

    Parameters
    ----------
    name : str
        What the error messages call ``y``.
    y : (N,) or (N, 1) numpy array, torch tensor or sequence of class indices
        Integers (any integer dtype, or floats holding whole numbers); N >= 2.
    n : int, optional
        The number of samples the labels must match (the rows of the paired layer T).

    Returns
    -------
    (N,) int64 tensor.

    Raises
    ------
    ValueError
        One line naming what is wrong: the type, the shape, N < 2, a length other than ``n``,
        values that are not whole numbers (or NaN, inf).
    """
    if isinstance(y, torch.Tensor):
        t = y.detach().cpu()
    elif isinstance(y, (np.ndarray, list, tuple)):
        try:
            t = torch.as_tensor(np.asarray(y))
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be class indices (integers) of shape (N,); got {type(y).__name__} "
                             f"that is not an array of numbers") from None
    else:
        raise ValueError(f"{name} must be a numpy array, a torch tensor or a list of class indices (integers) "
                         f"of shape (N,); got {type(y).__name__}")
    if t.dim() == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.dim() != 1:
        raise ValueError(f"{name} must be class indices of shape (N,) or (N, 1); got shape {tuple(t.shape)} "
                         f"(one-hot rows: pass rows.argmax(1))")
    if t.shape[0] < 2:
        raise ValueError(f"{name} needs at least N = 2 samples; got N = {t.shape[0]}")
    if n is not None and t.shape[0] != n:
        raise ValueError(f"{name} must have one label per sample of the layer: N = {n}; got {t.shape[0]} labels")
    if t.dtype == torch.bool or t.is_complex() or not (t.is_floating_point() or t.dtype in (
            torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)):
        raise ValueError(f"{name} must be class indices (integers); got dtype {t.dtype}")
    if t.is_floating_point():
        if not bool(torch.isfinite(t).all()) or not bool((t == t.round()).all()):
            raise ValueError(f"{name} must be class indices (integers); got non-integer values such as "
                             f"{float(t[(t != t.round()) | ~torch.isfinite(t)][0])!r}")
    return t.to(torch.int64)


def check_params(alpha: float, gamma: float | None = None) -> None:
    """Raise a one-line ValueError unless the Rényi order ``alpha`` (and the kernel scale
    ``gamma``, when given) is a finite number > 0."""
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be a finite number > 0 (alpha = 1 is the Shannon limit); got {alpha!r}")
    if gamma is not None and not (isinstance(gamma, (int, float)) and math.isfinite(gamma) and gamma > 0):
        raise ValueError(f"gamma must be a finite number > 0; got {gamma!r}")


def same_n(named: Sequence[tuple[str, torch.Tensor]]) -> None:
    """Raise a one-line ValueError, listing every N, unless the ``(name, (N, d) tensor)`` pairs
    all have the same number of samples N."""
    sizes = {name: t.shape[0] for name, t in named}
    if len(set(sizes.values())) > 1:
        listing = ", ".join(f"{k}: N = {v}" for k, v in sizes.items())
        raise ValueError(f"all inputs must have the same number of samples (rows); got {listing}")




#: How an entropy is taken: ``exact`` (every eigenvalue, O(N³)), ``lanczos`` (Krylov-deflated
#: stochastic Lanczos quadrature, :mod:`~ipbook.estimators.lanczos`) or ``auto``.
METHODS = ("exact", "lanczos", "auto")


def check_method(method: str, tol: float) -> None:
    """Raise a one-line ValueError unless ``method`` is one of :data:`METHODS` and ``tol`` (bits)
    a finite number > 0."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(repr(m) for m in METHODS)}; got {method!r}")
    if isinstance(tol, bool) or not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a finite number of bits > 0 (e.g. 0.01); got {tol!r}")


def check_memory(n: int, matrices: int, what: str) -> None:
    """Raise a one-line MemoryError, before any work, when ``matrices`` float64 N × N matrices
    would not fit in the memory available (:func:`ipbook.store.available_memory`)."""
    need, have = 8 * n * n * matrices, available_memory()
    if have is not None and need > have:
        raise MemoryError(f"{what} at N = {n} needs about {need / 2**30:.1f} GiB ({matrices} float64 "
                          f"{n} x {n} matrices); {have / 2**30:.1f} GiB is available: use fewer samples")
