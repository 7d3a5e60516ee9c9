"""ipbook.experiments.grid: the one grid runner. A rerun resumes from the parts, a smaller table is
refused unless forced, the table is written atomically with its provenance, and a failed task is
one line per task with exit status 1 in every command that runs a grid."""
import json

import pandas as pd
import pytest

from ipbook.cli import main as cli_main
from ipbook.experiments import grid as G
from ipbook.experiments.grid import GridFailed, Guard, part_path, run_grid
from ipbook.store import SmallerTableError


def _squares(x: int, log: str) -> pd.DataFrame:
    """A task: the row (x, x²); each call appends x to the file ``log`` (the calls are counted in
    the worker processes), and x < 0 fails."""
    with open(log, "a") as f:
        f.write(f"{x}\n")
    if x < 0:
        raise ValueError(f"x must be >= 0; got {x}\nsecond line")
    return pd.DataFrame({"x": [x], "square": [x * x / 7]})


def _concat(records: dict) -> list[pd.DataFrame]:
    return [pd.concat(list(records.values()), ignore_index=True)]


def _fail_to_combine(records: dict):
    raise RuntimeError("combine failed")


def _calls(log) -> list[int]:
    return [int(v) for v in log.read_text().split()] if log.is_file() else []


def _grid(tasks, out, **kw):
    return run_grid(_squares, tasks, out=out, tables=["squares.csv.gz"], combine=_concat,
                    info={"grid": "squares", "seeds": [0]}, workers=1, progress=False, desc="squares", **kw)


def test_a_failed_task_writes_nothing_and_the_rerun_runs_only_what_has_no_part(tmp_path):
    log, out = tmp_path / "calls.log", tmp_path / "out"
    tasks = {f"x/seed-{x}": (x, str(log)) for x in (1, 2)} | {"x/seed-3": (-3, str(log))}
    with pytest.raises(GridFailed) as failed:
        _grid(tasks, out)
    assert failed.value.lines() == ["error: x/seed-3 failed: ValueError: x must be >= 0; got -3"]
    assert sorted(_calls(log)) == [-3, 1, 2]
    assert sorted(p.name for p in (out / ".parts" / "squares").iterdir()) == ["x-seed-1.pkl", "x-seed-2.pkl"]
    assert not (out / "squares.csv.gz").exists() and not (out / "squares.json").exists()
    tasks["x/seed-3"] = (3, str(log))
    provenance, (table,) = _grid(tasks, out)
    assert sorted(_calls(log)) == [-3, 1, 2, 3]          # seeds 1 and 2 came from their parts
    assert table.x.tolist() == [1, 2, 3] and provenance["rows"] == 3
    assert set(provenance["task_seconds"]) == set(tasks)
    assert not (out / ".parts").exists()                  # removed once the table is written
    # a part made by another call (other arguments), or one that cannot be read, is not reused
    with pytest.raises(GridFailed):
        _grid({"x/seed-1": (1, str(log)), "x/seed-9": (-9, str(log))}, out, force=True)
    _grid({"x/seed-1": (4, str(log))}, out, force=True)
    part = part_path(out, "squares.csv.gz", "x/seed-1")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"not a part")
    _grid({"x/seed-1": (5, str(log))}, out, force=True)
    assert _calls(log)[-4:] == [1, -9, 4, 5]              # one worker: the tasks in their order


def test_the_table_is_written_atomically_with_its_provenance(tmp_path):
    log, out = tmp_path / "calls.log", tmp_path / "out"
    tasks = {f"x/seed-{x}": (x, str(log)) for x in (2, 1)}
    provenance, _ = _grid(tasks, out, kept={"x/seed-0": pd.DataFrame({"x": [0], "square": [0.0]})})
    written = pd.read_csv(out / "squares.csv.gz")
    assert written.x.tolist() == [0, 1, 2]                # kept and new records, in the order of their keys
    assert written.square.tolist() == [0.0, 0.142857, 0.571429]       # 6 significant digits
    on_disk = json.loads((out / "squares.json").read_text())
    assert on_disk == provenance and on_disk["grid"] == "squares" and on_disk["seeds"] == [0]
    assert on_disk["rows"] == 3 and list(on_disk["task_seconds"]) == ["x/seed-1", "x/seed-2"]
    assert on_disk["versions"]["torch"] and "commit" in on_disk["git"]
    assert sorted(p.name for p in out.iterdir()) == ["squares.csv.gz", "squares.json"]   # no temporary file left
    before = (out / "squares.csv.gz").read_bytes()
    with pytest.raises(RuntimeError, match="combine failed"):   # a failure while writing: the old table stays
        run_grid(_squares, {"x/seed-5": (5, str(log))}, out=out, tables=["squares.csv.gz"],
                 combine=_fail_to_combine, info={}, workers=1, progress=False)
    assert (out / "squares.csv.gz").read_bytes() == before
    assert (out / ".parts" / "squares" / "x-seed-5.pkl").is_file()   # and the part waits for the rerun


def test_a_smaller_table_is_refused_before_any_work_unless_forced(tmp_path):
    log, out = tmp_path / "calls.log", tmp_path / "out"
    out.mkdir()
    (out / "squares.csv.gz").write_bytes(b"")
    guard = Guard({"x/seed-1", "x/seed-2"}, {"x/seed-1"}, "run(s)", "train seed 2 again")
    tasks = {"x/seed-1": (1, str(log))}
    with pytest.raises(SmallerTableError, match=r"would lack 1 run\(s\) of the existing one \(x/seed-2\); "
                                                r"train seed 2 again; or pass --force"):
        _grid(tasks, out, guards=[guard])
    assert _calls(log) == [] and sorted(p.name for p in out.iterdir()) == ["squares.csv.gz"]
    provenance, _ = _grid(tasks, out, guards=[guard], force=True)
    assert _calls(log) == [1] and pd.read_csv(out / "squares.csv.gz").x.tolist() == [1]
    same, kept = Guard({"x/seed-1"}, {"x/seed-1"}, "run(s)", ""), {"x/seed-0": pd.DataFrame({"x": [0], "square": [0.0]})}
    assert _grid({}, out, guards=[same]) is None       # no task: nothing run, nothing written
    assert _grid({}, out, kept=kept) is None           # nor for kept records alone, unless forced
    provenance, (table,) = _grid({}, out, kept=kept, force=True)
    assert table.x.tolist() == [0] and provenance["task_seconds"] == {} and _calls(log) == [1]
    with pytest.raises(SmallerTableError):             # but the guard comes first
        _grid({}, out, guards=[Guard({"x/seed-1"}, set(), "run(s)", "")])


def _broken_sweep(root):
    """Two runs with a checkpoint file but no run: each task fails when it loads its run."""
    for name in ("deep", "shallow"):
        d = root / "quick" / "fashion-mnist" / name / "seed-0"
        d.mkdir(parents=True)
        (d / "checkpoints.pt").write_bytes(b"")
    return root


@pytest.mark.parametrize("command", [["sensitivity", "--grid", "small"], ["second-opinion", "--n", "100"]])
def test_a_failed_task_of_a_sweep_grid_is_one_line_each_and_exit_status_one(command, tmp_path, capfd):
    root = _broken_sweep(tmp_path / "sweep")
    argv = command + ["--profile", "quick", "--dataset", "fashion-mnist", "--runs", "deep", "shallow",
                      "--seeds", "0", "--root", str(root), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"]
    assert cli_main(argv) == 1
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert [line.split(" failed: ")[0] for line in lines] == ["error: deep/seed-0", "error: shallow/seed-0"]
    assert all("FileNotFoundError" in line or "ValueError" in line for line in lines)
    assert "Traceback" not in err and not (tmp_path / "out").exists()     # no task finished: no folder left


def test_a_failed_calibration_task_is_one_line_each_and_exit_status_one(tmp_path, capsys, monkeypatch):
    def engine(fn, tasks, **kwargs):   # the engine reports two tasks failed, the others done
        failed = sorted(tasks)[:2]
        return {k: ValueError(f"no sample for {k}") if k in failed else fn(*args) for k, args in tasks.items()}

    monkeypatch.setattr(G, "run_tasks", engine)
    out = tmp_path / "out"
    assert cli_main(["calibrate", "--grid", "quick", "--n", "100", "--seeds", "0", "--out", str(out), "--quiet"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 2 and all(line.startswith("error: ") and " failed: ValueError: no sample for " in line
                                   for line in lines)
    assert "Traceback" not in captured.err and not (out / "estimates.csv").exists()
