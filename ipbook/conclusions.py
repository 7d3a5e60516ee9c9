"""The book's answer: each claim about simplifying phases under every kind of evidence, per dataset.

Three kinds of evidence, all read from the committed tables (nothing is computed but the verdicts):

* **the paper's setting over seeds**: the claims of :data:`ipbook.sensitivity.ROBUSTNESS_CLAIMS`
  at α = 1.01, Scott's rule with γ = 2 and 100 probe images, in each seed of the seeds sweep
  (:func:`ipbook.sensitivity.robustness_matrix`, ``results/sensitivity/<dataset>.csv.gz``);
* **the other kernel settings** of the same grid (γ, α, N, the median and Tapia rules, training
  probes);
* **estimators of real information** (:func:`ipbook.second_opinion.estimator_verdicts`,
  ``results/second-opinion/<dataset>.csv.gz``): the noisy-layer bounds, binning and the VAE's bounds.

A claim holds at a setting when it holds in every seed that setting could judge. Each claim gets
one category per dataset (:func:`category`), checked in this order:

1. ``not supported at the paper's setting``: it holds in fewer than half of the seeds there;
2. ``cannot be judged (saturated)``: no estimator of real information could judge it;
3. ``holds under every estimator``: it holds at every kernel setting and every judged setting of
   the estimators of real information;
4. ``contradicted by an estimator of real information``: it fails at more than half of the judged
   settings of those estimators;
5. ``holds at the paper's kernel setting, not under every other``: the rest.
"""
from __future__ import annotations

from typing import Mapping

import pandas as pd

__all__ = ["CATEGORIES", "evidence", "load_evidence", "category", "answer_table", "category_table",
           "calibration_numbers"]

CATEGORIES = ("holds under every estimator", "holds at the paper's kernel setting, not under every other",
              "contradicted by an estimator of real information", "cannot be judged (saturated)",
              "not supported at the paper's setting")


def load_evidence(dataset: str, *, sensitivity_root=None, second_opinion_root=None) -> dict | None:
    """The committed grids of ``dataset`` as :func:`evidence` needs them: ``{"matrix": robustness
    matrix, "real": estimator verdicts or None, "seeds": seeds of the second-opinion table}``;
    None when the sensitivity grid is not committed."""
    from . import second_opinion as SO
    from . import sensitivity as S

    tables = S.load_tables(dataset, sensitivity_root)
    if tables is None:
        return None
    real = SO.load_table(dataset, second_opinion_root)
    return {"matrix": S.robustness_matrix(tables[0]),
            "real": SO.estimator_verdicts(real) if real is not None else None,
            "real_seeds": sorted(set(real.seed)) if real is not None else []}


def _holds_everywhere(held: int, judged: int) -> bool:
    return judged > 0 and held == judged


def evidence(matrix: pd.DataFrame, real: pd.DataFrame | None) -> pd.DataFrame:
    """Per claim (rows, the matrix's order): ``paper_k``/``paper_n`` (seeds holding / judged at the
    paper's setting), ``kernel_ok``/``kernel_n`` (other kernel settings at which it holds in every
    judged seed / judged at all), ``real_ok``, ``real_fail``, ``real_n`` (settings of the
    estimators of real information at which it holds in every judged seed, fails in more than
    half, could judge at all) and ``real_sat`` (settings where every seed was saturated)."""
    from .sensitivity import PAPER

    n = pd.DataFrame(matrix.attrs["n"]).loc[matrix.index, matrix.columns]
    paper = PAPER.label()
    others = [c for c in matrix.columns if c != paper]
    out = pd.DataFrame(index=matrix.index)
    out["paper_k"], out["paper_n"] = matrix[paper], n[paper]
    out["kernel_ok"] = [sum(_holds_everywhere(matrix.at[c, s], n.at[c, s]) for s in others) for c in matrix.index]
    out["kernel_n"] = [sum(n.at[c, s] > 0 for s in others) for c in matrix.index]
    for key in ("real_ok", "real_fail", "real_n", "real_sat"):
        out[key] = 0
    if real is not None:
        for claim, g in real.groupby("claim"):
            if claim in out.index:
                judged = g[g.judged > 0]
                out.loc[claim, ["real_ok", "real_fail", "real_n", "real_sat"]] = [
                    int((judged.holds == judged.judged).sum()), int((judged.holds * 2 < judged.judged).sum()),
                    len(judged), int(((g.judged == 0) & (g.saturated > 0)).sum())]
    out["has_real"] = [real is not None and c in set(real.claim) for c in out.index]
    return out


def category(row) -> str:
    """The category of one claim from its :func:`evidence` row (see the module's docstring)."""
    if row.paper_n == 0 or row.paper_k * 2 < row.paper_n:
        return CATEGORIES[4]
    if row.has_real and row.real_n == 0:
        return CATEGORIES[3]
    if row.kernel_ok == row.kernel_n and row.real_ok == row.real_n:
        return CATEGORIES[0]
    if row.real_fail * 2 > row.real_n:
        return CATEGORIES[2]
    return CATEGORIES[1]


def _cells(e: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "paper's setting": [f"{k}/{n} seeds" for k, n in zip(e.paper_k, e.paper_n)],
        "other kernels": [f"{k} of {n}" for k, n in zip(e.kernel_ok, e.kernel_n)],
        "real information": [("–" if not h else f"{k} of {n}" + (f" ({s} sat.)" if s else ""))
                             for h, k, n, s in zip(e.has_real, e.real_ok, e.real_n, e.real_sat)],
    }, index=e.index)


def answer_table(evidences: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The page table of "What this book finds": one row per claim, for each dataset
    (``{title: evidence}``) three columns: seeds holding at the paper's setting, other kernel
    settings at which it holds in every seed, and settings of the estimators of real information
    at which it holds (of those that could judge; ``sat.``: settings saturated throughout)."""
    parts = {title: _cells(e) for title, e in evidences.items()}
    table = pd.concat(parts, axis=1)
    table.index.name = "claim"
    return table


def category_table(evidences: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Each claim's :func:`category` per dataset (columns), and ``all`` when they agree."""
    table = pd.DataFrame({title: [category(r) for r in e.itertuples()] for title, e in evidences.items()},
                         index=next(iter(evidences.values())).index)
    table["both"] = [row.iloc[0] if row.nunique() == 1 else "differs by dataset" for _, row in table.iterrows()]
    table.index.name = "claim"
    return table


def calibration_numbers(rows: pd.DataFrame, family: str = "gaussian-sparse", n: int = 100) -> dict:
    """What the calibration says about the paper's estimator in three numbers: on ``family`` (its
    true I, the same at every dimension d), the paper's setting at the smallest and the largest d
    at N = ``n`` (means over seeds): ``truth``, ``d_lo``, ``est_lo``, ``d_hi``, ``est_hi``."""
    r = rows[(rows.family == family) & (rows.estimator == "matrix-paper") & (rows.n == n)]
    if not len(r):
        raise ValueError(f"no calibration rows of {family!r} at N = {n} for the paper's estimator")
    means = r.groupby("d").agg(bits=("bits", "mean"), truth=("true_bits", "mean"))
    lo, hi = means.index.min(), means.index.max()
    return {"truth": float(means.truth.iloc[0]), "d_lo": int(lo), "est_lo": float(means.bits[lo]),
            "d_hi": int(hi), "est_hi": float(means.bits[hi])}
