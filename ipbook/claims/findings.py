"""The numbers of one run, per layer and per run, measured the same way for every run.

Per layer (:func:`layer_findings`): the size of the fall of I(X;T) and the one judge's verdict on
it (:func:`ipbook.verdicts.judge`, ceiling log2 N of the run's probe images), the peak, the end,
and the distance from the diagonal. Per run (:func:`run_findings`): data sizes, losses and
data-processing violations. The measures themselves are defined in :mod:`ipbook.measures`.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from ipbook.measures import (DIAG_TOL, GEN_TOL, diagonal_gap, dpi_violations, final_losses, moving_average,
                             simplifying_phase)
from ipbook.nets.runs import Run
from ipbook.verdicts import judge_any

__all__ = ["run_metrics", 'layer_findings', 'run_findings', 'layer_table', 'run_table', 'findings_table']


def run_metrics(run) -> Mapping:
    """The metrics dict of a run: ``run.metrics`` for a :class:`~ipbook.nets.runs.Run`, else ``run`` itself."""
    return run.metrics if hasattr(run, "metrics") else run


def layer_findings(run) -> list[dict]:
    """One dict per layer of a run (a :class:`~ipbook.nets.runs.Run` or its metrics dict)."""
    m = run_metrics(run)
    layers = [str(s) for s in m["layers"]]
    i_xt, i_tx = np.asarray(m["i_xt"], dtype=np.float64), np.asarray(m["i_tx"], dtype=np.float64)
    ceiling = float(np.log2(np.asarray(m["probe_index"]).size)) if "probe_index" in m else None
    rows = []
    for j, name in enumerate(layers):
        sp = simplifying_phase(i_xt[:, j], m["step"])
        dg = diagonal_gap(i_xt[:, j], i_tx[:, j])
        v = judge_any(m["step"], i_xt[:, j], ceiling=ceiling)
        rows.append({
            "layer": name, "dI": sp["dI"], "dI_raw": sp["dI_raw"], "simplifying": v.simplifies,
            "verdict": v.verdict, "dI_low": v.low, "dI_high": v.high, "margin": v.margin, "reason": v.reason, "kind": v.kind,
            "peak_step": sp["peak_step"], "ixt_peak": sp["peak"], "ixt_final": sp["final"],
            "itx_final": float(moving_average(i_tx[:, j], sp["window"])[-1]),
            "diag_gap": dg["gap"], "on_diagonal": dg["gap"] < DIAG_TOL, "diag_min": dg["min"],
            "ixt_max": float(i_xt[:, j].max()), "itx_max": float(i_tx[:, j].max()),
            "window": sp["window"],
        })
    return rows


def run_findings(run, exclude: tuple[str, ...] = ()) -> dict:
    """Run-level numbers: data sizes (when ``run`` is a Run), losses and DPI violations."""
    m = run_metrics(run)
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
