r"""Exact information of a quantized layer, by counting codes (Lorenzen, Igel & Nielsen 2022).

A layer whose units take finitely many values maps each input to a code. Over a data set of N
inputs taken uniformly (X uniform over the rows), T = f(X) is a discrete variable and

.. math::  I(X; T) = H(T) = -\sum_c p(c) \log_2 p(c), \qquad p(c) = \frac{\#\{i : t_i = c\}}{N},

.. math::  I(T; Y) = H(T) - H(T \mid Y) = H(T) - \sum_y p(y)\, H(T \mid Y = y),

exactly: no estimator, no kernel width, no bins chosen after the fact. I(X; T) ≤ log2 N, with
equality when every input has its own code.

References
----------
S. S. Lorenzen, C. Igel, M. Nielsen, "Information bottleneck: exact analysis of (quantized)
neural networks", ICLR (2022).
"""
from __future__ import annotations

import torch

from .inputs import as_matrix

__all__ = ["code_entropy", "code_information"]


def _entropy_of_counts(counts: torch.Tensor) -> float:
    p = counts.to(torch.float64) / counts.sum()
    return float(-(p * torch.log2(p)).sum())


def code_entropy(codes) -> float:
    """H(T) in bits of the N codes (rows) of a quantized layer, by counting equal rows.

    Parameters
    ----------
    codes : (N, d) array or tensor
        One row per input; rows that are equal are one code (compare quantized values, e.g.
        integer levels, not floats that merely round alike).

    Returns
    -------
    float in [0, log2 N]: log2 N when every row is distinct, 0 when all are equal.
    """
    t = as_matrix("codes", codes)
    return _entropy_of_counts(torch.unique(t, dim=0, return_counts=True)[1])


def code_information(codes, labels) -> dict[str, float]:
    """I(X; T) = H(T), H(T | Y) and I(T; Y) = H(T) − H(T | Y), in bits, of a quantized layer.

    Parameters
    ----------
    codes : (N, d) array or tensor
    labels : (N,) integer array or tensor

    Returns
    -------
    dict with ``h_t`` (= I(X; T)), ``h_t_given_y`` and ``i_ty``; 0 ≤ i_ty ≤ min(h_t, H(Y)).
    """
    t = as_matrix("codes", codes)
    y = torch.as_tensor(labels).reshape(-1)
    if y.shape[0] != t.shape[0]:
        raise ValueError(f"labels must have one entry per code; got {y.shape[0]} labels for {t.shape[0]} codes")
    if y.is_floating_point() and not bool((y == y.round()).all()):
        raise ValueError("labels must be class indices (integers); got fractional values")
    h_t = code_entropy(t)
    classes, counts = torch.unique(y, return_counts=True)
    h_cond = sum(float(c) / len(y) * code_entropy(t[y == k]) if int(c) > 1 else 0.0
                 for k, c in zip(classes, counts))
    return {"h_t": h_t, "h_t_given_y": h_cond, "i_ty": max(h_t - h_cond, 0.0)}
