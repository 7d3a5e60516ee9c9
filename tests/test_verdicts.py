"""The book's one judge, on trajectories whose answer is known."""
import numpy as np
import pytest

from ipbook import verdicts as V
from ipbook.measures import simplifying_phase

# the checkpoints of the book's grids: log-spaced to 600, then every 600 to 30,000 (96 of them)
STEPS = np.unique(np.r_[0, np.round(np.geomspace(1, 600, 30)), np.arange(600, 30001, 600)]).astype(int)
T = STEPS / STEPS[-1]


def plateau_fall(drop, peak=5.0):
    """Rises to ``peak`` by 20 % of the run, holds it to 40 %, falls by ``drop`` by 70 %, then flat:
    the smoothed truth has exactly this drop."""
    return np.interp(T, [0, 0.2, 0.4, 0.7, 1], [0, peak, peak, peak - drop, peak - drop])


def test_sustained_fall_simplifies_and_its_interval_brackets_the_drop():
    rng = np.random.default_rng(0)
    v = V.judge(STEPS, plateau_fall(1.5) + 0.02 * rng.standard_normal(len(STEPS)))
    assert v.verdict == V.SIMPLIFIES and v.simplifies and v.judged
    assert v.low < 1.5 < v.high and v.high - v.low < 0.2
    assert v.margin == pytest.approx(0.25, abs=0.01)          # 5 % of a 5-bit peak
    assert 0.2 * 30000 <= v.peak_step <= 0.4 * 30000


def test_interval_covers_the_true_drop_at_its_level():
    rng = np.random.default_rng(1)
    hits = 0
    for i in range(100):
        v = V.judge(STEPS, plateau_fall(0.8) + 0.05 * rng.standard_normal(len(STEPS)), seed=i)
        hits += v.low <= 0.8 <= v.high
    assert 0.85 <= hits / 100 <= 1.0


def test_flat_with_noise_does_not_simplify():
    rng = np.random.default_rng(2)
    v = V.judge(STEPS, 3 + 0.02 * rng.standard_normal(len(STEPS)))
    assert v.verdict == V.DOES_NOT and v.high < v.margin


def test_the_maximum_of_pure_noise_is_not_a_fall():
    """The raw peak − final of noise is biased upward; the interval takes the bias off: it covers 0
    in most repeats, and no repeat is called a fall."""
    rng = np.random.default_rng(3)
    covered, drops = 0, []
    for i in range(100):
        v = V.judge(STEPS, 4 + 0.03 * rng.standard_normal(len(STEPS)), seed=i)
        assert v.verdict != V.SIMPLIFIES
        covered += v.low <= 0 <= v.high
        drops.append(v.drop)
    assert np.mean(drops) > 0.03                  # the bias the interval must remove
    assert covered >= 80                          # measured 89 % over 200 repeats


def test_large_noise_cannot_be_judged():
    rng = np.random.default_rng(4)
    v = V.judge(STEPS, 2 + 0.3 * rng.standard_normal(len(STEPS)))
    assert v.verdict == V.CANNOT and "straddles" in v.reason and v.kind == "straddles"
    assert v.low < v.margin < v.high


def test_pinned_at_the_ceiling_after_an_early_dip_cannot_be_judged():
    """As the shallow AE's Z under binning: log2 1000 from iteration ~1000 on, after a dip early."""
    ceiling = np.log2(1000)
    x = np.where(STEPS < 50, 9.0, ceiling - 0.002)
    x[(STEPS > 5) & (STEPS < 40)] = 7.0                   # the early dip makes it "not saturated throughout"
    v = V.judge(STEPS, x, ceiling=ceiling)
    assert v.verdict == V.CANNOT and "ceiling" in v.reason and v.kind == "pinned"
    # without the ceiling it is an estimate that did not fall
    assert V.judge(STEPS, x).verdict == V.DOES_NOT


def test_near_zero_cannot_be_judged():
    v = V.judge(STEPS, 0.05 * plateau_fall(0.5, peak=1.0))
    assert v.verdict == V.CANNOT and "zero" in v.reason and v.kind == "near_zero"


def test_still_rising_at_the_end_does_not_simplify():
    v = V.judge(STEPS, 5 * T)
    assert v.verdict == V.DOES_NOT and v.drop == 0.0 and v.peak_step > 0.9 * 30000


def test_a_fall_only_in_the_last_tenth_is_not_sustained():
    x = np.interp(T, [0, 0.95, 1], [0, 5, 3])
    v = V.judge(STEPS, x)
    assert v.verdict == V.CANNOT and "last 10 %" in v.reason and v.kind == "late"


def test_drop_is_the_textbook_smoothed_peak_minus_final():
    rng = np.random.default_rng(5)
    x = plateau_fall(1.0) + 0.02 * rng.standard_normal(len(STEPS))
    v, ph = V.judge(STEPS, x), simplifying_phase(x, STEPS)
    assert v.drop == pytest.approx(ph["dI"], abs=1e-12)
    assert (v.peak, v.final, v.peak_step) == (pytest.approx(ph["peak"]), pytest.approx(ph["final"]), ph["peak_step"])
    # the plain formula: moving average of 3, max − last
    s = np.convolve(x, np.ones(3) / 3, mode="valid")
    assert v.drop == pytest.approx(s.max() - s[-1], abs=1e-12)


def test_rows_are_judged_by_their_mean_with_less_noise():
    rng = np.random.default_rng(6)
    rows = plateau_fall(0.4) + 0.1 * rng.standard_normal((8, len(STEPS)))
    one, eight = V.judge(STEPS, rows[0]), V.judge(STEPS, rows)
    assert eight.drop == pytest.approx(simplifying_phase(rows.mean(0))["dI"])
    assert eight.noise == pytest.approx(one.noise / np.sqrt(8), rel=0.5)
    assert eight.high - eight.low < one.high - one.low


def test_known_sd_is_used_and_the_same_arguments_give_the_same_verdict():
    x = plateau_fall(0.5)
    exact = V.judge(STEPS, x, sd=0.0)
    assert exact.low == pytest.approx(0.5, abs=1e-9) and exact.high == pytest.approx(0.5, abs=1e-9)
    noisy = V.judge(STEPS, x, sd=np.full(len(STEPS), 0.2))
    assert noisy.noise == pytest.approx(0.2) and noisy.verdict == V.CANNOT
    assert V.judge(STEPS, x, sd=0.2) == noisy


def test_power_rises_with_the_drop_above_the_margin():
    low, high = V.power(0.2, 0.02, STEPS, repeats=40), V.power(0.45, 0.02, STEPS, repeats=40)
    assert low == 0.0 and high == 1.0                     # margin 0.25 at a 5-bit peak


def test_judge_frame_groups_a_long_table():
    import pandas as pd

    rng = np.random.default_rng(7)
    frame = pd.concat([pd.DataFrame({"run": r, "step": STEPS, "bits": x + 0.01 * rng.standard_normal(len(STEPS)),
                                     "n": 1000}) for r, x in (("a", plateau_fall(2.0)), ("b", 3 + 0 * T))])
    out = V.judge_frame(frame.sample(frac=1, random_state=0), "run", ceiling=np.log2(1000))
    assert list(out.run) == ["b", "a"] or list(out.run) == ["a", "b"]
    got = dict(zip(out.run, out.verdict))
    assert got == {"a": V.SIMPLIFIES, "b": V.DOES_NOT}
    assert {"low", "high", "reason", "margin", "drop_frac"} <= set(out.columns)


@pytest.mark.parametrize("kwargs, word", [
    (dict(steps=STEPS[::-1]), "steps"),
    (dict(steps=STEPS[:5], bits=np.zeros(5)), "steps"),
    (dict(bits=np.zeros(len(STEPS) - 1)), "bits"),
    (dict(bits=np.full(len(STEPS), np.nan)), "bits"),
    (dict(sd=-0.1), "sd"),
    (dict(sd=np.zeros(3)), "sd"),
    (dict(ceiling=-1.0), "ceiling"),
])
def test_bad_input_is_named(kwargs, word):
    args = dict(steps=STEPS, bits=np.zeros(len(STEPS))) | kwargs
    with pytest.raises(ValueError, match=word):
        V.judge(args.pop("steps"), args.pop("bits"), **args)


def test_a_table_cell_names_why_a_layer_cannot_be_judged_from_the_verdicts_kind():
    assert V.short_reason("pinned", "pinned within 0.33 bits of its ceiling 6.64 ...") == "at its ceiling"
    assert V.short_reason("late", "its fall starts in the last 10 % of the run") == "falls only at the end"
    assert V.short_reason("above", "drop 1.00 bits [0.90, 1.10] above the margin 0.30") == \
        "drop 1.00 bits [0.90, 1.10] above the margin 0.30"
    assert V.judge_any([1, 2, 3], [1.0, 2.0, 1.5]).kind == "short"
    assert set(V.SHORT_REASONS) < set(V.KINDS)
