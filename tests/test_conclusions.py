"""The book's answer: evidence counted from verdict tables, and one category per claim."""
import pandas as pd
import pytest

from ipbook.site.conclusions import CATEGORIES, answer_table, calibration_numbers, category, category_table, evidence, setting_status


def _matrix():
    claims = ["A", "B", "C", "D", "E"]
    cols = ["scott γ=2", "median", "tapia"]
    held = pd.DataFrame([[5, 5, 5], [5, 0, 5], [5, 5, 5], [1, 0, 0], [0, 3, 0]], index=claims, columns=cols)
    judged = pd.DataFrame([[5, 5, 5], [5, 5, 5], [5, 5, 5], [5, 5, 5], [0, 5, 0]], index=claims, columns=cols)
    held.attrs["n"] = judged.to_dict()
    held.attrs["seeds"] = {c: {k: 5 for k in claims} for c in cols}
    return held


def _real():
    rows = [("A", "noisy σ²=1", 1, 1, 0), ("A", "binning", 1, 1, 0),
            ("B", "noisy σ²=1", 1, 1, 0), ("B", "binning", 0, 0, 1),
            ("C", "noisy σ²=1", 0, 2, 0), ("C", "binning", 0, 2, 0), ("C", "vae", 2, 2, 0)]
    return pd.DataFrame(rows, columns=["claim", "column", "holds", "judged", "saturated"])


def test_setting_status_is_the_majority_of_judged_seeds():
    assert [setting_status(h, j) for h, j in [(3, 5), (2, 4), (0, 0), (1, 1)]] == [
        "holds", "fails", "cannot judge", "holds"]


def test_evidence_counts_settings_that_hold_fail_or_cannot_judge():
    e = evidence(_matrix(), _real())
    a = e.loc["A"]
    assert (a.paper_k, a.paper_n, a.paper, a.kernel_ok, a.kernel_fail, a.kernel_cannot) == (5, 5, "holds", 2, 0, 0)
    assert (e.loc["B", "kernel_ok"], e.loc["B", "kernel_fail"]) == (1, 1)
    assert (e.loc["B", "real_ok"], e.loc["B", "real_cannot"], e.loc["B", "real_sat"]) == (1, 1, 1)
    assert (e.loc["C", "real_ok"], e.loc["C", "real_fail"], e.loc["C", "real_cannot"]) == (1, 2, 0)
    assert e.loc["E", "paper"] == "cannot judge" and (e.loc["E", "kernel_ok"], e.loc["E", "kernel_cannot"]) == (1, 1)
    assert not e.loc["D", "has_real"] and e.loc["D", "real_ok"] + e.loc["D", "real_fail"] == 0


def test_each_claim_gets_one_category_in_the_documented_order():
    e = evidence(_matrix(), _real())
    got = {c: category(r) for c, r in zip(e.index, e.itertuples())}
    assert got == {"A": CATEGORIES[0], "B": CATEGORIES[1], "C": CATEGORIES[2], "D": CATEGORIES[4],
                   "E": CATEGORIES[5]}
    unjudged = e.loc[["A"]].assign(real_ok=0, real_cannot=2, real_sat=2)
    assert category(next(unjudged.itertuples())) == CATEGORIES[3]


def test_page_tables_have_a_column_group_per_dataset_and_rebuild_the_categories():
    e = evidence(_matrix(), _real())
    table = answer_table({"MNIST": e, "Fashion-MNIST": e.assign(paper="fails")})
    assert list(table.columns.get_level_values(0).unique()) == ["MNIST", "Fashion-MNIST"]
    assert table.loc["B", ("MNIST", "noise-defined")] == "1/0/1"
    assert table.loc["B", ("MNIST", "other kernels")] == "1/1/0"
    assert table.loc["E", ("MNIST", "paper's setting")] == "0/0 (5 ?)"
    assert table.loc["D", ("MNIST", "noise-defined")] == "–"
    cats = category_table({"MNIST": e, "Fashion-MNIST": e.assign(paper="fails")})
    assert cats.loc["D", "both"] == CATEGORIES[4] and cats.loc["A", "both"] == "differs by dataset"


def test_calibration_numbers_are_seed_means_of_the_paper_setting():
    rows = pd.DataFrame({"family": "gaussian-sparse", "d": [2, 2, 25, 25], "n": 100, "seed": [0, 1, 0, 1],
                         "estimator": "matrix-paper", "true_bits": 1.5, "bits": [1.4, 1.6, 6.0, 7.0]})
    assert calibration_numbers(rows) == {"truth": 1.5, "d_lo": 2, "est_lo": pytest.approx(1.5), "d_hi": 25,
                                         "est_hi": pytest.approx(6.5)}
    with pytest.raises(ValueError, match="no calibration rows"):
        calibration_numbers(rows, n=1000)


def _loaded(paper_deep=5):
    """One dataset's grids: the two falls hold at γ = 2 and 4, cannot be judged at γ = 0.5, fail at
    γ = 16 and under the median rule; the noisy bounds show them at σ² = 1 and are pinned at 0.001."""
    from ipbook.site.conclusions import FALL_CLAIMS

    claims = list(FALL_CLAIMS) + ["Deep AE simplifies in E2, Z, D1", "None in the tied AE", "DPI holds (deep, 10 %, label)"]
    cols = ["scott γ=2", "scott γ=0.5", "scott γ=4", "scott γ=16", "median"]
    held = pd.DataFrame([[5, 0, 5, 0, 0], [5, 0, 5, 1, 0], [paper_deep, 0, 5, 0, 0], [0, 0, 5, 5, 5], [0, 0, 0, 5, 0]],
                        index=claims, columns=cols)
    judged = pd.DataFrame([[5, 0, 5, 5, 5]] * 5, index=claims, columns=cols)
    judged.loc["None in the tied AE", "scott γ=2"] = 0
    held.attrs.update(n=judged.to_dict(), seeds={c: {k: 5 for k in claims} for c in cols}, n_seeds=5)
    real = [(c, col, h, j, s) for c in claims[:4] for col, h, j, s in
            [("noisy-upper σ²=0.001", 0, 0, 5), ("noisy-lower σ²=0.001", 0, 0, 5), ("noisy-upper σ²=1", 5, 5, 0),
             ("noisy-lower σ²=1", 5, 5, 0), ("binning 30 bins", 0, 0, 5)]]
    real = pd.DataFrame(real, columns=["claim", "column", "holds", "judged", "saturated"])
    return {"matrix": held, "real": real, "real_seeds": [0, 1, 2, 3, 4]}


def test_the_answer_in_words_reads_its_scales_from_the_verdicts():
    from ipbook.site.conclusions import answer_facts, plain_answer

    facts = answer_facts({"A": _loaded(), "B": _loaded(paper_deep=0)})
    assert (facts["gamma_holds"], facts["gamma_fails"], facts["gamma_cannot"]) == ([2.0, 4.0], [16.0], [0.5])
    assert facts["sigma2_holds"] == [1.0] and facts["sigma2_cannot"] == [0.001] and facts["bins_cannot"] == [30]
    assert facts["rules_fail"] == ["median"] and (facts["paper_held"], facts["paper_n"]) == (5, 5)
    assert facts["differ"] == ["Deep AE simplifies in E2, Z, D1"]
    assert facts["absence_cannot"] == {"A": 1, "B": 1} and facts["fail_all"] == ["DPI holds (deep, 10 %, label)"]
    text = plain_answer(facts)
    assert "γ = 2 and 4" in text and "σ² = 1" in text and "γ = 0.5; σ² = 0.001; 30 bins" in text
    assert "the widest kernel (γ = 16) and the median heuristic, the fall is gone" in text
    assert 3 <= text.count("\n\n") + 1 <= 7                       # a few plain paragraphs


def test_the_conclusions_list_names_each_claims_chapters_from_the_catalog():
    import pandas as pd

    from ipbook.site.conclusions import CATEGORIES, conclusions_markdown

    cats = pd.DataFrame({"MNIST": [CATEGORIES[0], CATEGORIES[1]], "Fashion-MNIST": [CATEGORIES[0], CATEGORIES[0]],
                         "both": [CATEGORIES[0], "differs by dataset"]},
                        index=["Shallow AE simplifies (Z)", "DPI holds (deep, 10 %, label)"])
    md = conclusions_markdown(cats, {"MNIST": None, "Fashion-MNIST": None})
    assert md.splitlines()[0] == f"**{CATEGORIES[0][0].upper() + CATEGORIES[0][1:]}** (1):"
    assert ("* Shallow AE simplifies (Z). Evidence: {doc}`fig1_shallow`, {doc}`sensitivity_verdicts`, "
            "{doc}`second_opinion`.") in md
    assert (f"* DPI holds (deep, 10 %, label) (MNIST: {CATEGORIES[1]}; Fashion-MNIST: {CATEGORIES[0]}). Evidence: "
            "{doc}`fig2_deep`, {doc}`summary`, {doc}`sensitivity_verdicts`, {doc}`second_opinion`.") in md


def test_a_mixed_claim_is_worded_by_its_counts():
    """The robustness page words a mixed claim by its counts, never "not in every seed" of a claim that
    holds in none."""
    from ipbook.claims.robustness import counted

    m = _matrix()
    assert counted(m, "D", "scott γ=2") == "D (paper's setting: 1 of 5 seeds; holds at 0 of 2 other settings)"
    assert counted(m, "E", "scott γ=2") == ("E (paper's setting: 0 of 5 seeds, 5 cannot be judged; "
                                            "holds at 1 of 2 other settings)")
