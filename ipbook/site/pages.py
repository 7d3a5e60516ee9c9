"""What a chapter glues: each page's numbers, computed from its experiment's results.

A chapter calls one of these functions and glues the dict it returns, name by name
(``for k, v in d.items(): glue(k, v, display=False)``); the glued names are the keys. Information is
in bits throughout. The figures of the pages are in :mod:`ipbook.site.figures`.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ipbook.claims import robustness as R
from ipbook.claims.paper import seed_verdict_changes
from ipbook.experiments import second_opinion as SO
from ipbook.experiments import sensitivity as SENS
from ipbook.experiments import supervised as SUP
from ipbook.nets.layers import ACTIVATION_NAMES
from ipbook.nets.data import DATASET_NAMES, DatasetNotFoundError, load_dataset
from ipbook.site.grid_plots import plot_supervised
from ipbook.site.plotting import styled_table
from ipbook.text import Text, plus_minus, spoken_list, verdict
from ipbook import verdicts as V

__all__ = [
    "gaussian_table", "gaussian_numbers", "binning_bias_at_zero", "max_decrease", "weight_numbers",
    "calibration_page_numbers", "calibration_summary", "calibration_shifts", "mixture_numbers", "judged_words", "CLASS_NAMES",
    "class_means", "nearest_class", "label_manifold_numbers", "recorder_numbers", "supervised_verdict_text",
    "supervised_numbers", "encoder_drop_numbers", "gamma_phases", "gamma_numbers",
    "with_paper_column", "second_opinion_tables", "second_opinion_drops", "vae_bound_numbers", "saxe_numbers",
    "robustness_numbers", "probe_difference", "input_entropy_at", "input_entropy_numbers", "collapse_numbers",
    "rescaling_shallow_z", "rescaling_numbers", "geometry_numbers", "SUPERVISED_RUNS", "supervised_page",
    "dataset_samples", "seed_sweep_note",
]

#: The four calibration estimators a page names, with the key of their glued numbers.
CALIBRATION_KEYS = [("matrix-paper", "paper"), ("ksg", "ksg"), ("matrix-median", "median"), ("matrix-tapia", "tapia")]


# --- Appendix A1: Gaussian pairs ---------------------------------------------------------------

def _full(res: Mapping) -> int:
    """Index of the largest sample fraction (p = 1 by default)."""
    return int(np.argmax(res["fraction"]))


def gaussian_table(res: Mapping, bins: Sequence[int], bins_ref: int, gamma: float) -> pd.DataFrame:
    """Table A1: theory, binning at ``bins_ref`` bins and the kernel at ``gamma`` for every ρ, in bits
    (rounded to 3 digits), from :func:`ipbook.experiments.appendix.gaussian_mi_scan`'s ``res``."""
    full = _full(res)
    kernel, binned = res["kernel"][full, 0], res["binning"][full, list(bins).index(bins_ref)]
    return pd.DataFrame({
        "ρ": res["rho"],
        "theory [bits]": res["theory"],
        f"binning, {bins_ref} bins [bits]": binned,
        f"kernel, γ = {gamma:g} [bits]": kernel,
        "kernel − theory [bits]": kernel - res["theory"],
    }).round(3)


def binning_bias_at_zero(res: Mapping) -> np.ndarray:
    """Binning estimates at ρ = 0 (truth: 0 bits) on all samples, one per bin level, shape ``(n_bins,)``."""
    return res["binning"][_full(res), :, int(np.argmin(np.abs(res["rho"])))]


def gaussian_numbers(res: Mapping, bins: Sequence[int], bins_ref: int, gamma: float, n: int) -> dict:
    """Appendix A1's glued numbers from ``gaussian_mi_scan``'s ``res`` (first axis fractions, then
    bin levels or γ, then ρ).

    ``err_max`` is max |kernel − theory| over ρ ≤ 0.8; ``gap_hi`` theory − kernel at the largest ρ;
    ``ker_spread`` / ``bin_spread`` the largest range over sample fractions at one ρ ≤ 0.8;
    ``sigma`` the kernel width γ N^(−1/5); ``cond_sd_hi`` the conditional sd √(1 − ρ²) at the largest ρ.
    """
    rho, theory, full = res["rho"], res["theory"], _full(res)
    kernel, i_ref = res["kernel"][full, 0], list(bins).index(bins_ref)
    binned = res["binning"][full, i_ref]
    ok, err = rho <= 0.8, kernel - theory
    hi, lo = int(np.argmax(rho)), int(np.argmin(np.abs(rho)))
    bias = binning_bias_at_zero(res)
    return {
        "n_full": int(res["n_used"][full]), "n_min": int(res["n_used"].min()), "p_min": float(res["fraction"].min()),
        "err_max": float(np.abs(err[ok]).max()), "err_rho0": float(err[lo]), "rho_hi": float(rho[hi]),
        "theory_hi": float(theory[hi]), "kernel_hi": float(kernel[hi]), "gap_hi": float(theory[hi] - kernel[hi]),
        "bin_hi": float(binned[hi]), "bin_rho0": float(binned[lo]),
        "bins_min": int(bins[0]), "bins_max": int(bins[-1]),
        "bias_min": float(bias[0]), "bias_max": float(bias[-1]),
        "ker_spread": float(np.ptp(res["kernel"][:, 0, ok], axis=0).max()),
        "bin_spread": float(np.ptp(res["binning"][:, i_ref, ok], axis=0).max()), "sigma": float(gamma * n ** -0.2),
        "bins_ref": int(bins_ref), "cond_sd_hi": float(np.sqrt(1 - rho[hi] ** 2)),
    }


# --- Appendix A2: weights ----------------------------------------------------------------------

def max_decrease(curve: Sequence[float]) -> float:
    """Largest fall of a curve below its running maximum, max_k (max_{j≤k} c_j − c_k); 0 for a
    non-decreasing curve."""
    curve = np.asarray(curve)
    return float(np.max(np.maximum.accumulate(curve) - curve))


def weight_numbers(scalar: Mapping[str, np.ndarray], matrix: Mapping[str, np.ndarray], ws: np.ndarray,
                   stds: np.ndarray, activations: Sequence[str], n: int) -> dict:
    """Appendix A2's glued numbers: the sigmoid's peak and fall in panel (a) (``scalar``, I(x; z) per
    weight ``ws``) and (b) (``matrix``, I(X; Z) per std(W) ``stds``), and each activation's last value
    and :func:`max_decrease` in both (``<a>_last``, ``<a>_dec``, ``m<a>_last``, ``m<a>_dec``)."""
    sig, msig = scalar["sigmoid"], matrix["sigmoid"]
    sig_peak, sig_last = float(sig.max()), float(sig[-1])
    numbers = {
        "N": int(n), "log2n": float(np.log2(n)), "w_max": float(ws[-1]), "std_max": float(stds[-1]),
        "sig_peak": sig_peak, "sig_w_peak": float(ws[sig.argmax()]), "sig_last": sig_last,
        "sig_drop": sig_peak - sig_last, "sig_drop_pct": 100 * (sig_peak - sig_last) / sig_peak,
        "msig_first": float(msig[0]), "msig_last": float(msig[-1]), "msig_drop": max_decrease(msig),
    }
    for a in activations:
        numbers[f"{a}_last"] = float(scalar[a][-1])
        numbers[f"{a}_dec"] = max_decrease(scalar[a])
        numbers[f"m{a}_last"] = float(matrix[a][-1])
        numbers[f"m{a}_dec"] = max_decrease(matrix[a])
    return numbers


# --- Appendix A3: calibration ------------------------------------------------------------------

def _mean_at(means: pd.DataFrame, family: str, d: int, estimator: str, n: int, setting: str = "") -> float:
    m = means[(means.family == family) & (means.d == d) & (means.estimator == estimator) & (means.n == n)
              & (means.setting == setting)]
    return float(m.bits.iloc[0]) if len(m) else float("nan")


def calibration_page_numbers(means: pd.DataFrame, n_lo: int, n_hi: int) -> dict:
    """Appendix A3's glued numbers from the seed means of the calibration table at the probe sizes
    ``n_lo`` and ``n_hi`` (the table's smallest and largest N):
    their ceilings log2 N, the sparse Gaussian's truth, each named estimator on the smallest and on
    the big (25, else the largest) dimension of the sparse Gaussian, and the linear channel's range."""
    sparse = means[means.family == "gaussian-sparse"]
    sparse_ds = sorted(sparse.d.unique())
    d_small, d_big = sparse_ds[0], (25 if 25 in sparse_ds else sparse_ds[-1])   # 25: the issue's, and KSG's limit is 10
    numbers = {"n_hi": n_hi, "n_lo": n_lo, "ceil_hi": math.log2(n_hi), "ceil_lo": math.log2(n_lo),
               "truth_sparse": float(sparse.true_bits.iloc[0]), "d_small": int(d_small), "d_big": int(d_big)}
    for est, key in CALIBRATION_KEYS:
        for n, nk in [(n_lo, "lo"), (n_hi, "hi")]:
            numbers[f"{key}_sparse_small_{nk}"] = _mean_at(means, "gaussian-sparse", d_small, est, n)
            numbers[f"{key}_sparse_big_{nk}"] = _mean_at(means, "gaussian-sparse", d_big, est, n)
    channels = means[(means.family == "linear-channel") & (means.n == n_hi)]
    nan = float("nan")
    numbers["channel_truth_min"] = float(channels.true_bits.min()) if len(channels) else nan
    numbers["channel_truth_max"] = float(channels.true_bits.max()) if len(channels) else nan
    numbers["channel_paper_max"] = float(channels[channels.estimator == "matrix-paper"].bits.max()) if len(channels) else nan
    return numbers


def calibration_summary(summary: pd.DataFrame, n_lo: int, n_hi: int) -> dict:
    """Appendix A3's summary: ``table_summary`` (bias and Spearman ρ per estimator and N, styled)
    and, for each named estimator at N = ``n_lo`` and ``n_hi``, ``rho_*``, ``bias_*``, ``tasks_*``."""
    wide = summary.pivot(index="estimator", columns="n", values=["bias", "spearman"])
    wide.columns = [f"{'bias' if m == 'bias' else 'Spearman ρ'}, N={n}" for m, n in wide.columns]
    order = [e for e in ["matrix-paper", "matrix-median", "matrix-tapia", "matrix-alpha2", "ksg", "binning bins=10",
                         "binning bins=30", "noisy-upper", "noisy-lower"] if e in wide.index]
    wide = wide.loc[order].assign(tasks=summary.groupby("estimator").tasks.max().loc[order])
    out = {"table_summary": styled_table(wide)}
    by = summary.set_index(["estimator", "n"])
    for est, key in CALIBRATION_KEYS:
        for n, nk in [(n_lo, "lo"), (n_hi, "hi")]:
            out[f"rho_{key}_{nk}"] = float(by.spearman.get((est, n), float("nan")))
            out[f"bias_{key}_{nk}"] = float(by.bias.get((est, n), float("nan")))
            out[f"tasks_{key}_{nk}"] = int(by.tasks.get((est, n), 0))
    return out


def calibration_shifts(shifts: pd.DataFrame) -> dict:
    """Appendix A3's invariance numbers from ``largest_shifts`` (estimator × map, bits): the table,
    the paper setting's and KSG's largest shift and its map, and the largest shift of any estimator."""
    worst = shifts.stack().astype(float)
    paper_worst = shifts.loc["matrix-paper"].astype(float)
    has_ksg = "ksg" in shifts.index
    return {
        "table_shifts": styled_table(shifts.reset_index().rename(columns={"key": "estimator"}), hide_index=True),
        "shift_paper_max": float(paper_worst.max()), "shift_paper_map": paper_worst.idxmax(),
        "shift_ksg_max": float(shifts.loc["ksg"].max()) if has_ksg else float("nan"),
        "shift_ksg_map": shifts.loc["ksg"].astype(float).idxmax() if has_ksg else "–",
        "shift_any_max": float(worst.max()),
        "shift_any_key": f"{worst.idxmax()[0]} under the {worst.idxmax()[1]} map",
    }


def mixture_numbers(table: pd.DataFrame, seconds: float | None = None) -> dict:
    """Appendix A3's numbers on the noisy-layer bounds against the Monte-Carlo value
    (:func:`ipbook.experiments.calibration.mixture_bounds`): ``table_mixture`` (per σ², the
    largest gap of each bound over N and d, bits, styled), the largest gap of each bound and where
    (``gap_upper_max``, ``gap_upper_at``; ``gap_lower_*``), the largest standard error
    ``mixture_se_max``, ``looser_upper`` of ``gapped`` settings (a gap above 0.05 bits) where the
    upper bound is the looser, the grid's ``mixture_ns``, ``mixture_ds``, and its cost ``mixture_seconds``."""
    at = lambda r: Text(f"N = {int(r.n)}, d = {int(r.d)}, σ² = {r.variance:g}")  # noqa: E731
    up, lo = table.loc[table.gap_upper.idxmax()], table.loc[table.gap_lower.idxmax()]
    gapped = table[(table.gap_upper > 0.05) | (table.gap_lower > 0.05)]
    per = table.groupby("variance").agg(upper=("gap_upper", "max"), lower=("gap_lower", "max"), se=("stderr", "max"))
    per = per.reset_index().rename(columns={"variance": "σ²", "upper": "largest upper − MC", "lower": "largest MC − lower",
                                            "se": "largest stderr"})
    return {"table_mixture": styled_table(per.assign(**{"σ²": per["σ²"].map("{:g}".format)}), hide_index=True, precision=3),
            "gap_upper_max": float(up.gap_upper), "gap_upper_at": at(up),
            "gap_lower_max": float(lo.gap_lower), "gap_lower_at": at(lo),
            "mixture_se_max": float(table.stderr.max()), "gapped": len(gapped),
            "looser_upper": int((gapped.gap_upper > gapped.gap_lower).sum()),
            "mixture_ns": spoken_list(sorted(table.n.unique())), "mixture_ds": spoken_list(sorted(table.d.unique())),
            "mixture_seconds": float("nan") if seconds is None else float(seconds)}


# --- Controls ------------------------------------------------------------------------------------

def judged_words(values: Mapping[str, object], judged: bool) -> dict:
    """A controls section's numbers as the page glues them: booleans as verdict words (``judged``:
    whether the runs are long enough to judge), lists spoken, strings as text, numbers as they are."""
    out = {}
    for key, v in values.items():
        if isinstance(v, bool):
            v = Text(verdict(v, judged=judged))
        elif isinstance(v, list):
            v = spoken_list(v)
        elif isinstance(v, str):
            v = Text(v)
        out[key] = v
    return out


# --- Figure A3: the label manifold ----------------------------------------------------------------

#: Class names per dataset, in label order.
CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion-mnist": ["T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                      "sneaker", "bag", "boot"],
    "emnist-letters": [chr(ord("a") + k) for k in range(26)],
}


def class_means(x, y, n_classes: int) -> np.ndarray:
    """Mean image of each class, shape ``(n_classes, D)``, from images ``x`` (N, D) and labels ``y`` (N,)."""
    return np.stack([x[y == c].mean(0).numpy() for c in range(n_classes)])


def nearest_class(images: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Class of the nearest mean image (mean squared pixel distance) of each image: ``images`` (M, D),
    ``means`` (C, D) → (M,) integer labels."""
    d = ((images[:, None, :] - means[None, :, :]) ** 2).mean(-1)
    return d.argmin(1)


def label_manifold_numbers(interp: np.ndarray, a: np.ndarray, means: np.ndarray, classes: Sequence[str],
                           steps: int) -> dict:
    """Figure A3's glued numbers: ``interp`` (classes − 1, n_a, D) decodes label mixtures a·e₀ + (1 − a)·e_j
    along ``a`` (1 → 0). ``end_ok`` counts rows whose a = 0 image is nearest class j; ``abrupt_*`` is the
    share of a row's total RMS change made in its largest step (uniform: 1 / (n_a − 1))."""
    n_rows = interp.shape[0]
    end, start = nearest_class(interp[:, -1], means), nearest_class(interp[:, 0], means)
    steps_px = np.sqrt(((np.diff(interp, axis=1)) ** 2).mean(-1))   # RMS change per a-step, (rows, n_a - 1)
    abrupt = steps_px.max(1) / steps_px.sum(1)
    missed = ", ".join(f"{classes[j + 1]} (decoded as {classes[end[j]]})" for j in range(n_rows) if end[j] != j + 1)
    return {"end_ok": int((end == np.arange(1, n_rows + 1)).sum()), "abrupt_mean": float(abrupt.mean()),
            "abrupt_max": float(abrupt.max()), "uniform_share": 1 / (len(a) - 1), "n_rows": n_rows,
            "start_spread": float(np.abs(interp[:, 0] - interp[0, 0]).max()),
            "step_max": float(steps_px.max()), "step_mean": float(steps_px.mean()),
            "n_a": len(a), "steps": int(steps),
            "class0": Text(classes[0]), "start_class": Text(classes[int(start[0])]), "end_missed": Text(missed or "none")}


# --- Measure your own ----------------------------------------------------------------------------

def recorder_numbers(frame: pd.DataFrame, probe_y, probes: int) -> dict:
    """The recorder example's glued numbers: rows and steps of ``frame``, the ceiling log2 N, H(Y) of
    the probe labels ``probe_y`` (bits), the matrix estimator's I(T;Y) ceiling S(Y) (``s_y``, where
    the frame has ``ceiling_ty``), and I(T;Y), I(X;T) of each estimator and layer at the last step."""
    last = frame[frame.step == frame.step.max()].set_index(["estimator", "layer"])
    p = (probe_y.bincount() / probes).tolist()
    out = {"n_rows": len(frame), "n_steps": int(frame.step.nunique()), "ceiling": math.log2(probes),
           "h_y": float(-sum(q * math.log2(q) for q in p if q > 0))}
    if "ceiling_ty" in frame:
        out["s_y"] = float(frame.ceiling_ty[frame.estimator == "matrix"].iloc[0])
    for est in ("matrix", "noisy-upper", "binning"):
        for layer in ("1", "3"):
            out[f"ity_{est}_{layer}_end"] = float(last.i_ty[(est, layer)])
            out[f"ixt_{est}_{layer}_end"] = float(last.i_xt[(est, layer)])
    return out


def supervised_verdict_text(summary: pd.DataFrame, estimator: str, setting: str, run: str = "classifier") -> str:
    """The paper's supervised claim at one estimator setting, in words: holds (the simplifying layers
    with I(T;Y) flat), does not hold (the layers that simplify while I(T;Y) moves), or why it cannot
    be judged or tested."""
    v = SUP.claim_verdict(summary, run, estimator, setting)
    if not v["judged"]:
        return "cannot be judged (saturated)"
    if not v["simplifying"]:
        return "cannot be tested: no layer simplifies in most seeds"
    moving = [x for x in v["simplifying"] if x not in v["flat"]]

    def verb(layers):
        return " simplifies" if len(layers) == 1 else " simplify"
    if v["holds"]:
        return "holds: " + ", ".join(v["simplifying"]) + verb(v["simplifying"]) + " and I(T;Y) stays flat"
    return "does not hold: " + ", ".join(moving) + verb(moving) + " while I(T;Y) moves"


def supervised_numbers(summary: pd.DataFrame) -> dict:
    """The classifier's glued numbers at the paper's estimator: per layer −ΔI(X;T) and ΔI(T;Y) as
    mean ± sd (``sup_dxt_*``, ``sup_dty_*``), the drop in % of the peak and I(T;Y) at the end; and the
    claim's verdict in words at the matrix estimator and the noisy-layer bound σ² = 0.1 and 1."""
    out = {}
    layer_rows = summary[(summary.run == "classifier") & (summary.estimator == "matrix")].set_index("layer")
    for layer, r in layer_rows.iterrows():
        out[f"sup_dxt_{layer}"] = Text(plus_minus(-r.dI_xt, r.dI_xt_sd))
        out[f"sup_pct_{layer}"] = float(100 * r.dI_xt_frac)
        out[f"sup_dty_{layer}"] = Text(plus_minus(r.dI_ty, r.dI_ty_sd))
        out[f"sup_ity_end_{layer}"] = float(r.ity_end)
    out["sup_verdict_matrix"] = Text(supervised_verdict_text(summary, "matrix", ""))
    out["sup_verdict_noisy"] = Text(supervised_verdict_text(summary, "noisy-upper", "0.1"))
    out["sup_verdict_noisy1"] = (Text(supervised_verdict_text(summary, "noisy-upper", "1")) if (summary.setting == "1").any()
                                 else Text("was not measured in this profile"))
    return out


def encoder_drop_numbers(drops: pd.DataFrame) -> dict:
    """The deep AE's encoder drops (``supervised.encoder_drops``, a row per layer): −ΔI(X;T) as
    mean ± sd (``ae_dxt_*``) and in % of the peak (``ae_pct_*``)."""
    out = {}
    for layer, r in drops.set_index("layer").iterrows():
        out[f"ae_dxt_{layer}"] = Text(plus_minus(-r.dI, r.dI_sd))
        out[f"ae_pct_{layer}"] = float(r.pct)
    return out


# --- Sensitivity: verdicts ----------------------------------------------------------------------

def gamma_phases(rows: pd.DataFrame) -> pd.DataFrame:
    """The bottleneck's simplifying phase at every Scott's-rule scale γ of the grid (the paper's α, N
    and test probes otherwise): :func:`ipbook.claims.robustness.simplifying_over_checkpoints` rows at
    layer Z with a ``gamma`` column."""
    scott = [s for s in R.grid_settings(rows)
             if s.rule == "scott" and s.alpha == SENS.PAPER.alpha and s.n == SENS.PAPER.n and s.probe == "test"]
    per_gamma = []
    for s in scott:
        ph = R.simplifying_over_checkpoints(rows, s)
        per_gamma.append(ph[ph.layer == "Z"].assign(gamma=s.gamma))
    return pd.concat(per_gamma, ignore_index=True)


def gamma_numbers(rows: pd.DataFrame, per_gamma: pd.DataFrame) -> dict:
    """The γ section's glued numbers: probe draws at the paper's setting and the median sd between
    them, and the median ΔI(Z) of shallow, sparse and deep at γ = 2 and at the largest γ."""
    paper = rows[(rows.rule == "scott") & (rows.gamma == 2) & (rows.alpha == 1.01) & (rows.n == 100) & (rows.probe == "test")]
    gamma_max = float(per_gamma.gamma.max())
    out = {"n_draws": int(paper.draw.nunique()),
           "draw_sd_median": float(SENS.probe_noise(rows).sd.median()) if rows.draw.nunique() > 1 else float("nan")}
    z = per_gamma.groupby(["run", "gamma"]).dI.median()
    for run in ["shallow", "sparse", "deep"]:
        if run in z.index.get_level_values(0):
            out[f"{run}_dI_g2"] = float(z[(run, 2.0)])
            out[f"{run}_dI_gmax"] = float(z[(run, gamma_max)])
    out["gamma_max"] = gamma_max
    return out


# --- Second opinion ------------------------------------------------------------------------------

def with_paper_column(matrix: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """``matrix`` (claims × estimator settings) with the paper's kernel as its first column, read
    from the committed sensitivity grid of ``dataset`` ("k/n" seeds, "cannot judge", "–" for a claim
    it lacks); ``matrix`` unchanged when that grid is not committed."""
    tables = SENS.load_tables(dataset)
    if tables is None:
        return matrix
    paper_col = R.robustness_matrix(tables[0], [SENS.PAPER])
    n = pd.DataFrame(paper_col.attrs["n"])
    col = paper_col.columns[0]
    matrix.insert(0, "paper's kernel", [("–" if c not in paper_col.index else "cannot judge" if n.loc[c, col] == 0
                                         else f"{paper_col.loc[c, col]}/{n.loc[c, col]}") for c in matrix.index])
    return matrix


def second_opinion_tables(matrix: pd.DataFrame, sat: pd.DataFrame) -> dict:
    """The second opinion's verdict tables (claims as rows, in two tables that fit a page: the noisy
    upper and lower bounds with the paper's kernel leading; binning and the VAE's bounds), the
    saturation table (% of estimates at the ceiling) and the settings that are always saturated."""
    noisy_part, other_part = SO.split_verdict_matrix(matrix.rename_axis(index="claim"), first="paper's kernel")
    lead = [col for col in noisy_part.columns if col[0] == "paper's kernel"]
    out = {key: styled_table(noisy_part[lead + [col for col in noisy_part.columns if col[0] == family]])
           for key, family in [("table_so_matrix", "noisy upper bound"), ("table_so_matrix_lower", "noisy lower bound")]}
    out["table_so_matrix_other"] = styled_table(other_part)
    out["table_so_saturation"] = styled_table(sat.assign(share=100 * sat.share).rename(
        columns={"column": "estimator", "share": "saturated [%]"}), hide_index=True, precision=0)
    out["saturated_settings"] = spoken_list(sat[sat.share >= 0.99].column.tolist())
    return out


def second_opinion_drops(drops: pd.DataFrame) -> dict:
    """The drop table (``SO.drop_matrix``) and, for shallow, sparse and deep, the bottleneck's drop in
    % of the peak (``<run>_<setting>_pct``) and the seeds that simplify (``<run>_<setting>_k``) at four
    estimator settings."""
    out = {"table_so_drops": styled_table(SO.drop_matrix(drops))}
    key = drops.set_index(["run", "column"])
    for run in ("shallow", "sparse", "deep"):
        for column, name in (("noisy-upper σ²=0.1", "nu01"), ("noisy-upper σ²=0.001", "nu0001"),
                             ("binning 30 bins", "bin30"), ("noisy-upper σ²=1", "nu1")):
            out[f"{run}_{name}_pct"] = float(key.pct.get((run, column), float("nan")))
            out[f"{run}_{name}_k"] = int(key.simplifies.get((run, column), 0))
    return out


def vae_bound_numbers(vae: pd.DataFrame) -> dict:
    """The VAE's two bounds on I(X;Z) over training (median over seeds): the rate's minimum, its step
    and its end, and the lower bound's end, from ``SO.series`` rows of the VAE's Z."""
    rate = vae[vae.estimator == "vae-rate"].groupby("step").bits.median()
    lower = vae[vae.estimator == "vae-lower"].groupby("step").bits.median()
    nan = float("nan")
    return {"paper_ceiling": math.log2(100),
            "vae_rate_min": float(rate.min()) if len(rate) else nan,
            "vae_rate_min_step": int(rate.idxmin()) if len(rate) else 0,
            "vae_rate_end": float(rate.iloc[-1]) if len(rate) else nan,
            "vae_lower_end": float(lower.iloc[-1]) if len(lower) else nan}


def saxe_numbers(act_drops: pd.DataFrame) -> dict:
    """Saxe et al.'s claim (saturating activations simplify, ReLU and linear do not) per estimator
    setting, from ``SO.activation_drops``: the settings where it holds, fails or cannot be judged, in
    words; their counts; and each model's and activation's drop in % of the peak at two settings."""
    saxe = SO.saxe_verdicts(act_drops)
    out = {}
    for key, verdict_ in (("saxe_holds", "holds"), ("saxe_fails", "does not hold"), ("saxe_saturated", "cannot judge")):
        found = [column for column, v in saxe.items() if v == verdict_]
        out[key] = spoken_list(found) if found else Text("none")
    out["saxe_n_holds"] = int((saxe == "holds").sum())
    out["saxe_n_settings"] = len(saxe)
    out["saxe_nu01"] = Text(saxe.get("noisy-upper σ²=0.1", "–"))
    pct = act_drops.set_index(["column", "model", "activation"])
    for model in ("shallow", "deep"):
        for a in ACTIVATION_NAMES:
            for column, name in (("noisy-upper σ²=0.1", "nu01"), ("binning 30 bins", "bin30")):
                out[f"act_{model}_{a}_{name}"] = float(pct.pct.get((column, model, a), float("nan")))
    return out


def robustness_numbers(rows: pd.DataFrame, matrix: pd.DataFrame) -> dict:
    """The robustness chapter's glued numbers: the judge's margins, seeds and settings of the grid,
    the paper setting's simplifying phases (probe noise, peaks, layers that cannot be judged or are
    pinned), the smallest detectable drop, and the claims robust, fragile, ... (``claims_*``, ``n_claims_*``)."""
    phase = R.simplifying_over_checkpoints(rows)
    steps = np.sort(SENS.at_setting(rows).step.unique())
    out = {"margin_bits": V.MARGIN_BITS, "margin_pct": 100 * V.MARGIN_FRAC, "n_seeds_grid": matrix.attrs["n_seeds"],
           "n_settings": matrix.shape[1], "noise_median": float(phase.noise.median()),
           "noise_max": float(phase.noise.max()), "n_layers_paper": len(phase),
           "n_cannot_paper": int((phase.verdict == V.CANNOT).sum()),
           "n_pinned_paper": int((phase.kind == "pinned").sum()), "peak_median": float(phase.peak.median()),
           "detectable": V.detectable_drop(float(phase.noise.median()), steps, peak=float(phase.peak.median()))
           if len(steps) >= V.MIN_STEPS else float("nan")}
    for key, claims in R.robustness_summary(matrix).items():
        if key == "mixed":      # the counts say how each is mixed
            claims = [R.counted(matrix, c) for c in claims]
        out[f"claims_{key}"] = Text("; ".join(claims) if claims else "none")
        out[f"n_claims_{key}"] = len(claims)
    return out


def probe_difference(rows: pd.DataFrame) -> float:
    """Largest |ΔI| between the simplifying phases measured with test and with training probes (bits),
    over runs, seeds and layers."""
    test_ph = R.simplifying_over_checkpoints(rows).set_index(["run", "seed", "layer"]).dI
    train_ph = R.simplifying_over_checkpoints(rows, SENS.Setting(probe="train")).set_index(["run", "seed", "layer"]).dI
    return float((test_ph - train_ph).abs().max())


# --- Sensitivity: the measure -------------------------------------------------------------------

def input_entropy_at(s_x: pd.DataFrame, gamma: float, n: int) -> float:
    """S(X) of ``input_entropy_table`` at Scott's-rule scale ``gamma`` and ``n`` probe images (bits)."""
    return float(s_x[(s_x.gamma == gamma) & (s_x.n == n)].s_x.iloc[0])


def input_entropy_numbers(s_x: pd.DataFrame) -> dict:
    """S(X) on 100 test images at γ = 2, 8, 16 and on the most images at γ = 2, with the ceilings log2 N."""
    n_max = int(s_x.n.max())
    out = {f"sx_g{g}": input_entropy_at(s_x, g, 100) for g in (2, 8, 16)}
    out.update({"sx_n_max": input_entropy_at(s_x, 2, n_max), "n_max_used": n_max,
                "ceiling_n_max": math.log2(n_max), "ceiling_100": math.log2(100)})
    return out


def collapse_numbers(rows: pd.DataFrame, dev: pd.DataFrame) -> dict:
    """How far I(X;T) and I(T;X′) sit from S(T) (``collapse_deviation``'s ``dev``): the largest
    deviations, where I(T;X′) deviates most, the paper setting's rows, and I(X;T) − S(T) at γ = 16."""
    worst = dev.loc[dev.dev_tx.idxmax()]
    wide = SENS.at_setting(rows, SENS.Setting(gamma=16.0))
    return {"max_dev_xt": float(dev.dev_xt.max()), "max_dev_tx": float(dev.dev_tx.max()),
            "worst_tx": Text(f"{worst.run} {worst.layer}"), "n_paper_rows": len(SENS.at_setting(rows)),
            "max_dev_xt_g16": float((wide.i_xt - wide.s_t).abs().max())}


def rescaling_shallow_z(rescaling: pd.DataFrame) -> pd.Series:
    """The shallow AE's I(X;Z) (median over seeds and steps) at the smallest and largest rescaling factor c."""
    last = rescaling[rescaling.factor.isin([min(SENS.RESCALING_FACTORS), max(SENS.RESCALING_FACTORS)])]
    return last[(last.run == "shallow") & (last.layer == "Z")].groupby("factor").i_xt.median()


def rescaling_numbers(rescaling: pd.DataFrame) -> dict:
    """I(X;Z) of the shallow AE under the smallest and largest rescaling factor, and the factors."""
    z = rescaling_shallow_z(rescaling)
    return {"resc_lo": float(z.iloc[0]), "resc_hi": float(z.iloc[-1]),
            "resc_c_lo": min(SENS.RESCALING_FACTORS), "resc_c_hi": max(SENS.RESCALING_FACTORS)}


def geometry_numbers(rows: pd.DataFrame, geometry: pd.DataFrame, runs: Sequence[str] = ("shallow", "deep", "sparse")) -> dict:
    """The bottleneck's geometry at the checkpoint where each seed's I(X;Z) peaks (``_peak``) and at
    the end (``_final``), median over seeds: % of saturated units, the distance between codes over
    the kernel width; the simplifying phase's ΔI(Z) per run; and ``geometry_change``, what the data
    say happens between peak and end (:func:`geometry_change`)."""
    phase = R.simplifying_over_checkpoints(rows)
    z = geometry[geometry.layer == "Z"].rename(columns={"step": "peak_step"})
    at_peak = phase[phase.layer == "Z"].merge(z, on=["run", "seed", "peak_step"]).groupby("run")
    final = geometry[geometry.step == geometry.groupby(["run", "seed"]).step.transform("max")]
    zf = final[final.layer == "Z"].groupby("run")[["saturated", "distance_over_sigma"]].median()
    dz = phase[phase.layer == "Z"].groupby("run").dI.median()
    out = {}
    for run in runs:
        out.update({f"{run}_sat_final": 100 * float(zf.saturated[run]), f"{run}_dist_final": float(zf.distance_over_sigma[run]),
                    f"{run}_sat_peak": 100 * float(at_peak.saturated.median()[run]),
                    f"{run}_dist_peak": float(at_peak.distance_over_sigma.median()[run]),
                    f"{run}_dI_ckpt": float(dz[run])})
    out["geometry_change"] = geometry_change(out, runs)
    return out


def geometry_change(numbers: dict, runs: Sequence[str]) -> Text:
    """Between the peak of I(X;Z) and the end, in words from :func:`geometry_numbers`: whether the
    bottleneck's units saturate or leave saturation, and whether its probes draw together or apart
    relative to σ, in every run or per run."""
    fell = {k: [r for r in runs if numbers[f"{r}_{k}_final"] < numbers[f"{r}_{k}_peak"]] for k in ("sat", "dist")}
    if all(len(f) == len(runs) for f in fell.values()):
        return Text("in every one of these runs the units leave saturation (their saturated share falls) and the "
                    "probes draw together relative to σ: the layer contracts; it does not saturate")
    words = {"sat": ("the units leave saturation", "the units saturate further"),
             "dist": ("the probes draw together relative to σ", "the probes spread apart relative to σ")}
    parts = []
    for k, (down, up) in words.items():
        rest = [r for r in runs if r not in fell[k]]
        parts += [f"in {spoken_list(fell[k])} {down}"] if fell[k] else []
        parts += [f"in {spoken_list(rest)} {up}"] if rest else []
    return Text("; ".join(parts))


# --- Measure your own: the supervised control ----------------------------------------------------

#: The supervised control's runs by activation (legend label → run).
SUPERVISED_RUNS = {"sigmoid": "classifier", "tanh": "classifier-tanh", "ReLU": "classifier-relu"}


def supervised_page(sup: pd.DataFrame, ae_runs: Sequence, ae_note: str) -> dict:
    """Everything the supervised section glues: the flatness threshold, seeds, probe size and
    iterations of ``sup`` (``supervised.plane_frame``), its information planes at the matrix estimator
    and the noisy-layer bound σ² = 0.1, its three tables, :func:`supervised_numbers`, and the deep AE's
    encoder drops over ``ae_runs`` (:func:`encoder_drop_numbers`)."""
    summary = SUP.contrast_summary(SUP.contrast(sup))
    n_sup, n_big = int(sup[sup.run == "classifier"].seed.nunique()), int(sup[sup.estimator != "matrix"].n.max())
    out = {"flat_bits": SUP.FLAT_BITS, "n_sup_seeds": Text(f"{n_sup} seed" + ("s" if n_sup != 1 else "")),
           "n_big": n_big, "sup_steps": int(sup.step.max())}
    for est, setting, key in [("matrix", "", "matrix"), ("noisy-upper", "0.1", "noisy")]:
        out[f"fig_sup_{key}"] = plot_supervised(sup, SUPERVISED_RUNS, estimator=est, setting=setting,
                                                ceiling=math.log2(100 if est == "matrix" else n_big))
    out["tab_sup_layers"] = styled_table(SUP.contrast_table(summary))
    out["tab_sup_grid"] = styled_table(SUP.verdict_grid(summary))
    out["tab_sup_act"] = styled_table(SUP.activation_table(summary, SUPERVISED_RUNS))
    out.update(supervised_numbers(summary))
    out["ae_note"] = Text(ae_note)
    out.update(encoder_drop_numbers(SUP.encoder_drops(ae_runs)))
    return out


# --- Figure 1 and the summary --------------------------------------------------------------------

def dataset_samples(n_samples: int) -> tuple[dict, list]:
    """The first test image of each of the first ``n_samples`` classes of every dataset,
    ``{name: (n, 784) array}``, and the datasets missing offline. MNIST and Fashion-MNIST must be
    there (a missing one raises); EMNIST cannot be had offline and is listed as missing."""
    samples, missing = {}, []
    for name in DATASET_NAMES:
        try:
            samples[name] = load_dataset(name, "test", download=False).examples(n_samples).numpy()
        except DatasetNotFoundError:
            if name != "emnist-letters":
                raise
            missing.append(name)
    return samples, missing


def seed_sweep_note(seeds: Mapping, dataset: str, tol: float) -> str:
    """The summary's paragraph on seeds (Markdown): with two or more seeds of the seed sweep, what the
    claims table shows over them and the claims whose verdict is not the same in every seed; else that
    the page rests on one seed and the command that computes the five."""
    if len(seeds) >= 2:
        changes = seed_verdict_changes(seeds, tol=tol)
        return (f"The same seven runs with {len(seeds)} seeds ({', '.join(map(str, seeds))}) of the `seeds` profile "
                "(the paper's settings, the information plane every 10 iterations): the claims table above gives each "
                "claim's headline number as mean ± standard deviation over the seeds and the seeds in which it holds. "
                "Verdicts that are not the same for every seed: " + ("; ".join(changes) if changes else "none") + ".")
    return (f"This page rests on one seed: fewer than two seeds of the seed sweep hold all seven runs for "
            f"{dataset}. `python -m ipbook sweep --profile seeds --dataset {dataset}` computes the five "
            "seeds of every run; the paper-profile page then shows each claim over seeds.")
