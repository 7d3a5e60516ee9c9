"""The supervised control: its verdict rule on trajectories of known shape, and its tables."""
import math

import numpy as np
import pandas as pd
import pytest

from ipbook.experiments.supervised import claim_verdict, contrast, contrast_summary, load_supervised, plane_frame


def _frame(i_xt, i_ty, *, layer="Z", seed=0, n=100):
    steps = np.arange(len(i_xt)) * 10
    return pd.DataFrame({"run": "classifier", "seed": seed, "step": steps, "layer": layer, "estimator": "matrix",
                         "setting": "", "n": n, "i_xt": i_xt, "i_ty": i_ty})


def test_a_falling_i_xt_with_a_flat_i_ty_is_the_papers_contrast():
    rise, fall = np.linspace(1, 5, 100), np.linspace(5, 4, 200)
    i_xt = np.concatenate([rise, fall])
    flat = np.full(300, 2.0)
    frame = pd.concat([_frame(i_xt, flat, seed=s) for s in range(3)], ignore_index=True)
    c = contrast(frame)
    assert len(c) == 3 and c.simplifies.all() and c.ty_flat.all() and not c.saturated.any()
    # the smoothed peak is the mean of the first 5 % window around the maximum
    assert c.dI_xt.iloc[0] == pytest.approx(c.ixt_peak.iloc[0] - c.ixt_end.iloc[0])
    assert 0.9 < c.dI_xt.iloc[0] < 1.0 and abs(c.dI_ty.iloc[0]) < 1e-12
    s = contrast_summary(c)
    assert s.claim.iloc[0] == 3 and s.seeds.iloc[0] == 3
    assert claim_verdict(s) == {"judged": True, "simplifying": ["Z"], "flat": ["Z"], "holds": True}


def test_an_i_ty_that_falls_with_i_xt_breaks_the_contrast():
    i_xt = np.concatenate([np.linspace(1, 5, 100), np.linspace(5, 4, 200)])
    i_ty = np.concatenate([np.full(100, 2.0), np.linspace(2.0, 1.5, 200)])   # falls by 0.5 bits
    c = contrast(_frame(i_xt, i_ty))
    assert bool(c.simplifies.iloc[0]) and not bool(c.ty_flat.iloc[0])
    assert c.dI_ty.iloc[0] == pytest.approx(-0.5, abs=0.05)
    assert claim_verdict(contrast_summary(c))["holds"] is False


def test_a_trajectory_at_its_ceiling_is_saturated_not_simplifying():
    top = math.log2(100)
    c = contrast(_frame(np.full(50, top) - np.linspace(0, 0.005, 50), np.full(50, 1.0)))
    assert bool(c.saturated.iloc[0]) and not bool(c.simplifies.iloc[0])
    assert claim_verdict(contrast_summary(c))["judged"] is False


@pytest.mark.slow
def test_the_quick_profile_runs_are_loaded_into_one_table(tmp_path):
    from ipbook.experiments.profiles import run_configs
    from ipbook.nets.training import train

    short = dict(steps=40, estimator_points=3)
    config = run_configs("supervised-quick", "fashion-mnist", **short)["classifier"]
    run = train(config, tmp_path / "supervised-quick" / "fashion-mnist" / "classifier" / "seed-0", progress=False)
    assert load_supervised("fashion-mnist", profile="supervised-quick", root=tmp_path) == {}   # not the profile's config
    loaded = load_supervised("fashion-mnist", profile="supervised-quick", root=tmp_path, **short)
    assert set(loaded) == {"classifier"} and set(loaded["classifier"]) == {0}
    f = plane_frame(loaded)
    assert set(f.estimator) == {"matrix", "noisy-upper", "noisy-lower", "binning"}
    assert len(f[f.estimator == "matrix"]) == run.metrics["i_xt"].size and set(f[f.estimator == "binning"].n) == {300}
    assert (f.i_ty <= math.log2(10) + 1e-3).all() and (f.i_xt <= np.log2(f.n) + 1e-6).all()
    m = f[(f.estimator == "matrix") & (f.layer == "Z")].sort_values("step")
    assert np.array_equal(m.i_xt.to_numpy(), run.metrics["i_xt"][:, 2].astype(float))


def test_encoder_drops_are_the_simplifying_phase_of_each_run():
    from types import SimpleNamespace

    from ipbook.measures import simplifying_phase
    from ipbook.experiments.supervised import encoder_drops

    i_xt = np.concatenate([np.linspace(1, 5, 100), np.linspace(5, 4, 200)])
    runs = [SimpleNamespace(metrics={"layers": np.array(["Z"]), "step": np.arange(300) * 10,
                                     "i_xt": (i_xt * k)[:, None]}) for k in (1.0, 2.0)]
    d = encoder_drops(runs, layers=["Z"]).iloc[0]
    one = simplifying_phase(i_xt)
    assert d.dI == pytest.approx(1.5 * one["dI"]) and d.runs == 2
    assert d.pct == pytest.approx(100 * one["dI"] / one["peak"])            # the same share for both
