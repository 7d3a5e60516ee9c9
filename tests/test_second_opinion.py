"""ipbook.experiments.second_opinion: the estimators of real information on a run's checkpoints, the
table writer's guard, saturation and the verdicts."""
import math

import numpy as np
import pandas as pd
import pytest

from ipbook.estimators.noisy import noisy_upper
from ipbook.experiments.second_opinion import SECOND_OPINION_COLUMNS, Grid, estimator_verdicts, evaluate_sweep, load_table, run_estimates, saturated, simplifying

QUICK = dict(dataset="fashion-mnist", train_fraction=0.1, ip_every=5, test_points=4, progress=False)
SMALL = Grid(n=200, draws=3, draw_steps=2)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from ipbook.nets.training import train

    root = tmp_path_factory.mktemp("so")
    runs = {m: train(model=m, max_steps=30, checkpoints=[0, 10, 30], **QUICK,
                     out_dir=root / "quick" / "fashion-mnist" / m / "seed-0") for m in ("shallow", "vae")}
    return root, runs


@pytest.mark.slow
def test_every_estimator_on_every_layer_at_every_checkpoint(tiny):
    _, runs = tiny
    rows = run_estimates(runs["vae"], SMALL)
    assert list(rows.columns) == SECOND_OPINION_COLUMNS and set(rows.step) == {0, 10, 30}
    main = rows[(rows.probe == "test") & (rows.draw == 0)]
    # 5 layers x (4 variances x 2 bounds + 2 bin counts) + the VAE's two bounds on Z, per checkpoint
    assert len(main) == 3 * (5 * 10 + 2)
    assert set(rows.draw) == {0, 1, 2} and set(rows[rows.draw > 0].step) == {0, 30}
    capped = rows[rows.estimator != "vae-rate"]
    assert (capped.bits <= math.log2(200) + 1e-9).all() and (rows.bits >= -0.05).all()
    wide = main.pivot_table(index=["step", "layer", "setting"], columns="estimator", values="bits").dropna(
        subset=["noisy-upper"])
    assert (wide["noisy-lower"] <= wide["noisy-upper"] + 1e-12).all()
    vae = main[main.estimator.str.startswith("vae")].pivot_table(index="step", columns="estimator", values="bits")
    assert (vae["vae-lower"] <= np.minimum(vae["vae-rate"], math.log2(200)) + 1e-9).all()


@pytest.mark.slow
def test_a_row_equals_the_estimator_on_the_same_activations(tiny):
    import torch

    from ipbook.experiments.probes import probe_index
    from ipbook.nets.data import load_dataset

    _, runs = tiny
    run = runs["shallow"]
    rows = run_estimates(run, SMALL, steps=[30])
    x = load_dataset("fashion-mnist", "test").x
    idx = probe_index(0, "test", 200, 0, len(x))
    with torch.no_grad():
        z = run.model_at(30)(x[idx].float()).layers["Z"].double()
    got = rows[(rows.estimator == "noisy-upper") & (rows.setting == "0.1") & (rows.draw == 0) & (rows.probe == "test")]
    assert float(got.bits.iloc[0]) == pytest.approx(noisy_upper(z, 0.1), abs=1e-12)


@pytest.mark.slow
def test_the_sweep_writes_keeps_and_refuses(tiny, tmp_path):
    root, _ = tiny
    info = evaluate_sweep("fashion-mnist", "quick", grid=SMALL, seeds=[0], runs=["shallow", "vae"], root=root,
                          out=tmp_path, workers=1, progress=False)
    assert info["written"] and info["evaluated"] == ["shallow/seed-0", "vae/seed-0"]
    table = load_table("fashion-mnist", tmp_path)
    assert list(table.columns) == SECOND_OPINION_COLUMNS and len(table) == info["rows"]
    with pytest.raises(ValueError, match=r"would lack 1 run\(s\) of the existing one \(vae/seed-0\)"):
        evaluate_sweep("fashion-mnist", "quick", grid=SMALL, seeds=[0], runs=["shallow"], root=root, out=tmp_path,
                       workers=1, progress=False)
    empty = tmp_path / "fresh-sweep" / "quick" / "fashion-mnist"
    empty.mkdir(parents=True)
    again = evaluate_sweep("fashion-mnist", "quick", grid=SMALL, seeds=[0], runs=["shallow", "vae"],
                           root=tmp_path / "fresh-sweep", out=tmp_path, workers=1, progress=False)
    assert not again["written"] and again["kept_from_earlier_table"] == ["shallow/seed-0", "vae/seed-0"]
    pd.testing.assert_frame_equal(load_table("fashion-mnist", tmp_path), table)


def _rows(values, *, n=100, draws_sd=0.01, layer="Z", run="shallow"):
    """A synthetic trajectory with three probe draws at every step."""
    out = []
    for step, v in enumerate(values):
        for draw, shift in ((0, 0.0), (1, draws_sd), (2, -draws_sd)):
            out.append((run, 0, step * 10, layer, "noisy-upper", "0.1", "test", n, draw, v + shift))
    return pd.DataFrame(out, columns=SECOND_OPINION_COLUMNS)


def test_a_setting_at_the_ceiling_is_saturated_and_cannot_judge():
    top = math.log2(100)
    flat = _rows([top - 0.5] + [top] * 11, draws_sd=0.0)           # an early dip, then pinned
    assert bool(saturated(flat).saturated.iloc[0])
    falling = _rows([top, top, top - 0.2, top - 0.5] + [top - 1.0] * 8)
    assert not bool(saturated(falling).saturated.iloc[0])
    phase = simplifying(falling)
    assert bool(phase.simplifies.iloc[0]) and phase.dI.iloc[0] == pytest.approx(1.0 - 0.2 / 3, abs=1e-9)  # smoothed over 3
    verdict = estimator_verdicts(flat).set_index("claim").loc["Shallow AE simplifies (Z)"]
    assert verdict.saturated == 1 and verdict.cannot == 1 and verdict.judged == 0 and verdict.holds == 0
    verdict = estimator_verdicts(falling).set_index("claim").loc["Shallow AE simplifies (Z)"]
    assert verdict.judged == 1 and verdict.holds == 1


def test_a_drop_below_the_margin_does_not_count():
    small = _rows([3.0, 3.2, 3.2, 3.2] + [3.1] * 8, draws_sd=0.2)
    phase = simplifying(small).iloc[0]
    assert phase.verdict == "does not simplify" and phase.dI == pytest.approx(0.1)   # margin 0.16


def test_the_verdict_matrix_is_split_into_two_page_tables():
    import pandas as pd

    from ipbook.experiments.second_opinion import split_verdict_matrix

    m = pd.DataFrame({"paper's kernel": ["5/5"], "noisy-upper σ²=0.1": ["1/1"], "noisy-lower σ²=1": ["saturated"],
                      "binning 10 bins": ["0/1"], "vae-rate": ["–"]}, index=["A claim"])
    noisy, other = split_verdict_matrix(m, first="paper's kernel")
    assert list(noisy.columns) == [("paper's kernel", ""), ("noisy upper bound", "σ²=0.1"), ("noisy lower bound", "σ²=1")]
    assert list(other.columns) == [("paper's kernel", ""), ("binning", "10 bins"), ("VAE", "rate")]
    assert noisy.iloc[0].tolist() == ["5/5", "1/1", "sat."]


def _activation_rows(shapes: dict[str, list[float]]) -> pd.DataFrame:
    """Synthetic rows of the activation control: one trajectory of Z per ``<model>-<activation>``,
    the sigmoid ones under the seeds profile's names (``shallow``), relabelled by activation_rows."""
    from ipbook.experiments.second_opinion import activation_rows

    parts = {run: _rows(values, run=run.removesuffix("-sigmoid")) for run, values in shapes.items()}
    seeds = pd.concat([p for r, p in parts.items() if r.endswith("-sigmoid")], ignore_index=True)
    control = pd.concat([p for r, p in parts.items() if not r.endswith("-sigmoid")], ignore_index=True)
    return activation_rows(seeds, control)


FALLS = [3.0, 4.0, 5.0, 5.0, 4.0] + [3.0] * 7        # peak 14/3 smoothed, final 3: a 36 % drop
RISES = [3.0, 4.0, 5.0, 5.5, 5.8] + [6.0] * 7


def test_saxe_et_al_holds_when_only_the_saturating_nonlinearities_simplify():
    from ipbook.experiments.second_opinion import activation_drops, activation_grid, saxe_verdicts

    rows = _activation_rows({"shallow-sigmoid": FALLS, "shallow-tanh": FALLS, "shallow-relu": RISES,
                             "shallow-linear": RISES})
    assert set(rows.run) == {"shallow-sigmoid", "shallow-tanh", "shallow-relu", "shallow-linear"}
    drops = activation_drops(rows).set_index("activation")
    assert drops.loc["tanh", "pct"] == pytest.approx(100 * (14 / 3 - 3) / (14 / 3), abs=1e-9)
    assert drops.loc["relu", "pct"] == pytest.approx(0.0) and drops.simplifies.tolist() == [1, 1, 0, 0]
    assert saxe_verdicts(activation_drops(rows)).to_dict() == {"noisy-upper σ²=0.1": "holds"}
    pct, k, n = activation_grid(activation_drops(rows))["shallow AE"]
    assert list(pct.columns) == ["sigmoid", "tanh", "relu", "linear"] and list(pct.index) == ["noisy-upper σ²=0.1"]
    assert pct.iat[0, 1] == pytest.approx(100 * (14 / 3 - 3) / (14 / 3)) and k.iloc[0].tolist() == [1, 1, 0, 0]


def test_saxe_et_al_fails_on_a_relu_drop_and_cannot_judge_a_saturated_sigmoid():
    from ipbook.experiments.second_opinion import activation_drops, activation_grid, saxe_verdicts

    relu_falls = _activation_rows({"shallow-sigmoid": FALLS, "shallow-tanh": FALLS, "shallow-relu": FALLS})
    assert saxe_verdicts(activation_drops(relu_falls)).iloc[0] == "does not hold"
    top = [math.log2(100)] * 12
    saturated_sigmoid = _activation_rows({"shallow-sigmoid": top, "shallow-tanh": FALLS, "shallow-relu": RISES})
    drops = activation_drops(saturated_sigmoid)
    assert saxe_verdicts(drops).iloc[0] == "cannot judge"
    pct, _, judged = activation_grid(drops)["shallow AE"]
    assert np.isnan(pct.loc["noisy-upper σ²=0.1", "sigmoid"]) and judged.loc["noisy-upper σ²=0.1", "sigmoid"] == 0
