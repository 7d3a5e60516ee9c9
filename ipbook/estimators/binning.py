r"""Binning estimators: the plug-in mutual information of discretized samples.

A deterministic layer T = f(X), with X uniform over N distinct probe images, has
I(X; bin(T)) = H(bin(T)): the entropy of the symbols (tuples of bin indices) the N probes fall
into. With equal-width bins over the layer's range this is the estimator of Shwartz-Ziv & Tishby
(2017), 30 bins, and of Saxe et al. (2018). Every value is in **bits** and at most log2 N, reached
when every probe falls into its own cell.

References
----------
R. Shwartz-Ziv, N. Tishby, "Opening the black box of deep neural networks via information",
arXiv:1703.00810 (2017).
A. M. Saxe et al., "On the information bottleneck theory of deep learning", ICLR (2018).
"""
from __future__ import annotations

import numpy as np
import torch

from .inputs import as_matrix, same_n

__all__ = ["binned_mutual_information", "binned_layer_information", "binned_label_information", "layer_bins",
           "BINS"]

#: The bin counts the book evaluates layers at: Shwartz-Ziv & Tishby's 30, and 10.
BINS = (10, 30)


def _entropy_of_rows(idx: np.ndarray) -> float:
    """Plug-in Shannon entropy in bits of the rows of an (N, d) integer array, each row a symbol."""
    sym = np.unique(idx, axis=0, return_inverse=True)[1].reshape(-1)
    p = np.bincount(sym) / sym.size
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def binned_layer_information(t, bins: int = 30, *, lo: float | None = None, hi: float | None = None) -> float:
    """I(X; bin(T)) = H(bin(T)) in bits for a deterministic layer on N probes.

    Every unit is cut into ``bins`` equal-width bins over the layer's range [lo, hi] (default: the
    smallest and largest activation of the whole layer on the probes, as Shwartz-Ziv & Tishby);
    a probe's symbol is its tuple of bin indices.

    Parameters
    ----------
    t : (N, d) array or tensor
        The layer's activations on the N probes.
    bins : int, default 30
        Bins per unit, >= 2.
    lo, hi : float, optional
        A fixed range (e.g. 0 and 1 for sigmoid units); values outside go to the end bins.

    Returns
    -------
    float
        H(bin(T)) in bits, in [0, log2 N].
    """
    return _entropy_of_rows(layer_bins(t, bins, lo=lo, hi=hi))


def binned_label_information(t, labels, bins: int = 30) -> float:
    """The plug-in I(bin(T); Y) = H(bin(T)) + H(Y) − H(bin(T), Y) in bits of a layer and the
    probes' class labels, T binned as :func:`binned_layer_information` bins it.

    Parameters
    ----------
    t : (N, d) array or tensor
    labels : (N,) integer array
    bins : int, default 30

    Returns
    -------
    float
        In [0, min(H(bin(T)), H(Y))].
    """
    idx = layer_bins(t, bins)
    y = np.asarray(labels, dtype=np.int64)[:, None]
    return _entropy_of_rows(idx) + _entropy_of_rows(y) - _entropy_of_rows(np.hstack([idx, y]))


def layer_bins(t, bins: int, *, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """The (N, d) integer bin index of every activation: ``bins`` equal-width bins over [lo, hi]
    (default: the layer's smallest and largest value), values outside in the end bins."""
    if not (isinstance(bins, (int, np.integer)) and bins >= 2):
        raise ValueError(f"bins must be an integer >= 2; got {bins!r}")
    x = as_matrix("t", t).cpu().numpy()
    lo = float(x.min()) if lo is None else float(lo)
    hi = float(x.max()) if hi is None else float(hi)
    if not hi >= lo:
        raise ValueError(f"the bin range needs lo <= hi; got lo = {lo}, hi = {hi}")
    width = (hi - lo) / bins if hi > lo else 1.0
    return np.clip(np.floor((x - lo) / width), 0, bins - 1).astype(np.int64)


def binned_mutual_information(x, y, bins: int = 20) -> float:
    """Plug-in mutual information of discretized samples, in bits (the baseline of Fig. A1).

    Each column of ``x`` and ``y`` is cut into ``bins`` equal-width bins spanning its observed
    range; a row's tuple of bin indices is its symbol. Then I = H(X) + H(Y) − H(X, Y) with the
    empirical (plug-in) Shannon entropies of the symbols. This is biased upwards for many bins and
    few samples: with N samples the value cannot exceed log2 N.

    Parameters
    ----------
    x : (N, d_x) or (N,) array or tensor
    y : (N, d_y) or (N,) array or tensor
    bins : int, default 20
        Bins per column, ≥ 2.

    Returns
    -------
    float
        The binned mutual information in bits.
    """
    if not (isinstance(bins, (int, np.integer)) and bins >= 2):
        raise ValueError(f"bins must be an integer >= 2; got {bins!r}")
    xs = [np.asarray(v.detach().cpu() if isinstance(v, torch.Tensor) else v, dtype=np.float64) for v in (x, y)]
    xs = [v[:, None] if v.ndim == 1 else v for v in xs]
    tx = as_matrix("x", xs[0])
    ty = as_matrix("y", xs[1])
    same_n([("x", tx), ("y", ty)])

    def symbols(v: np.ndarray) -> np.ndarray:
        lo, hi = v.min(axis=0), v.max(axis=0)
        width = np.where(hi > lo, (hi - lo) / bins, 1.0)
        idx = np.clip(np.floor((v - lo) / width), 0, bins - 1).astype(np.int64)
        return np.unique(idx, axis=0, return_inverse=True)[1].reshape(-1)

    def entropy(sym: np.ndarray) -> float:
        p = np.bincount(sym) / sym.size
        p = p[p > 0]
        return float(-(p * np.log2(p)).sum())

    sx, sy = symbols(xs[0]), symbols(xs[1])
    joint = sx.astype(np.int64) * (sy.max() + 1) + sy
    return entropy(sx) + entropy(sy) - entropy(np.unique(joint, return_inverse=True)[1].reshape(-1))
