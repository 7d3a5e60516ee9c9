"""The book's answer: evidence counted from verdict tables, and one category per claim."""
import pandas as pd
import pytest

from ipbook.conclusions import CATEGORIES, answer_table, calibration_numbers, category, category_table, evidence


def _matrix():
    claims = ["A", "B", "C", "D"]
    cols = ["scott γ=2", "median", "tapia"]
    held = pd.DataFrame([[5, 5, 5], [5, 0, 5], [5, 5, 5], [1, 0, 0]], index=claims, columns=cols)
    held.attrs["n"] = {c: {k: 5 for k in claims} for c in cols}
    return held


def _real():
    rows = [("A", "noisy σ²=1", 1, 1, 0), ("A", "binning", 1, 1, 0),
            ("B", "noisy σ²=1", 1, 1, 0), ("B", "binning", 0, 0, 1),
            ("C", "noisy σ²=1", 0, 2, 0), ("C", "binning", 0, 2, 0), ("C", "vae", 2, 2, 0)]
    return pd.DataFrame(rows, columns=["claim", "column", "holds", "judged", "saturated"])


def test_evidence_counts_settings_that_hold_in_every_judged_seed():
    e = evidence(_matrix(), _real())
    assert e.loc["A"].tolist()[:4] == [5, 5, 2, 2]
    assert e.loc["B", "kernel_ok"] == 1 and e.loc["B", "real_sat"] == 1 and e.loc["B", "real_n"] == 1
    assert (e.loc["C", "real_ok"], e.loc["C", "real_fail"], e.loc["C", "real_n"]) == (1, 2, 3)
    assert not e.loc["D", "has_real"] and e.loc["D", "real_n"] == 0


def test_each_claim_gets_one_category_in_the_documented_order():
    e = evidence(_matrix(), _real())
    got = {c: category(r) for c, r in zip(e.index, e.itertuples())}
    assert got == {"A": CATEGORIES[0], "B": CATEGORIES[1], "C": CATEGORIES[2], "D": CATEGORIES[4]}
    saturated = e.loc[["A"]].assign(real_ok=0, real_n=0, real_sat=2)
    assert category(next(saturated.itertuples())) == CATEGORIES[3]


def test_page_tables_have_a_column_group_per_dataset():
    e = evidence(_matrix(), _real())
    table = answer_table({"MNIST": e, "Fashion-MNIST": e.assign(paper_k=0)})
    assert list(table.columns.get_level_values(0).unique()) == ["MNIST", "Fashion-MNIST"]
    assert table.loc["B", ("MNIST", "real information")] == "1 of 1 (1 sat.)"
    assert table.loc["D", ("MNIST", "real information")] == "–"
    cats = category_table({"MNIST": e, "Fashion-MNIST": e.assign(paper_k=0)})
    assert cats.loc["D", "both"] == CATEGORIES[4] and cats.loc["A", "both"] == "differs by dataset"


def test_calibration_numbers_are_seed_means_of_the_paper_setting():
    rows = pd.DataFrame({"family": "gaussian-sparse", "d": [2, 2, 25, 25], "n": 100, "seed": [0, 1, 0, 1],
                         "estimator": "matrix-paper", "true_bits": 1.5, "bits": [1.4, 1.6, 6.0, 7.0]})
    assert calibration_numbers(rows) == {"truth": 1.5, "d_lo": 2, "est_lo": pytest.approx(1.5), "d_hi": 25,
                                         "est_hi": pytest.approx(6.5)}
    with pytest.raises(ValueError, match="no calibration rows"):
        calibration_numbers(rows, n=1000)
