"""The sweep on a local Dask cluster (2 process workers, a few dozen iterations per run)."""
import numpy as np
import pytest

from ipbook.cli import main as cli_main
from ipbook.experiments.sweep import run_sweep, sweep_tasks
from ipbook.nets.config import TrainConfig
from ipbook.nets.runs import load_run
from ipbook.nets.training import train

pytestmark = pytest.mark.slow   # every test trains on a Dask cluster: 35-55 s each

SMALL = dict(max_steps=30, ip_every=5, test_points=3, train_fraction=0.1)


def test_two_seeds_equal_sequential_training_and_a_rerun_reuses(tmp_path):
    tasks = sweep_tasks("quick", "fashion-mnist", [0, 1], runs=["tied"], root=tmp_path, **SMALL)
    assert sorted(tasks) == ["tied/seed-0", "tied/seed-1"]
    report = run_sweep(tasks, workers=2, progress=False)
    assert report.ok and sorted(report.done) == sorted(tasks)
    for name, (config, out) in tasks.items():
        assert out == tmp_path / "quick" / "fashion-mnist" / "tied" / name.split("/")[1]
        swept = load_run(out)
        here = train(config, progress=False)            # the same config, in this process
        for key in ("i_xt", "i_tx", "train_loss", "test_loss", "probe_index"):
            assert np.array_equal(swept.metrics[key], here.metrics[key]), (name, key)
    seed0, seed1 = (load_run(out).metrics["train_loss"] for _, out in tasks.values())
    assert not np.array_equal(seed0, seed1)
    started = {n: load_run(out).info["started"] for n, (_, out) in tasks.items()}
    again = run_sweep(tasks, workers=2, progress=False)   # finished runs are reused
    assert again.ok and {n: load_run(out).info["started"] for n, (_, out) in tasks.items()} == started


def test_a_failing_run_is_named_while_the_other_finishes(tmp_path):
    good = TrainConfig(model="shallow", dataset="fashion-mnist", **SMALL)
    bad = TrainConfig(model="shallow", dataset="fashion-mnist", ip_samples=20_000, **SMALL)
    report = run_sweep({"good/seed-0": (good, tmp_path / "good"), "bad/seed-0": (bad, tmp_path / "bad")},
                       workers=2, progress=False)
    assert list(report.done) == ["good/seed-0"] and (tmp_path / "good" / "run.json").is_file()
    assert list(report.failed) == ["bad/seed-0"]
    assert "ValueError: ip_samples = 20000 exceeds the 10000 test images" == report.failed["bad/seed-0"]


def test_sweep_command_runs_datasets_then_seeds_in_order(tmp_path, capsys):
    rc = cli_main(["sweep", "--profile", "quick", "--dataset", "fashion-mnist", "mnist", "--runs", "shallow",
                   "tied", "--seeds", "3", "4", "--workers", "1", "--root", str(tmp_path), "--max-steps", "10",
                   "--quiet"])
    assert rc == 0
    run = load_run(tmp_path / "quick" / "mnist" / "tied" / "seed-4")
    assert run.info["seed"] == 4 and run.info["data"]["steps"] == 10
    started = {(d, r, s): load_run(tmp_path / "quick" / d / r / f"seed-{s}").info["started"]
               for d in ("fashion-mnist", "mnist") for s in (3, 4) for r in ("shallow", "tied")}
    assert list(started.values()) == sorted(started.values())      # one worker: in the given order
    out = capsys.readouterr().out
    assert "fashion-mnist/shallow/seed-3" in out and "mnist/tied/seed-4" in out
