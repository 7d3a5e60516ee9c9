"""Every fault is one ``error:`` line before the work (issue 33): damaged files, impossible numbers,
interrupts, failed tasks, misleading hints. Each test makes its fault in a temporary copy and checks
the one line, the exit status, that no traceback is printed, and that the files are unchanged."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from ipbook.cli import main as cli_main
from ipbook.experiments.profiles import RESULTS_DIR


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def _exit_code(argv) -> int:
    with pytest.raises(SystemExit) as stop:
        raise SystemExit(cli_main(argv))
    return stop.value.code


def _committed_copy(tmp_path, *paths) -> dict:
    """A git repository in ``tmp_path/repo`` holding copies of the committed ``results/`` files
    ``paths``, committed; returns ``{path: Path of the copy}``."""
    repo = tmp_path / "repo"
    copies = {}
    for rel in paths:
        dest = repo / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(RESULTS_DIR.parent / rel, dest)
        copies[rel] = dest
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "copy"], check=True)
    return copies


def _results_status() -> str:
    """What git sees changed or new under the repository's ``results/`` (committed and ignored)."""
    done = subprocess.run(["git", "-C", str(RESULTS_DIR), "status", "--porcelain", "--ignored", "--", "."],
                          capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture(autouse=True)
def _committed_tree_unchanged():
    """Every test here leaves the repository's ``results/`` as it found it."""
    before = _results_status()
    yield
    assert _results_status() == before


def _truncate(path) -> bytes:
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    return path.read_bytes()


# ----------------------------------------------------------------------------- damaged files
@pytest.mark.parametrize("damaged, says", [
    ("metrics.npz", "cannot be read as a NumPy .npz archive (BadZipFile"),
    ("run.json", "cannot be read as JSON (JSONDecodeError: Unterminated string"),
])
def test_a_damaged_committed_run_is_named_with_the_command_that_restores_it(damaged, says, tmp_path, capsys,
                                                                               monkeypatch):
    rel = "results/paper/mnist/deep"
    copies = _committed_copy(tmp_path, f"{rel}/run.json", f"{rel}/metrics.npz")
    bad = _truncate(copies[f"{rel}/{damaged}"])
    monkeypatch.chdir(tmp_path / "repo")
    for recompute in ([], ["--recompute"]):     # not even --recompute overwrites a damaged committed file
        assert _exit_code(["train", "--model", "deep", "--dataset", "mnist", "--out", rel, "--quiet",
                           *recompute]) == 2
        line = _one_error_line(capsys)
        assert line.startswith(f"error: {rel}/{damaged} is damaged: it ") and says in line
        assert line.endswith(f"restore it with: git checkout -- {rel}/{damaged}")
        assert copies[f"{rel}/{damaged}"].read_bytes() == bad


def test_a_damaged_run_outside_git_is_deleted_not_restored(tmp_path, capsys):
    from ipbook.nets.runs import load_run
    from ipbook.readers import DamagedFileError

    run = tmp_path / "deep"
    run.mkdir()
    for name in ("run.json", "metrics.npz"):
        shutil.copy(RESULTS_DIR / "paper" / "mnist" / "deep" / name, run / name)
    (run / "metrics.npz").write_bytes(b"garbage")
    with pytest.raises(DamagedFileError, match=f"delete the run folder {run} and train the run again$"):
        load_run(run)


@pytest.mark.parametrize("rel, damage, argv, says", [
    ("results/second-opinion/mnist.csv.gz", "truncate", ["second-opinion", "--out", "results/second-opinion"],
     "cannot be read as a gzip CSV table (EOFError"),
    ("results/sensitivity/mnist.csv.gz", b"garbage", ["sensitivity", "--out", "results/sensitivity"],
     "cannot be read as a gzip CSV table (BadGzipFile"),
    ("results/calibration/estimates.csv", b"garbage\n1,2\n", ["calibrate", "--grid", "quick", "--out",
                                                             "results/calibration"],
     "cannot be read as a CSV table ("),
    ("results/calibration/estimates.csv", b"garbage\n1,2\n", ["calibrate", "--grid", "quick", "--force", "--out",
                                                             "results/calibration"],
     "cannot be read as a CSV table ("),
    ("results/sensitivity/mnist-geometry.csv.gz", "truncate", ["sensitivity", "--force", "--out",
                                                              "results/sensitivity"],
     "cannot be read as a gzip CSV table (EOFError"),
])
def test_a_damaged_committed_table_is_named_and_kept(rel, damage, argv, says, tmp_path, capsys, monkeypatch):
    copies = _committed_copy(tmp_path, rel)
    if damage == "truncate":
        bad = _truncate(copies[rel])
    else:
        copies[rel].write_bytes(damage)
        bad = damage
    (tmp_path / "sweep" / "seeds" / "mnist").mkdir(parents=True)    # a sweep without checkpoints
    monkeypatch.chdir(tmp_path / "repo")
    where = [] if argv[0] == "calibrate" else ["--dataset", "mnist", "--root", str(tmp_path / "sweep")]
    assert _exit_code([*argv, *where, "--quiet"]) == 2
    line = _one_error_line(capsys)
    assert line.startswith(f"error: {rel} is damaged: it ") and says in line
    assert line.endswith(f"restore it with: git checkout -- {rel}")
    assert copies[rel].read_bytes() == bad
    assert sorted(p.name for p in copies[rel].parent.iterdir()) == [copies[rel].name]


# ----------------------------------------------------------------------------- impossible numbers
@pytest.mark.parametrize("argv, message", [
    (["--epochs", "1e300"], "argument --epochs: must be a finite number > 0 and <= 10000000; got 1e300"),
    (["--epochs", "inf"], "argument --epochs: must be a finite number > 0 and <= 10000000; got inf"),
    (["--epochs", "nan"], "argument --epochs: must be a finite number > 0 and <= 10000000; got nan"),
    (["--steps", "10000001"], "argument --steps: must be an integer >= 1 and <= 10000000; got 10000001"),
    (["--ip-samples", "0"], "argument --ip-samples: must be an integer >= 2; got 0"),
    (["--ip-samples", "1"], "argument --ip-samples: must be an integer >= 2; got 1"),
    (["--batch-size", "0"], "argument --batch-size: must be an integer >= 1; got 0"),
    (["--ip-every", "0"], "argument --ip-every: must be an integer >= 1 and <= 10000000; got 0"),
    (["--lr", "inf"], "argument --lr: must be a finite number > 0; got inf"),
    (["--train-fraction", "1.5"], "argument --train-fraction: must be a finite number > 0 and <= 1; got 1.5"),
    (["--epochs", "1000000"], ("error: --epochs = 1e+06 of 600 batches of 100 images would be 600,000,000 "
                               "iterations; at most 10,000,000 are allowed")),
    (["--ip-samples", "20000"], "error: --ip-samples = 20000 exceeds the 10000 test images"),
])
def test_impossible_training_numbers_are_refused_before_any_work(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _exit_code(["train", "--model", "deep", "--dataset", "mnist", "--out", "run", "--quiet", *argv]) == 2
    assert message in _one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []


def test_the_config_refuses_what_the_options_refuse():
    from ipbook.nets.config import TrainConfig

    for bad, says in [({"epochs": float("inf")}, "epochs must be a finite number > 0 and <= 10000000; got inf"),
                      ({"epochs": 1e300}, "epochs must be a finite number"),
                      ({"ip_samples": 1}, "ip_samples must be an integer >= 2; got 1"),
                      ({"steps": 2.5}, "steps must be an integer >= 1"),
                      ({"lr": float("nan")}, "lr must be a finite number > 0; got nan")]:
        with pytest.raises(ValueError, match=says.replace("(", r"\(")):
            TrainConfig(**bad)


def test_a_run_larger_than_the_memory_is_refused(tmp_path, capsys, monkeypatch):
    import ipbook.store

    monkeypatch.setattr(ipbook.store, "available_memory", lambda: 2**20)
    monkeypatch.chdir(tmp_path)
    assert _exit_code(["train", "--model", "deep", "--dataset", "mnist", "--out", "run", "--steps", "300",
                       "--quiet"]) == 2
    line = _one_error_line(capsys)
    assert line.startswith("error: a run of 300 iterations with the plane of 5 layers on 100 probes every 1 "
                           "iteration(s) would need about ") and "more than the 1 MiB available here" in line
    assert "--steps" in line and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("n, says", [
    ("50000", ("error: N = 50,000 probe images (--n) are more than mnist has: 10,000 test images and the first "
               "6,000 training images the training probes are drawn from; N can be at most 6,000")),
    ("6001", "N can be at most 6,000"),
])
def test_second_opinion_probes_are_at_most_the_images(n, says, tmp_path, capsys):
    assert _exit_code(["second-opinion", "--dataset", "mnist", "--n", n, "--root", str(tmp_path / "sweep"),
                       "--out", str(tmp_path / "out"), "--quiet"]) == 2
    line = _one_error_line(capsys)
    assert line.startswith(says) if says.startswith("error") else says in line
    assert list(tmp_path.iterdir()) == []


def test_calibration_sample_sizes_beyond_the_memory_are_refused(tmp_path, capsys):
    assert _exit_code(["calibrate", "--grid", "quick", "--n", "10000000", "--workers", "1",
                       "--out", str(tmp_path / "out"), "--quiet"]) == 2
    line = _one_error_line(capsys)
    assert line.startswith("error: N = 10000000 on 1 worker(s) at once would need about ")
    assert "give smaller sample sizes (--n) or fewer --workers" in line and list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- hints that name real options
def test_the_sweep_refusal_names_its_own_flag(tmp_path, capsys):
    rel = "results/seeds/mnist/deep/seed-0"
    copies = _committed_copy(tmp_path, f"{rel}/run.json", f"{rel}/metrics.npz")
    before = {k: p.read_bytes() for k, p in copies.items()}
    assert _exit_code(["sweep", "--profile", "seeds", "--dataset", "mnist", "--runs", "deep", "--seeds", "0",
                       "--root", str(tmp_path / "repo" / "results"), "--max-steps", "5", "--quiet"]) == 2
    line = _one_error_line(capsys)
    assert "refusing to train over the committed run" in line and "iterations (30000 -> 5)" in line
    assert line.endswith("or pass --force to replace it") and "--recompute" not in line
    assert {k: p.read_bytes() for k, p in copies.items()} == before


def test_a_run_not_asked_for_is_not_told_to_recreate_checkpoints(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(RESULTS_DIR / "second-opinion" / "mnist.csv.gz", out / "mnist.csv.gz")
    (tmp_path / "sweep" / "seeds" / "mnist").mkdir(parents=True)
    assert _exit_code(["second-opinion", "--dataset", "mnist", "--runs", "shallow", "--root", str(tmp_path / "sweep"),
                       "--out", str(out), "--quiet"]) == 2
    line = _one_error_line(capsys)
    assert "would lack 30 run(s)" in line and "30 are not among the runs and seeds asked for (--runs, --seeds)" in line
    assert "--recreate-checkpoints" not in line
    assert sorted(p.name for p in out.iterdir()) == ["mnist.csv.gz"]


def test_the_checkpoint_hint_names_the_sweeps_root():
    from ipbook.experiments.grid import lost_runs_remedy

    said = lost_runs_remedy({"deep/seed-3", "vae/seed-1"}, {"deep/seed-3"}, profile="seeds", dataset="mnist",
                            root="/data/sweep")
    assert said == ("python -m ipbook sweep --profile seeds --dataset mnist --seeds 3 --recreate-checkpoints "
                    "--root /data/sweep recreates the checkpoints of those without them here; 1 are not among "
                    "the runs and seeds asked for (--runs, --seeds)")


# ----------------------------------------------------------------------------- interrupts
_INTERRUPTED_GRID = """
import sys, time
from pathlib import Path
from ipbook.experiments.dask_engine import run_tasks
try:
    run_tasks(Path.touch, {"first": (Path(sys.argv[1]),)}, workers=1, progress=False)
    run_tasks(time.sleep, {"a": (60,), "b": (60,)}, workers=2, progress=False)
except KeyboardInterrupt:
    print("error: interrupted", file=sys.stderr)
    sys.exit(130)
"""


@pytest.mark.slow
@pytest.mark.parametrize("after", [1.0, 4.0])    # while the second cluster starts; while its tasks run
def test_an_interrupted_grid_says_one_line(after, tmp_path):
    import os
    import signal
    import sys
    import time

    marker = tmp_path / "started"
    # The child must not inherit an ignored SIGINT: a shell starts background commands (`cmd &`,
    # as a CI runner may) with SIGINT ignored, the disposition survives exec, and Python then
    # leaves it ignored. With SIG_DFL, Python installs its own handler.
    proc = subprocess.Popen([sys.executable, "-c", _INTERRUPTED_GRID, str(marker)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(RESULTS_DIR.parent)},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for _ in range(1200):         # the first cluster ran its task
        if marker.exists() or proc.poll() is not None:
            break
        time.sleep(0.05)
    time.sleep(after)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip() == "error: interrupted" and out == ""


@pytest.mark.slow
def test_a_failed_grid_task_is_one_line_naming_the_damaged_checkpoints(tmp_path, capfd):
    run = tmp_path / "sweep" / "seeds" / "mnist" / "deep" / "seed-0"
    run.mkdir(parents=True)
    for name in ("run.json", "metrics.npz"):
        shutil.copy(RESULTS_DIR / "seeds" / "mnist" / "deep" / "seed-0" / name, run / name)
    (run / "checkpoints.pt").write_bytes(b"garbage")
    assert _exit_code(["second-opinion", "--dataset", "mnist", "--runs", "deep", "--seeds", "0", "--root",
                       str(tmp_path / "sweep"), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"]) == 1
    line = _one_error_line(capfd)
    assert line.startswith(f"error: deep/seed-0 failed: DamagedFileError: {run / 'checkpoints.pt'} is damaged: it "
                           f"cannot be read as a PyTorch checkpoint file (UnpicklingError")
    assert line.endswith("--recreate-checkpoints recreates it by replaying the run")
    assert not (tmp_path / "out").exists() and (run / "checkpoints.pt").read_bytes() == b"garbage"


# ----------------------------------------------------------------------------- the paper's defaults
def test_train_with_the_papers_defaults_reuses_the_committed_paper_run(tmp_path, capsys, monkeypatch):
    rel = "results/paper/mnist/deep"
    copies = _committed_copy(tmp_path, f"{rel}/run.json", f"{rel}/metrics.npz")
    before = {k: p.read_bytes() for k, p in copies.items()}
    monkeypatch.chdir(tmp_path / "repo")
    assert _exit_code(["train", "--model", "deep", "--dataset", "mnist", "--out", rel, "--quiet"]) == 0
    said = capsys.readouterr()
    assert said.out.startswith(f"{rel}: reused (trained in 575 s on 2026-11-28); 30000 iterations") and said.err == ""
    assert {k: p.read_bytes() for k, p in copies.items()} == before
    # another number of iterations is another run: refused, naming the difference
    assert _exit_code(["train", "--model", "deep", "--dataset", "mnist", "--out", rel, "--epochs", "49",
                       "--quiet"]) == 2
    assert "its config differs in iterations (30000 -> 29400), test points (300 -> 294);" in _one_error_line(capsys)


# ----------------------------------------------------------------------------- small things
@pytest.mark.parametrize("argv", [["runs", "--runs"], ["sweep", "--runs"], ["sensitivity", "--runs"],
                                  ["second-opinion", "--runs"]])
def test_runs_with_nothing_after_it_is_refused(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _exit_code(argv) == 2
    assert "argument --runs: expected at least one argument" in _one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []


def test_version_prints_the_version(capsys):
    from ipbook import __version__

    assert _exit_code(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"ipbook {__version__}"


def test_list_defaults_show_as_typed(capsys):
    assert _exit_code(["sweep", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: fashion-mnist)" in text and "['fashion-mnist']" not in text


def test_a_loaded_run_says_when_it_was_trained():
    from ipbook.nets.runs import load_run

    assert load_run(RESULTS_DIR / "paper" / "mnist" / "deep").summary() == "trained in 575 s on 2026-11-28"


# ----------------------------------------------------------------------------- book profiles
@pytest.mark.parametrize("profile", ["seeds", "supervised", "controls-width"])
def test_a_profile_without_a_book_is_refused_with_the_command_that_makes_its_runs(profile, tmp_path, capsys,
                                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _exit_code(["book", "--profile", profile, "--dataset", "mnist", "--quiet"]) == 2
    line = _one_error_line(capsys)
    assert line.startswith(f"error: profile {profile!r} has no book: the book is built for --profile paper or quick")
    assert line.endswith(f"python -m ipbook sweep --profile {profile} --dataset mnist")
    assert list(tmp_path.iterdir()) == []   # and results/ as it was (the fixture)


def test_a_book_that_would_train_for_long_asks_for_train(tmp_path, capsys, monkeypatch):
    from ipbook.site.build import untrained

    assert untrained("paper", "mnist") == {} and untrained("paper", "fashion-mnist") == {}   # committed
    assert sum(untrained("quick", "emnist-letters").values()) == 2800                       # minutes
    monkeypatch.chdir(tmp_path)
    assert _exit_code(["book", "--profile", "paper", "--dataset", "emnist-letters", "--quiet"]) == 2
    line = _one_error_line(capsys)
    assert line.startswith("error: the paper book would first train 7 run(s) (emnist-letters/shallow, ")
    assert "210,000 iterations in all" in line and line.endswith(
        "python -m ipbook runs --profile paper --dataset emnist-letters trains them first, or pass --train to "
        "train them in the build")
    assert list(tmp_path.iterdir()) == []   # and results/ as it was (the fixture)


def test_book_help_lists_the_profiles_with_a_book(capsys):
    assert _exit_code(["book", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "paper (the committed runs) or quick (minutes)" in text and "controls-width" not in text
    assert "--train" in text


# ----------------------------------------------------------------------------- nothing rewritten
def test_a_rerun_that_changes_no_table_rewrites_nothing(tmp_path, capsys, monkeypatch):
    import json

    import ipbook.experiments.grid as G

    def in_process(fn, tasks, **kwargs):      # the tasks here, so that the test runs in seconds
        return {k: fn(*args) for k, args in tasks.items()}

    monkeypatch.setattr(G, "run_tasks", in_process)
    out = tmp_path / "calibration"
    argv = ["calibrate", "--grid", "quick", "--n", "20", "--seeds", "0", "--out", str(out), "--quiet"]
    assert _exit_code(argv) == 0
    assert capsys.readouterr().out.endswith(f"rows -> {out}/estimates.csv\n")
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir() if p.is_file()}
    assert sorted(before) == ["estimates.csv", "estimates.json"]
    assert _exit_code(argv) == 0
    said = capsys.readouterr()
    assert said.out.endswith(f"the same as {out}/estimates.csv: nothing rewritten (task times in "
                             f"{out}/.logs/estimates.log)\n") and said.err == ""
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir() if p.is_file()} == before
    logged = [json.loads(line) for line in (out / ".logs" / "estimates.log").read_text().splitlines()]
    assert len(logged) == 1 and logged[0]["unchanged"] and logged[0]["task_seconds"]
    assert not (out / ".parts").exists()


@pytest.mark.parametrize("ename, evalue, code, says", [
    ("DamagedFileError", ("results/second-opinion/mnist.csv.gz is damaged: it cannot be read as a gzip CSV table "
                          "(EOFError: …); restore it with: git checkout -- results/second-opinion/mnist.csv.gz"),
     2, "error: results/second-opinion/mnist.csv.gz is damaged: it cannot be read as a gzip CSV table"),
    ("KeyError", "'i_xt'", 1, "error: chapter book/"),
])
def test_a_chapter_that_fails_in_the_book_is_one_line(ename, evalue, code, says, tmp_path, capsys, monkeypatch):
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from ipbook.site import build

    def failing(*args, **kwargs):
        raise PapermillExecutionError(3, 3, "load_table()", ename, evalue, ["Traceback", "…"])

    monkeypatch.setattr(build, "run_profile", lambda *args, **kwargs: {})
    monkeypatch.setattr(papermill, "execute_notebook", failing)
    assert _exit_code(["book", "--profile", "quick", "--dataset", "fashion-mnist", "--out", str(tmp_path / "site"),
                       "--quiet"]) == code
    line = _one_error_line(capsys)
    assert line.startswith(says)
    assert code == 2 or (f"failed: {ename}: {evalue} (its traceback is in " in line)
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("command, says", [
    (["calibrate", "--grid", "quick"], ("error: interrupted; finished tasks are kept (OUT/.parts/), so the same "
                                        "command resumes; no table was written")),
    (["train", "--model", "tied"], "error: interrupted; finished runs are kept, unfinished ones left no run.json"),
])
def test_an_interrupt_is_one_line_and_exit_130(command, says, tmp_path, capsys, monkeypatch):
    import ipbook.experiments.calibration_grid as calibration
    from ipbook.nets import training

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(calibration, "run_grid", interrupted)
    monkeypatch.setattr(training, "train", interrupted)
    monkeypatch.chdir(tmp_path)
    assert _exit_code([*command, "--out", "out", "--quiet"]) == 130
    assert _one_error_line(capsys) == says and list(tmp_path.iterdir()) == []


def test_a_memory_error_is_one_line(tmp_path, capsys, monkeypatch):
    from ipbook.nets import training

    def too_big(*args, **kwargs):     # as the matrix estimator's own memory check says it
        raise MemoryError("the matrix-based information plane at N = 90000 needs about 60.3 GiB")

    monkeypatch.setattr(training, "train", too_big)
    monkeypatch.chdir(tmp_path)
    assert _exit_code(["train", "--model", "deep", "--out", "out", "--quiet"]) == 2
    assert _one_error_line(capsys) == "error: the matrix-based information plane at N = 90000 needs about 60.3 GiB"
