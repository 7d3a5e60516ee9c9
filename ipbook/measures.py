r"""Trajectory measures, shared by every verdict and claim: the smoothing, the size of a fall, the
distance from the diagonal, the data-processing inequalities and the losses.

A trajectory is one estimate per measurement :math:`s = 0, \dots, S - 1` (an information-plane
value of one layer, in bits). It is smoothed with a moving average over
:func:`smoothing_window` measurements (1 % of them, at least 3): the estimate fluctuates from one
measurement to the next, and without the window that noise alone would make a small "fall" at
the end of every run.

Size of the simplifying phase
    :math:`\Delta I = \max_s \bar I_s - \bar I_{\text{final}}`, where :math:`\bar I` is the
    smoothed trajectory and the final value is the mean of the last window
    (:func:`simplifying_phase`). Whether a :math:`\Delta I` is a simplifying phase is decided by
    the book's one judge, :func:`ipbook.verdicts.judge`, never by a threshold of its own.

Diagonal
    ``diag_gap`` is the mean of :math:`I(X; T) - I(T; X')` over the last 1 % of the measurements (at
    least 3). The trajectory *ends on the diagonal* when it is below :data:`DIAG_TOL`.
    ``diag_min`` is the smallest :math:`I(X; T) - I(T; X')` after the first 10 % of the
    measurements: the inequality :math:`I(X; T) \ge I(T; X')` holds within ``tol`` when
    ``diag_min >= -tol``.

Data processing
    For the encoder chain :math:`X \to E_1 \to E_2 \to Z`: :math:`I(X; E_1) \ge I(X; E_2) \ge
    I(X; Z)`; for the decoder chain :math:`Z \to D_1 \to D_2 \to X'`: :math:`I(Z; X') \le
    I(D_1; X') \le I(D_2; X')`. A measurement *violates* a side when one of its inequalities is
    broken by more than :data:`DPI_TOL`; ``*_violations`` counts such measurements, ``*_max`` is
    the largest amount (bits, 0 when never broken) by which an inequality of that side is broken,
    within tolerance or not, and ``*_last`` the iteration of the last violation (-1 if none). Runs
    with a single hidden layer have no such pairs (count 0, max NaN).

Losses
    ``train_loss`` is the mean training-batch loss over the last 1 % of the iterations (at least
    10), ``test_loss`` the loss on the whole test set at the last iteration, ``gen_gap`` their
    difference and ``gen_gap_rel`` the difference relative to the training loss. A run
    *generalizes* when ``gen_gap_rel <=`` :data:`GEN_TOL`.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

__all__ = ["SMOOTH_FRACTION", "MIN_WINDOW", "MIN_LOSS_WINDOW", "DIAG_TOL", "DPI_TOL", "GEN_TOL", "WARMUP_FRACTION",
           "LONG_RUN_STEPS", "tail_length", "smoothing_window", "moving_average", "simplifying_phase", "diagonal_gap",
           "dpi_violations", "rise_step", "final_losses"]

#: Moving-average window, as a fraction of the measurements of a run.
SMOOTH_FRACTION = 0.01
#: Smallest window (and tail) in measurements.
MIN_WINDOW = 3


def tail_length(n: int, fraction: float = SMOOTH_FRACTION, minimum: int = MIN_WINDOW) -> int:
    """Number of trailing items making up ``fraction`` of ``n`` (at least ``minimum``, at most n)."""
    if n < 1:
        raise ValueError("empty series")
    return int(min(n, max(minimum, round(fraction * n))))


def smoothing_window(n_measurements: int, fraction: float = SMOOTH_FRACTION,
                     minimum: int = MIN_WINDOW) -> int:
    """The moving-average window, in measurements: ``fraction`` of them, at least ``minimum``."""
    return tail_length(n_measurements, fraction, minimum)


def moving_average(x, window: int) -> np.ndarray:
    """Means of every run of ``window`` consecutive values along the last axis
    (``x.shape[-1] - window + 1`` of them)."""
    x = np.asarray(x, dtype=np.float64)
    if not 1 <= window <= x.shape[-1]:
        raise ValueError(f"window must be in [1, {x.shape[-1]}]; got {window}")
    c = np.concatenate([np.zeros(x.shape[:-1] + (1,)), np.cumsum(x, axis=-1)], axis=-1)
    return (c[..., window:] - c[..., :-window]) / window


def simplifying_phase(i_xt, steps=None, window: int | None = None) -> dict:
    """Size of the fall of one trajectory I(X; T) (1-D, one value per measurement).

    Returns ``dI`` (smoothed peak − smoothed final, bits), ``dI_raw``, ``peak`` and ``final``
    (smoothed I(X;T) at its maximum and over the last window), ``peak_step`` (iteration at the
    centre of the peak window; the measurement index if ``steps`` is None) and ``window``.
    """
    x = np.asarray(i_xt, dtype=np.float64)
    w = smoothing_window(len(x)) if window is None else int(window)
    s = moving_average(x, w)
    k = int(np.argmax(s))
    centre = k + (w - 1) // 2
    steps = np.arange(len(x)) if steps is None else np.asarray(steps)
    return {"dI": float(s[k] - s[-1]), "dI_raw": float(x.max() - x[-1]), "peak": float(s[k]),
            "final": float(s[-1]), "peak_step": int(steps[centre]), "window": w}


#: Smallest tail of training iterations the final training loss is averaged over.
MIN_LOSS_WINDOW = 10


#: Bits: a trajectory ends on the diagonal when its final I(X;T) − I(T;X′) is below this.
DIAG_TOL = 0.1


#: Bits: a data-processing inequality counts as violated when broken by more than this.
DPI_TOL = 0.05


#: A run generalizes when (test loss − train loss) / train loss is at most this.
GEN_TOL = 0.1


#: The inequality I(X;T) ≥ I(T;X′) is checked after this fraction of the measurements.
WARMUP_FRACTION = 0.1


#: Runs at least this many iterations long are long enough to judge the simplifying phase (in the
#: paper-profile runs on Fashion-MNIST it starts after one to ten thousand iterations); shorter ones
#: show the fitting phase only.
LONG_RUN_STEPS = 10_000


def diagonal_gap(i_xt, i_tx, warmup: float = WARMUP_FRACTION) -> dict:
    """``gap``: mean I(X;T) − I(T;X′) over the last 1 % (≥ 3) of the measurements; ``min``: its
    smallest value after the first ``warmup`` fraction of the measurements."""
    d = np.asarray(i_xt, dtype=np.float64) - np.asarray(i_tx, dtype=np.float64)
    n = len(d)
    start = min(n - 1, int(math.ceil(warmup * n)))
    return {"gap": float(d[-tail_length(n):].mean()), "min": float(d[start:].min())}


def _pairs(layers: list[str]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Consecutive (i, i+1) index pairs of the encoder chain (… → Z) and the decoder chain (Z → …)."""
    if "Z" not in layers or len(layers) < 2:
        return [], []
    iz = layers.index("Z")
    return [(i, i + 1) for i in range(iz)], [(i, i + 1) for i in range(iz, len(layers) - 1)]


def dpi_violations(i_xt, i_tx, layers, tol: float = DPI_TOL, exclude: tuple[str, ...] = ()) -> dict:
    """Data-processing violations of a run's trajectories (arrays of shape (S, L)).

    Encoder side: I(X; T_k) ≥ I(X; T_{k+1}) along E1 → E2 → Z; decoder side: I(T_k; X′) ≤
    I(T_{k+1}; X′) along Z → D1 → D2. Pairs that involve a layer in ``exclude`` are skipped.

    Returns ``enc_violations`` / ``dec_violations`` (number of measurements where that side is
    broken by more than ``tol``), ``enc_max`` / ``dec_max`` (largest amount, bits, by which an
    inequality of that side is broken, 0 if never; NaN if the side has no pair), ``enc_steps`` /
    ``dec_steps`` (measurement indices of the violations) and ``pairs``.
    """
    layers = [str(s) for s in layers]
    i_xt, i_tx = np.asarray(i_xt, dtype=np.float64), np.asarray(i_tx, dtype=np.float64)
    if i_xt.ndim != 2 or i_xt.shape != i_tx.shape or i_xt.shape[1] != len(layers):
        raise ValueError(f"i_xt and i_tx must have shape (S, {len(layers)}); got {i_xt.shape}, {i_tx.shape}")
    enc, dec = _pairs(layers)
    skip = set(exclude)
    enc = [(a, b) for a, b in enc if layers[a] not in skip and layers[b] not in skip]
    dec = [(a, b) for a, b in dec if layers[a] not in skip and layers[b] not in skip]
    out = {"pairs": [f"I(X;{layers[a]}) >= I(X;{layers[b]})" for a, b in enc]
           + [f"I({layers[a]};X') <= I({layers[b]};X')" for a, b in dec]}
    for side, pairs, excess in [
        ("enc", enc, lambda a, b: i_xt[:, b] - i_xt[:, a]),
        ("dec", dec, lambda a, b: i_tx[:, a] - i_tx[:, b]),
    ]:
        if not pairs:
            out.update({f"{side}_violations": 0, f"{side}_max": float("nan"), f"{side}_steps": []})
            continue
        amount = np.stack([excess(a, b) for a, b in pairs], axis=1)   # (S, pairs): > 0 is broken
        worst = amount.max(axis=1)
        bad = np.flatnonzero(worst > tol)
        out.update({f"{side}_violations": int(len(bad)), f"{side}_max": float(max(0.0, worst.max())),
                    f"{side}_steps": bad.tolist()})
    return out


def rise_step(series, steps, fraction: float = 0.5, window: int | None = None) -> int:
    """First iteration at which the smoothed ``series`` reaches ``fraction`` of its final smoothed
    value (the window of :func:`simplifying_phase`), counted at the window's centre."""
    x = np.asarray(series, dtype=np.float64)
    w = smoothing_window(len(x)) if window is None else int(window)
    s = moving_average(x, w)
    k = int(np.argmax(s >= fraction * s[-1]))
    return int(np.asarray(steps)[k + (w - 1) // 2])


def final_losses(metrics: Mapping) -> dict:
    """``train_loss`` (mean of the last 1 %, ≥ 10, training iterations), ``test_loss`` (last test
    evaluation), ``train_loss_start`` / ``test_loss_start`` (first values), ``gen_gap`` and
    ``gen_gap_rel``."""
    tr = np.asarray(metrics["train_loss"], dtype=np.float64)
    te = np.asarray(metrics["test_loss"], dtype=np.float64)
    train = float(tr[-tail_length(len(tr), minimum=MIN_LOSS_WINDOW):].mean())
    test = float(te[-1])
    return {"train_loss": train, "test_loss": test, "train_loss_start": float(tr[0]),
            "test_loss_start": float(te[0]), "gen_gap": test - train,
            "gen_gap_rel": (test - train) / abs(train) if train else float("nan")}
