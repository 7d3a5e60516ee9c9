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
