"""The tables and numbers of the chapter "Where I(X;T) is defined": each function turns a frame of
:mod:`ipbook.experiments.defined_findings` into what the page glues (a styled table, numbers, a
sentence). Every verdict in them is the book's one judge's (:func:`ipbook.verdicts.judge`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ipbook.site.plotting import styled_table
from ipbook.text import Text, spoken_list
from ipbook.verdicts import DOES_NOT, MARGIN_FRAC, SIMPLIFIES

__all__ = ["sp_table", "code_table", "geometry_table", "scale_numbers", "defined_numbers", "defined_answer",
           "committed_answer"]


def _interval(v) -> str:
    return f"{v.drop:.2f} [{v.low:.2f}, {v.high:.2f}]"


def sp_table(verdicts: pd.DataFrame):
    """Per noise-trained run and layer: peak, end, drop with its 95 % interval, the verdict and the
    seeds in which the layer simplifies."""
    t = pd.DataFrame({"run": [f"{m}, β = {b:g}" for m, b in zip(verdicts.model, verdicts.beta)],
                      "layer": verdicts.layer,
                      "peak [bits] (iteration)": [f"{v.peak:.2f} ({int(v.peak_step):,})" for v in verdicts.itertuples()],
                      "end [bits]": verdicts.final, "drop [95 % interval]": [_interval(v) for v in verdicts.itertuples()],
                      "verdict": verdicts.verdict,
                      "seeds simplifying": [f"{a}/{b}" for a, b in zip(verdicts.seeds_simplify, verdicts.seeds)]})
    return styled_table(t, hide_index=True)


def code_table(test: pd.DataFrame, train: pd.DataFrame | None = None):
    """Per quantized bottleneck: its exact H(Z) on the test images at the first checkpoint, the
    peak and the end, the ceiling (log2 N or the capacity k·d_Z), the verdict, and H(Z) at the
    end over the training images."""
    t = pd.DataFrame({"code": [f"{r} ({k} bits × {w})" for r, k, w in zip(test.run, test.k, test.width)],
                      "ceiling": test.ceiling, "start": test.start,
                      "peak (iteration)": [f"{v.peak:.2f} ({int(v.peak_step):,})" for v in test.itertuples()],
                      "end": test.final, "drop [95 % interval]": [_interval(v) for v in test.itertuples()],
                      "verdict": test.verdict, "I(Z;Y) at the end": test.end_i_zy})
    if train is not None:
        t["end, training images"] = train.set_index("run").final.reindex(test.run).to_numpy()
    return styled_table(t, hide_index=True)


def geometry_table(geometry: pd.DataFrame):
    """The bottleneck's geometry (the columns of :func:`~ipbook.experiments.defined_findings.geometry_at`
    or :func:`~ipbook.experiments.defined_findings.seeds_geometry` that it has) at the first
    checkpoint, at the peak of its I(X;Z) and at the end."""
    cols = {"clustering_ratio": "clustering ratio", "distance_ratio": "distance ratio (within / between)",
            "effective_rank": "effective rank", "median_distance": "median distance",
            "mean_distance": "mean distance", "saturated_share": "saturated share"}
    t = geometry[geometry.layer == "Z"].set_index("run")
    out = pd.DataFrame(index=t.index)
    for key, name in cols.items():
        if f"{key}_peak" in t:
            out[name] = [f"{a:.2f} → {b:.2f} → {c:.2f}" for a, b, c in
                         zip(t[f"{key}_start"], t[f"{key}_peak"], t[f"{key}_end"])]
    return styled_table(out.reset_index(), hide_index=True)


def seeds_geometry_numbers(geometry: pd.DataFrame | None, runs=("shallow", "sparse", "deep")) -> dict:
    """Glue values of :func:`~ipbook.experiments.defined_findings.seeds_geometry`:
    ``seeds_<run>_<key>_<peak|end>`` (Python floats; NaN for a run it lacks, or with no table)."""
    rows = {} if geometry is None else {v.run: v for v in geometry.itertuples()}
    out = {}
    for run in runs:
        for key in ("distance_ratio", "mean_distance", "saturated_share"):
            for at in ("peak", "end"):
                out[f"seeds_{run}_{key}_{at}"] = float(getattr(rows[run], f"{key}_{at}")) if run in rows else float("nan")
    return out


def scale_numbers(points: pd.DataFrame, fit: dict) -> dict:
    """The scale figure's numbers: Spearman's ρ over all points, and the onset: the largest mean
    x below which no setting's mean drop reaches the judge's margin share (5 % of the peak), and
    the smallest x at which one does (both NaN where no point falls or every point does)."""
    g = points.groupby(["family", "setting", "run"], as_index=False).agg(x=("x", "mean"), d=("drop_share", "mean"))
    falls = g[g.d >= MARGIN_FRAC]
    flat = g[g.d < MARGIN_FRAC]
    first_fall = float(falls.x.min()) if len(falls) else float("nan")
    below = flat[flat.x < first_fall] if len(falls) else flat
    return {"scale_rho": fit["rho"], "scale_points": fit["points"], "scale_onset": first_fall,
            "scale_flat_below": float(below.x.max()) if len(below) else float("nan"),
            "scale_max_drop": float(100 * g.d.max()) if len(g) else float("nan"),
            "scale_defined_max_x": float(g[g.family.str.startswith(("noise β", "quantization"))].x.max())
            if g.family.str.startswith(("noise β", "quantization")).any() else float("nan")}


def defined_numbers(sp: pd.DataFrame | None, codes: pd.DataFrame | None) -> dict:
    """Numbers the findings glue: per noise-trained run the bottleneck's SP peak, end and drop
    (``sp_<run>_peak`` …, the run's name with "_" for "-" and no "."); for the quantized runs of
    smallest and largest capacity (``code_narrow_*``, ``code_wide_*``) H(Z) at start, peak and
    end; the bottleneck that ends lowest (``sp_lowest_*``); counts of verdicts."""
    out = {}
    if sp is not None:
        for v in sp[sp.layer == "Z"].itertuples():
            key = v.run.replace(".", "").replace("-", "_")
            out |= {f"sp_{key}_peak": float(v.peak), f"sp_{key}_end": float(v.final), f"sp_{key}_drop": float(v.drop),
                    f"sp_{key}_gap": float(v.ceiling - v.final),
                    f"sp_{key}_verdict": Text(v.verdict)}
        low = sp[sp.layer == "Z"].sort_values("final").iloc[0]
        gap = float(low.ceiling - low.final)
        out |= {"sp_lowest_run": Text(low.run), "sp_lowest_end": float(low.final), "sp_lowest_gap": gap,
                "sp_lowest_comment": Text(
                    "more than the bit below log2 N that the MNIST pilot chose β = 0.3 for" if gap >= 1 else
                    "less than the bit below log2 N that the MNIST pilot chose β = 0.3 for: on this data set "
                    "only a larger β (0.5 is the next to try) would put a bottleneck well inside its ceiling")}
        out |= {"sp_n_layers": len(sp), "sp_n_simplify": int((sp.verdict == SIMPLIFIES).sum()),
                "sp_n_not": int((sp.verdict == DOES_NOT).sum()), "sp_max_drop": float(sp["drop"].max())}
    nan = float("nan")
    out |= {f"code_{w}_{k}": nan for w in ("narrow", "wide") for k in ("start", "peak", "end", "ceiling", "capacity")}
    out |= {"code_narrow": Text("–"), "code_wide": Text("–"), "code_n_simplify": 0, "code_n": 0,
            "code_simplify_runs": Text("none")}
    if codes is not None and len(codes):
        ordered = codes.sort_values(["capacity", "width"])
        for which, v in (("narrow", ordered.iloc[0]), ("wide", ordered.iloc[-1])):
            out |= {f"code_{which}": Text(v.run), f"code_{which}_start": float(v.start), f"code_{which}_peak": float(v.peak),
                    f"code_{which}_end": float(v.final), f"code_{which}_ceiling": float(v.ceiling),
                    f"code_{which}_capacity": float(v.capacity)}
        out |= {"code_n_simplify": int((codes.verdict == SIMPLIFIES).sum()), "code_n": len(codes),
                "code_simplify_runs": spoken_list(codes[codes.verdict == SIMPLIFIES].run)}
    return out


def _span(values) -> str:
    """"a" or "a–b" (two decimals) for the smallest and largest of ``values``."""
    lo, hi = f"{min(values):.2f}", f"{max(values):.2f}"
    return lo if lo == hi else f"{lo}–{hi}"


def _code_fall(v) -> str:
    """"q4-z2: 7.58 → 6.97 bits of 8" (the capacity where it is the ceiling) for a code that falls."""
    of = f" of {v.ceiling:.0f}" if v.ceiling == v.capacity else ""
    return f"{v.run}: {v.peak:.2f} → {v.final:.2f} bits{of}"


def defined_answer(sp: pd.DataFrame | None, codes: pd.DataFrame | None, scale: dict | None,
                   geometry: pd.DataFrame | None = None) -> Text:
    """The chapter's answer in one paragraph (the home page and the Conclusions quote it);
    ``geometry`` (:func:`~ipbook.experiments.defined_findings.geometry_at` of the noise-trained
    runs) adds how far the bottleneck's median pairwise distance moved against β."""
    said = []
    if sp is not None and len(sp):
        k, n = int((sp.verdict == SIMPLIFIES).sum()), len(sp)
        said.append(f"with noise inside the network, where I(X;T) is the trained model's own, {k} of {n} layers "
                    f"simplify by the book's judge (the largest drop {sp['drop'].max():.2f} bits)")
        z = None if geometry is None else geometry[(geometry.layer == "Z") & geometry.run.isin(sp.run)]
        if z is not None and len(z) and "median_distance_end" in z:
            said[-1] += (f"; their bottleneck's median pairwise distance goes from {_span(z.median_distance_start)} "
                         f"at the start to {_span(z.median_distance_end)} at the end, against noise of β = "
                         f"{spoken_list(f'{b:g}' for b in sorted(sp.beta.unique()))}")
    if codes is not None and len(codes):
        k, n = int((codes.verdict == SIMPLIFIES).sum()), len(codes)
        falls = "; ".join(_code_fall(v) for v in codes[codes.verdict == SIMPLIFIES].itertuples())
        said.append(f"with a quantized bottleneck, where I(X;Z) = H(Z) is counted exactly, {k} of {n} codes "
                    f"simplify by the judge" + (f" ({falls})" if k else ""))
    if scale is not None and scale.get("scale_onset") == scale.get("scale_onset"):
        said.append(f"every estimator that does show a fall shows it only at a scale of at least "
                    f"{scale['scale_onset']:.2f} of the layer's typical pairwise distance, and the drop grows with "
                    f"that scale (Spearman's ρ = {scale['scale_rho']:.2f} over {scale['scale_points']} trajectories)")
    if not said:
        return Text("No run with a defined I(X;T) has been measured for this dataset.")
    text = "; ".join(said)
    return Text(text[0].upper() + text[1:] + ".")


def committed_answer(dataset: str) -> Text | None:
    """:func:`defined_answer` from the committed tables of ``dataset`` (the defined tables, the
    sensitivity grid and the second opinion), for the home page and the Conclusions; None where
    no defined table is committed."""
    from ipbook.experiments import defined_findings as F
    from ipbook.experiments.defined import load_defined
    from ipbook.experiments.second_opinion import load_table
    from ipbook.experiments.sensitivity import load_tables

    noisy, quantized = load_defined(dataset, "noisy"), load_defined(dataset, "quantized")
    if noisy is None and quantized is None:
        return None
    sp = F.sp_verdicts(noisy) if noisy is not None else None
    codes = F.code_verdicts(quantized) if quantized is not None else None
    points = F.scale_points(sensitivity=load_tables(dataset), second=load_table(dataset), noisy=noisy,
                            quantized=quantized)
    geometry = F.geometry_at(noisy, sp) if sp is not None else None
    return defined_answer(sp, codes, scale_numbers(points, F.scale_fit(points)), geometry)
