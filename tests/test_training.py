"""The trainer: determinism, online information plane invariants, errors, atomic reusable output."""
import json

import numpy as np
import pytest
import torch

from ipbook.nets import training
from ipbook.cli import main as cli_main
from ipbook.nets.config import TrainConfig, TrainingDivergedError
from ipbook.nets.runs import load_run
from ipbook.nets.training import train

QUICK = dict(dataset="fashion-mnist", train_fraction=0.1, ip_every=5, test_points=4, progress=False)


@pytest.mark.slow
def test_same_seed_gives_identical_metrics():
    a = train(model="shallow", max_steps=30, **QUICK).metrics
    b = train(model="shallow", max_steps=30, **QUICK).metrics
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    c = train(model="shallow", max_steps=30, seed=1, **QUICK).metrics
    assert not np.array_equal(a["train_loss"], c["train_loss"])


@pytest.mark.slow
def test_trajectory_does_not_depend_on_how_often_it_is_measured():
    # The VAE samples Z; evaluations use a forked RNG, so the training losses stay the same.
    a = train(model="vae", max_steps=20, **{**QUICK, "ip_every": 1})
    b = train(model="vae", max_steps=20, **{**QUICK, "ip_every": 10})
    assert np.array_equal(a.metrics["train_loss"], b.metrics["train_loss"])
    assert a.metrics["i_xt"].shape == (21, 5) and b.metrics["i_xt"].shape == (3, 5)
    assert list(b.metrics["step"]) == [0, 10, 20]


@pytest.mark.slow
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


def test_reuse_needs_the_same_data(tmp_path, caplog):
    out = tmp_path / "run"
    first = train(model="shallow", max_steps=5, **QUICK, out_dir=out)
    printed = first.info["data"]["fingerprint"]
    assert printed["train"]["n"] == 6000 and printed["test"]["n"] == 10_000
    assert len(printed["train"]["sha256"]) == 64
    # A run recorded on other data (e.g. the former 10,000-image MNIST subset) is trained again,
    # with a warning that says why.
    info = json.loads((out / "run.json").read_text())
    info["data"]["fingerprint"]["train"] = {"n": 1000, "sha256": "0" * 64}
    (out / "run.json").write_text(json.dumps(info))
    with caplog.at_level("WARNING", logger="ipbook"):
        again = train(model="shallow", max_steps=5, **QUICK, out_dir=out)
    assert again.info["started"] != info["started"] or again.info["wall_seconds"] != info["wall_seconds"]
    assert again.info["data"]["fingerprint"] == printed
    assert "training again, because the data changed: train 1000 images" in caplog.text
    # A run that records no fingerprint cannot be checked, so it is not reused either.
    info = json.loads((out / "run.json").read_text())
    del info["data"]["fingerprint"]
    (out / "run.json").write_text(json.dumps(info))
    caplog.clear()
    with caplog.at_level("WARNING", logger="ipbook"):
        train(model="shallow", max_steps=5, **QUICK, out_dir=out)
    assert "records no data fingerprint" in caplog.text
    # Same config, same data: reused, silently.
    caplog.clear()
    reused = train(model="shallow", max_steps=5, **QUICK, out_dir=out)
    assert reused.info == load_run(out).info and caplog.text == ""


def test_default_test_points_scale_with_the_run_length():
    assert TrainConfig().resolved_test_points(200) == 20        # at least 20
    assert TrainConfig().resolved_test_points(5_000) == 50      # one per 100 iterations
    assert TrainConfig().resolved_test_points(30_000) == 300
    assert TrainConfig().resolved_test_points(10**6) == 300     # at most 300
    assert TrainConfig(test_points=7).resolved_test_points(10**6) == 7
    run = train(model="shallow", max_steps=40, **{**QUICK, "test_points": None})
    assert len(run.metrics["test_loss_step"]) == 21 and run.info["data"]["test_points"] == 20


def test_output_directory_is_checked_before_training(tmp_path):
    afile = tmp_path / "a-file"
    afile.write_text("x")
    with pytest.raises(ValueError, match="exists and is not a directory"):
        train(model="shallow", max_steps=10**6, **QUICK, out_dir=afile)   # fails at once
    with pytest.raises(ValueError, match="is a file, not a directory"):
        train(model="shallow", max_steps=10**6, **QUICK, out_dir=afile / "sub" / "dir")
    assert afile.read_text() == "x"


def test_nan_loss_stops_the_run_naming_the_step(monkeypatch):
    real_build = training.build_network

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

    monkeypatch.setattr(training, "build_network", poisoned)
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


@pytest.mark.slow
def test_command_line(tmp_path, capsys):
    out = tmp_path / "cli"
    rc = cli_main(["train", "--model", "label", "--dataset", "fashion-mnist", "--out", str(out),
                   "--max-steps", "5", "--train-fraction", "0.1", "--quiet"])
    assert rc == 0 and (out / "metrics.npz").is_file()
    assert list(load_run(out).metrics["layers"]) == ["E1", "E2", "Z", "D1", "D2"]
    assert cli_main(["train", "--model", "resnet", "--dataset", "mnist", "--out", str(out)]) == 2
    assert "valid names: shallow, deep" in capsys.readouterr().err
    afile = tmp_path / "file"
    afile.write_text("")
    for bad in (afile, afile / "x"):
        assert cli_main(["train", "--model", "shallow", "--dataset", "mnist", "--out", str(bad), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_command_line_help_documents_every_option_and_default(capsys):
    import argparse

    from ipbook.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert "``" not in parser.format_help()
    datasets = set()
    for name, p in sub.choices.items():
        for action in p._actions:
            if action.dest != "help":
                assert action.help, f"{name} {action.option_strings}: no help text"
            if action.dest == "dataset" and name != "book":   # sweep takes a list; book: both by default
                default = action.default
                datasets.update(default if isinstance(default, list) else [default])
        text = " ".join(p.format_help().split())   # argparse wraps lines where it likes
        expected = {"train": "(default: 100)", "sensitivity": "(default: seeds)", "second-opinion": "(default: seeds)",
                    "calibrate": "(default: paper)", "defined": "(default: noisy)",
                    "labels": "(default: supervised)"}.get(name, "(default: quick)")
        assert expected in text
    assert datasets == {"fashion-mnist"}            # one default dataset for every subcommand
    assert {"--test-points", "--batch-size", "--lr", "--seed"} <= set(
        s for a in sub.choices["train"]._actions for s in a.option_strings)
    assert "(default: 0)" in sub.choices["train"].format_help().split("--seed")[-1]   # a default of 0 is shown too


def test_checkpoint_schedule():
    from ipbook.nets.config import checkpoint_steps

    steps = checkpoint_steps(100, 30_000)
    assert steps[0] == 0 and steps[-1] == 30_000 and 90 <= len(steps) <= 101
    assert sum(s <= 300 for s in steps) >= 20          # dense where the fitting phase is
    assert checkpoint_steps([0, 5, 5, 10], 10) == [0, 5, 10]
    assert checkpoint_steps(None, 10) == []
    with pytest.raises(ValueError, match="beyond the run's 10 iterations"):
        checkpoint_steps([11], 10)
    with pytest.raises(ValueError, match="checkpoints must be >= 2"):
        TrainConfig(checkpoints=1)


@pytest.mark.slow
def test_a_model_rebuilt_from_a_checkpoint_gives_the_online_value(tmp_path):
    from ipbook.nets.data import load_dataset
    from ipbook.estimators.matrix import InformationPlane

    out = tmp_path / "run"
    run = train(model="deep", max_steps=60, checkpoints=[0, 20, 60], **{**QUICK, "ip_every": 1}, out_dir=out)
    assert (out / "checkpoints.pt").is_file() and run.info["checkpoints"]["steps"] == [0, 20, 60]
    # the trajectory does not depend on whether checkpoints are saved
    plain = train(model="deep", max_steps=60, **{**QUICK, "ip_every": 1})
    assert np.array_equal(plain.metrics["i_xt"], run.metrics["i_xt"])
    again = load_run(out)
    x_probe = load_dataset("fashion-mnist", "test").x[torch.as_tensor(again.metrics["probe_index"])]
    plane = InformationPlane(x_probe, alpha=1.01, gamma=2.0)
    for step in (20, 60):
        model = again.model_at(step)
        with torch.no_grad():
            out_ = model(x_probe)
        i_xt, i_tx = plane(list(out_.layers.values()), out_.x_hat)
        row = list(again.metrics["step"]).index(step)
        assert np.array_equal(np.asarray(i_xt, np.float32), again.metrics["i_xt"][row]), step
        assert np.array_equal(np.asarray(i_tx, np.float32), again.metrics["i_tx"][row]), step
    with pytest.raises(ValueError, match="no checkpoint at iteration 30; saved: \\[0, 20, 60\\]"):
        again.model_at(30)


@pytest.mark.slow
def test_missing_checkpoints_are_recreated_by_a_replay_of_the_training(tmp_path, caplog):
    # the VAE samples Z while training, so the replay also checks that measurements (skipped in
    # the replay) do not draw from the training's random numbers
    out, settings = tmp_path / "run", dict(model="vae", max_steps=30, checkpoints=[0, 10, 30], **QUICK)
    first = train(**settings, out_dir=out)
    saved = torch.load(out / "checkpoints.pt", weights_only=True)
    (out / "checkpoints.pt").unlink()                      # committed results carry no checkpoints
    assert train(**settings, out_dir=out).info == first.info
    assert not (out / "checkpoints.pt").exists()
    again = train(**settings, out_dir=out, require_checkpoints=True)
    assert again.info == first.info                        # replayed, not trained and recorded again
    assert again.outcome == "replayed" and again.summary().endswith(" s (checkpoints recreated)")
    replayed = torch.load(out / "checkpoints.pt", weights_only=True)
    assert sorted(replayed) == [0, 10, 30]
    for step in replayed:
        for name, tensor in saved[step].items():
            assert torch.equal(replayed[step][name], tensor), (step, name)
    for name, tensor in again.model_at(30).state_dict().items():
        assert torch.equal(tensor, saved[30][name]), name

    # a recorded loss the replay cannot match (another machine kind): trained again in full
    (out / "checkpoints.pt").unlink()
    with np.load(out / "metrics.npz") as z:
        metrics = dict(z)
    metrics["train_loss"][5] += 1.0
    np.savez_compressed(out / "metrics.npz", **metrics)
    with caplog.at_level("WARNING", logger="ipbook"):
        full = train(**settings, out_dir=out, require_checkpoints=True)
    assert "first differs at iteration 6" in caplog.text and "training again" in caplog.text
    assert (out / "checkpoints.pt").is_file()
    assert full.metrics["train_loss"][5] == first.metrics["train_loss"][5]


def test_runs_recorded_before_a_setting_existed_are_still_reused(tmp_path):
    out = tmp_path / "run"
    first = train(model="shallow", max_steps=5, **QUICK, out_dir=out)
    info = json.loads((out / "run.json").read_text())
    del info["config"]["checkpoints"]                      # as in runs made before checkpoints
    for key in ("estimators", "estimator_samples", "estimator_points"):   # and before further estimators
        del info["config"][key]
    (out / "run.json").write_text(json.dumps(info))
    assert train(model="shallow", max_steps=5, **QUICK, out_dir=out).info["started"] == first.info["started"]


def test_controls_settings_reach_the_model_and_old_runs_still_match(tmp_path):
    from ipbook.nets.config import TrainConfig
    from ipbook.nets.runs import reuse_mismatch

    run = train(model="deep", max_steps=10, activation="tanh", bottleneck=5, checkpoints=[10], **QUICK,
                out_dir=tmp_path / "tanh")
    model = run.model_at(10)
    assert model.activation == "tanh" and model.n_bottleneck == 5
    assert run.metrics["i_xt"].shape[1] == 5 and run.info["config"]["activation"] == "tanh"
    sparse = train(model="sparse", max_steps=10, sparsity=0.01, **QUICK, out_dir=tmp_path / "sparse")
    assert sparse.info["config"]["sparsity"] == 0.01
    # a run recorded before these settings existed stands for one with their defaults
    old = load_run(tmp_path / "sparse")
    old.info["config"] = {k: v for k, v in old.info["config"].items() if k not in ("activation", "sparsity")}
    fingerprint = old.info["data"]["fingerprint"]
    config = TrainConfig(**{**old.info["config"], "sparsity": None})
    assert reuse_mismatch(old, config, fingerprint) is None
    for bad, message in [(dict(activation="gelu"), "unknown activation 'gelu'"),
                         (dict(model="sparse", activation="relu"), "needs sigmoid units"),
                         (dict(model="deep", sparsity=0.1), "sparse AE only"),
                         (dict(bottleneck=0), "bottleneck must be a positive integer")]:
        with pytest.raises(ValueError, match=message):
            TrainConfig(**bad)


def test_final_mean_activation_is_each_layers_mean_over_the_test_set(tmp_path):
    from ipbook.nets.data import load_dataset

    run = train(model="sparse", max_steps=10, checkpoints=[10], **QUICK, out_dir=tmp_path / "s")
    x = load_dataset("fashion-mnist", "test").x
    with torch.no_grad():
        z = run.model_at(10)(x).layers["Z"]
    assert run.metrics["final_mean_activation"].shape == (1,)
    assert run.metrics["final_mean_activation"][0] == pytest.approx(float(z.double().mean()), abs=1e-6)


def test_a_failed_replay_names_the_recorded_cpu_kernels_when_they_differ():
    from ipbook.store import capability_hint

    now = torch.backends.cpu.get_cpu_capability()
    assert capability_hint({"torch_cpu_capability": now}) == "" and capability_hint({}) == ""
    other = "AVX2" if now != "AVX2" else "AVX512"
    hint = capability_hint({"torch_cpu_capability": other})
    assert f"ATEN_CPU_CAPABILITY={other.lower()}" in hint and now in hint


# ------------------------------------------------------------------ one measuring path, the supervised control
@pytest.mark.slow
@pytest.mark.parametrize("name", ["shallow", "deep", "vae"])
def test_the_trainer_measuring_through_the_recorder_gives_the_committed_planes(name):
    """The trainer records through InformationPlaneRecorder now; its first planes of a committed
    seeds run (made by the trainer's former own plane code) are the same, bit for bit."""
    from ipbook import store
    from ipbook.experiments.profiles import RESULTS_DIR, run_configs

    old = load_run(RESULTS_DIR / "seeds" / "mnist" / name / "seed-0")
    if old.info["versions"].get("cpu") != store.cpu_model():
        pytest.skip(f"the committed run was made on a {old.info['versions'].get('cpu')} CPU; trajectories "
                    f"agree bit for bit only on the same machine kind")
    config = run_configs("seeds", "mnist")[name]
    new = train(config, max_steps=20, checkpoints=None, progress=False).metrics
    assert list(new["step"]) == [0, 10, 20] == list(old.metrics["step"][:3])
    for key in ("i_xt", "i_tx"):
        assert np.abs(new[key].astype(float) - old.metrics[key][:3]).max() <= 1e-12, key


def test_the_classifier_is_measured_against_the_labels_with_further_estimators(tmp_path):
    from ipbook.nets.data import load_dataset
    from ipbook.estimators.binning import binned_layer_information
    from ipbook.estimators.noisy import noisy_lower, noisy_upper
    from ipbook.estimators.matrix import VariableSample

    estimators = ("noisy-upper:0.1", "noisy-lower:0.1", "binning:30")
    steps = training.checkpoint_steps(3, 40)
    run = train(model="classifier", max_steps=40, estimators=estimators, estimator_samples=200,
                estimator_points=3, checkpoints=tuple(steps), out_dir=tmp_path / "c", **QUICK)
    m = run.metrics
    assert list(m["layers"]) == ["E1", "E2", "Z", "Yhat"] and "i_tx" not in m
    assert m["i_ty"].shape == m["i_xt"].shape == (9, 4)
    labels = load_dataset("fashion-mnist", "test").y
    y = labels[torch.as_tensor(m["probe_index"])]
    p = torch.bincount(y).double() / len(y)
    h_y = float(-(p[p > 0] * p[p > 0].log2()).sum())
    assert (m["i_ty"] <= h_y + 1e-3).all() and (m["i_ty"] >= -1e-3).all()       # I(T;Y) <= H(Y)
    assert list(m["est_step"]) == steps and m["est_i_xt"].shape == (3, 4, 3)
    assert list(m["est_names"]) == list(estimators) and len(m["est_probe_index"]) == 200
    assert (m["est_i_xt"][..., 1] <= m["est_i_xt"][..., 0] + 1e-12).all()        # lower <= upper
    assert (m["est_i_xt"] <= np.log2(200) + 1e-9).all()
    # the recorded values are the estimators' functions on the checkpoint's layers
    x = load_dataset("fashion-mnist", "test").x[torch.as_tensor(m["est_probe_index"])]
    with torch.no_grad():
        z = run.model_at(steps[-1])(x).layers["Z"].double()
    v = VariableSample(z)
    expected = [noisy_upper(v, 0.1), noisy_lower(v, 0.1), binned_layer_information(z, 30)]
    assert np.allclose(m["est_i_xt"][-1, 2], expected, rtol=0, atol=1e-12)
