"""The paper's claims over a profile's runs (Section IV of Lee & Jo 2021), with the number that
tests each, its threshold and its verdict; the claims tables of the chapters, over one seed or many,
and the values the pages glue.

The claims and their words are those of :data:`ipbook.claims.catalog.CLAIMS`; claims about
simplifying phases are decided by :func:`ipbook.claims.catalog.simplifying_claims` on the one
judge's verdicts of each layer (:func:`ipbook.claims.findings.layer_findings`); the other claims
test the measures of :mod:`ipbook.measures` (the diagonal, the data-processing inequalities, the
losses) against that module's tolerances.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from ipbook.claims.catalog import claim_spec, simplifying_claims
from ipbook.claims.findings import layer_findings, run_findings, run_metrics
from ipbook.measures import DIAG_TOL, DPI_TOL, GEN_TOL, LONG_RUN_STEPS, dpi_violations, final_losses, rise_step
from ipbook.nets.runs import Run
from ipbook.text import above_below, size_of_ratio, Text, spoken_list, verdict
from ipbook.verdicts import CANNOT, FAILS, HOLDS, MARGIN_BITS, MARGIN_FRAC, short_reason

__all__ = ["PAPER_RUNS", "FULL_DATA_RUNS", "key", "paper_numbers", "Claim", "paper_claims", "claims_table",
           "glue_values", "layer_summary", "run_summary", "profile_note", "CLAIM_NUMBERS", "claims_over_seeds",
           "seed_spread", "seed_verdict_changes", "verdicts_by_dataset", "cannot_note"]


# ----------------------------------------------------------------------------- the paper's claims
#: The runs of the paper profile, in the paper's order.
PAPER_RUNS = ("shallow", "deep", "deep-10pct", "sparse", "tied", "vae", "label")
#: The runs trained on the full training set (every run but the 10 % one).
FULL_DATA_RUNS = ("shallow", "deep", "sparse", "tied", "vae", "label")


def key(name: str) -> str:
    """A run or layer name as it appears in glue keys: ``deep-10pct`` -> ``deep_10pct``."""
    return str(name).replace("-", "_")


def _seeds(runs: Mapping[str, object]) -> int:
    seeds = {r.info.get("seed") for r in runs.values() if isinstance(r, Run)}
    return max(1, len(seeds))


def paper_numbers(runs: Mapping[str, object]) -> dict:
    """Run-specific numbers that some claims rest on, for the runs present in ``runs``.

    ``vae_*``: the VAE's I(X;Z) against the ceiling log2 N (``vae_z_off``, its largest distance;
    ``vae_z_range``, max − min over training) and the DPI without Z (``vae_noz_*``);
    ``label_rise_{x,y}_{layer}``: iteration at which I(X;T), resp. I(T;X′), of the label AE first
    reaches half its final (smoothed) value; ``tied_vs_shallow_pct``: the tied AE's final
    training loss relative to the shallow AE's, in %; ``diag_min``: smallest I(X;T) − I(T;X′) after
    the first 10 % of the measurements over every layer of every run; ``ceiling``: the
    estimator's ceiling log2 N for the N probe images.
    """
    out: dict = {}
    if runs:
        out["diag_min"] = min(r["diag_min"] for run in runs.values() for r in layer_findings(run))
        first = run_metrics(next(iter(runs.values())))
        if "probe_index" in first:
            out["ceiling"] = float(np.log2(np.asarray(first["probe_index"]).size))
    if "vae" in runs:
        m = run_metrics(runs["vae"])
        layers = [str(s) for s in m["layers"]]
        z = np.asarray(m["i_xt"], dtype=np.float64)[:, layers.index("Z")]
        ceiling = float(np.log2(np.asarray(m["probe_index"]).size))
        noz = dpi_violations(m["i_xt"], m["i_tx"], layers, exclude=("Z",))
        out.update({"ceiling": ceiling, "vae_z_off": float(np.abs(z - ceiling).max()),
                    "vae_z_min": float(z.min()), "vae_z_max": float(z.max()),
                    "vae_z_range": float(np.ptp(z)),
                    "vae_noz_enc_violations": noz["enc_violations"], "vae_noz_enc_max": noz["enc_max"],
                    "vae_noz_dec_violations": noz["dec_violations"], "vae_noz_dec_max": noz["dec_max"],
                    "vae_noz_violations": noz["enc_violations"] + noz["dec_violations"]})
    if "label" in runs:
        m = run_metrics(runs["label"])
        for j, layer in enumerate(str(s) for s in m["layers"]):
            out[f"label_rise_x_{layer}"] = rise_step(np.asarray(m["i_xt"])[:, j], m["step"])
            out[f"label_rise_y_{layer}"] = rise_step(np.asarray(m["i_tx"])[:, j], m["step"])
    if "tied" in runs and "shallow" in runs:
        tied, shallow = (final_losses(run_metrics(runs[n]))["train_loss"] for n in ("tied", "shallow"))
        out["tied_vs_shallow_pct"] = 100 * (tied / shallow - 1)
        out["tied_vs_shallow_ratio"] = tied / shallow
        out["tied_vs_shallow_size"] = size_of_ratio(tied / shallow, "the tied AE's final training loss", "the shallow AE's")
    return out


@dataclass(frozen=True)
class Claim:
    """One claim of the paper, the number that tests it, and the verdict.

    ``key`` names it in glue keys (``claim_<key>``); ``figure`` is the paper's panel(s);
    ``measured`` and ``threshold`` are short texts with units; ``seeds`` is the number of seeds the
    measurement rests on.
    """

    key: str
    claim: str
    figure: str
    measured: str
    threshold: str
    verdict: Text
    seeds: int = 1
    #: :data:`~ipbook.verdicts.HOLDS`, :data:`~ipbook.verdicts.FAILS` or :data:`~ipbook.verdicts.CANNOT`.
    status: str = CANNOT


def _last_step(run) -> int:
    """The run's last measured iteration."""
    return int(np.asarray(run_metrics(run)["step"])[-1])


def _bits(x: float) -> str:
    return f"{x:.2f}"


def paper_claims(runs: Mapping[str, object], tol: float = 0.05) -> list[Claim]:
    """The claims of Section IV of the paper that ``runs`` can test, each with its verdict.

    ``runs`` maps run names of :data:`PAPER_RUNS` to runs; a claim is listed only when every run it
    needs is present. Claims about the simplifying phase and about overfitting are marked *cannot
    be judged* for runs shorter than :data:`LONG_RUN_STEPS`. ``tol`` (bits) is the slack of the
    structural claim I(X;T) ≥ I(T;X′).
    """
    layers = {n: {r["layer"]: r for r in layer_findings(run)} for n, run in runs.items()}
    table = {n: run_findings(run) for n, run in runs.items()}
    num = paper_numbers(runs)
    seeds = _seeds(runs)
    long_run = all(len(run_metrics(r)["train_loss"]) >= LONG_RUN_STEPS for r in runs.values())
    have = lambda *names: all(n in runs for n in names)  # noqa: E731
    dI = lambda n, l: layers[n][l]["dI"]  # noqa: E731
    gap = lambda n: 100 * table[n]["gen_gap_rel"]  # noqa: E731
    tol_simp = "judge: ΔI above the margin"
    tol_none = "judge: ΔI below the margin in every layer"
    tol_gen = f"test loss ≤ {100 * GEN_TOL:.0f} % above train"
    status = simplifying_claims({(n, l): r["verdict"] for n in layers for l, r in layers[n].items()},
                                {(n, l): r["dI"] for n in layers for l, r in layers[n].items()})
    claims: list[Claim] = []

    def add(key_, measured, threshold, ok, judged=True, suffix=""):
        c = claim_spec(key_)
        claims.append(Claim(key_, c.text + suffix, c.figure, measured, threshold, verdict(ok, judged=judged), seeds,
                            (HOLDS if ok else FAILS) if judged else CANNOT))

    def judged(key_, measured, threshold):
        """A claim on the judge's verdicts (:func:`ipbook.claims.catalog.simplifying_claims`)."""
        state, rests_on = status[key_]
        if long_run and state == CANNOT:
            run, layer = next((r, l) for r, l in rests_on if layers[r][l]["verdict"] == CANNOT)
            text = Text(f"cannot be judged ({layer}: {short_reason(layers[run][layer]['kind'], layers[run][layer]['reason'])})")
            c = claim_spec(key_)
            claims.append(Claim(key_, c.text, c.figure, measured, threshold, text, seeds, CANNOT))
        else:
            add(key_, measured, threshold, state == HOLDS, long_run)

    def largest(n):
        worst = max(layers[n].values(), key=lambda r: r["dI"])
        return f"largest ΔI {_bits(worst['dI'])} bits ({worst['layer']})"

    def interval(n, l):
        r = layers[n][l]
        return f"{_bits(r['dI'])} [{_bits(r['dI_low'])}, {_bits(r['dI_high'])}]"

    if have("shallow"):
        judged("shallow_simp", f"ΔI(Z) = {interval('shallow', 'Z')} bits", tol_simp)
        add("shallow_diag", f"final I(X;Z) − I(Z;X′) = {layers['shallow']['Z']['diag_gap']:.3f} bits",
            f"< {DIAG_TOL:g} bits", bool(layers["shallow"]["Z"]["on_diagonal"]), long_run)
    if have("deep"):
        inner, outer = ("E2", "Z", "D1"), ("E1", "D2")
        judged("deep_inner", "ΔI = " + ", ".join(f"{_bits(dI('deep', l))}" for l in inner) + " bits",
               f"{tol_simp} in each")
        judged("deep_outer", "ΔI = " + ", ".join(f"{_bits(dI('deep', l))}" for l in outer) + " bits",
               "judge: ΔI below the margin in each")
    if have("deep-10pct"):
        judged("ten_none", largest("deep-10pct"), tol_none)
    if have("deep", "deep-10pct"):
        add("ten_gen", f"gap {gap('deep-10pct'):.1f} % (10 %) vs {gap('deep'):.1f} % (full)",
            f"10 % run > {100 * GEN_TOL:.0f} % and above the full run",
            not table["deep-10pct"]["generalizes"] and gap("deep-10pct") > gap("deep"), long_run)
    dpi_runs = [n for n in ("deep", "deep-10pct", "label") if n in runs]
    if dpi_runs:
        enc = sum(table[n]["enc_violations"] for n in dpi_runs)
        dec = sum(table[n]["dec_violations"] for n in dpi_runs)
        dec_max = max(table[n]["dec_max"] for n in dpi_runs)
        last = max(max(table[n]["enc_last"], table[n]["dec_last"]) for n in dpi_runs)
        when = f"; the last at iteration {last:,} of {_last_step(runs[dpi_runs[0]]):,}" if enc + dec else ""
        add("dpi", f"{enc:,} encoder and {dec:,} decoder violations (up to {dec_max:.2f} bits) in "
            f"{', '.join(dpi_runs)}, of {table[dpi_runs[0]]['measurements']:,} measurements each{when}",
            f"no break > {DPI_TOL:g} bits", enc == 0 and dec == 0)
    if have("shallow", "sparse"):
        judged("sparse_amp", f"ΔI(Z) = {_bits(dI('sparse', 'Z'))} bits (shallow AE: {_bits(dI('shallow', 'Z'))})",
               f"{tol_simp} and above the shallow AE")
    if have("tied"):
        judged("tied_none", f"ΔI(Z) = {interval('tied', 'Z')} bits", "judge: ΔI below the margin")
    if "tied_vs_shallow_pct" in num:
        add("tied_loss", f"final training loss {num['tied_vs_shallow_ratio']:.2f} times the shallow AE's "
            f"({num['tied_vs_shallow_pct']:+.0f} %)", "> 0 % (the direction only: the size, \"slightly\", is not tested)",
            num["tied_vs_shallow_pct"] > 0)
    if have("vae"):
        add("vae_z", f"at most {num['vae_z_off']:.3f} bits from log2 N = {num['ceiling']:.2f}", "< 0.1 bits",
            num["vae_z_off"] < 0.1)
        add("vae_dpi", f"{table['vae']['enc_violations']:,} encoder violations with Z, "
            f"{num['vae_noz_enc_violations'] + num['vae_noz_dec_violations']:,} without",
            f"> 0 with Z, none > {DPI_TOL:g} bits without",
            table["vae"]["enc_violations"] > 0
            and num["vae_noz_enc_violations"] + num["vae_noz_dec_violations"] == 0)
        judged("vae_none", largest("vae"), tol_none)
    if have("label"):
        rises = [(l, num[f"label_rise_x_{l}"], num[f"label_rise_y_{l}"]) for l in ("E1", "E2", "Z")]
        add("lae_orth", "half-rise at iteration " + ", ".join(f"{x:,} vs {y:,} ({l})" for l, x, y in rises),
            "I(X;T) first in E1, E2, Z", all(x < y for _, x, y in rises))
        judged("lae_none", largest("label"), tol_none)
    full = [n for n in FULL_DATA_RUNS if n in runs]
    if full:
        worst = max(full, key=gap)
        bad = [n for n in full if not table[n]["generalizes"]]
        part = "" if len(full) == len(FULL_DATA_RUNS) else f" (judged here on {spoken_list(full)} only)"
        add("gen", f"largest gap {gap(worst):.1f} % ({worst})" + (f"; above tolerance: {', '.join(bad)}" if bad else ""),
            tol_gen, not bad, suffix=part)
    if runs:
        add("below_diag", f"smallest I(X;T) − I(T;X′) after 10 % of training: {num['diag_min']:.3f} bits",
            f"≥ −{tol:g} bits", num["diag_min"] >= -tol)
    return claims


def claims_table(claims: list[Claim], figures: str | None = None, *,
                 seeds: Mapping[int, Mapping[str, object]] | None = None, tol: float = 0.05) -> pd.DataFrame:
    """The claims as a table with the columns Claim, Figure, Measured, Threshold, Verdict, Seeds.

    ``figures``: keep only claims whose figure mentions one of these figure numbers (``"2"`` keeps
    2b, 2d, …; ``"34"`` keeps Figs. 3 and 4). ``seeds``: runs of several seeds ({seed: {run name:
    run}}, as :func:`ipbook.experiments.profiles.load_seeds` gives them); with two or more, the Seeds column
    is replaced by "Over seeds" (the claim's number as mean ± sd) and "Holds in" ("k of n seeds").
    """
    keep = [c for c in claims if figures is None
            or any(part.strip()[:1] in figures for part in c.figure.split(","))]
    table = pd.DataFrame([{"Claim": c.claim, "Figure": c.figure, "Measured": c.measured,
                           "Threshold": c.threshold, "Verdict": str(c.verdict), "Seeds": c.seeds}
                          for c in keep])
    if seeds is None or len(seeds) < 2 or not keep:
        return table
    over = _over_seeds(seeds, tol)
    table = table.drop(columns="Seeds")
    table["Over seeds"] = [over[c.key]["measured"] if c.key in over else "—" for c in keep]
    table["Holds in"] = [f"{over[c.key]['held']} of {over[c.key]['n']} seeds" + _unjudged(over[c.key], short=True)
                         if c.key in over else "—"
                         for c in keep]
    return table


# ----------------------------------------------------------------------------- for the pages
_LAYER_FIELDS = ("dI", "dI_raw", "dI_low", "dI_high", "peak_step", "ixt_peak", "ixt_final", "itx_final", "diag_gap",
                 "diag_min", "window")
_RUN_FIELDS = ("n_train", "steps", "epochs", "ip_samples", "measurements", "train_loss", "test_loss",
               "train_loss_start", "test_loss_start", "enc_violations", "enc_max", "enc_last",
               "dec_violations", "dec_max", "dec_last")


def glue_values(runs: Mapping[str, object], claims: list[Claim] | None = None) -> dict:
    """Every number and verdict a chapter glues, as one flat dict.

    Keys: the tolerances (``simplify_tol``, ``diag_tol``, ``dpi_tol``, ``gen_tol_pct``,
    ``long_steps``); per run ``<run>_<field>`` (run-level findings, ``gap_pct``, ``gen`` and
    ``simplifying`` as text, ``gap_words`` ("1.7 % below"), ``gap_vs_tol`` (the gap against the
    tolerance, in percentage points), ``dI_max`` and ``dI_max_layer`` (the largest ΔI and its layer)); per layer ``<run>_<layer>_<field>`` (``dI``, ``dI_pct`` (of the
    peak), ``peak_step``, ``ixt_peak``, …); :func:`paper_numbers`; and ``claim_<key>`` for each
    claim. Run names are written with ``_`` for ``-`` (:func:`key`).
    """
    out: dict = {"margin_bits": MARGIN_BITS, "margin_pct": 100 * MARGIN_FRAC, "diag_tol": DIAG_TOL, "dpi_tol": DPI_TOL,
                 "gen_tol_pct": 100 * GEN_TOL, "long_steps": LONG_RUN_STEPS}
    for name, run in runs.items():
        r, k = run_findings(run), key(name)
        out.update({f"{k}_{f}": r[f] for f in _RUN_FIELDS if f in r})
        out[f"{k}_gap_pct"] = 100 * r["gen_gap_rel"]
        out[f"{k}_gap_words"] = above_below(100 * r["gen_gap_rel"])        # "1.7 % below", "3.2 % above"
        out[f"{k}_gap_vs_tol"] = above_below(100 * (r["gen_gap_rel"] - GEN_TOL), unit=" percentage points")
        worst = max(layer_findings(run), key=lambda row: row["dI"])
        out[f"{k}_dI_max"], out[f"{k}_dI_max_layer"] = worst["dI"], Text(worst["layer"])
        out[f"{k}_gen"] = verdict(r["generalizes"], "generalizes", "does not generalize")
        out[f"{k}_simplifying"] = Text(r["simplifying_layers"])
        for row in layer_findings(run):
            p = f"{k}_{row['layer']}"
            out.update({f"{p}_{f}": row[f] for f in _LAYER_FIELDS})
            out[f"{p}_dI_pct"] = 100 * row["dI"] / row["ixt_peak"] if row["ixt_peak"] > 0 else 0.0
    out.update(paper_numbers(runs))
    if dpi := [n for n in ("deep", "deep-10pct", "label") if n in runs]:
        out["dpi_when"] = dpi_when({n: runs[n] for n in dpi})
    for c in claims if claims is not None else paper_claims(runs):
        out[f"claim_{c.key}"] = c.verdict
    return out


def layer_summary(runs: Mapping[str, object]) -> pd.DataFrame:
    """Per-layer findings for the page: readable column names with units, rounded as in the text
    (bits to 2 decimals, the diagonal gap to 3)."""
    rows = []
    for name, run in runs.items():
        for r in layer_findings(run):
            rows.append({"run": name, "layer": r["layer"],
                         "peak I(X;T) [bits]": round(r["ixt_peak"], 2),
                         "at iteration": int(r["peak_step"]),
                         "final I(X;T) [bits]": round(r["ixt_final"], 2),
                         "ΔI [bits]": round(r["dI"], 2),
                         "ΔI [% of peak]": int(round(100 * r["dI"] / r["ixt_peak"])) if r["ixt_peak"] > 0 else 0,
                         "final I(X;T) − I(T;X′) [bits]": f"{r['diag_gap']:.3f}"})
    return pd.DataFrame(rows).set_index(["run", "layer"])


def run_summary(runs: Mapping[str, object]) -> pd.DataFrame:
    """Run-level findings for the page, one row per run, readable column names with units."""
    rows = []
    for name, run in runs.items():
        r = run_findings(run)
        rows.append({"run": name, "training images": int(r["n_train"]) if r.get("n_train") else None,
                     "iterations": int(r["steps"]) if r.get("steps") else None,
                     "epochs": round(r["epochs"], 1) if r.get("epochs") else None,
                     "final train loss": f"{r['train_loss']:.4g}", "final test loss": f"{r['test_loss']:.4g}",
                     "test above train [%]": round(100 * r["gen_gap_rel"], 1),
                     "DPI violations (enc. / dec.)": f"{r['enc_violations']} / {r['dec_violations']}"})
    return pd.DataFrame(rows).set_index("run")


def dpi_when(runs: Mapping[str, object]) -> Text:
    """When the data-processing inequalities break in ``runs``, in words: none, or the last break's
    iteration and how far into training it lies, and that the inequalities hold after it."""
    found = [run_findings(r) for r in runs.values()]
    last = max(max(r["enc_last"], r["dec_last"]) for r in found)
    if last < 0:
        return Text("No measurement breaks them.")
    steps = max(_last_step(r) for r in runs.values())
    return Text(f"Every break comes by iteration {last:,}, {100 * last / steps:.1f} % into training, early in "
                f"the fitting phase: a transient; after it the inequalities hold at every measurement of "
                f"{spoken_list(list(runs))}.")


def cannot_note(runs: Mapping[str, object]) -> Text:
    """What *cannot be judged* means in a claims table's caption: the judge could not judge a layer
    the claim rests on; for runs shorter than :data:`LONG_RUN_STEPS`, also that the runs are too
    short (said only where they are)."""
    note = "the judge could not judge a layer the claim rests on, the reason in brackets"
    if any(len(run_metrics(r)["train_loss"]) < LONG_RUN_STEPS for r in runs.values()):
        note += ", or the runs are too short to judge a simplifying phase"
    return Text(note)


def profile_note(profile: str, dataset: str, runs: Mapping[str, object]) -> str:
    """A sentence for the top of a page: which profile and dataset it shows, with each run's
    iterations and training set, and for short runs why the simplifying phase cannot be judged."""
    parts = []
    for name, run in runs.items():
        d = run.info["data"] if isinstance(run, Run) else {}
        if d:
            parts.append(f"`{name}` {d['steps']:,} iterations on {d['n_train']:,} training images "
                         f"({d['epochs']:.3g} epochs)")
    note = f"This page shows the **{profile}** profile on **{dataset}**: " + "; ".join(parts) + "."
    if any(len(run_metrics(r)["train_loss"]) < LONG_RUN_STEPS for r in runs.values()):
        note += (" Runs this short show only the fitting phase: where the paper-profile runs have a "
                 "simplifying phase, it starts after one to ten thousand iterations, so the claims "
                 "about it are marked *cannot be judged*. Build the book with "
                 "`python -m ipbook book --profile paper` to judge them.")
    return note


# ----------------------------------------------------------------------------- several seeds
#: The headline number of each claim, as a key of :func:`glue_values` (with its label and unit),
#: which :func:`claims_over_seeds` averages over seeds.
CLAIM_NUMBERS = {
    "shallow_simp": ("shallow_Z_dI", "ΔI(Z)", "bits"),
    "shallow_diag": ("shallow_Z_diag_gap", "final gap", "bits"),
    "deep_inner": ("deep_Z_dI", "ΔI(Z)", "bits"),
    "deep_outer": ("deep_D2_dI", "ΔI(D2)", "bits"),
    "ten_none": ("deep_10pct_Z_dI", "ΔI(Z)", "bits"),
    "ten_gen": ("deep_10pct_gap_pct", "10 % run's gap", "%"),
    "dpi": ("deep_dec_violations", "deep AE's decoder violations", ""),
    "sparse_amp": ("sparse_Z_dI", "ΔI(Z)", "bits"),
    "tied_none": ("tied_Z_dI", "ΔI(Z)", "bits"),
    "tied_loss": ("tied_vs_shallow_pct", "loss vs shallow", "%"),
    "vae_z": ("vae_z_off", "distance from log2 N", "bits"),
    "vae_dpi": ("vae_noz_violations", "encoder and decoder violations without Z", ""),
    "vae_none": ("vae_D2_dI", "ΔI(D2)", "bits"),
    "lae_orth": ("label_rise_x_E1", "I(X;E1) half-rise iteration", ""),
    "lae_none": ("label_E2_dI", "ΔI(E2)", "bits"),
    "gen": ("label_gap_pct", "label AE's gap", "%"),
    "below_diag": ("diag_min", "smallest I(X;T) − I(T;X′)", "bits"),
}


#: Claims whose headline number counts measurements, with the glue key of the measurements it counts in.
_COUNTED_OF = {"dpi": "deep_measurements", "vae_dpi": "vae_measurements"}


def _over_seeds(runs_by_seed: Mapping[int, Mapping[str, object]], tol: float) -> dict[str, dict]:
    """Per claim key: ``measured`` (its :data:`CLAIM_NUMBERS` number as "label mean ± sd unit"
    over the seeds, or the single seed's text), ``held`` (seeds in which it is supported),
    ``cannot`` (seeds in which it cannot be judged), ``n``."""
    per_seed = {seed: paper_claims(runs, tol=tol) for seed, runs in runs_by_seed.items()}
    values = {seed: glue_values(runs, per_seed[seed]) for seed, runs in runs_by_seed.items()}
    n = len(per_seed)
    out = {}
    for claim in next(iter(per_seed.values())):
        statuses = [c.status for claims in per_seed.values() for c in claims if c.key == claim.key]
        measured = claim.measured if n == 1 else "—"
        if n > 1 and claim.key in CLAIM_NUMBERS:
            name, label, unit = CLAIM_NUMBERS[claim.key]
            xs = np.array([values[s][name] for s in values if name in values[s]], dtype=np.float64)
            if len(xs):
                sd = xs.std(ddof=1) if len(xs) > 1 else 0.0
                digits = 0 if unit == "" else 2       # counts and iterations are whole numbers
                measured = f"{label} {xs.mean():.{digits}f} ± {sd:.{digits}f} {unit}".rstrip()
                per = _COUNTED_OF.get(claim.key)
                ms = [values[s][per] for s in values if per in values[s]]
                if per and ms:      # a count of measurements: say of how many (the seeds sweep measures less often)
                    measured += f" of {int(np.median(ms)):,} measurements"
        out[claim.key] = {"claim": claim, "measured": measured, "held": statuses.count(HOLDS),
                          "cannot": statuses.count(CANNOT), "n": n}
    return out


def _unjudged(o: Mapping, short: bool = False) -> str:
    """" (m cannot be judged)" for the seeds of an :func:`_over_seeds` entry that the judge could
    not judge (" (m ?)" when ``short``); empty when there are none."""
    if not o.get("cannot"):
        return ""
    return f" ({o['cannot']} ?)" if short else f" ({o['cannot']} cannot be judged)"


def claims_over_seeds(runs_by_seed: Mapping[int, Mapping[str, object]], tol: float = 0.05) -> pd.DataFrame:
    """The claims table over several seeds: per claim its headline number (:data:`CLAIM_NUMBERS`)
    as mean ± sd over the seeds, and the verdict as "k of n seeds" in which the claim holds
    (claims that cannot be judged count as not holding, and their seeds are given: "(m cannot be
    judged)"). ``runs_by_seed``: {seed: {run name: run}}.
    Columns: Claim, Figure, Measured, Threshold, Verdict, Seeds."""
    rows = []
    for o in _over_seeds(runs_by_seed, tol).values():
        c, n = o["claim"], o["n"]
        rows.append({"Claim": c.claim, "Figure": c.figure, "Measured": o["measured"],
                     "Threshold": c.threshold,
                     "Verdict": str(c.verdict) if n == 1 else f"holds in {o['held']} of {n} seeds" + _unjudged(o),
                     "Seeds": n})
    return pd.DataFrame(rows)


def seed_spread(runs_by_seed: Mapping[int, Mapping[str, object]], layer: str = "Z") -> pd.DataFrame:
    """Per run, ΔI and the final I(X;T) of ``layer`` over seeds: mean, standard deviation (ddof 1),
    min and max, in bits, with the number of seeds."""
    rows = []
    names = next(iter(runs_by_seed.values())).keys()
    for name in names:
        found = [next(r for r in layer_findings(runs[name]) if r["layer"] == layer)
                 for runs in runs_by_seed.values() if name in runs]
        if not found:
            continue
        dI = np.array([r["dI"] for r in found])
        fin = np.array([r["ixt_final"] for r in found])
        sd = (lambda a: float(a.std(ddof=1)) if len(a) > 1 else 0.0)
        rows.append({"run": name, "seeds": len(found), f"ΔI({layer}) mean [bits]": dI.mean(),
                     f"ΔI({layer}) sd": sd(dI), f"ΔI({layer}) min–max": f"{dI.min():.2f}–{dI.max():.2f}",
                     f"final I(X;{layer}) mean [bits]": fin.mean(), f"final I(X;{layer}) sd": sd(fin)})
    return pd.DataFrame(rows).set_index("run")


def seed_verdict_changes(runs_by_seed: Mapping[int, Mapping[str, object]], tol: float = 0.05) -> list[str]:
    """The claims whose verdict is not the same for every seed, as "claim (k of n seeds)"."""
    n = len(runs_by_seed)
    if n < 2:
        return []
    return [f"{o['claim'].claim} ({o['held']} of {n} seeds)" for o in _over_seeds(runs_by_seed, tol).values()
            if 0 < o["held"] < n]


def verdicts_by_dataset(seeds_by_dataset: Mapping[str, Mapping[int, Mapping[str, object]]],
                        tol: float = 0.05) -> pd.DataFrame:
    """One verdict column per dataset: per claim of :func:`paper_claims`, the seeds in which it
    holds as "k of n" (claims that cannot be judged count as not holding), or the verdict itself
    where a dataset has one seed. ``seeds_by_dataset``: {dataset: {seed: {run name: run}}}.
    Columns: Claim, Figure and one per dataset, in the order given."""
    table = None
    for dataset, runs_by_seed in seeds_by_dataset.items():
        over = _over_seeds(runs_by_seed, tol)
        column = {o["claim"].claim: (f"{o['held']} of {o['n']}" + _unjudged(o, short=True) if o["n"] > 1
                                     else str(o["claim"].verdict))
                  for o in over.values()}
        if table is None:
            table = pd.DataFrame({"Claim": list(column), "Figure": [o["claim"].figure for o in over.values()]})
        table[dataset] = table.Claim.map(column).fillna("—")
    return table if table is not None else pd.DataFrame(columns=["Claim", "Figure"])
