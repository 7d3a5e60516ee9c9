r"""The Kraskov–Stögbauer–Grassberger (KSG) k-nearest-neighbour estimator of I(X; Y), from ``ennemi``.

``ennemi`` (Laarne et al. 2021) implements KSG's first estimator for a one-dimensional X and Y,
and its conditional form (Frenzel & Pompe 2007) with a condition of any dimension. For
multivariate X (d_x columns) and Y (d_y columns) this module uses the chain rule, which holds
for the true mutual information:

.. math::  I(X; Y) = \sum_{k=1}^{d_x}\sum_{l=1}^{d_y} I\big(x_k; y_l \,\big|\, x_{<k}, y_{<l}\big),

each term one ``ennemi.estimate_mi`` call with the k-NN conditional estimator. The value is in
**bits**. KSG has no ceiling of log2 N, but with N samples it cannot resolve more than about
log2 N bits either; its bias grows with the dimension. It is meant for narrow variables (the
book uses it up to 10 dimensions).

References
----------
A. Kraskov, H. Stögbauer, P. Grassberger, "Estimating mutual information", Phys. Rev. E 69,
066138 (2004).
S. Frenzel, B. Pompe, "Partial mutual information for coupling analysis of multivariate time
series", Phys. Rev. Lett. 99, 204101 (2007).
P. Laarne, M. A. Zaidan, T. Nieminen, "ennemi: Non-linear correlation detection with mutual
information", SoftwareX 14, 100686 (2021).
"""
from __future__ import annotations

import math

import numpy as np

from .inputs import as_matrix

__all__ = ["ksg_mutual_information", "KSG_MAX_DIM"]

#: The largest number of columns per variable the book evaluates KSG at.
KSG_MAX_DIM = 10


def ksg_mutual_information(x, y, *, k: int = 3, max_dim: int = KSG_MAX_DIM) -> float:
    """KSG estimate of I(X; Y) in bits.

    Parameters
    ----------
    x : (N, d_x) or (N,) array or tensor
    y : (N, d_y) or (N,) array or tensor
        Paired samples. ``ennemi`` scales every variable to unit variance first.
    k : int, default 3
        Neighbours (Kraskov et al.'s k; 3 is ennemi's and the usual default).
    max_dim : int, default :data:`KSG_MAX_DIM`
        Refuse wider variables: d_x·d_y chain-rule terms in up to d_x + d_y dimensions.

    Returns
    -------
    float
        The estimate in bits; it can be slightly negative where the truth is near 0.
    """
    from ennemi import estimate_mi

    xs = [np.asarray(v.detach().cpu() if hasattr(v, "detach") else v, dtype=np.float64) for v in (x, y)]
    xs = [v[:, None] if v.ndim == 1 else v for v in xs]
    tx, ty = as_matrix("x", xs[0]).numpy(), as_matrix("y", xs[1]).numpy()
    if tx.shape[0] != ty.shape[0]:
        raise ValueError(f"x and y must have the same number of samples (rows); got {tx.shape[0]} and {ty.shape[0]}")
    if not (isinstance(k, (int, np.integer)) and 1 <= k < tx.shape[0]):
        raise ValueError(f"k must be an integer in [1, N); got {k!r} for N = {tx.shape[0]}")
    if max(tx.shape[1], ty.shape[1]) > max_dim:
        raise ValueError(f"KSG here takes at most {max_dim} columns per variable; got {tx.shape[1]} and {ty.shape[1]}")
    total = 0.0
    for a in range(tx.shape[1]):
        for b in range(ty.shape[1]):
            cond = np.hstack([tx[:, :a], ty[:, :b]])
            kwargs = {"cond": cond} if cond.shape[1] else {}
            total += float(np.asarray(estimate_mi(ty[:, b], tx[:, a], k=int(k), max_threads=1, **kwargs)).ravel()[0])
    return total / math.log(2.0)
