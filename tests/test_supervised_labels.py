"""I(T;Y) of the supervised control under label estimators: the replay that gives a run's weights
at any iteration, the grid's rows, ceilings and shuffled floor, and plain SGD."""
import math

import numpy as np
import pandas as pd
import pytest
import torch

from ipbook.estimators.decoding import decoding_bound
from ipbook.estimators.kernels import label_entropy
from ipbook.experiments.probes import probe_index
from ipbook.experiments.supervised_labels import (LABEL_COLUMNS, LabelGrid, evaluate_labels, even_steps,
                                                  label_estimates, load_labels, ty_during_phase)
from ipbook.verdicts import CANNOT, DOES_NOT, SIMPLIFIES
from ipbook.nets.config import TrainConfig
from ipbook.nets.data import load_dataset
from ipbook.nets.runs import load_run, network_of
from ipbook.nets.training import replay_at, train

SMALL = LabelGrid(n=200, matrix_n=60, steps=2)
STEPS = 40


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A tiny supervised sweep without checkpoints (as the committed ones), and the same run
    trained with checkpoints: root/supervised/fashion-mnist/classifier/seed-0 and root/with-ckpt."""
    root = tmp_path_factory.mktemp("labels")
    fields = dict(model="classifier", dataset="fashion-mnist", steps=STEPS, ip_every=10, test_points=2,
                  estimators=["binning:10"], estimator_samples=50, estimator_points=3, progress=False)
    train(out_dir=root / "supervised" / "fashion-mnist" / "classifier" / "seed-0", **fields)
    train(out_dir=root / "with-ckpt", checkpoints=[0, 20, STEPS], **fields)
    return root


def test_a_replay_gives_the_weights_that_training_kept(sweep):
    run, kept = load_run(sweep / "supervised" / "fashion-mnist" / "classifier" / "seed-0"), load_run(sweep / "with-ckpt")
    states = replay_at(run, [20, STEPS])
    assert sorted(states) == [20, STEPS]
    for step in (20, STEPS):
        saved = kept.model_at(step).state_dict()
        for key, w in states[step].items():
            assert torch.equal(w, saved[key]), (step, key)


def test_a_replay_refuses_iterations_the_run_never_reached(sweep):
    run = load_run(sweep / "supervised" / "fashion-mnist" / "classifier" / "seed-0")
    with pytest.raises(ValueError, match="steps must be iterations in 0..40"):
        replay_at(run, [STEPS + 1])


def test_label_rows_equal_the_estimators_on_the_replayed_layers(sweep):
    run = load_run(sweep / "supervised" / "fashion-mnist" / "classifier" / "seed-0")
    rows = label_estimates(run, SMALL)
    assert list(rows.columns) == LABEL_COLUMNS
    assert sorted(set(rows.step)) == [0, STEPS] and set(rows.layer) == {"E1", "E2", "Z", "Yhat"}
    assert set(rows.labels) == {"true", "shuffled"} and len(rows) == 2 * 4 * 2 * 2
    test = load_dataset("fashion-mnist", "test")
    idx = probe_index(0, "test", 200, 0, len(test.x))
    y = torch.as_tensor(test.y[idx]).long()
    net = network_of(run.info, replay_at(run, [STEPS])[STEPS])
    with torch.no_grad():
        z = net(test.x[idx].float()).layers["Z"].double()
    one = rows[(rows.step == STEPS) & (rows.layer == "Z") & (rows.labels == "true")].set_index("estimator")
    assert one.loc["decoding:l2=0.01", "value"] == decoding_bound(z, y, l2=0.01)[0]
    assert one.loc["decoding:l2=0.01", "ceiling"] == pytest.approx(label_entropy(y))
    assert one.loc["matrix-label:rule=median", "n"] == 60
    assert one.loc["matrix-label:rule=median", "ceiling"] == pytest.approx(label_entropy(y[:60], 1.01))
    assert (rows.value <= rows.ceiling + 1e-9).all()
    assert (rows.ceiling <= math.log2(10) + 1e-9).all()


def test_the_grid_writes_a_table_and_keeps_it_on_a_rerun(sweep, tmp_path):
    out = tmp_path / "labels"
    info = evaluate_labels("fashion-mnist", "supervised", grid=SMALL, runs=["classifier"], seeds=[0, 1],
                           root=sweep, out=out, workers=1, progress=False)
    assert info["written"] and info["evaluated"] == ["classifier/seed-0"] and info["missing_runs"] == ["classifier/seed-1"]
    first = load_labels("fashion-mnist", root=out)
    again = evaluate_labels("fashion-mnist", "supervised", grid=SMALL, runs=["classifier"], seeds=[0],
                            root=sweep, out=out, workers=1, progress=False)
    assert again["evaluated"] == [] and again["kept_from_earlier_table"] == ["classifier/seed-0"]
    pd.testing.assert_frame_equal(load_labels("fashion-mnist", root=out), first)


def test_even_steps_are_even_in_iterations_not_in_the_schedule():
    schedule = [0, 1, 2, 4, 8, 16, 100, 200, 300, 400]
    assert even_steps(schedule, 5) == [0, 100, 200, 300, 400]
    assert even_steps(schedule, 2) == [0, 400]
    assert even_steps([0, 10], 5) == [0, 10]


def test_the_grid_takes_label_estimators_only():
    with pytest.raises(ValueError, match="not a label estimator"):
        LabelGrid(estimators=("binning:30",))
    with pytest.raises(ValueError, match="matrix_n <= n"):
        LabelGrid(n=100, matrix_n=200)


def test_plain_sgd_steps_by_the_learning_rate_times_the_gradient(tmp_path):
    """One step of the run's SGD equals b − lr·∇L computed by hand for the softmax bias:
    ∇_b L = mean over the first batch of (softmax − one-hot); Adam's first step differs."""
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'; valid: adam, sgd"):
        TrainConfig(optimizer="rmsprop")
    runs = {opt: train(model="classifier", dataset="fashion-mnist", steps=1, ip_every=1, test_points=1, optimizer=opt,
                       lr=0.5, checkpoints=[0, 1], progress=False, out_dir=tmp_path / opt) for opt in ("sgd", "adam")}
    sgd = runs["sgd"]
    data = load_dataset("fashion-mnist", "train")
    batch = torch.randperm(len(data.x), generator=torch.Generator().manual_seed(0))[:100]
    with torch.no_grad():
        out = network_of(sgd.info, sgd.checkpoints[0])(data.x[batch].float())
    y = torch.as_tensor(data.y[batch]).long()
    grad = (out.x_hat - torch.nn.functional.one_hot(y, 10).float()).mean(0)
    b0, b1 = sgd.checkpoints[0]["fc_logits.bias"], sgd.checkpoints[1]["fc_logits.bias"]
    assert torch.allclose(b1, b0 - 0.5 * grad, atol=1e-6)
    assert not torch.allclose(runs["adam"].checkpoints[1]["fc_logits.bias"], b0 - 0.5 * grad, atol=1e-3)
    assert sgd.info["config"]["optimizer"] == "sgd"


def _label_rows(values, *, estimator="decoding:l2=0.01", ceiling=3.3):
    steps = range(0, 100 * len(values), 100)
    true = [("classifier", 0, s, "Z", estimator, "true", 2000, v, ceiling) for s, v in zip(steps, values)]
    shuffled = [("classifier", 0, s, "Z", estimator, "shuffled", 2000, -0.05, ceiling) for s in steps]
    return pd.DataFrame(true + shuffled, columns=LABEL_COLUMNS)


def test_i_ty_during_the_phase_is_judged_from_the_peak_of_i_xt_on():
    """A rise to 3.0 bits by iteration 500, then flat (does not fall) or falling by 1 bit (falls);
    the judge sees only the checkpoints from I(X;T)'s peak at 500 on."""
    rise = list(np.linspace(1.0, 3.0, 6))
    phase = pd.DataFrame({"run": ["classifier"], "seed": [0], "layer": ["Z"], "peak_step": [500]})
    flat = ty_during_phase(_label_rows(rise + [3.0] * 20), phase).iloc[0]
    assert flat.verdict == DOES_NOT and flat.points == 21 and flat.ity_start == pytest.approx(3.0)
    assert flat.floor_end == pytest.approx(-0.05) and flat.ceiling == 3.3
    falls = ty_during_phase(_label_rows(rise + list(np.linspace(3.0, 2.0, 20))), phase).iloc[0]
    assert falls.verdict == SIMPLIFIES and falls["drop"] == pytest.approx(1.0, abs=0.1)
    short = ty_during_phase(_label_rows(rise + [3.0] * 5), phase).iloc[0]
    assert short.verdict == CANNOT and short.points == 6
