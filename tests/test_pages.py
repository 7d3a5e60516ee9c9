"""What the pages glue (ipbook.site.pages) and the pages' figures (ipbook.site.figures), on inputs
whose numbers are known: closed forms, hand-built curves and tables. Information in bits."""
import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch

matplotlib.use("Agg")

from ipbook.experiments.appendix import gaussian_mi_scan, gaussian_mi_theory  # noqa: E402
from ipbook.site import figures as FIG  # noqa: E402
from ipbook.site import pages  # noqa: E402
from ipbook.text import plus_minus  # noqa: E402


@pytest.fixture(scope="module")
def scan():
    # 3 rhos x 2 fractions, N = 200: well under a second
    return gaussian_mi_scan([0.0, 0.5, 0.99], n=200, bins=[5, 20], gammas=(2.0,), fractions=[0.5, 1.0], seed=0)


def test_gaussian_numbers_follow_the_closed_forms(scan):
    numbers = pages.gaussian_numbers(scan, [5, 20], 20, 2.0, 200)
    assert numbers["theory_hi"] == pytest.approx(gaussian_mi_theory(0.99)) == pytest.approx(-0.5 * math.log2(1 - 0.99 ** 2))
    assert numbers["cond_sd_hi"] == pytest.approx(math.sqrt(1 - 0.99 ** 2))
    assert numbers["sigma"] == pytest.approx(2.0 * 200 ** -0.2)
    assert (numbers["n_full"], numbers["n_min"], numbers["p_min"]) == (200, 100, 0.5)
    assert numbers["gap_hi"] == pytest.approx(numbers["theory_hi"] - numbers["kernel_hi"])
    # at rho = 0 the truth is 0 bits, so the kernel's error is its estimate, and binning is biased upward
    assert numbers["err_rho0"] == pytest.approx(float(scan["kernel"][1, 0, 0]))
    bias = pages.binning_bias_at_zero(scan)
    assert bias.shape == (2,) and (numbers["bias_min"], numbers["bias_max"]) == (bias[0], bias[1])
    assert 0 < bias[0] < bias[1]                        # more bins, more bias on independent data
    table = pages.gaussian_table(scan, [5, 20], 20, 2.0)
    assert list(table["theory [bits]"]) == pytest.approx([0.0, round(gaussian_mi_theory(0.5), 3), round(numbers["theory_hi"], 3)])


def test_max_decrease_is_the_fall_below_the_running_maximum():
    assert pages.max_decrease([1.0, 3.0, 2.0, 5.0, 4.5]) == 1.0
    assert pages.max_decrease([0.0, 1.0, 1.0, 2.0]) == 0.0


def test_weight_numbers_of_hand_built_curves():
    ws, stds = np.array([0.1, 1.0, 10.0]), np.array([0.01, 1.0])
    scalar = {"sigmoid": np.array([0.5, 2.0, 1.5]), "relu": np.array([0.1, 0.2, 0.3])}
    matrix = {"sigmoid": np.array([3.0, 2.5]), "relu": np.array([1.0, 6.0])}
    n = pages.weight_numbers(scalar, matrix, ws, stds, ["sigmoid", "relu"], 64)
    assert (n["log2n"], n["sig_peak"], n["sig_w_peak"], n["sig_last"]) == (6.0, 2.0, 1.0, 1.5)
    assert (n["sig_drop"], n["sig_drop_pct"], n["msig_drop"]) == (0.5, 25.0, 0.5)
    assert (n["relu_dec"], n["mrelu_dec"], n["mrelu_last"], n["sigmoid_dec"]) == (0.0, 0.0, 6.0, 0.5)


def test_calibration_numbers_read_the_seed_means():
    rows = []
    for n in (100, 1000):
        for d in (5, 25, 50):
            for est, bits in (("matrix-paper", 1 + d / 100), ("ksg", 2.0)):
                rows.append(dict(family="gaussian-sparse", d=d, estimator=est, n=n, setting="", bits=bits + n / 1e4, true_bits=2.0))
        rows.append(dict(family="linear-channel", d=1, estimator="matrix-paper", n=n, setting="", bits=3.0, true_bits=0.5 + n / 1e3))
    means = pd.DataFrame(rows)
    n = pages.calibration_page_numbers(means, 100, 1000)
    assert (n["ceil_lo"], n["ceil_hi"]) == pytest.approx((math.log2(100), math.log2(1000)))
    assert (n["d_small"], n["d_big"], n["truth_sparse"]) == (5, 25, 2.0)      # 25 when present, not the largest
    assert n["paper_sparse_big_hi"] == pytest.approx(1.25 + 0.1) and n["ksg_sparse_small_lo"] == pytest.approx(2.01)
    assert math.isnan(n["median_sparse_small_lo"])                           # an estimator not in the table
    assert (n["channel_truth_min"], n["channel_paper_max"]) == (1.5, 3.0)     # at the largest N only


def test_judged_words_speak_verdicts_lists_and_text():
    values = {"ok": True, "bad": False, "ns": [5, 10, 20], "word": "rises", "x": 1.5}
    words = {k: str(v) for k, v in pages.judged_words(values, judged=True).items()}
    assert words == {"ok": "supported", "bad": "not supported", "ns": "5, 10 and 20", "word": "rises", "x": "1.5"}
    assert str(pages.judged_words({"ok": True}, judged=False)["ok"]) == "cannot be judged (the run is too short)"


def test_label_manifold_numbers_on_straight_lines():
    means = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    a = np.array([1.0, 0.5, 0.0])
    interp = np.stack([np.outer(1 - a, means[j]) for j in (1, 2)])         # rows walk from class 0 to class j
    assert list(pages.nearest_class(interp[:, -1], means)) == [1, 2]
    n = pages.label_manifold_numbers(interp, a, means, ["zero", "one", "two"], 400)
    assert (n["end_ok"], n["n_rows"], n["n_a"], n["steps"], n["start_spread"]) == (2, 2, 3, 400, 0.0)
    # equal steps: the largest step is half the change, as for a uniform walk
    assert n["abrupt_max"] == pytest.approx(0.5) and n["uniform_share"] == 0.5
    assert n["step_max"] == pytest.approx(math.sqrt(0.25 / 2))
    assert (str(n["class0"]), str(n["start_class"]), str(n["end_missed"])) == ("zero", "zero", "none")


def test_recorder_numbers_entropy_and_ceiling():
    frame = pd.DataFrame([dict(step=s, estimator=e, layer=l, i_xt=s / 10, i_ty=s / 100)
                          for s in (10, 20) for e in ("matrix", "noisy-upper", "binning") for l in ("1", "3")])
    n = pages.recorder_numbers(frame, torch.tensor([0, 0, 1, 1, 2, 2, 3, 3]), 8)
    assert (n["n_rows"], n["n_steps"], n["ceiling"], n["h_y"]) == (12, 2, 3.0, 2.0)   # 4 equal classes: 2 bits
    assert (n["ixt_binning_3_end"], n["ity_matrix_1_end"]) == (2.0, 0.2)
    assert "s_y" not in n
    frame["ceiling_ty"] = [1.5 if e == "matrix" else 2.0 for e in frame.estimator]   # the recorder's S(Y), H(Y)
    assert pages.recorder_numbers(frame, torch.tensor([0, 0, 1, 1, 2, 2, 3, 3]), 8)["s_y"] == 1.5


def test_plus_minus_and_encoder_drops():
    assert plus_minus(0.4213, 0.05) == "+0.42 ± 0.05" and plus_minus(-1.0, float("nan")) == "-1.00"
    drops = pd.DataFrame({"layer": ["E1", "Z"], "dI": [0.5, 1.25], "dI_sd": [0.1, float("nan")], "pct": [10.0, 20.0]})
    n = {k: str(v) for k, v in pages.encoder_drop_numbers(drops).items()}
    assert n == {"ae_dxt_E1": "-0.50 ± 0.10", "ae_pct_E1": "10.0", "ae_dxt_Z": "-1.25", "ae_pct_Z": "20.0"}


def test_vae_bound_numbers_take_medians_over_seeds():
    vae = pd.DataFrame([dict(estimator=e, step=s, seed=k, bits=b + k)
                        for e, b0 in (("vae-rate", 10.0), ("vae-lower", 2.0)) for k in (0, 1, 2)
                        for s, b in ((0, b0), (10, b0 - 4), (20, b0 - 3))])
    n = pages.vae_bound_numbers(vae)
    assert (n["vae_rate_min"], n["vae_rate_min_step"], n["vae_rate_end"], n["vae_lower_end"]) == (7.0, 10, 8.0, 0.0)
    assert n["paper_ceiling"] == pytest.approx(math.log2(100))


def test_input_entropy_numbers():
    s_x = pd.DataFrame([dict(gamma=g, n=n, s_x=math.log2(n) - 0.01 * g) for g in (2, 8, 16) for n in (100, 500)])
    n = pages.input_entropy_numbers(s_x)
    assert (n["sx_g8"], n["n_max_used"], n["ceiling_n_max"]) == pytest.approx((math.log2(100) - 0.08, 500, math.log2(500)))
    assert n["sx_n_max"] == pytest.approx(math.log2(500) - 0.02)


def test_weight_figure_marks_the_ceiling():
    ws = np.array([0.1, 1.0])
    curves = {"relu": np.array([0.5, 1.0])}
    fig = FIG.weight_figure(ws, ws, curves, curves, ["relu"], 256)
    ax_b = fig.axes[1]
    assert len(fig.axes) == 2 and ax_b.lines[-1].get_ydata()[0] == 8.0     # log2 256, after the curves
    matplotlib.pyplot.close(fig)


def test_gaussian_figure_has_every_panel(scan):
    fig = FIG.gaussian_figure(scan, [5, 20], 20, 2.0, 200, [0.0, 0.5], seed=0)
    assert len(fig.axes) == 2 + 4
    ax_c = fig.axes[3]
    assert len(ax_c.lines) == 1 + 2                   # theory and one curve per bin level
    matplotlib.pyplot.close(fig)


def test_calibration_shifts_name_the_largest_shift_and_its_map():
    shifts = pd.DataFrame({"rotation": [0.0, 0.5, 0.1], "scaling": [2.0, 0.25, 0.0]},
                          index=pd.Index(["matrix-paper", "ksg", "binning"], name="key"))
    n = pages.calibration_shifts(shifts)
    assert (n["shift_paper_max"], n["shift_paper_map"], n["shift_ksg_max"], n["shift_ksg_map"]) == (2.0, "scaling", 0.5, "rotation")
    assert (n["shift_any_max"], n["shift_any_key"]) == (2.0, "matrix-paper under the scaling map")
    no_ksg = pages.calibration_shifts(shifts.drop(index="ksg"))
    assert math.isnan(no_ksg["shift_ksg_max"]) and no_ksg["shift_ksg_map"] == "–"


def test_one_seed_note_names_the_command_for_five():
    note = pages.seed_sweep_note({0: {}}, "mnist", tol=0.05)
    assert note.startswith("This page rests on one seed") and "--profile seeds --dataset mnist" in note


def test_a_chapter_reads_the_committed_result_at_the_paper_profile_and_else_computes_it(capsys):
    from ipbook.site.openers import committed_or_now

    calls = []
    now = lambda: calls.append("now") or (2, "computed")   # noqa: E731
    assert committed_or_now("paper", lambda: (1, "committed."), now, glue_as="x_note", missing="x") == (1, "committed.")
    assert calls == []
    assert committed_or_now("paper", lambda: None, now, glue_as="x_note",
                            missing="x table exists") == (2, "computed; no committed x table exists.")
    assert committed_or_now("quick", lambda: (1, "committed."), now, glue_as="x_note", missing="x") == (2, "computed.")
    assert calls == ["now", "now"]


def test_the_geometry_words_follow_the_data():
    """The saturated share and the distances between peak and end decide the words: the paper-profile
    shallow AE's units leave saturation while its layer contracts, so "saturates" must not be said."""
    both_fall = {"a_sat_peak": 63.0, "a_sat_final": 0.02, "a_dist_peak": 1.6, "a_dist_final": 1.1}
    words = str(pages.geometry_change(both_fall, ["a"]))
    assert "leave saturation" in words and "contracts" in words and "it does not saturate" in words
    mixed = {**both_fall, "b_sat_peak": 1.0, "b_sat_final": 5.0, "b_dist_peak": 1.0, "b_dist_final": 2.0}
    words = str(pages.geometry_change(mixed, ["a", "b"]))
    assert words == ("in a the units leave saturation; in b the units saturate further; "
                     "in a the probes draw together relative to σ; in b the probes spread apart relative to σ")
