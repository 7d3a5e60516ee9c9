r"""The geometry of a layer on a probe set: what any fall of an I(X;T) estimate is made of.

For a layer T (N probes × d units) with class labels y:

- **clustering ratio** :math:`\mathrm{tr}\,S_W / \mathrm{tr}\,S_T`, the within-class scatter over
  the total scatter (1: classes are not separated at all; 0: each class is one point);
- **effective rank** :math:`(\sum_k \lambda_k)^2 / \sum_k \lambda_k^2`, the participation ratio of
  the covariance's eigenvalues (1: the probes lie on a line; d: spread evenly in every unit);
- **median pairwise distance** :math:`\mathrm{median}_{i<j} \lVert t_i - t_j \rVert`, the scale
  against which a kernel width, a noise σ or a bin size is large or small;
- **saturated share** of the units' values in a flat part of the nonlinearity
  (:func:`ipbook.experiments.sensitivity.saturated_fraction`).
"""
from __future__ import annotations

import numpy as np
import torch

from ipbook.estimators.inputs import as_matrix
from ipbook.experiments.sensitivity import saturated_fraction

__all__ = ["GEOMETRY_KEYS", "layer_shape"]

#: The keys of :func:`layer_shape`, in the order tables keep them.
GEOMETRY_KEYS = ("clustering_ratio", "effective_rank", "median_distance", "saturated_share")


def layer_shape(t, labels, activation: str = "sigmoid") -> dict[str, float]:
    """The clustering ratio, effective rank, median pairwise distance and saturated share of one
    layer (see the module's docstring).

    Parameters
    ----------
    t : (N, d) array or tensor, N ≥ 2
    labels : (N,) class labels
    activation : the layer's nonlinearity, for the saturated share

    Returns
    -------
    dict of :data:`GEOMETRY_KEYS`, floats (the ratio NaN when the layer does not vary).
    """
    x = as_matrix("t", t)
    y = torch.as_tensor(np.asarray(labels)).reshape(-1)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"labels must have one entry per probe; got {y.shape[0]} labels for {x.shape[0]} probes")
    centred = x - x.mean(dim=0)
    total = float((centred ** 2).sum())
    within = sum(float(((x[y == c] - x[y == c].mean(dim=0)) ** 2).sum()) for c in torch.unique(y))
    lam = torch.linalg.eigvalsh(centred.T @ centred / x.shape[0]).clamp_min(0.0)
    i, j = torch.triu_indices(x.shape[0], x.shape[0], offset=1)
    dist = (x[i] - x[j]).norm(dim=1)
    return {"clustering_ratio": within / total if total > 0 else float("nan"),
            "effective_rank": float(lam.sum() ** 2 / (lam ** 2).sum()) if float(lam.sum()) > 0 else 0.0,
            "median_distance": float(dist.median()),
            "saturated_share": saturated_fraction(x, activation)}
