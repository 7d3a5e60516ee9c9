"""The findings of the chapter "Where I(X;T) is defined": verdicts by the one judge on the
defined tables, ceilings, geometry at the peak, and the scale points."""
import math

import numpy as np
import pandas as pd
import pytest

from ipbook.experiments import defined_findings as F
from ipbook.site import defined_page as DP
from ipbook.verdicts import CANNOT, DOES_NOT, SIMPLIFIES

STEPS = np.arange(0, 3000, 100)           # 30 checkpoints
N = 1000


def _rows(run: str, values, *, quantity=F.SP, layer="Z", seeds=(0, 1, 2), split="test", n=N, stderr=0.01):
    out = []
    for seed in seeds:
        for step, v in zip(STEPS, values):
            out.append((run, seed, int(step), layer, quantity, split, n, float(v) + 0.001 * seed, stderr))
    return pd.DataFrame(out, columns=["run", "seed", "step", "layer", "quantity", "split", "n", "value", "stderr"])


def _rise_fall(peak: float, end: float) -> np.ndarray:
    up = np.linspace(1.0, peak, 10)
    return np.concatenate([up, np.linspace(peak, end, 20)])


def test_run_setting_reads_both_profiles_and_refuses_others():
    assert F.run_setting("deep-b0.3") == {"model": "deep", "beta": 0.3}
    assert F.run_setting("q8-z5") == {"model": "shallow", "bits": 8, "width": 5}
    with pytest.raises(ValueError, match="neither MODEL-bBETA"):
        F.run_setting("shallow")


def test_sp_verdicts_fall_flat_and_pinned():
    log2n = math.log2(N)
    rows = pd.concat([_rows("shallow-b0.3", _rise_fall(8.0, 5.0)),                       # 3 bits down
                      _rows("sparse-b0.3", _rise_fall(7.0, 7.0)),                        # flat after its rise
                      _rows("shallow-b0.1", _rise_fall(log2n - 0.01, log2n - 0.01))])    # at the ceiling
    v = F.sp_verdicts(rows).set_index("run")
    assert v.loc["shallow-b0.3", "verdict"] == SIMPLIFIES
    assert v.loc["shallow-b0.3", "drop"] == pytest.approx(3.0, abs=0.25)   # the judge smooths over 3 checkpoints
    assert v.loc["shallow-b0.3", "seeds_simplify"] == 3
    assert v.loc["sparse-b0.3", "verdict"] == DOES_NOT
    assert v.loc["shallow-b0.1", "verdict"] == CANNOT
    assert v.loc["shallow-b0.1", "ceiling"] == pytest.approx(log2n)
    assert v.loc["sparse-b0.3", "beta"] == 0.3 and v.loc["sparse-b0.3", "model"] == "sparse"


def test_code_ceiling_is_the_smaller_of_log2n_and_capacity():
    h = pd.concat([_rows("q4-z2", np.full(30, 6.0), quantity="h_z", stderr=0.0),
                   _rows("q4-z2", np.full(30, 2.0), quantity="i_zy", stderr=0.0),
                   _rows("q4-z50", np.full(30, 9.9), quantity="h_z", stderr=0.0),
                   _rows("q4-z50", np.full(30, 3.0), quantity="i_zy", stderr=0.0)])
    c = F.code_series(h).groupby("run").first()
    assert c.loc["q4-z2", "ceiling"] == 8                  # 4 bits x 2 units < log2 1000
    assert c.loc["q4-z50", "ceiling"] == pytest.approx(math.log2(N))
    v = F.code_verdicts(h).set_index("run")
    assert v.loc["q4-z2", "start"] == pytest.approx(6.001)
    assert v.loc["q4-z50", "end_i_zy"] == pytest.approx(3.001)
    assert set(v.verdict) <= {DOES_NOT, CANNOT}


def test_geometry_at_takes_the_peak_checkpoint():
    sp = _rows("shallow-b0.3", _rise_fall(8.0, 5.0))
    geo = _rows("shallow-b0.3", np.linspace(0.0, 2.9, 30), quantity="median_distance", stderr=0.0)
    v = F.sp_verdicts(sp)
    g = F.geometry_at(pd.concat([sp, geo]), v).iloc[0]
    peak = int(v.peak_step.iloc[0])
    assert g.median_distance_peak == pytest.approx(peak / 1000 + 0.001, abs=1e-9)
    assert g.median_distance_start == pytest.approx(0.001) and g.median_distance_end == pytest.approx(2.901)


def test_scale_points_divide_beta_by_the_distance_at_the_peak():
    sp = _rows("shallow-b0.3", _rise_fall(8.0, 5.0), seeds=(0,))
    geo = _rows("shallow-b0.3", np.full(30, 1.5), quantity="median_distance", seeds=(0,), stderr=0.0)
    pts = F.scale_points(noisy=pd.concat([sp, geo]))
    assert len(pts) == 1
    p = pts.iloc[0]
    assert p.x == pytest.approx(0.3 / 1.5)
    assert p.drop_share == pytest.approx(3.0 / 8.0, abs=0.03)
    assert p.verdict == SIMPLIFIES


def test_scale_fit_is_one_for_a_monotone_curve_and_nan_when_flat():
    pts = pd.DataFrame({"family": ["a"] * 4 + ["b"] * 4, "x": [0.1, 0.2, 0.4, 0.8] * 2,
                        "drop_share": [0.0, 0.1, 0.3, 0.5, 0.01, 0.12, 0.31, 0.52]})
    fit = F.scale_fit(pts)
    assert fit["rho"] == pytest.approx(0.976, abs=0.01) and fit["rho a"] == pytest.approx(1.0)
    assert math.isnan(F.scale_fit(pts.assign(drop_share=0.0))["rho"])
    n = DP.scale_numbers(pts.assign(setting=pts.x.astype(str), run="shallow"), fit)
    assert n["scale_onset"] == pytest.approx(0.2) and n["scale_flat_below"] == pytest.approx(0.1)


def test_seeds_geometry_reads_the_distance_ratio_at_the_paper_settings_peak():
    """The sensitivity grid's Z at γ = 2: the peak is the judge's; the distance ratio is
    within-class over between-class mean distance at that checkpoint; other γ are ignored."""
    bits = _rise_fall(6.0, 4.0)
    rows = pd.DataFrame([("shallow", seed, int(s), "Z", "scott", 1.01, 100, gamma, b + (gamma == 8) * s / 1000)
                         for seed in (0, 1) for gamma in (2.0, 8.0) for s, b in zip(STEPS, bits)],
                        columns=["run", "seed", "step", "layer", "rule", "alpha", "n", "gamma", "i_xt"])
    geometry = pd.DataFrame([("shallow", seed, int(s), "Z", 0.5 - s / 10000, 1.0 + s / 1000, 0.8, 1.6 + s / 1000)
                             for seed in (0, 1) for s in STEPS],
                            columns=["run", "seed", "step", "layer", "saturated", "mean_distance",
                                     "within_class", "between_class"])
    g = F.seeds_geometry((rows, None, geometry)).iloc[0]
    peak = round((g.mean_distance_peak - 1.0) * 1000)
    assert peak in (900, 1000)                             # the plateau of the rise's end
    assert g.distance_ratio_peak == pytest.approx(0.8 / (1.6 + peak / 1000))
    assert g.distance_ratio_start == pytest.approx(0.5) and g.saturated_share_end == pytest.approx(0.5 - 2900 / 10000)
    numbers = DP.seeds_geometry_numbers(F.seeds_geometry((rows, None, geometry)))
    assert numbers["seeds_shallow_mean_distance_end"] == pytest.approx(3.9)
    assert math.isnan(numbers["seeds_deep_mean_distance_end"])


def test_defined_numbers_name_the_lowest_bottleneck_and_whether_it_is_a_bit_below_log2n():
    rows = pd.concat([_rows("shallow-b0.3", _rise_fall(8.5, 8.5)), _rows("sparse-b0.3", _rise_fall(9.5, 9.0))])
    out = DP.defined_numbers(F.sp_verdicts(rows), None)
    assert str(out["sp_lowest_run"]) == "shallow-b0.3"
    assert out["sp_lowest_gap"] == pytest.approx(math.log2(N) - 8.501, abs=0.01)
    assert str(out["sp_lowest_comment"]).startswith("more than the bit")
    high = DP.defined_numbers(F.sp_verdicts(_rows("sparse-b0.3", _rise_fall(9.5, 9.5))), None)
    assert str(high["sp_lowest_comment"]).startswith("less than the bit")
