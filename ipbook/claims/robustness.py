"""The paper's claims about simplifying phases judged on a grid's table, one verdict per estimator
setting and seed (:func:`claim_verdicts`), and how they hold across settings
(:func:`robustness_matrix`, :func:`robustness_summary`)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ipbook.claims.catalog import claim_spec, simplifying_claims
from ipbook.estimators.spec import PAPER, Setting
from ipbook.measures import DPI_TOL, dpi_violations
from ipbook.verdicts import CANNOT, FAILS, HOLDS, judge_frame, SIMPLIFIES

__all__ = ['at_setting', 'grid_settings', 'ROBUSTNESS_KEYS', 'ROBUSTNESS_CLAIMS', 'claim_verdicts', 'robustness_matrix', 'robustness_summary', 'counted', 'simplifying_over_checkpoints']


# ----------------------------------------------------------------------------- reading the tables
def at_setting(rows: pd.DataFrame, setting: Setting = PAPER) -> pd.DataFrame:
    """The rows of one setting (all runs, seeds, steps and layers)."""
    s = setting
    mask = ((rows.rule == s.rule) & np.isclose(rows.gamma, s.gamma) & np.isclose(rows.alpha, s.alpha)
            & (rows.n == s.n) & (rows.probe == s.probe) & (rows.draw == s.draw))
    return rows[mask]


# ----------------------------------------------------------------------------- verdicts per setting
#: The row order of the robustness matrix (the claims of :data:`ipbook.claims.catalog.CLAIMS` that have a
#: ``short`` name, the claims about simplifying phases first and the DPI last).
ROBUSTNESS_KEYS = ("shallow_simp", "deep_inner", "deep_outer", "sparse_simp", "sparse_amp", "ten_none", "tied_none",
                   "vae_none", "lae_none", "dpi")
#: (key, short name) of each claim of :data:`ROBUSTNESS_KEYS`, from :data:`ipbook.claims.catalog.CLAIMS`.
ROBUSTNESS_CLAIMS = tuple((k, claim_spec(k).short) for k in ROBUSTNESS_KEYS)


def grid_settings(rows: pd.DataFrame) -> list[Setting]:
    """The settings present in ``rows`` other than extra probe draws, the paper's first."""
    keys = rows[rows.draw == 0][["rule", "gamma", "alpha", "n", "probe"]].drop_duplicates()
    found = [Setting(rule=r.rule, gamma=float(r.gamma), alpha=float(r.alpha), n=int(r.n), probe=r.probe)
             for r in keys.itertuples()]
    return sorted(found, key=lambda s: (s != PAPER, s.rule != "scott", s.gamma, s.alpha, s.n, s.probe))


def _dpi_holds(sub: pd.DataFrame, seed: int, runs: list[str], dpi_tol: float) -> bool:
    """Whether the DPI holds (no break above ``dpi_tol``) in every run of ``runs`` of ``seed``."""
    for run in runs:
        g = sub[(sub.run == run) & (sub.seed == seed)]
        wide_xt = g.pivot(index="step", columns="layer", values="i_xt")
        wide_tx = g.pivot(index="step", columns="layer", values="i_tx")
        names = [l for l in ("E1", "E2", "Z", "D1", "D2") if l in wide_xt.columns]
        v = dpi_violations(wide_xt[names].to_numpy(), wide_tx[names].to_numpy(), names, tol=dpi_tol)
        if v["enc_violations"] or v["dec_violations"]:
            return False
    return True


def claim_verdicts(rows: pd.DataFrame, setting: Setting, dpi_tol: float | None = None) -> pd.DataFrame:
    """Each claim of :data:`ROBUSTNESS_CLAIMS` at ``setting``, per seed: columns ``claim``,
    ``seed``, ``status`` (holds, fails, cannot judge), ``holds`` and ``judged`` (claims whose runs
    are missing are left out). Every layer is judged by :func:`ipbook.verdicts.judge`
    (:func:`simplifying_over_checkpoints`); the DPI claim allows ``dpi_tol`` bits (default
    :data:`ipbook.measures.DPI_TOL`)."""
    dpi_tol = DPI_TOL if dpi_tol is None else dpi_tol
    phase = simplifying_over_checkpoints(rows, setting)
    sub = at_setting(rows, setting)
    out = []
    for seed, p in phase.groupby("seed"):
        verdicts = {(r, l): v for r, l, v in zip(p.run, p.layer, p.verdict)}
        frac = {(r, l): f for r, l, f in zip(p.run, p.layer, p.dI_frac)}
        checks = {k: status for k, (status, _) in simplifying_claims(verdicts, frac, ROBUSTNESS_KEYS).items()}
        dpi_runs = [r for r in ("deep", "deep-10pct", "label") if r in set(p.run)]
        if dpi_runs:
            checks["dpi"] = HOLDS if _dpi_holds(sub, seed, dpi_runs, dpi_tol) else FAILS
        out += [{"claim": k, "seed": int(seed), "status": v, "holds": v == HOLDS, "judged": v != CANNOT}
                for k, v in checks.items()]
    return pd.DataFrame(out, columns=["claim", "seed", "status", "holds", "judged"])


def robustness_matrix(rows: pd.DataFrame, settings: Sequence[Setting] | None = None) -> pd.DataFrame:
    """The claims (rows, in :data:`ROBUSTNESS_CLAIMS` order, by their text) against the estimator
    settings (columns, by :meth:`Setting.label`): the number of seeds in which the claim holds.
    ``.attrs["n"]`` holds, as ``{column: {claim: count}}`` (``pd.DataFrame(matrix.attrs["n"])``
    is a table of the matrix's shape), the number of seeds in which the claim could be judged
    (all its runs present and no layer it needs that the judge cannot judge; settings with more
    probe images are evaluated on one seed), ``.attrs["seeds"]`` the seeds present at each
    setting, and ``.attrs["n_seeds"]`` the largest of those counts."""
    settings = list(settings) if settings is not None else grid_settings(rows)
    held, judged, present = {}, {}, {}
    for s in settings:
        v = claim_verdicts(rows, s)
        g = v.groupby("claim")
        held[s.label()], judged[s.label()], present[s.label()] = g.holds.sum(), g.judged.sum(), g.seed.count()
    text = dict(ROBUSTNESS_CLAIMS)
    order = lambda t: t.loc[[k for k, _ in ROBUSTNESS_CLAIMS if k in t.index]].rename(index=text)  # noqa: E731
    table, n = order(pd.DataFrame(held).fillna(0).astype(int)), order(pd.DataFrame(judged).fillna(0).astype(int))
    seeds = order(pd.DataFrame(present).fillna(0).astype(int))
    # attrs hold plain dicts: pandas compares attrs when it combines frames, and a frame in them
    # makes that comparison ambiguous
    table.attrs.update(n=n.to_dict(), seeds=seeds.to_dict(), n_seeds=int(seeds.to_numpy().max(initial=0)))
    return table


def robustness_summary(matrix: pd.DataFrame, paper_label: str | None = None) -> dict[str, list[str]]:
    """Sort the claims of a :func:`robustness_matrix` into those that hold in every judged seed at
    every setting, each setting judging at least one (``everywhere``), at the paper's setting but
    not at every other (``paper_only``), in no judged seed at any setting (``nowhere``), and the
    rest (``mixed``)."""
    n_all = pd.DataFrame(matrix.attrs["n"]).loc[matrix.index, matrix.columns] if "n" in matrix.attrs else None
    if n_all is None:   # a matrix without its counts: take each column's largest count as its n
        n_all = pd.DataFrame({c: [matrix[c].max()] * len(matrix) for c in matrix.columns}, index=matrix.index)
    paper_label = paper_label or PAPER.label()
    out = {"everywhere": [], "paper_only": [], "nowhere": [], "mixed": []}
    for claim, row in matrix.iterrows():
        n = n_all.loc[claim]
        if ((row == n) & (n > 0)).all():
            out["everywhere"].append(claim)
        elif (row == 0).all():
            out["nowhere"].append(claim)
        elif paper_label in row and 0 < n[paper_label] == row[paper_label]:
            out["paper_only"].append(claim)
        else:
            out["mixed"].append(claim)
    return out


def counted(matrix: pd.DataFrame, claim: str, paper_label: str | None = None) -> str:
    """A claim of a :func:`robustness_matrix` with its counts: the seeds in which it holds at the
    paper's setting, of those present ("m cannot be judged" where some were not judged), and the other
    settings at which it holds in more than half of the seeds judged there."""
    paper_label = paper_label or PAPER.label()
    n, seeds = pd.DataFrame(matrix.attrs["n"]), pd.DataFrame(matrix.attrs["seeds"])
    held = matrix.loc[claim]
    unjudged = int(seeds.loc[claim, paper_label] - n.loc[claim, paper_label])
    others = [c for c in matrix.columns if c != paper_label]
    holds = sum(1 for c in others if n.loc[claim, c] > 0 and held[c] > n.loc[claim, c] / 2)
    return (f"{claim} (paper's setting: {held[paper_label]} of {seeds.loc[claim, paper_label]} seeds"
            + (f", {unjudged} cannot be judged" if unjudged else "") + f"; holds at {holds} of {len(others)} other settings)")


def simplifying_over_checkpoints(rows: pd.DataFrame, setting: Setting = PAPER) -> pd.DataFrame:
    """The book's judge (:func:`ipbook.verdicts.judge`) on I(X;T) over a run's checkpoints at
    ``setting``, per run, seed and layer, with the ceiling log2 N: ``peak``, ``final``, ``dI``
    (smoothed peak − final, bits), ``dI_frac`` (of the peak), ``peak_step``, ``verdict``, ``low``,
    ``high`` (the interval for ``dI``), ``reason`` and ``simplifies``."""
    sub = at_setting(rows, setting).assign(ceiling=lambda d: np.log2(d.n))
    v = judge_frame(sub, ["run", "seed", "layer"], value="i_xt", ceiling="ceiling")
    return v.rename(columns={"drop": "dI", "drop_frac": "dI_frac"}).assign(simplifies=v.verdict == SIMPLIFIES)
