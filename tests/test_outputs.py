"""Never lose a committed result, and fail before the work: the output checks of every command
(ipbook.store), the sensitivity tables' guard on a copy of the committed tables with the
checkpoints absent, the committed-run guard, the summary lines, and the command line's bounds."""
import shutil
import subprocess

import pandas as pd
import pytest

from ipbook.cli import main as cli_main
from ipbook.experiments.profiles import RESULTS_DIR
from ipbook.store import SmallerTableError, check_writable, is_committed, refuse_smaller_table, removed_on_failure
from ipbook.experiments.sensitivity import TABLE_SUFFIXES, evaluate_sweep
from ipbook.nets.runs import load_run
from ipbook.nets.training import train

QUICK = dict(dataset="fashion-mnist", train_fraction=0.1, ip_every=5, test_points=4, progress=False)


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("bad", ["/proc/ipbook-test", "/sys/ipbook-test"])
def test_folders_that_cannot_be_made_are_refused_and_nothing_is_left(bad):
    with pytest.raises(ValueError, match="does not accept new files"):
        check_writable(bad)


def test_a_writable_folder_passes_and_the_check_leaves_nothing(tmp_path):
    assert check_writable(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="exists and is not a directory"):
        check_writable(tmp_path / "f")


def test_folders_made_by_a_failed_block_are_removed(tmp_path):
    (tmp_path / "kept").mkdir()
    with pytest.raises(RuntimeError):
        with removed_on_failure(tmp_path / "kept" / "new" / "deeper") as out:
            out.mkdir(parents=True)
            (out / "half.csv").write_text("1")
            raise RuntimeError("later step failed")
    assert list(tmp_path.iterdir()) == [tmp_path / "kept"] and list((tmp_path / "kept").iterdir()) == []
    with removed_on_failure(tmp_path / "ok") as out:   # a block that succeeds keeps what it made
        out.mkdir()
    assert (tmp_path / "ok").is_dir()


def test_refuse_smaller_table_names_what_would_be_lost(tmp_path):
    table = tmp_path / "t.csv"
    refuse_smaller_table(table, {"a", "b"}, {"a"}, what="run(s)", remedy="r")   # no table yet: fine
    table.write_text("x")
    refuse_smaller_table(table, {"a", "b"}, {"a", "b", "c"}, what="run(s)", remedy="r")
    refuse_smaller_table(table, {"a", "b"}, {"a"}, what="run(s)", remedy="r", force=True)
    with pytest.raises(SmallerTableError, match=r"lack 1 run\(s\) of the existing one \(b\); make b; or pass --force"):
        refuse_smaller_table(table, {"a", "b"}, {"a"}, what="run(s)", remedy="make b")


@pytest.fixture
def committed_copy(tmp_path):
    """A copy of the committed MNIST seeds (run.json and metrics.npz, no checkpoints) and of the
    committed sensitivity tables."""
    root, out = tmp_path / "results", tmp_path / "sensitivity"
    for run in (RESULTS_DIR / "seeds" / "mnist").glob("*/seed-*"):
        dest = root / "seeds" / "mnist" / run.parent.name / run.name
        dest.mkdir(parents=True)
        for name in ("run.json", "metrics.npz"):
            shutil.copy(run / name, dest / name)
    out.mkdir()
    for suffix in (*TABLE_SUFFIXES, ".json"):
        shutil.copy(RESULTS_DIR / "sensitivity" / f"mnist{suffix}", out / f"mnist{suffix}")
    return root, out


def test_the_readme_sensitivity_command_keeps_every_committed_row(committed_copy, capsys):
    root, out = committed_copy
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    rows = len(pd.read_csv(out / "mnist.csv.gz", usecols=["run"]))
    assert cli_main(["sensitivity", "--dataset", "mnist", "--workers", "2", "--root", str(root),
                     "--out", str(out), "--quiet"]) == 0
    said = capsys.readouterr().out
    assert f"all 35 run(s) keep their {rows} rows" in said and "nothing written" in said
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before     # byte for byte, nothing new


@pytest.mark.slow
def test_a_smaller_table_is_refused_before_any_work_unless_forced(committed_copy, capsys):
    root, out = committed_copy
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    # fewer runs: refused with the runs it would lose
    assert cli_main(["sensitivity", "--dataset", "mnist", "--runs", "deep", "--root", str(root),
                     "--out", str(out), "--quiet"]) == 2
    err = _one_error_line(capsys)
    assert "would lack 30 run(s)" in err and "label/seed-0" in err and "--force" in err
    # fewer settings: refused too
    assert cli_main(["sensitivity", "--dataset", "mnist", "--grid", "small", "--root", str(root),
                     "--out", str(out), "--quiet"]) == 2
    assert "setting(s) of the existing one ((scott γ=0.5)" in _one_error_line(capsys)
    # checkpoints missing and the rows not keepable: refused, naming the command that recreates them
    (root / "seeds" / "mnist" / "vae" / "seed-3" / "metrics.npz").unlink()
    assert cli_main(["sensitivity", "--dataset", "mnist", "--root", str(root), "--out", str(out), "--quiet"]) == 2
    err = _one_error_line(capsys)
    assert "would lack 1 run(s) of the existing one (vae/seed-3)" in err
    assert "python -m ipbook sweep --profile seeds --dataset mnist --seeds 3 --recreate-checkpoints" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before and not (out / ".parts").exists()
    # --force writes the smaller table
    assert cli_main(["sensitivity", "--dataset", "mnist", "--runs", "deep", "--root", str(root),
                     "--out", str(out), "--quiet", "--force"]) == 0
    assert set(pd.read_csv(out / "mnist.csv.gz", usecols=["run"]).run) == {"deep"}


def test_a_failed_sensitivity_call_leaves_no_folder(tmp_path, capsys):
    out = tmp_path / "new" / "out"
    assert cli_main(["sensitivity", "--profile", "quick", "--root", str(tmp_path / "nonexistent"),
                     "--out", str(out), "--quiet"]) == 2
    assert "no sweep of profile 'quick'" in _one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError):   # no run has checkpoints: nothing written, nothing made
        (tmp_path / "s" / "quick" / "fashion-mnist" / "deep").mkdir(parents=True)
        evaluate_sweep("fashion-mnist", "quick", root=tmp_path / "s", out=out, progress=False)
    assert not (tmp_path / "new").exists()


def test_a_committed_run_is_not_trained_over_with_another_config(tmp_path, capsys):
    out = tmp_path / "repo" / "run"
    first = train(model="tied", max_steps=5, **QUICK, out_dir=out)
    assert first.outcome == "trained" and first.summary().startswith("trained in ")
    git = ["git", "-C", str(tmp_path / "repo"), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "run"], check=True)
    assert is_committed(out / "run.json") and not is_committed(tmp_path / "elsewhere.json")
    with pytest.raises(ValueError, match=r"refusing to train over the committed run .* iterations \(5 -> 6\)"):
        train(model="tied", max_steps=6, **QUICK, out_dir=out)
    assert load_run(out).info == first.info
    again = train(model="tied", max_steps=5, **QUICK, out_dir=out)       # the same config: reused
    assert again.outcome == "reused" and again.summary() == (
        f"reused (trained in {first.info['wall_seconds']:.0f} s on {first.info['started'][:10]})")
    assert train(model="tied", max_steps=6, **QUICK, out_dir=out, recompute=True).info["data"]["steps"] == 6


def test_train_prints_what_happened(tmp_path, capsys):
    args = ["train", "--model", "tied", "--out", str(tmp_path / "r"), "--max-steps", "5",
            "--train-fraction", "0.1", "--test-points", "2", "--quiet"]
    assert cli_main(args) == 0
    assert ": trained in " in capsys.readouterr().out
    assert cli_main(args) == 0
    assert ": reused (trained in " in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["sweep", "--seeds", "-1"], "argument --seeds: must be an integer >= 0; got -1"),
    (["sweep", "--workers", "0"], "argument --workers: must be an integer >= 1; got 0"),
    (["sweep", "--workers", "-2"], "argument --workers: must be an integer >= 1; got -2"),
    (["train", "--model", "deep", "--out", "x", "--seed", "-1"], "argument --seed: must be an integer >= 0; got -1"),
    (["train", "--model", "deep", "--out", "x", "--steps", "0"], "argument --steps: must be an integer >= 1 and <= 10000000; got 0"),
    (["sensitivity", "--draws", "-4"], "argument --draws: must be an integer >= 1; got -4"),
    (["sensitivity", "--large-n-steps", "-1"], "argument --large-n-steps: must be an integer >= 1; got -1"),
    (["sensitivity", "--grid", "small", "--large-n-steps", "5"], "--large-n-steps applies to grids with N above 100"),
    (["sensitivity", "--grid", "controls", "--large-n-steps", "5"], "--grid controls evaluates N = 100 only"),
    (["train", "--model", "sparse", "--out", "x", "--sparsity", "-1"], "sparsity must be a finite number >= 0"),
    (["train", "--model", "deep", "--out", "x", "--sparsity", "0.1"], "applies to the sparse AE only"),
    (["train", "--model", "deep", "--steps", "300", "--out", "/proc/b5"], "cannot write output directory /proc/b5"),
    (["train", "--model", "deep", "--steps", "300", "--out", "/sys/b5"], "cannot write output directory /sys/b5"),
    (["book", "--profile", "paper", "--out", "/proc/bk"], "cannot write output directory /proc/bk"),
])
def test_bad_numbers_are_refused_naming_the_value_and_the_range(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        raise SystemExit(cli_main(argv))
    assert stop.value.code == 2
    assert message in _one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []


def test_sweep_seeds_below_zero_are_refused_in_the_api_too():
    from ipbook.experiments.dask_engine import run_tasks
    from ipbook.experiments.sweep import sweep

    with pytest.raises(ValueError, match=r"seeds must be integers >= 0; got \[-1\]"):
        sweep("seeds", "mnist", [-1])
    with pytest.raises(ValueError, match="workers must be >= 1; got 0"):
        run_tasks(print, {}, workers=0)


def test_draws_reach_every_grid(tmp_path, monkeypatch):
    import ipbook.experiments.sensitivity as sensitivity

    seen = {}

    def fake(*args, settings, **kwargs):
        seen["settings"] = settings
        return {"written": False, "kept_from_earlier_tables": [], "rows": 0}

    monkeypatch.setattr(sensitivity, "evaluate_sweep", fake)
    for grid, draws in (("controls", 2), ("small", 4), ("paper", 3)):
        assert cli_main(["sensitivity", "--grid", grid, "--draws", str(draws), "--quiet"]) == 0
        assert sorted({s.draw for s in seen["settings"]}) == list(range(draws))
