r"""A lower bound on I(T; Y) of a layer T and class labels Y by decoding Y from T.

For any classifier q(y | t), the cross-entropy of the labels under q is at least their conditional
entropy, :math:`\mathbb{E}[-\log_2 q(Y \mid T)] \ge H(Y \mid T)`, so

.. math::  I(T; Y) = H(Y) - H(Y \mid T) \;\ge\; H(Y) - \mathrm{CE}(q),
           \qquad \mathrm{CE}(q) = \mathbb{E}[-\log_2 q(Y \mid T)] .

:func:`decoding_bound` takes q to be a multinomial logistic regression on the standardized T,
fitted on one part of the N probes and scored on the others (cross-fitting: each sample is scored
by a model that never saw it, so the scored CE is an unbiased estimate of q's cross-entropy and the
bound is not inflated by overfitting). Its ceiling is H(Y) (log2 C for C balanced classes), reached
when q decodes every label with certainty; it needs no kernel and does not saturate at log2 N.

It is a lower bound on the true I(T; Y) up to finite-sample noise, and a loose one where the
classes are not linearly separable given T (a linear decoder is one choice of q). For T independent
of Y it is *negative* on average, by q's overfitting on the training part (about
−(d + 1)(C − 1) / (2 N_train ln 2) bits): the value is reported as it is, never clamped at 0.

References
----------
D. Barber, F. Agakov, "The IM algorithm: a variational approach to information maximization",
NeurIPS (2003).
B. Poole, S. Ozair, A. van den Oord, A. Alemi, G. Tucker, "On variational bounds of mutual
information", ICML (2019).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .inputs import as_labels, as_matrix
from .kernels import label_entropy

__all__ = ["decoding_bound"]

_LN2 = math.log(2.0)


def _fold_of(labels: torch.Tensor, parts: int, seed: int) -> torch.Tensor:
    """Each sample's part, 0 .. parts − 1: stratified (the samples of a class, in a random order
    fixed by ``seed``, dealt to the parts in turn), so every part holds each class in about its
    overall proportion."""
    g = torch.Generator().manual_seed(int(seed))
    perm = torch.randperm(labels.shape[0], generator=g)
    order = perm[torch.sort(labels[perm], stable=True).indices]
    fold = torch.empty_like(labels)
    fold[order] = torch.arange(labels.shape[0]) % parts
    return fold


def _fit(t: torch.Tensor, y: torch.Tensor, classes: int, l2: float, max_iter: int):
    """Weights (d, C) and biases (C,) of the multinomial logistic regression minimizing the mean
    cross-entropy (nats) + l2·‖W‖²_F on (t, y), by full-batch L-BFGS from zero in float64."""
    w = torch.zeros(t.shape[1], classes, dtype=torch.float64, device=t.device, requires_grad=True)
    b = torch.zeros(classes, dtype=torch.float64, device=t.device, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=max_iter, history_size=20, tolerance_grad=1e-9,
                            tolerance_change=1e-12, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(t @ w + b, y) + l2 * (w * w).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return w.detach(), b.detach()


def decoding_bound(t, y, *, seed: int = 0, folds: int = 2, l2: float = 1e-3, max_iter: int = 500) -> tuple[float, float]:
    r"""The decoding lower bound on I(T; Y) in bits, and its standard error.

    .. math::  \hat I = \sum_f \frac{n_f}{n} \left( \hat H(Y_f) - \frac{1}{n_f} \sum_{i \in f}
               -\log_2 q_{-f}(y_i \mid t_i) \right) \;\lesssim\; I(T; Y),

    with :math:`q_{-f}` the multinomial logistic regression fitted on the samples outside the
    scored part f (features standardized by that training part's mean and standard deviation;
    penalty l2·‖W‖²_F added to the mean cross-entropy in nats, biases not penalized; full-batch
    L-BFGS in float64 from zero) and :math:`\hat H(Y_f)` the plug-in entropy of the labels of
    part f (:func:`~ipbook.estimators.kernels.label_entropy`). The split is stratified by class
    and fixed by ``seed``: the same inputs and seed give the same value.

    Parameters
    ----------
    t : (N, d) array or tensor
        The layer, one row per sample.
    y : (N,) or (N, 1) integer array, tensor or list
        The class of each row of ``t``.
    seed : int, default 0
        Fixes the split into parts.
    folds : int, default 2
        1: fit on one half, score the other; 2: that and vice versa (every sample scored once);
        k > 2: k-fold cross-fitting (fit on k − 1 parts, score the k-th, every part in turn).
    l2 : float, default 1e-3
        Weight of the ridge penalty, >= 0. Keeps the weights finite where T separates the classes
        (there the bound stops a little short of H(Y): 0.016 bit for N = 1000 one-hot T, ten classes).
    max_iter : int, default 500
        L-BFGS iterations per fit.

    Returns
    -------
    (bits, stderr) : tuple of float
        ``bits``: the bound, at most H(Y) of the scored labels (≤ log2 C), and negative where T
        carries no usable information about Y (reported, not clamped). ``stderr``: the standard
        deviation of the N' scored per-sample cross-entropies −log2 q(y_i | t_i) over √N'; it
        leaves out the variation of the fitted q and of the split.

    Raises
    ------
    ValueError
        One line: ``t`` not an (N, d) real sample, ``y`` not N integer labels, N < 2, fewer
        samples than parts, ``folds``, ``l2`` or ``max_iter`` out of range.
    """
    x = as_matrix("t", t)
    labels = as_labels("y", y, x.shape[0])
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or folds < 1:
        raise ValueError(f"folds must be an integer >= 1 (1: one half scored, 2: both halves); got {folds!r}")
    if isinstance(l2, bool) or not (isinstance(l2, (int, float)) and math.isfinite(l2) and l2 >= 0):
        raise ValueError(f"l2 must be a finite number >= 0 (e.g. 1e-3); got {l2!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be an integer >= 1; got {max_iter!r}")
    parts = max(int(folds), 2)
    if x.shape[0] < parts:
        raise ValueError(f"decoding_bound needs at least one sample per part: N >= {parts} for folds = {folds}; "
                         f"got N = {x.shape[0]}")
    classes, index = torch.unique(labels, return_inverse=True)
    fold = _fold_of(index, parts, seed)
    index, fold = index.to(x.device), fold.to(x.device)
    bits, ces = 0.0, []
    for f in range(1 if folds == 1 else parts):
        train, test = fold != f, fold == f
        mean, sd = x[train].mean(0), x[train].std(0, unbiased=False)
        sd = torch.where(sd > 0, sd, torch.ones_like(sd))
        w, b = _fit((x[train] - mean) / sd, index[train], len(classes), float(l2), int(max_iter))
        logq = torch.log_softmax(((x[test] - mean) / sd) @ w + b, dim=1)
        ce = -logq.gather(1, index[test][:, None])[:, 0] / _LN2
        h = label_entropy(index[test].cpu()) if int(test.sum()) >= 2 else 0.0
        bits += int(test.sum()) * (h - float(ce.mean()))
        ces.append(ce)
    ce = torch.cat(ces)
    stderr = float(ce.std(unbiased=True) / math.sqrt(ce.shape[0])) if ce.shape[0] > 1 else float("nan")
    return bits / ce.shape[0], stderr
