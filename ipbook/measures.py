r"""Trajectory measures: the smoothing and the size of a fall, shared by every verdict.

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
"""
from __future__ import annotations

import numpy as np

__all__ = ["SMOOTH_FRACTION", "MIN_WINDOW", "tail_length", "smoothing_window", "moving_average",
           "simplifying_phase"]

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
