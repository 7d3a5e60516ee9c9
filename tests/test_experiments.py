"""Profiles of the seven runs and the runs command."""
import pytest

from ipbook.cli import main as cli_main
from ipbook.experiments.profiles import load_profile, run_configs, run_profile
from ipbook.nets.runs import load_run

SEVEN = ["shallow", "deep", "deep-10pct", "sparse", "tied", "vae", "label"]


def test_paper_profile_is_the_papers_settings():
    cfgs = run_configs("paper", "fashion-mnist")
    assert list(cfgs) == SEVEN
    for name, c in cfgs.items():
        assert (c.steps, c.ip_every, c.ip_samples, c.lr, c.batch_size, c.seed) == (30000, 1, 100, 0.005, 100, 0)
        assert c.total_steps(60000) == 30000 and c.dataset == "fashion-mnist"
    assert cfgs["deep-10pct"].model == "deep" and cfgs["deep-10pct"].train_fraction == 0.1
    assert cfgs["vae"].model == "vae" and cfgs["deep"].train_fraction == 1.0


def test_unknown_profile_and_run_are_named():
    with pytest.raises(ValueError, match="unknown profile 'fast'; valid profiles: controls-activation, controls-sparsity, controls-width, noisy, noisy-quick, paper, quantized, quantized-quick, quick, seeds"):
        load_profile("fast")
    with pytest.raises(ValueError, match=r"unknown run\(s\) \['resnet'\]"):
        run_profile("quick", "mnist", runs=["resnet"])


@pytest.mark.slow
def test_runs_command_trains_then_reuses(tmp_path, monkeypatch, capsys):
    import ipbook.experiments.profiles as ex

    monkeypatch.setattr(ex, "RESULTS_DIR", tmp_path)
    args = ["runs", "--profile", "quick", "--dataset", "fashion-mnist", "--runs", "tied", "--quiet"]
    assert cli_main(args) == 0
    first = load_run(tmp_path / "quick" / "fashion-mnist" / "tied")
    assert first.info["config"]["steps"] == 400 and first.info["config"]["model"] == "tied"
    assert cli_main(args) == 0  # reused: same start time
    assert load_run(tmp_path / "quick" / "fashion-mnist" / "tied").info["started"] == first.info["started"]
    assert "tied" in capsys.readouterr().out


def test_load_seeds_keeps_only_complete_seeds(tmp_path):
    import shutil

    from ipbook.experiments.profiles import load_seeds, run_configs
    from ipbook.nets.training import train

    params = tmp_path / "params"
    params.mkdir()
    (params / "tiny.yaml").write_text("seeds: [0, 1]\ndefaults: {steps: 5, ip_every: 5, test_points: 2, "
                                      "train_fraction: 0.1}\nruns:\n  a: {model: shallow}\n  b: {model: tied}\n")
    import ipbook.experiments.profiles as ex

    old = ex.PARAMS_DIR
    ex.PARAMS_DIR = params
    try:
        for seed in (0, 1):
            for name, config in run_configs("tiny", "fashion-mnist", seed=seed).items():
                train(config, tmp_path / "tiny" / "fashion-mnist" / name / f"seed-{seed}", progress=False)
        assert sorted(load_seeds("fashion-mnist", "tiny", root=tmp_path)) == [0, 1]
        shutil.rmtree(tmp_path / "tiny" / "fashion-mnist" / "b" / "seed-1")     # seed 1 incomplete
        seeds = load_seeds("fashion-mnist", "tiny", root=tmp_path)
        assert list(seeds) == [0] and sorted(seeds[0]) == ["a", "b"] and seeds[0]["a"].info["seed"] == 0
        only_a = load_seeds("fashion-mnist", "tiny", runs=["a"], root=tmp_path)    # a chapter's runs
        assert sorted(only_a) == [0, 1] and list(only_a[1]) == ["a"] and only_a[1]["a"].info["seed"] == 1
        with pytest.raises(ValueError, match=r"unknown run\(s\) \['c'\]; valid: a, b"):
            load_seeds("fashion-mnist", "tiny", runs=["c"], root=tmp_path)
    finally:
        ex.PARAMS_DIR = old


def test_controls_write_under_results_controls():
    from ipbook.experiments.profiles import RESULTS_DIR, sensitivity_dir, sweep_root

    assert sweep_root("seeds") == RESULTS_DIR and sweep_root("controls-width") == RESULTS_DIR / "controls"
    assert sensitivity_dir("seeds") == RESULTS_DIR / "sensitivity"
    assert sensitivity_dir("controls-width") == RESULTS_DIR / "controls" / "sensitivity" / "controls-width"
