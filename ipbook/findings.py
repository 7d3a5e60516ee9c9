r"""Numbers from runs: the quantities the paper's claims are about, measured the same way for every run.

All information values are in bits. For a run with measurements :math:`s = 0, \dots, S - 1` of the
information plane (``metrics["step"]``) and a layer :math:`T`:

Simplifying phase
    :math:`\Delta I = \max_s \bar I(X; T)_s - \bar I(X; T)_{\text{final}}`, where :math:`\bar I` is
    the trajectory smoothed with a moving average over a window of :func:`smoothing_window`
    measurements (1 % of the measurements, at least 3) and the final value is the mean of the last
    window. The estimate fluctuates by about 0.01 bits from one iteration to the next; without the
    window, that noise alone would count as a small "compression" at the end of every run. The raw
    value :math:`\max_s I(X;T)_s - I(X;T)_{S-1}` is reported beside it. A layer *shows a
    simplifying phase* when :math:`\Delta I >` :data:`SIMPLIFY_TOL`.

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
import pandas as pd

from .training import Run

__all__ = [
    "SMOOTH_FRACTION", "MIN_WINDOW", "MIN_LOSS_WINDOW", "SIMPLIFY_TOL", "DIAG_TOL", "DPI_TOL",
    "GEN_TOL", "WARMUP_FRACTION", "LONG_RUN_STEPS", "verdict",
    "smoothing_window", "moving_average", "simplifying_phase", "diagonal_gap", "dpi_violations",
    "rise_step", "final_losses", "Text", "layer_findings", "run_findings", "layer_table", "run_table", "findings_table",
]

#: Moving-average window, as a fraction of the measurements of a run.
SMOOTH_FRACTION = 0.01
#: Smallest window (and tail) in information-plane measurements.
MIN_WINDOW = 3
#: Smallest tail of training iterations the final training loss is averaged over.
MIN_LOSS_WINDOW = 10
#: Bits: a smoothed ΔI above this is a simplifying phase.
SIMPLIFY_TOL = 0.1
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


def _tail(n: int, fraction: float = SMOOTH_FRACTION, minimum: int = MIN_WINDOW) -> int:
    """Number of trailing items making up ``fraction`` of ``n`` (at least ``minimum``, at most n)."""
    if n < 1:
        raise ValueError("empty series")
    return int(min(n, max(minimum, round(fraction * n))))


def smoothing_window(n_measurements: int, fraction: float = SMOOTH_FRACTION,
                     minimum: int = MIN_WINDOW) -> int:
    """The moving-average window, in measurements: ``fraction`` of them, at least ``minimum``."""
    return _tail(n_measurements, fraction, minimum)


def moving_average(x, window: int) -> np.ndarray:
    """Means of every run of ``window`` consecutive values (``len(x) - window + 1`` of them)."""
    x = np.asarray(x, dtype=np.float64)
    if not 1 <= window <= len(x):
        raise ValueError(f"window must be in [1, {len(x)}]; got {window}")
    c = np.concatenate([[0.0], np.cumsum(x)])
    return (c[window:] - c[:-window]) / window


def simplifying_phase(i_xt, steps=None, window: int | None = None) -> dict:
    """Size of the simplifying phase of one trajectory I(X; T) (1-D, one value per measurement).

    Returns ``dI`` (smoothed, bits), ``dI_raw``, ``peak`` and ``final`` (smoothed I(X;T) at its
    maximum and over the last window), ``peak_step`` (iteration at the centre of the peak window;
    the measurement index if ``steps`` is None) and ``window``.
    """
    x = np.asarray(i_xt, dtype=np.float64)
    w = smoothing_window(len(x)) if window is None else int(window)
    s = moving_average(x, w)
    k = int(np.argmax(s))
    centre = k + (w - 1) // 2
    steps = np.arange(len(x)) if steps is None else np.asarray(steps)
    return {"dI": float(s[k] - s[-1]), "dI_raw": float(x.max() - x[-1]), "peak": float(s[k]),
            "final": float(s[-1]), "peak_step": int(steps[centre]), "window": w}


def diagonal_gap(i_xt, i_tx, warmup: float = WARMUP_FRACTION) -> dict:
    """``gap``: mean I(X;T) − I(T;X′) over the last 1 % (≥ 3) of the measurements; ``min``: its
    smallest value after the first ``warmup`` fraction of the measurements."""
    d = np.asarray(i_xt, dtype=np.float64) - np.asarray(i_tx, dtype=np.float64)
    n = len(d)
    start = min(n - 1, int(math.ceil(warmup * n)))
    return {"gap": float(d[-_tail(n):].mean()), "min": float(d[start:].min())}


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
    train = float(tr[-_tail(len(tr), minimum=MIN_LOSS_WINDOW):].mean())
    test = float(te[-1])
    return {"train_loss": train, "test_loss": test, "train_loss_start": float(tr[0]),
            "test_loss_start": float(te[0]), "gen_gap": test - train,
            "gen_gap_rel": (test - train) / abs(train) if train else float("nan")}


class Text:
    """A piece of text (a verdict, a name) to glue into a page: it displays without quotes."""

    def __init__(self, text: str):
        self.text = str(text)

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other) -> bool:
        return str(other) == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def verdict(ok: bool, yes: str = "supported", no: str = "not supported", *, judged: bool = True,
            unjudged: str = "cannot be judged (the run is too short)") -> Text:
    """``Text(yes)`` if ``ok`` else ``Text(no)``; ``Text(unjudged)`` when not ``judged`` (e.g. a
    claim about the simplifying phase, for a run shorter than :data:`LONG_RUN_STEPS`)."""
    if not judged:
        return Text(unjudged)
    return Text(yes if ok else no)


def _metrics(run) -> Mapping:
    return run.metrics if isinstance(run, Run) else run


def layer_findings(run) -> list[dict]:
    """One dict per layer of a run (a :class:`~ipbook.training.Run` or its metrics dict)."""
    m = _metrics(run)
    layers = [str(s) for s in m["layers"]]
    i_xt, i_tx = np.asarray(m["i_xt"], dtype=np.float64), np.asarray(m["i_tx"], dtype=np.float64)
    rows = []
    for j, name in enumerate(layers):
        sp = simplifying_phase(i_xt[:, j], m["step"])
        dg = diagonal_gap(i_xt[:, j], i_tx[:, j])
        rows.append({
            "layer": name, "dI": sp["dI"], "dI_raw": sp["dI_raw"], "simplifying": sp["dI"] > SIMPLIFY_TOL,
            "peak_step": sp["peak_step"], "ixt_peak": sp["peak"], "ixt_final": sp["final"],
            "itx_final": float(moving_average(i_tx[:, j], sp["window"])[-1]),
            "diag_gap": dg["gap"], "on_diagonal": dg["gap"] < DIAG_TOL, "diag_min": dg["min"],
            "ixt_max": float(i_xt[:, j].max()), "itx_max": float(i_tx[:, j].max()),
            "window": sp["window"],
        })
    return rows


def run_findings(run, exclude: tuple[str, ...] = ()) -> dict:
    """Run-level numbers: data sizes (when ``run`` is a Run), losses and DPI violations."""
    m = _metrics(run)
    out = {}
    if isinstance(run, Run):
        data = run.info.get("data", {})
        out.update({"model": run.info.get("config", {}).get("model"), "n_train": data.get("n_train"),
                    "steps": data.get("steps"), "epochs": data.get("epochs"),
                    "ip_samples": data.get("ip_samples")})
    out["measurements"] = int(len(m["step"]))
    out.update(final_losses(m))
    out["generalizes"] = bool(out["gen_gap_rel"] <= GEN_TOL)
    dpi = dpi_violations(m["i_xt"], m["i_tx"], m["layers"], exclude=exclude)
    out.update({k: dpi[k] for k in ("enc_violations", "enc_max", "dec_violations", "dec_max")})
    for side in ("enc", "dec"):   # iteration of the last violation, -1 if none
        out[f"{side}_last"] = int(np.asarray(m["step"])[dpi[f"{side}_steps"][-1]]) if dpi[f"{side}_steps"] else -1
    out["simplifying_layers"] = ", ".join(r["layer"] for r in layer_findings(m) if r["simplifying"]) or "none"
    return out


def layer_table(runs: Mapping[str, object]) -> pd.DataFrame:
    """Per-layer findings of every run, indexed by (run, layer)."""
    rows = [{"run": name, **row} for name, run in runs.items() for row in layer_findings(run)]
    return pd.DataFrame(rows).set_index(["run", "layer"])


def run_table(runs: Mapping[str, object]) -> pd.DataFrame:
    """Run-level findings of every run, indexed by run."""
    return pd.DataFrame([{"run": name, **run_findings(run)} for name, run in runs.items()]).set_index("run")


def findings_table(runs: Mapping[str, object]) -> pd.DataFrame:
    """Everything in one table indexed by (run, layer): the per-layer findings, with the run-level
    findings (losses, DPI violations, data sizes) repeated on each layer of their run."""
    layers = layer_table(runs).reset_index()
    per_run = run_table(runs).reset_index()
    return layers.merge(per_run, on="run", how="left").set_index(["run", "layer"])
