"""The book's answer: each claim about simplifying phases under every kind of evidence, per dataset.

Three kinds of evidence, all read from the committed tables (nothing is computed but the verdicts,
and every verdict on a layer comes from the book's one judge, :func:`ipbook.verdicts.judge`):

* **the paper's setting over seeds**: the claims of :data:`ipbook.claims.robustness.ROBUSTNESS_CLAIMS`
  at α = 1.01, Scott's rule with γ = 2 and 100 probe images, in each seed of the seeds sweep
  (:func:`ipbook.claims.robustness.robustness_matrix`, ``results/sensitivity/<dataset>.csv.gz``);
* **the other kernel settings** of the same grid (γ, α, N, the median and Tapia rules, training
  probes);
* **noise- and quantization-defined information** (:func:`ipbook.experiments.second_opinion.estimator_verdicts`,
  ``results/second-opinion/<dataset>.csv.gz``): the noisy layer's I(X; T + ε) (its two bounds),
  binning, and the VAE's own bounds. A deterministic layer's Shannon I(X;T) over N distinct probe
  images is log2 N and never moves, so each of these measures the layer's geometry at a scale (the
  noise σ, the bin size); only the VAE's bounds concern the trained model's own I(X;Z).

At one setting a claim **holds** when it holds in more than half of the seeds the judge could
judge there, **fails** when it does not, and **cannot be judged** when no seed could be judged.
Each claim gets one category per dataset (:func:`category`), checked in this order:

1. ``cannot be judged at the paper's setting``: no seed could be judged there;
2. ``not supported at the paper's setting``: it fails there;
3. ``cannot be judged by noise- or quantization-defined information``: no setting of those
   estimators could judge it;
4. ``holds under every estimator``: it holds at every kernel setting and every setting of the
   noise- and quantization-defined estimators that could judge it;
5. ``contradicted by noise- or quantization-defined information``: it fails at more than half of
   those estimators' settings that could judge it;
6. ``holds at the paper's kernel setting, not under every other``: the rest.
"""
from __future__ import annotations

import math
from typing import Mapping

import pandas as pd

from ipbook.claims import robustness as R
from ipbook.claims.catalog import claim_by_short, claim_spec
from ipbook.claims.robustness import ROBUSTNESS_KEYS
from ipbook.estimators.spec import PAPER
from ipbook.experiments import second_opinion as SO, sensitivity as S
from ipbook.text import spoken_list
from ipbook.verdicts import CANNOT, FAILS, HOLDS

__all__ = ["CATEGORIES", "NOISE_DEFINED", "evidence", "load_evidence", "setting_status", "category",
           "answer_table", "category_table", "conclusions_markdown", "calibration_numbers", "FALL_CLAIMS", "setting_statuses",
           "answer_facts", "plain_answer"]

#: The name of the second kind of evidence, as the pages print it.
NOISE_DEFINED = "noise- or quantization-defined information"
CATEGORIES = ("holds under every estimator", "holds at the paper's kernel setting, not under every other",
              f"contradicted by {NOISE_DEFINED}", f"cannot be judged by {NOISE_DEFINED}",
              "not supported at the paper's setting", "cannot be judged at the paper's setting")


def load_evidence(dataset: str, *, sensitivity_root=None, second_opinion_root=None) -> dict | None:
    """The committed grids of ``dataset`` as :func:`evidence` needs them: ``{"matrix": robustness
    matrix, "real": estimator verdicts or None, "real_seeds": seeds of the second-opinion
    table}``; None when the sensitivity grid is not committed."""
    tables = S.load_tables(dataset, sensitivity_root)
    if tables is None:
        return None
    real = SO.load_table(dataset, second_opinion_root)
    return {"matrix": R.robustness_matrix(tables[0]),
            "real": SO.estimator_verdicts(real) if real is not None else None,
            "real_seeds": sorted(set(real.seed)) if real is not None else []}


def setting_status(held: int, judged: int) -> str:
    """A claim at one setting: ``holds`` in more than half of the ``judged`` seeds, ``fails``
    otherwise, ``cannot judge`` when no seed was judged."""
    if judged == 0:
        return CANNOT
    return HOLDS if 2 * held > judged else FAILS


def _counts(statuses) -> tuple[int, int, int]:
    statuses = list(statuses)
    return tuple(statuses.count(s) for s in (HOLDS, FAILS, CANNOT))


def evidence(matrix: pd.DataFrame, real: pd.DataFrame | None) -> pd.DataFrame:
    """Per claim (rows, the matrix's order): ``paper_k``, ``paper_n``, ``paper_seeds`` (seeds
    holding / judged / present at the paper's setting) and ``paper`` (its :func:`setting_status`);
    ``kernel_ok``, ``kernel_fail``, ``kernel_cannot`` (other kernel settings at which it holds,
    fails, cannot be judged); ``real_ok``, ``real_fail``, ``real_cannot`` (the same over the
    settings of the noise- and quantization-defined estimators), ``real_sat`` (of those that cannot
    judge, settings with a seed pinned at its ceiling) and ``has_real``."""
    n = pd.DataFrame(matrix.attrs["n"]).loc[matrix.index, matrix.columns]
    present = (pd.DataFrame(matrix.attrs["seeds"]).loc[matrix.index, matrix.columns]
               if "seeds" in matrix.attrs else n)
    paper = PAPER.label()
    others = [c for c in matrix.columns if c != paper]
    out = pd.DataFrame(index=matrix.index)
    out["paper_k"], out["paper_n"], out["paper_seeds"] = matrix[paper], n[paper], present[paper]
    out["paper"] = [setting_status(k, j) for k, j in zip(out.paper_k, out.paper_n)]
    kernel = [_counts(setting_status(matrix.at[c, s], n.at[c, s]) for s in others) for c in matrix.index]
    out["kernel_ok"], out["kernel_fail"], out["kernel_cannot"] = zip(*kernel) if kernel else ((), (), ())
    for key in ("real_ok", "real_fail", "real_cannot", "real_sat"):
        out[key] = 0
    if real is not None:
        for claim, g in real.groupby("claim"):
            if claim in out.index:
                ok, fail, cannot = _counts(setting_status(h, j) for h, j in zip(g.holds, g.judged))
                sat = int(((g.judged == 0) & (g.saturated > 0)).sum())
                out.loc[claim, ["real_ok", "real_fail", "real_cannot", "real_sat"]] = [ok, fail, cannot, sat]
    out["has_real"] = [real is not None and c in set(real.claim) for c in out.index]
    return out


def category(row) -> str:
    """The category of one claim from its :func:`evidence` row (see the module's docstring)."""
    real_n = row.real_ok + row.real_fail
    if row.paper == CANNOT:
        return CATEGORIES[5]
    if row.paper == FAILS:
        return CATEGORIES[4]
    if row.has_real and real_n == 0:
        return CATEGORIES[3]
    if row.kernel_fail == 0 and row.real_fail == 0:
        return CATEGORIES[0]
    if row.real_fail * 2 > real_n:
        return CATEGORIES[2]
    return CATEGORIES[1]


def _cells(e: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "paper's setting": [f"{k}/{n}" + (f" ({s - n} ?)" if s > n else "")
                            for k, n, s in zip(e.paper_k, e.paper_n, e.paper_seeds)],
        "other kernels": [f"{k}/{f}/{c}" for k, f, c in zip(e.kernel_ok, e.kernel_fail, e.kernel_cannot)],
        "noise-defined": [("–" if not h else f"{k}/{f}/{c}")
                          for h, k, f, c in zip(e.has_real, e.real_ok, e.real_fail, e.real_cannot)],
    }, index=e.index)


def answer_table(evidences: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The page table of "What this book finds": one row per claim, for each dataset
    (``{title: evidence}``) three columns: the seeds holding / judged at the paper's setting
    (``(m ?)``: m seeds could not be judged), and, for the other kernel settings and for the
    settings of the noise- and quantization-defined estimators, how many hold / fail / cannot
    judge; "–" where those estimators do not test the claim. A reader rebuilds each category
    from these numbers with the rule of :func:`category`."""
    parts = {title: _cells(e) for title, e in evidences.items()}
    table = pd.concat(parts, axis=1)
    table.index.name = "claim"
    return table


def category_table(evidences: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Each claim's :func:`category` per dataset (columns), and ``both`` (the category where the
    datasets agree, else ``differs by dataset``)."""
    table = pd.DataFrame({title: [category(r) for r in e.itertuples()] for title, e in evidences.items()},
                         index=next(iter(evidences.values())).index)
    table["both"] = [row.iloc[0] if row.nunique() == 1 else "differs by dataset" for _, row in table.iterrows()]
    table.index.name = "claim"
    return table


def calibration_numbers(rows: pd.DataFrame, family: str = "gaussian-sparse", n: int = 100, d_hi: int = 25) -> dict:
    """What the calibration says about the paper's estimator in three numbers: on ``family`` (its
    true I, the same at every dimension d), the paper's setting at the smallest d and at ``d_hi``
    (the largest d where ``d_hi`` is absent; 25, as the calibration page) at N = ``n`` (means over
    seeds): ``truth``, ``d_lo``, ``est_lo``, ``d_hi``, ``est_hi``."""
    r = rows[(rows.family == family) & (rows.estimator == "matrix-paper") & (rows.n == n)]
    if not len(r):
        raise ValueError(f"no calibration rows of {family!r} at N = {n} for the paper's estimator")
    means = r.groupby("d").agg(bits=("bits", "mean"), truth=("true_bits", "mean"))
    lo, hi = means.index.min(), (d_hi if d_hi in means.index else means.index.max())
    return {"truth": float(means.truth.iloc[0]), "d_lo": int(lo), "est_lo": float(means.bits[lo]),
            "d_hi": int(hi), "est_hi": float(means.bits[hi])}


# ----------------------------------------------------------------------------- the answer in words
#: The claims that a model's bottleneck falls, which the answer's scales are read from (their
#: rows on the robustness matrix).
FALL_KEYS = ("shallow_simp", "sparse_simp")
FALL_CLAIMS = tuple(claim_spec(k).short for k in FALL_KEYS)
#: The rows of the robustness matrix that claim a model has no simplifying phase.
ABSENCE_CLAIMS = tuple(claim_spec(k).short for k in ROBUSTNESS_KEYS if claim_spec(k).rule == "none")


def setting_statuses(loaded: Mapping) -> pd.DataFrame:
    """Claims (rows) × settings (columns: the kernel settings of the robustness matrix, then the
    noise- and quantization-defined settings): the claim's :func:`setting_status` at each, from one
    dataset's :func:`load_evidence`; "–" where a setting does not test a claim."""
    m = loaded["matrix"]
    n = pd.DataFrame(m.attrs["n"]).loc[m.index, m.columns]
    out = pd.DataFrame({c: [setting_status(m.at[i, c], n.at[i, c]) for i in m.index] for c in m.columns},
                       index=m.index)
    real = loaded.get("real")
    if real is not None and len(real):
        r = real.assign(status=[setting_status(h, j) for h, j in zip(real.holds, real.judged)])
        wide = r.pivot(index="claim", columns="column", values="status")
        out = out.join(wide, how="left")
    return out.fillna("–")


def _values(columns, prefix: str) -> list[float]:
    """The numbers of columns named ``<prefix><number>`` (e.g. ``scott γ=`` → γ), sorted."""
    out = []
    for c in columns:
        rest = c[len(prefix):] if c.startswith(prefix) else ""
        rest = rest.split()[0] if rest else ""
        try:
            out.append(float(rest))
        except ValueError:
            continue
    return sorted(set(out))


def answer_facts(loaded_by_title: Mapping[str, Mapping]) -> dict:
    """The numbers the answer in words rests on, over every dataset given (``{title:
    load_evidence(...)}``): for the claims of :data:`FALL_CLAIMS`, the Scott γ at which they hold
    on every dataset (``gamma_holds``), fail on some (``gamma_fails``) or cannot be judged on some
    (``gamma_cannot``); the noise variances σ² at which a noisy bound shows them on every dataset
    (``sigma2_holds``) and at which no bound can judge them on any (``sigma2_cannot``); the bin
    counts that cannot judge them (``bins_cannot``); the other bandwidth rules at which they fail
    (``rules_fail``); the seeds at the paper's setting (``paper_held``, ``paper_n``); the claims that
    hold at the paper's setting on one dataset and fail on another (``differ``); the claims of
    absence that cannot be judged at the paper's setting, per dataset (``absence_cannot``, with
    ``absence_n``); and the claims that fail at the paper's setting on every dataset (``fail_all``)."""
    st = {t: setting_statuses(l) for t, l in loaded_by_title.items()}
    fall = [c for c in FALL_CLAIMS if all(c in s.index for s in st.values())]
    col_status = lambda col: {s.at[c, col] if col in s.columns else "–" for s in st.values() for c in fall}  # noqa: E731
    cols = set.intersection(*(set(s.columns) for s in st.values()))
    gammas = _values([c for c in cols if "," not in c], "scott γ=")
    by_gamma = {g: col_status(f"scott γ={g:g}") for g in gammas}
    sigma2 = _values(cols, "noisy-upper σ²=")
    by_sigma = {v: col_status(f"noisy-upper σ²={v:g}") | col_status(f"noisy-lower σ²={v:g}") for v in sigma2}
    holds_sigma = [v for v in sigma2 if all(
        any(s.at[c, f"noisy-{b} σ²={v:g}"] == HOLDS for b in ("upper", "lower")) for s in st.values() for c in fall)]
    bins = _values(cols, "binning ")
    paper = PAPER.label()
    absence = [c for c in next(iter(st.values())).index if c in ABSENCE_CLAIMS]
    first = next(iter(loaded_by_title.values()))["matrix"]
    n = pd.DataFrame(first.attrs["n"])
    return {
        "fall_claims": fall,
        "gamma_holds": [g for g, v in by_gamma.items() if v == {HOLDS}],
        "gamma_fails": [g for g, v in by_gamma.items() if FAILS in v],
        "gamma_cannot": [g for g, v in by_gamma.items() if CANNOT in v and FAILS not in v],
        "rules_fail": [r for r in ("median", "tapia") if r in cols and FAILS in col_status(r)],
        "sigma2_holds": holds_sigma,
        "sigma2_cannot": [v for v, s in by_sigma.items() if s == {CANNOT}],
        "bins_cannot": [int(b) for b in bins if col_status(f"binning {b:g} bins") == {CANNOT}],
        "paper_held": min(int(l["matrix"].at[c, paper]) for l in loaded_by_title.values() for c in fall) if fall else 0,
        "paper_n": int(n.loc[fall, paper].max()) if fall else 0,
        "differ": [c for c in next(iter(st.values())).index
                   if len({s.at[c, paper] for s in st.values()}) > 1 and HOLDS in {s.at[c, paper] for s in st.values()}],
        "absence_cannot": {t: sum(s.at[c, paper] == CANNOT for c in absence) for t, s in st.items()},
        "absence_n": len(absence),
        "fail_all": [c for c in next(iter(st.values())).index if all(s.at[c, paper] == FAILS for s in st.values())],
    }


def _nums(values, fmt="{:g}") -> str:
    """``values`` formatted with ``fmt`` as a spoken list: "1, 2 and 8"."""
    return str(spoken_list([fmt.format(v) for v in values]))


def plain_answer(facts: Mapping, ceiling_probes: int = 100) -> str:
    """The answer to "is the simplifying phase real?" in a few plain sentences (Markdown), from
    :func:`answer_facts`; every number in it comes from ``facts``."""
    run = {claim_spec(k).short: claim_spec(k).run for k in FALL_KEYS}
    fall = spoken_list([f"{run[c]} AE" for c in facts["fall_claims"]])
    top = max(facts["gamma_holds"], default=float("inf"))
    wide = [g for g in facts["gamma_fails"] if g > top]
    mixed = [g for g in facts["gamma_fails"] if g <= top]
    quoted = lambda claims: spoken_list([f"“{c}”" for c in claims])  # noqa: E731
    out = [
        "**As a loss of information, no.** A deterministic layer's Shannon information about N distinct "
        "probe images is log2 N at every iteration; every number in this book measures the layer's "
        "geometry at a scale (the kernel width, the noise σ, the bin size), not information it forgets "
        "(the VAE's own bounds excepted, whose encoder is noisy).",
        f"**As a contraction of the bottleneck at coarse scales, yes, in the {fall}:** on every dataset "
        f"their Z falls in at least {facts['paper_held']} of {facts['paper_n']} seeds at the paper's setting, "
        f"at Scott's kernel widths γ = {_nums(facts['gamma_holds'])}, and in the noisy layer "
        f"I(X; Z + ε) at noise σ² = {_nums(facts['sigma2_holds'])}.",
    ]
    fine = [f"γ = {_nums(facts['gamma_cannot'])}"] if facts["gamma_cannot"] else []
    fine += [f"σ² = {_nums(facts['sigma2_cannot'])}"] if facts["sigma2_cannot"] else []
    fine += [f"{_nums(facts['bins_cannot'])} bins"] if facts["bins_cannot"] else []
    if fine:
        out.append(f"At finer scales ({'; '.join(fine)}) every probe stays apart, the estimate sits at its "
                   "ceiling log2 N, and no fall can show: those settings cannot judge.")
    gone = [f"the widest kernel{'s' if len(wide) > 1 else ''} (γ = {_nums(wide)})"] if wide else []
    gone += [{"median": "the median heuristic", "tapia": "Tapia & Estévez's rule"}[r] for r in facts["rules_fail"]]
    if gone:
        out.append(f"Under {spoken_list(gone)}, the fall is gone"
                   + (f"; at γ = {_nums(mixed)} it holds on one dataset only." if mixed else "."))
    if facts["differ"]:
        out.append(f"{quoted(facts['differ'])} hold at the paper's setting on one dataset and not on the other.")
    cannot = facts["absence_cannot"]
    last = ("Claims that a model has *no* simplifying phase are mostly untestable at the paper's setting: "
            + ", ".join(f"{k} of {facts['absence_n']} on {t}" for t, k in cannot.items())
            + " cannot be judged there, because a layer they rest on stays within the margin of its ceiling, "
              f"log2 {ceiling_probes} = {math.log2(ceiling_probes):.2f} bits.")
    if facts["fail_all"]:
        last += f" {quoted(facts['fail_all'])} fails at the paper's setting on every dataset."
    out.append(last)
    return "\n\n".join(out)


def conclusions_markdown(cats: pd.DataFrame, evidences: Mapping) -> str:
    """The Conclusions page's list (Markdown): per category of :data:`CATEGORIES` (and "differs by
    dataset"), the claims of :func:`category_table` ``cats`` in it, each with its category per
    dataset where they differ, and the chapters that show it (the claim's
    :attr:`~ipbook.claims.catalog.ClaimSpec.chapters`, then the two grid chapters)."""
    lines = []
    for name in CATEGORIES + ("differs by dataset",):
        claims = [c for c in cats.index if cats.at[c, "both"] == name]
        if not claims:
            continue
        lines.append(f"**{name[0].upper() + name[1:]}** ({len(claims)}):\n")
        for c in claims:
            pages = list(claim_by_short(c).chapters) + ["sensitivity_verdicts", "second_opinion"]
            where = ", ".join(f"{{doc}}`{page}`" for page in pages)
            per = "; ".join(f"{t}: {cats.at[c, t]}" for t in evidences) if name == "differs by dataset" else ""
            lines.append(f"* {c}" + (f" ({per})" if per else "") + f". Evidence: {where}.")
        lines.append("")
    return "\n".join(lines)
