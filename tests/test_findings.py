"""ipbook.claims.paper on hand-made metrics with known answers."""
import numpy as np
import pytest

from ipbook import measures as M
from ipbook import text as T
from ipbook.claims import findings as CF
from ipbook.claims import paper as F
from ipbook.nets.runs import Run

LAYERS5 = np.array(["E1", "E2", "Z", "D1", "D2"])


def rise_and_fall(n=1001, top=3.0, end=2.0, peak_at=300):
    """Piecewise linear: 0 -> top at `peak_at`, then down to `end` at the last point."""
    x = np.empty(n)
    x[:peak_at + 1] = np.linspace(0, top, peak_at + 1)
    x[peak_at:] = np.linspace(top, end, n - peak_at)
    return x


def metrics(i_xt, i_tx, layers, steps=None, train_loss=None, test_loss=None):
    i_xt, i_tx = np.asarray(i_xt, float), np.asarray(i_tx, float)
    if i_xt.ndim == 1:
        i_xt, i_tx = i_xt[:, None], i_tx[:, None]
    s = len(i_xt)
    tl = np.linspace(1.0, 0.1, 1000) if train_loss is None else np.asarray(train_loss, float)
    te = np.linspace(1.0, 0.1, 11) if test_loss is None else np.asarray(test_loss, float)
    return {"step": np.arange(s) if steps is None else np.asarray(steps), "i_xt": i_xt, "i_tx": i_tx,
            "layers": np.asarray(layers), "loss_step": np.arange(1, len(tl) + 1), "train_loss": tl,
            "test_loss_step": np.linspace(0, len(tl), len(te)).astype(int), "test_loss": te}


# ----------------------------------------------------------------------------- smoothing
def test_window_is_one_percent_with_a_floor():
    assert M.smoothing_window(30001) == 300
    assert M.smoothing_window(201) == 3
    assert M.smoothing_window(2) == 2


def test_moving_average_known_values():
    np.testing.assert_allclose(M.moving_average([1, 2, 3, 4, 5], 2), [1.5, 2.5, 3.5, 4.5])
    np.testing.assert_allclose(M.moving_average([1, 2, 3], 3), [2.0])
    with pytest.raises(ValueError):
        M.moving_average([1, 2], 3)


# ----------------------------------------------------------------------------- simplifying phase
def test_rise_to_3_fall_to_2_gives_delta_1():
    x = rise_and_fall()
    sp = M.simplifying_phase(x, steps=np.arange(len(x)) * 10)
    assert sp["dI_raw"] == pytest.approx(1.0)
    # a 10-point window on a peak with slopes 0.01 and 0.0014 per point barely lowers it
    assert sp["window"] == 10
    assert sp["dI"] == pytest.approx(1.0, abs=0.03)
    assert sp["final"] == pytest.approx(2.0, abs=0.01)
    assert abs(sp["peak_step"] - 3000) <= 50


def test_monotone_rise_has_no_simplifying_phase():
    x = np.linspace(0, 4, 500)
    sp = M.simplifying_phase(x)
    assert sp["dI"] == 0.0 and sp["dI_raw"] == 0.0


def test_smoothing_ignores_single_iteration_noise_but_raw_does_not():
    # a monotone rise plus one high spike near the end: raw counts ~0.5 bits of "compression";
    # in the smoothed trajectory (window 10) the spike adds at most 0.5 / 10 to any window
    x = np.linspace(0, 2, 1000)
    x[-5] += 0.5
    sp = M.simplifying_phase(x)
    assert sp["dI_raw"] == pytest.approx(2 + 0.5 - 2 - (2 / 999) * 4, abs=1e-9)
    assert sp["dI"] < 0.06


def test_explicit_window():
    sp = M.simplifying_phase([0, 1, 3, 1, 0], window=1)
    assert sp["dI"] == 3 and sp["peak_step"] == 2
    sp = M.simplifying_phase([0, 1, 3, 1, 0], window=3)   # means 4/3, 5/3, 4/3
    assert sp["dI"] == pytest.approx(1 / 3) and sp["peak_step"] == 2


def test_rise_step():
    steps = np.arange(101) * 10
    x = np.linspace(0, 4, 101)                        # reaches half its final value at index 50
    assert M.rise_step(x, steps, window=1) == 500
    assert M.rise_step(x, steps, fraction=0.25, window=1) == 250
    assert M.rise_step(x, steps, window=3) == 500     # a symmetric window does not shift a ramp


def test_spoken_list_is_not_read_as_a_tuple():
    import ast

    assert str(T.spoken_list([5, 10, 20])) == "5, 10 and 20" and str(T.spoken_list([5])) == "5"
    assert str(T.spoken_list([])) == "none" and str(T.spoken_list([], empty="no width")) == "no width"
    with pytest.raises((ValueError, SyntaxError)):
        ast.literal_eval(str(T.spoken_list([5, 10, 20])))


def test_text_displays_without_quotes():
    t = T.Text("supported")
    assert repr(t) == "supported" and str(t) == "supported" and t == "supported"
    assert T.verdict(True) == "supported" and T.verdict(False) == "not supported"
    assert T.verdict(True, judged=False).text.startswith("cannot be judged")


# ----------------------------------------------------------------------------- diagonal
def test_diagonal_gap_averages_the_last_percent():
    n = 1000
    i_xt = np.full(n, 3.0)
    i_tx = np.full(n, 2.0)
    i_tx[-10:] = 2.96              # the last 1 %: gap 0.04
    d = M.diagonal_gap(i_xt, i_tx)
    assert d["gap"] == pytest.approx(0.04)
    assert d["min"] == pytest.approx(0.04)


def test_diagonal_min_skips_the_first_ten_percent():
    i_xt = np.ones(100)
    i_tx = np.ones(100) * 0.5
    i_tx[5] = 2.0                  # I(T;X') > I(X;T) early: ignored
    i_tx[50] = 1.3                 # later: counted
    assert M.diagonal_gap(i_xt, i_tx)["min"] == pytest.approx(-0.3)


# ----------------------------------------------------------------------------- DPI
def clean_deep(s=100):
    t = np.linspace(0, 1, s)[:, None]
    i_xt = t * np.array([5.0, 4.0, 3.0, 2.5, 2.0])     # E1 >= E2 >= Z; D1, D2 below Z
    i_tx = t * np.array([3.5, 3.0, 2.0, 2.2, 2.4])     # Z <= D1 <= D2
    return i_xt, i_tx


def test_clean_chain_has_no_violation():
    d = M.dpi_violations(*clean_deep(), LAYERS5)
    assert d["enc_violations"] == 0 and d["dec_violations"] == 0
    assert d["enc_max"] == 0.0 and d["dec_max"] == 0.0
    assert len(d["pairs"]) == 4


def test_planted_encoder_violations_are_counted_with_their_max():
    i_xt, i_tx = clean_deep()
    i_xt[40, 1] = i_xt[40, 0] + 0.3      # I(X;E2) > I(X;E1) by 0.3
    i_xt[70, 2] = i_xt[70, 1] + 0.2      # I(X;Z) > I(X;E2) by 0.2
    i_xt[90, 2] = i_xt[90, 1] + 0.04     # within tol: not counted, but it is no max either
    d = M.dpi_violations(i_xt, i_tx, LAYERS5, tol=0.05)
    assert d["enc_violations"] == 2
    assert d["enc_steps"] == [40, 70]
    assert d["enc_max"] == pytest.approx(0.3)
    assert d["dec_violations"] == 0


def test_planted_decoder_violations_are_counted_with_their_max():
    i_xt, i_tx = clean_deep()
    i_tx[10, 2] = i_tx[10, 3] + 0.5      # I(Z;X') > I(D1;X') by 0.5
    i_tx[20, 3] = i_tx[20, 4] + 0.1      # I(D1;X') > I(D2;X') by 0.1
    d = M.dpi_violations(i_xt, i_tx, LAYERS5, tol=0.05)
    assert d["dec_violations"] == 2 and d["dec_steps"] == [10, 20]
    assert d["dec_max"] == pytest.approx(0.5)
    assert d["enc_violations"] == 0


def test_a_small_break_is_the_max_but_not_a_violation():
    i_xt, i_tx = clean_deep()
    i_xt[50, 1] = i_xt[50, 0] + 0.03
    d = M.dpi_violations(i_xt, i_tx, LAYERS5, tol=0.05)
    assert d["enc_violations"] == 0 and d["enc_max"] == pytest.approx(0.03)


def test_exclude_skips_pairs_with_that_layer():
    i_xt, i_tx = clean_deep()
    i_xt[:, 2] = 6.64                    # a VAE-like bottleneck above every encoder layer
    d = M.dpi_violations(i_xt, i_tx, LAYERS5)
    assert d["enc_violations"] == 100 and d["enc_max"] == pytest.approx(6.64 - 0.0)
    d = M.dpi_violations(i_xt, i_tx, LAYERS5, exclude=("Z",))
    assert d["enc_violations"] == 0 and d["pairs"] == ["I(X;E1) >= I(X;E2)", "I(D1;X') <= I(D2;X')"]


def test_single_layer_has_no_pairs():
    d = M.dpi_violations(np.ones((5, 1)), np.ones((5, 1)), ["Z"])
    assert d["enc_violations"] == 0 and np.isnan(d["enc_max"]) and d["pairs"] == []


# ----------------------------------------------------------------------------- losses and tables
def test_final_losses():
    tl = np.ones(1000)
    tl[-10:] = 0.2                        # the last 1 % of the iterations
    te = np.array([1.0, 0.5, 0.3])
    f = M.final_losses(metrics(np.zeros(3), np.zeros(3), ["Z"], train_loss=tl, test_loss=te))
    assert f["train_loss"] == pytest.approx(0.2)
    assert f["test_loss"] == pytest.approx(0.3)
    assert f["gen_gap"] == pytest.approx(0.1) and f["gen_gap_rel"] == pytest.approx(0.5)
    assert f["train_loss_start"] == 1.0 and f["test_loss_start"] == 1.0


def test_final_train_loss_uses_at_least_ten_iterations():
    tl = np.r_[np.ones(90), np.zeros(10)]
    f = M.final_losses(metrics(np.zeros(3), np.zeros(3), ["Z"], train_loss=tl))
    assert f["train_loss"] == 0.0
    tl = np.r_[np.ones(91), np.zeros(9)]
    assert M.final_losses(metrics(np.zeros(3), np.zeros(3), ["Z"], train_loss=tl))["train_loss"] == pytest.approx(0.1)


def test_tables():
    shallow = metrics(rise_and_fall(), rise_and_fall() - 0.05, ["Z"])
    i_xt, i_tx = clean_deep(1001)
    i_xt[500, 1] = i_xt[500, 0] + 0.3
    deep = Run(metrics=metrics(i_xt, i_tx, LAYERS5),
               info={"config": {"model": "deep"}, "data": {"n_train": 6000, "steps": 1000,
                                                           "epochs": 16.7, "ip_samples": 100}})
    runs = {"shallow": shallow, "deep": deep}

    lt = CF.layer_table(runs)
    assert list(lt.index) == [("shallow", "Z")] + [("deep", n) for n in LAYERS5]
    assert lt.loc[("shallow", "Z"), "dI_raw"] == pytest.approx(1.0)
    assert bool(lt.loc[("shallow", "Z"), "simplifying"])
    assert lt.loc[("shallow", "Z"), "diag_gap"] == pytest.approx(0.05)
    assert bool(lt.loc[("shallow", "Z"), "on_diagonal"])
    assert not lt.loc["deep", "simplifying"].any()
    assert lt.loc[("deep", "E1"), "diag_gap"] == pytest.approx(1.5, abs=0.01)

    rt = CF.run_table(runs)
    assert rt.loc["deep", "enc_violations"] == 1 and rt.loc["deep", "enc_last"] == 500
    assert rt.loc["deep", "dec_last"] == -1 and rt.loc["shallow", "enc_last"] == -1
    assert rt.loc["deep", "enc_max"] == pytest.approx(0.3)
    assert rt.loc["deep", "n_train"] == 6000 and rt.loc["deep", "model"] == "deep"
    assert rt.loc["shallow", "simplifying_layers"] == "Z" and rt.loc["deep", "simplifying_layers"] == "none"
    assert bool(rt.loc["shallow", "generalizes"])      # the default test loss ends at 0.1 = train

    full = CF.findings_table(runs)
    assert full.shape[0] == 6
    assert full.loc[("deep", "Z"), "enc_violations"] == 1
    assert full.loc[("shallow", "Z"), "dI_raw"] == pytest.approx(1.0)


# ----------------------------------------------------------------------------- claims and page values
def paper_like_runs(n=1001):
    """Hand-made runs with known answers: the shallow AE rises 0 -> 3 bits and falls to 2
    (ΔI = 1), the sparse AE rises to 4 and falls to 2 (ΔI = 2), the tied AE only rises; the tied
    AE's training loss ends 50 % above the shallow AE's."""
    loss = np.linspace(1.0, 0.1, 20_000)
    runs = {
        "shallow": metrics(rise_and_fall(n), rise_and_fall(n) - 0.02, ["Z"], train_loss=loss),
        "sparse": metrics(rise_and_fall(n, top=4.0), rise_and_fall(n, top=4.0) - 0.02, ["Z"], train_loss=loss),
        "tied": metrics(np.linspace(0, 3, n), np.linspace(0, 3, n) - 0.02, ["Z"], train_loss=1.5 * loss,
                        test_loss=np.linspace(1.5, 0.15, 11)),
    }
    for m in runs.values():
        m["probe_index"] = np.arange(100)
    return runs


def test_paper_claims_on_known_trajectories():
    runs = paper_like_runs()
    claims = {c.key: c for c in F.paper_claims(runs)}
    # only the claims these three runs can test
    assert set(claims) == {"shallow_simp", "shallow_diag", "sparse_amp", "tied_none", "tied_loss",
                           "gen", "below_diag"}
    assert claims["shallow_simp"].verdict == "supported"
    d_shallow = M.simplifying_phase(runs["shallow"]["i_xt"][:, 0])["dI"]
    d_sparse = M.simplifying_phase(runs["sparse"]["i_xt"][:, 0])["dI"]
    assert d_shallow == pytest.approx(1.0, abs=0.03) and d_sparse == pytest.approx(2.0, abs=0.03)
    lt = CF.layer_table(runs)
    lo, hi = lt.loc[("shallow", "Z"), "dI_low"], lt.loc[("shallow", "Z"), "dI_high"]
    assert lo <= d_shallow <= hi and lt.loc[("shallow", "Z"), "verdict"] == "simplifies"
    assert claims["shallow_simp"].measured == f"ΔI(Z) = {d_shallow:.2f} [{lo:.2f}, {hi:.2f}] bits"
    assert claims["shallow_simp"].figure == "1d"
    assert claims["sparse_amp"].verdict == "supported"
    assert f"{d_sparse:.2f} bits (shallow AE: {d_shallow:.2f})" in claims["sparse_amp"].measured
    assert claims["tied_none"].verdict == "supported"
    assert claims["tied_none"].measured.startswith("ΔI(Z) = 0.00 [")
    assert claims["tied_loss"].measured == "final training loss 1.50 times the shallow AE's (+50 %)"
    assert "the direction only" in claims["tied_loss"].threshold
    assert claims["shallow_diag"].verdict == "supported"      # final gap 0.02 < 0.1
    assert claims["below_diag"].verdict == "supported"
    assert all(c.seeds == 1 for c in claims.values())


def test_claims_cannot_be_judged_on_short_runs():
    runs = paper_like_runs()
    for m in runs.values():
        m["train_loss"] = m["train_loss"][:400]
    claims = {c.key: c for c in F.paper_claims(runs)}
    assert claims["shallow_simp"].verdict == "cannot be judged (the run is too short)"
    assert claims["tied_loss"].verdict == "supported"   # not a simplifying-phase claim: judged


def test_a_pinned_layer_cannot_judge_a_claim_of_absence():
    """The tied AE held within the margin of log2 100 cannot support "no simplifying phase"."""
    runs = paper_like_runs()
    runs["tied"]["i_xt"] = np.full((1001, 1), np.log2(100) - 0.01)
    claims = {c.key: c for c in F.paper_claims(runs)}
    assert claims["tied_none"].verdict == "cannot be judged (Z: at its ceiling)"


def test_a_missing_simplifying_phase_is_not_supported():
    runs = paper_like_runs()
    runs["shallow"]["i_xt"] = np.linspace(0, 3, 1001)[:, None]
    claims = {c.key: c for c in F.paper_claims(runs)}
    assert claims["shallow_simp"].verdict == "not supported"


def test_claims_table_columns_and_figure_filter():
    claims = F.paper_claims(paper_like_runs())
    table = F.claims_table(claims)
    assert list(table.columns) == ["Claim", "Figure", "Measured", "Threshold", "Verdict", "Seeds"]
    assert len(table) == len(claims)
    fig3 = F.claims_table(claims, figures="3")
    assert set(fig3["Figure"]) == {"3b", "3d", "3c", "1c, 2b, 3a, 3c, 4a, 4d"}


def test_glue_values_flat_keys_with_known_numbers():
    runs = paper_like_runs()
    v = F.glue_values(runs)
    assert v["shallow_Z_dI"] == pytest.approx(1.0, abs=0.03)
    assert v["shallow_Z_dI_pct"] == pytest.approx(100 / 3, abs=1)
    assert v["sparse_Z_ixt_peak"] == pytest.approx(4.0, abs=0.03)
    assert v["tied_vs_shallow_pct"] == pytest.approx(50.0)
    assert v["margin_bits"] == 0.1 and v["margin_pct"] == 5.0 and v["gen_tol_pct"] == 100 * F.GEN_TOL
    assert str(v["claim_tied_none"]) == "supported" and str(v["shallow_simplifying"]) == "Z"
    assert F.key("deep-10pct") == "deep_10pct"


def test_page_tables_are_rounded_as_the_text():
    runs = paper_like_runs()
    layers = F.layer_summary(runs)
    assert "dI_raw" not in layers.columns and "ΔI [bits]" in layers.columns
    assert layers.loc[("shallow", "Z"), "ΔI [bits]"] == round(F.glue_values(runs)["shallow_Z_dI"], 2)
    assert layers.loc[("shallow", "Z"), "ΔI [% of peak]"] == 33
    assert list(F.run_summary(runs).index) == ["shallow", "sparse", "tied"]


def test_claims_over_seeds_mean_sd_and_k_of_n():
    seeds = {}
    for seed, top in enumerate([3.0, 3.2, 2.1]):        # ΔI(Z) of the shallow AE: 1.0, 1.2, 0.1
        runs = paper_like_runs()
        runs["shallow"]["i_xt"] = rise_and_fall(top=top)[:, None]
        runs["shallow"]["i_tx"] = runs["shallow"]["i_xt"] - 0.02
        seeds[seed] = runs
    table = F.claims_over_seeds(seeds).set_index("Claim")
    row = table.loc["The shallow AE has a simplifying phase"]
    dIs = [M.simplifying_phase(r["shallow"]["i_xt"][:, 0])["dI"] for r in seeds.values()]
    assert row["Measured"] == f"ΔI(Z) {np.mean(dIs):.2f} ± {np.std(dIs, ddof=1):.2f} bits"
    assert row["Verdict"] == "holds in 2 of 3 seeds" and row["Seeds"] == 3   # 0.1 bits is not > 0.1
    assert table.loc["The tied AE has no simplifying phase", "Verdict"] == "holds in 3 of 3 seeds"
    one = F.claims_over_seeds({0: seeds[0]})
    assert list(one["Verdict"]) == [str(c.verdict) for c in F.paper_claims(seeds[0])]


def test_seed_spread_and_verdict_changes():
    seeds = {}
    for seed, top in enumerate([3.0, 3.2, 2.1]):
        runs = paper_like_runs()
        runs["shallow"]["i_xt"] = rise_and_fall(top=top)[:, None]
        runs["shallow"]["i_tx"] = runs["shallow"]["i_xt"] - 0.02
        seeds[seed] = runs
    spread = F.seed_spread(seeds)
    dIs = np.array([M.simplifying_phase(r["shallow"]["i_xt"][:, 0])["dI"] for r in seeds.values()])
    assert spread.loc["shallow", "seeds"] == 3
    assert spread.loc["shallow", "ΔI(Z) sd"] == pytest.approx(dIs.std(ddof=1))
    assert spread.loc["tied", "ΔI(Z) mean [bits]"] == 0.0
    assert F.seed_verdict_changes(seeds) == ["The shallow AE has a simplifying phase (2 of 3 seeds)"]


def test_claims_table_with_seeds_adds_mean_sd_and_k_of_n():
    seeds = {}
    for seed, top in enumerate([3.0, 3.2, 2.1]):
        runs = paper_like_runs()
        runs["shallow"]["i_xt"] = rise_and_fall(top=top)[:, None]
        runs["shallow"]["i_tx"] = runs["shallow"]["i_xt"] - 0.02
        seeds[seed] = runs
    claims = F.paper_claims(seeds[0])
    table = F.claims_table(claims, figures="1", seeds=seeds).set_index("Claim")
    assert list(table.columns) == ["Figure", "Measured", "Threshold", "Verdict", "Over seeds", "Holds in"]
    row = table.loc["The shallow AE has a simplifying phase"]
    dIs = [M.simplifying_phase(r["shallow"]["i_xt"][:, 0])["dI"] for r in seeds.values()]
    assert row["Over seeds"] == f"ΔI(Z) {np.mean(dIs):.2f} ± {np.std(dIs, ddof=1):.2f} bits"
    assert row["Holds in"] == "2 of 3 seeds" and row["Verdict"] == "supported"
    assert "Seeds" in F.claims_table(claims, seeds={0: seeds[0]}).columns     # one seed: as before


def test_verdicts_by_dataset_has_one_verdict_column_per_dataset(monkeypatch):
    """Seeds counted per dataset ("k of n"); a dataset with one seed shows the verdict itself."""
    import dataclasses

    import ipbook.claims.paper as F
    from ipbook.verdicts import FAILS, HOLDS

    claim = F.Claim(key="k", claim="A claim", figure="1d", measured="", threshold="", verdict=T.verdict(True), seeds=1)
    monkeypatch.setattr(F, "paper_claims", lambda runs, tol=0.05: [dataclasses.replace(
        claim, verdict=T.verdict(runs["ok"]), status=HOLDS if runs["ok"] else FAILS)])
    monkeypatch.setattr(F, "glue_values", lambda runs, claims: {})
    seeds = {"mnist": {0: {"ok": True}, 1: {"ok": True}, 2: {"ok": False}}, "fashion-mnist": {0: {"ok": False}}}
    table = F.verdicts_by_dataset(seeds)
    assert table.to_dict("records") == [{"Claim": "A claim", "Figure": "1d", "mnist": "2 of 3",
                                         "fashion-mnist": "not supported"}]


# ----------------------------------------------------------------------------- words that follow the numbers
def test_a_gap_is_worded_by_its_sign():
    assert str(T.above_below(-1.7)) == "1.7 % below" and str(T.above_below(3.24)) == "3.2 % above"
    assert str(T.above_below(1.0, unit=" percentage points")) == "1.0 percentage points above"
    runs = paper_like_runs()
    runs["shallow"]["test_loss"] = runs["shallow"]["test_loss"] * 0.983     # test below train at the end
    v = F.glue_values(runs)
    assert v["shallow_gap_pct"] < 0 and str(v["shallow_gap_words"]) == f"{-v['shallow_gap_pct']:.1f} % below"
    gap_vs_tol = v["tied_gap_pct"] - v["gen_tol_pct"]
    assert str(v["tied_gap_vs_tol"]) == str(T.above_below(gap_vs_tol, unit=" percentage points"))


def test_the_size_of_a_ratio_is_stated_as_ratio_and_percentage():
    assert str(T.size_of_ratio(2.64, "a", "b")) == "a is 2.6 times b, 164 % more"
    assert str(T.size_of_ratio(1.05, "a", "b")) == "a is 1.1 times b, 5 % more"
    assert "not above" in str(T.size_of_ratio(0.9, "a", "b"))
    v = F.glue_values(paper_like_runs())                          # the tied AE's loss is 1.5 times the shallow's
    assert "1.5 times the shallow AE's, 50 % more" in str(v["tied_vs_shallow_size"])


def test_the_largest_dI_is_the_largest_layer_of_the_table_and_of_the_claim():
    top = np.array([3.0, 4.0, 3.5])
    i_xt = np.stack([rise_and_fall(top=t) for t in top], axis=1)
    runs = {"deep-10pct": metrics(i_xt, i_xt - 0.02, ["E1", "E2", "Z"], train_loss=np.linspace(1, 0.1, 20_000))}
    runs["deep-10pct"]["probe_index"] = np.arange(100)
    v = F.glue_values(runs)
    layers = F.layer_summary(runs)
    assert str(v["deep_10pct_dI_max_layer"]) == "E2" == layers["ΔI [bits]"].idxmax()[1]
    assert round(v["deep_10pct_dI_max"], 2) == layers["ΔI [bits]"].max()
    claim = next(c for c in F.paper_claims(runs) if c.key == "ten_none")
    assert claim.measured == f"largest ΔI {v['deep_10pct_dI_max']:.2f} bits (E2)"


def test_cannot_be_judged_says_too_short_only_for_short_runs():
    runs = paper_like_runs()
    assert "too short" not in str(F.cannot_note(runs))
    for m in runs.values():
        m["train_loss"] = m["train_loss"][:400]
    assert "too short" in str(F.cannot_note(runs))


def test_dpi_breaks_say_when_they_end():
    clean = np.tile(np.array([3.0, 2.0, 1.0]), (1001, 1))
    broken = clean.copy()
    broken[:20, 2] = 2.5                                         # I(X;Z) > I(X;E2) in the first 20 steps
    runs = {"deep-10pct": metrics(broken, clean * 0.9, ["E1", "E2", "Z"])}
    assert "by iteration 19, 1.9 % into training" in str(F.dpi_when(runs))
    assert str(F.dpi_when({"deep-10pct": metrics(clean, clean * 0.9, ["E1", "E2", "Z"])})) == "No measurement breaks them."
    claim = next(c for c in F.paper_claims(runs) if c.key == "dpi")
    assert "of 1,001 measurements each; the last at iteration 19 of 1,000" in claim.measured


def test_a_count_of_measurements_over_seeds_says_of_how_many():
    i_xt, i_tx = np.tile([5.0, 4.0, 3.0, 4.0, 5.0], (1001, 1)), np.tile([1.0, 2.0, 3.0, 4.0, 5.0], (1001, 1))
    broken = i_xt.copy()
    broken[:20, 2] = 4.5                                         # I(X;Z) > I(X;E2) in the first 20 steps
    seeds = {k: {"deep": metrics(broken if k else i_xt, i_tx, LAYERS5)} for k in range(2)}
    table = F.claims_over_seeds(seeds).set_index("Claim")
    assert table.loc["The deep and label AEs satisfy the DPI", "Measured"].endswith("of 1,001 measurements")
