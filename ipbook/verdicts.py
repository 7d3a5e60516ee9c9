r"""The book's one judge: does a layer simplify, not simplify, or can it not be judged?

Every page of the book decides "simplifies" with :func:`judge`, and nothing else. Its rule, stated
once:

1. **The drop.** The trajectory (the mean of the rows when several seeds or repeats are given) is
   smoothed with a moving average over 1 % of its measurements, at least 3
   (:func:`ipbook.measures.smoothing_window`). The drop is the smoothed peak minus the smoothed
   final value, in bits (:func:`ipbook.measures.simplifying_phase`).
2. **Its interval.** A 95 % interval for the drop comes from a parametric bootstrap: the
   trajectory is re-drawn :data:`BOOTSTRAP_DRAWS` times as its centred moving average (over
   twice the window) plus independent Gaussian noise, and the drop is measured on each draw exactly as on the data. The
   noise is ``sd`` where the caller knows it (the probe-draw standard deviation), otherwise it is
   estimated from the trajectory's second differences (a median absolute deviation, robust to
   its trend). The interval is the basic bootstrap interval, :math:`[\hat D - q_{97.5}(D^* -
   D_0), \hat D - q_{2.5}(D^* - D_0)]`, so the upward bias of a noisy trajectory's maximum is
   taken off: for pure noise the interval sits around zero, not around the noise's maximum.
   Measured coverage (200 repeats each, ``tests/test_verdicts.py``): 93-95 % for a fall at the
   book's noise, 89 % for the drop of pure noise (a maximum's bootstrap covers a little less
   than its level).
3. **The margin**, the smallest drop that matters: the larger of :data:`MARGIN_BITS` (0.1 bit)
   and :data:`MARGIN_FRAC` (5 %) of the peak. It is the book's choice, not the paper's (the paper
   states no threshold).

The verdict:

* **simplifies**: the interval's lower end is above the margin, and the peak comes before the
  last :data:`LATE_FRACTION` (10 %) of the run's iterations (a sustained late fall, not a dip at
  the very end);
* **does not simplify**: the interval's upper end is below the margin (an equivalence test: a
  drop of the size that matters is excluded);
* **cannot judge**: neither, or the estimate has no room to fall where the claim lives: from its
  peak and its final value both lie within the margin of its ``ceiling`` (log2 N for the
  estimators of this book: pinned there, a fall of the layer could not show), or its peak lies
  within the margin of zero.

Power: with the checkpoints of the book's grids (96) and the noise measured there (0.001-0.03
bit per checkpoint), a fall of margin + 0.05 bit is called "simplifies" in more than 95 % of
repeats (:func:`power`, :func:`detectable_drop`).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from ipbook.measures import moving_average, smoothing_window

__all__ = ["SIMPLIFIES", "DOES_NOT", "CANNOT", "VERDICTS", "HOLDS", "FAILS", "CLAIM_STATUSES", "all_simplify",
           "none_simplify", "amplifies", "short_reason", "KINDS", "SHORT_REASONS", "MARGIN_BITS", "MARGIN_FRAC", "LATE_FRACTION",
           "LEVEL", "MIN_STEPS", "BOOTSTRAP_DRAWS", "Verdict", "margin", "judge", "judge_any", "judge_frame", "power", "detectable_drop"]

SIMPLIFIES, DOES_NOT, CANNOT = "simplifies", "does not simplify", "cannot judge"
VERDICTS = (SIMPLIFIES, DOES_NOT, CANNOT)
#: What a claim about layers' verdicts comes to (:func:`all_simplify`, :func:`none_simplify`).
HOLDS, FAILS = "holds", "fails"
CLAIM_STATUSES = (HOLDS, FAILS, CANNOT)
#: Why a verdict is what it is: its interval lies ``above`` or ``below`` the margin, or it cannot
#: judge because the estimate is ``pinned`` at its ceiling, lies ``near_zero``, falls only ``late``,
#: ``straddles`` the margin, or the trajectory is ``short``.
KINDS = ("above", "below", "pinned", "near_zero", "late", "straddles", "short")
#: A few words for a table cell, per kind of a verdict that cannot judge.
SHORT_REASONS = {"pinned": "at its ceiling", "near_zero": "near zero", "late": "falls only at the end",
                 "straddles": "interval straddles the margin"}
#: Bits: the smallest drop that matters, whatever the peak.
MARGIN_BITS = 0.1
#: The smallest drop that matters, as a fraction of the peak (where that is larger).
MARGIN_FRAC = 0.05
#: A fall whose peak lies in this last fraction of the run's iterations is not sustained.
LATE_FRACTION = 0.1
#: Coverage of the interval for the drop.
LEVEL = 0.95
#: The fewest measurements a trajectory can be judged on.
MIN_STEPS = 10
#: Bootstrap draws per verdict.
BOOTSTRAP_DRAWS = 400


@dataclass(frozen=True)
class Verdict:
    """What :func:`judge` decides about one trajectory (all values in bits).

    ``verdict`` is one of :data:`VERDICTS`; ``drop`` the smoothed peak − final; ``low``, ``high``
    the :data:`LEVEL` interval for the drop; ``reason`` a short phrase a page can print; ``peak``,
    ``final`` and ``peak_step`` (iteration) of the smoothed trajectory; ``margin`` the smallest
    drop that matters (:func:`margin`); ``noise`` the per-measurement standard deviation used;
    ``kind`` why (one of :data:`KINDS`).
    """

    verdict: str
    drop: float
    low: float
    high: float
    reason: str
    peak: float
    final: float
    peak_step: int
    margin: float
    noise: float
    kind: str = ""

    @property
    def simplifies(self) -> bool:
        return self.verdict == SIMPLIFIES

    @property
    def judged(self) -> bool:
        return self.verdict != CANNOT

    @property
    def drop_frac(self) -> float:
        """The drop as a fraction of the peak (0 where the peak is not positive)."""
        return self.drop / self.peak if self.peak > 0 else 0.0


def margin(peak: float) -> float:
    """The smallest drop that matters from a peak of ``peak`` bits: max(0.1 bit, 5 % of the peak)."""
    return max(MARGIN_BITS, MARGIN_FRAC * float(peak))


def _check(steps, bits, ceiling, sd) -> tuple[np.ndarray, np.ndarray, float | None, np.ndarray | None]:
    """The arguments of :func:`judge` as arrays, or a ValueError that names the wrong one."""
    steps = np.asarray(steps, dtype=np.float64)
    if steps.ndim != 1 or len(steps) < MIN_STEPS:
        raise ValueError(f"steps must be 1-D with at least {MIN_STEPS} iterations; got shape {steps.shape}")
    if not np.isfinite(steps).all() or (np.diff(steps) <= 0).any():
        raise ValueError("steps must be finite and strictly increasing")
    bits = np.asarray(bits, dtype=np.float64)
    if bits.ndim not in (1, 2) or bits.shape[-1] != len(steps) or bits.size == 0:
        raise ValueError(f"bits must have shape ({len(steps)},) or (R, {len(steps)}) to match steps; got {bits.shape}")
    if not np.isfinite(bits).all():
        raise ValueError("bits must be finite; got NaN or inf")
    if ceiling is not None and not (np.isfinite(ceiling) and ceiling > 0):
        raise ValueError(f"ceiling must be a positive number of bits or None; got {ceiling!r}")
    if sd is not None:
        sd = np.broadcast_to(np.asarray(sd, dtype=np.float64), steps.shape) if np.ndim(sd) == 0 else np.asarray(sd, dtype=np.float64)
        if sd.shape != steps.shape or not np.isfinite(sd).all() or (sd < 0).any():
            raise ValueError(f"sd must be a finite number >= 0 or one per step ({len(steps)},); got shape {sd.shape}")
    return steps, bits.reshape(-1, len(steps)), (None if ceiling is None else float(ceiling)), sd


def _noise(rows: np.ndarray, sd: np.ndarray | None) -> np.ndarray:
    """Per-measurement standard deviation of the mean of ``rows`` (R, S): ``sd`` / √R where given,
    else from the rows' second differences (MAD, robust to the trend)."""
    r = rows.shape[0]
    if sd is not None:
        return sd / np.sqrt(r)
    d2 = np.diff(rows, n=2, axis=1)
    mad = 1.4826 * np.median(np.abs(d2 - np.median(d2, axis=1, keepdims=True)), axis=1) / np.sqrt(6.0)
    return np.full(rows.shape[1], float(np.sqrt(np.mean(mad ** 2)) / np.sqrt(r)))


def _drops(x: np.ndarray, w: int) -> np.ndarray:
    """Smoothed peak − smoothed final of each row of ``x``."""
    s = moving_average(x, w)
    return s.max(axis=-1) - s[..., -1]


def _interval(mean: np.ndarray, noise: np.ndarray, w: int, seed: int) -> tuple[float, float]:
    """The basic bootstrap interval's offsets: quantiles of D* − D0 (see the module docstring).
    Long trajectories are first averaged in blocks of w // 3 measurements (noise / √block), so the
    draws cost the same at 30,000 measurements as at 100."""
    f = max(1, w // 3)
    if f > 1:
        cut = len(mean) % f
        mean = mean[cut:].reshape(-1, f).mean(axis=1)
        noise = noise[cut:].reshape(-1, f).mean(axis=1) / np.sqrt(f)
        w = max(1, round(w / f))
    base = uniform_filter1d(mean, size=2 * w, mode="nearest")
    d0 = float(_drops(base, w))
    rng = np.random.default_rng(seed)
    deltas = _drops(base + noise * rng.standard_normal((BOOTSTRAP_DRAWS, len(mean))), w) - d0
    a = (1 - LEVEL) / 2
    return float(np.quantile(deltas, 1 - a)), float(np.quantile(deltas, a))


def _pinned(smooth: np.ndarray, steps: np.ndarray, w: int, ceiling: float | None, m: float) -> tuple[str, str] | None:
    """Why the estimate has no room to fall (its kind and reason), or None: its smoothed peak and final value
    are both within the margin ``m`` of its ceiling, or its peak is within ``m`` of zero."""
    if ceiling is not None and smooth.max() >= ceiling - m and smooth[-1] >= ceiling - m:
        below = np.flatnonzero(smooth < ceiling - m)
        start = int(steps[(below[-1] + 1 if len(below) else 0) + (w - 1) // 2])
        return "pinned", f"pinned within {m:.2f} bits of its ceiling {ceiling:.2f} from iteration {start:,} to the end"
    if smooth.max() <= m:
        return "near_zero", f"within {m:.2f} bits of zero throughout"
    return None


_CACHE: dict[bytes, Verdict] = {}


def judge(steps, bits, *, ceiling: float | None = None, sd=None, seed: int = 0) -> Verdict:
    """Judge whether one trajectory (or the mean of several) simplifies.

    Parameters
    ----------
    steps : array of shape (S,)
        The iterations of the S measurements, strictly increasing, S >= :data:`MIN_STEPS`.
    bits : array of shape (S,) or (R, S)
        The estimates in bits: one trajectory, or R seeds or repeats (judged by their mean).
    ceiling : float, optional
        The estimator's largest possible value (log2 N for N probe images), or None.
    sd : float or array of shape (S,), optional
        The standard deviation of each estimate (e.g. over probe draws), if known; otherwise it is
        estimated from the trajectory.
    seed : int
        Seed of the bootstrap (the same arguments always give the same verdict).

    Returns
    -------
    Verdict
        See the module docstring for the rule.
    """
    steps, rows, ceiling, sd = _check(steps, bits, ceiling, sd)
    key = hashlib.sha1(b"".join(np.ascontiguousarray(a).tobytes() for a in (steps, rows, sd if sd is not None else np.zeros(0)))
                       + repr((ceiling, seed)).encode()).digest()
    if key not in _CACHE:
        if len(_CACHE) > 50_000:
            _CACHE.clear()
        _CACHE[key] = _judge(steps, rows, ceiling, sd, seed)
    return _CACHE[key]


def _judge(steps, rows, ceiling, sd, seed) -> Verdict:
    mean = rows.mean(axis=0)
    w = smoothing_window(len(mean))
    smooth = moving_average(mean, w)
    k = int(np.argmax(smooth))
    peak, final = float(smooth[k]), float(smooth[-1])
    peak_step = int(steps[k + (w - 1) // 2])
    drop, m = peak - final, margin(peak)
    noise = _noise(rows, sd)
    hi_off, lo_off = _interval(mean, noise, w, seed)
    low, high = drop - hi_off, drop - lo_off
    late = peak_step > steps[0] + (1 - LATE_FRACTION) * (steps[-1] - steps[0])
    interval = f"drop {drop:.2f} bits [{low:.2f}, {high:.2f}]"
    pinned = _pinned(smooth, steps, w, ceiling, m)
    if pinned:
        verdict, (kind, reason) = CANNOT, pinned
    elif low > m and not late:
        verdict, reason, kind = SIMPLIFIES, f"{interval} above the margin {m:.2f}", "above"
    elif high < m:
        verdict, reason, kind = DOES_NOT, f"{interval} below the margin {m:.2f}", "below"
    elif low > m:
        verdict, reason, kind = CANNOT, f"its fall starts in the last {100 * LATE_FRACTION:.0f} % of the run", "late"
    else:
        verdict, reason, kind = CANNOT, f"{interval} straddles the margin {m:.2f}", "straddles"
    return Verdict(verdict, drop, low, high, reason, peak, final, peak_step, m, float(noise.mean()), kind)


def short_reason(kind: str, reason: str) -> str:
    """A few words for a table cell: :data:`SHORT_REASONS` of a verdict's ``kind``, else its ``reason``."""
    return SHORT_REASONS.get(kind, reason)


def all_simplify(verdicts) -> str:
    """A claim that every one of these layers simplifies: holds when each simplifies, fails when
    one does not, cannot judge otherwise."""
    verdicts = list(verdicts)
    if all(v == SIMPLIFIES for v in verdicts):
        return HOLDS
    return FAILS if DOES_NOT in verdicts else CANNOT


def none_simplify(verdicts) -> str:
    """A claim that none of these layers simplifies: holds when each does not simplify (the
    equivalence test excludes a drop that matters), fails when one simplifies, cannot judge
    otherwise."""
    verdicts = list(verdicts)
    if all(v == DOES_NOT for v in verdicts):
        return HOLDS
    return FAILS if SIMPLIFIES in verdicts else CANNOT


def judge_any(steps, bits, *, ceiling: float | None = None, sd=None) -> Verdict:
    """:func:`judge`, except that a trajectory with fewer than :data:`MIN_STEPS` measurements is
    not refused but *cannot judge* (its drop: the raw maximum − last), as tables and short runs
    need."""
    bits = np.asarray(bits, dtype=np.float64)
    if len(steps) >= MIN_STEPS:
        return judge(steps, bits, ceiling=ceiling, sd=sd)
    peak, final = float(bits.max()), float(bits[-1])
    return Verdict(CANNOT, peak - final, float("nan"), float("nan"), f"only {len(bits)} measurements",
                   peak, final, -1, margin(peak), float("nan"), "short")


def amplifies(verdict: str, baseline: str, larger: bool) -> str:
    """A claim that a layer (``verdict``) falls by more than a baseline layer (``baseline``):
    cannot judge when either cannot be judged, holds when the layer simplifies and its fall is
    ``larger``, fails otherwise."""
    if CANNOT in (verdict, baseline):
        return CANNOT
    return HOLDS if verdict == SIMPLIFIES and larger else FAILS


def judge_frame(frame, by, *, step: str = "step", value: str = "bits", ceiling=None, sd=None):
    """:func:`judge` on every group of a long table: one row per group of ``by`` with the columns of
    :class:`Verdict` (and ``drop_frac``); a group with fewer than :data:`MIN_STEPS` rows cannot be
    judged (its drop is the raw maximum − last). ``ceiling``: a number, None, or the name of a column of
    ``frame`` (its first value in each group); ``sd``: None, or a column of per-row standard
    deviations."""
    import pandas as pd

    by = [by] if isinstance(by, str) else list(by)
    out = []
    for key, g in frame.groupby(by, sort=False):
        g = g.sort_values(step)
        c = g[ceiling].iloc[0] if isinstance(ceiling, str) else ceiling
        c = None if c is None or c != c else float(c)          # NaN: no ceiling
        v = judge_any(g[step].to_numpy(), g[value].to_numpy(), ceiling=c,
                      sd=None if sd is None else g[sd].fillna(0).to_numpy())
        out.append({**dict(zip(by, key if isinstance(key, tuple) else (key,))), **v.__dict__,
                    "drop_frac": v.drop_frac})
    columns = by + list(Verdict.__dataclass_fields__) + ["drop_frac"]
    return pd.DataFrame(out, columns=columns)


def power(true_drop: float, noise: float, steps, *, peak: float = 5.0, repeats: int = 200, seed: int = 0) -> float:
    """The share of ``repeats`` noisy trajectories that :func:`judge` calls "simplifies" when the
    truth rises linearly to ``peak`` bits at the middle of ``steps`` and falls by ``true_drop`` bits
    to the end, with independent Gaussian noise of sd ``noise`` per measurement."""
    steps = np.asarray(steps, dtype=np.float64)
    t = (steps - steps[0]) / (steps[-1] - steps[0])
    truth = np.where(t < 0.5, peak * 2 * t, peak - true_drop * (2 * t - 1))
    rng = np.random.default_rng(seed)
    hits = sum(judge(steps, truth + noise * rng.standard_normal(len(steps)), seed=i).simplifies
               for i in range(repeats))
    return hits / repeats


def detectable_drop(noise: float, steps, *, peak: float, target: float = 0.9, repeats: int = 100) -> float:
    """The smallest fall (bits, in steps of 1 % of ``peak`` above the margin) that :func:`judge`
    calls "simplifies" in at least ``target`` of ``repeats`` trajectories (:func:`power`) at
    per-measurement noise ``noise``; NaN when none up to the peak."""
    m = margin(peak)
    for k in range(1, 101):
        drop = m + 0.01 * k * peak
        if drop > peak:
            break
        if power(drop, noise, steps, peak=peak, repeats=repeats) >= target:
            return float(drop)
    return float("nan")
