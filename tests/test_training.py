"""The trainer: determinism, online information plane invariants, errors, atomic reusable output."""
import json

import numpy as np
import pytest
import torch

from ipbook import training
from ipbook.cli import main as cli_main
from ipbook.training import TrainConfig, TrainingDivergedError, load_run, train

QUICK = dict(dataset="fashion-mnist", train_fraction=0.1, ip_every=5, test_points=4, progress=False)


def test_same_seed_gives_identical_metrics():
    a = train(model="shallow", max_steps=30, **QUICK).metrics
    b = train(model="shallow", max_steps=30, **QUICK).metrics
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    c = train(model="shallow", max_steps=30, seed=1, **QUICK).metrics
    assert not np.array_equal(a["train_loss"], c["train_loss"])


def test_trajectory_does_not_depend_on_how_often_it_is_measured():
    # The VAE samples Z; evaluations use a forked RNG, so the training losses stay the same.
    a = train(model="vae", max_steps=20, **{**QUICK, "ip_every": 1})
    b = train(model="vae", max_steps=20, **{**QUICK, "ip_every": 10})
    assert np.array_equal(a.metrics["train_loss"], b.metrics["train_loss"])
    assert a.metrics["i_xt"].shape == (21, 5) and b.metrics["i_xt"].shape == (3, 5)
    assert list(b.metrics["step"]) == [0, 10, 20]


def test_metrics_layout_and_information_plane_invariants():
    run = train(model="deep", max_steps=150, **QUICK)
    m = run.metrics
    assert run.layers == ["E1", "E2", "Z", "D1", "D2"]
    assert m["step"][0] == 0 and m["step"][-1] == 150
    assert m["i_xt"].shape == m["i_tx"].shape == (len(m["step"]), 5)
    assert m["train_loss"].shape == (150,) and list(m["loss_step"][[0, -1]]) == [1, 150]
    assert m["test_loss_step"][-1] == 150 and np.all(np.isfinite(m["test_loss"]))
    assert m["test_loss"][-1] < 0.7 * m["test_loss"][0]
    assert m["recon_test"].shape == (8, 784)
    trained = m["step"] >= 50
    i_xt, i_tx = m["i_xt"][trained], m["i_tx"][trained]
    assert np.all(i_xt <= np.log2(100) + 1e-9)
    # I(X;T) >= I(T;X') - 0.05 bits for every layer and measurement.
    assert np.all(i_xt >= i_tx - 0.05)
    # Encoder DPI I(X;E1) >= I(X;E2) >= I(X;Z), within 0.1 bits.
    assert np.all(np.diff(i_xt[:, :3], axis=1) <= 0.1)
    # Decoder side: I(D1;X') <= I(D2;X') holds within 0.1 bits. I(Z;X') <= I(D1;X') does NOT hold
    # this early (150 steps): the estimate of I(Z;X') exceeds I(D1;X') by up to ~0.4 bits.
    assert np.all(np.diff(i_tx[:, 3:], axis=1) >= -0.1)


def test_results_written_atomically_and_reused(tmp_path):
    out = tmp_path / "run"
    first = train(model="tied", max_steps=10, **QUICK, out_dir=out)
    info = json.loads((out / "run.json").read_text())
    assert info["config"]["model"] == "tied" and info["data"]["n_train"] == 6000
    assert info["data"]["steps"] == 10 and info["seed"] == 0
    assert {"torch", "numpy", "python", "ipbook"} <= set(info["versions"])
    assert "commit" in info["git"] and info["peak_memory_mb"] > 0
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*"))
    again = train(model="tied", max_steps=10, **QUICK, out_dir=out)
    assert again.info["started"] == first.info["started"]  # loaded, not retrained
    other = train(model="tied", max_steps=11, **QUICK, out_dir=out)  # another config: retrains
    assert other.info["data"]["steps"] == 11
    assert load_run(out).info["data"]["steps"] == 11
    (out / "run.json").unlink()  # an interrupted write leaves no run.json: not a complete run
    with pytest.raises(FileNotFoundError, match="no complete run"):
        load_run(out)


def test_nan_loss_stops_the_run_naming_the_step(monkeypatch):
    real_build = training.build_model

    def poisoned(*args, **kwargs):
        model = real_build(*args, **kwargs)
        real_loss, calls = model.loss, {"n": 0}

        def loss(out, x, y):
            value = real_loss(out, x, y)
            if torch.is_grad_enabled():  # a training step, not an evaluation
                calls["n"] += 1
                if calls["n"] == 8:
                    return value * float("nan")
            return value

        model.loss = loss
        return model

    monkeypatch.setattr(training, "build_model", poisoned)
    with pytest.raises(TrainingDivergedError, match="loss is nan at iteration 8;"):
        train(model="shallow", max_steps=20, **{**QUICK, "ip_every": 1})


def test_bad_config_errors_list_valid_names():
    with pytest.raises(ValueError, match="unknown model 'cnn'; valid names: shallow, deep, sparse, tied, vae, label"):
        TrainConfig(model="cnn")
    with pytest.raises(ValueError, match="unknown dataset 'cifar'.*mnist, fashion-mnist, emnist-letters"):
        TrainConfig(dataset="cifar")
    with pytest.raises(ValueError, match="train_fraction"):
        TrainConfig(train_fraction=0)
    with pytest.raises(ValueError, match="ip_every"):
        TrainConfig(ip_every=0)


def test_sized_by_epochs_or_steps():
    assert TrainConfig(epochs=50).total_steps(60000) == 30000
    assert TrainConfig(epochs=50).total_steps(10000) == 5000
    assert TrainConfig(steps=30000).total_steps(6000) == 30000
    assert TrainConfig(steps=30000, max_steps=200).total_steps(6000) == 200


def test_command_line(tmp_path, capsys):
    out = tmp_path / "cli"
    rc = cli_main(["train", "--model", "label", "--dataset", "fashion-mnist", "--out", str(out),
                   "--max-steps", "5", "--train-fraction", "0.1", "--quiet"])
    assert rc == 0 and (out / "metrics.npz").is_file()
    assert list(load_run(out).metrics["layers"]) == ["E1", "E2", "Z", "D1", "D2"]
    assert cli_main(["train", "--model", "resnet", "--dataset", "mnist", "--out", str(out)]) == 2
    assert "valid names: shallow, deep" in capsys.readouterr().err
