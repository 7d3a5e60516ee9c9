"""The one grid runner: a plan of tasks, run on Dask, kept as resumable parts, written as an atomic
table with its provenance.

Every grid of the book (the estimator sensitivity, the second opinion, the calibration) is a set
of independent tasks, each a call ``fn(*args)`` that returns the records of one run and seed, or
of one distribution. :func:`run_grid` runs them in six steps:

1. **guard**: before any work, OUT must be writable, its committed tables readable (a damaged one
   is named and never replaced, not even with ``force``), and the table in it may not be replaced
   by one that lacks an entry it holds (each :class:`Guard`, by
   :func:`ipbook.store.refuse_smaller_table`; ``force`` overrides);
2. **plan**: ``tasks`` maps each task's key (``deep/seed-3``) to its arguments;
3. **parts**: each task runs on Dask (:func:`ipbook.experiments.dask_engine.run_tasks`, one intra-op
   thread) and writes its records atomically to ``OUT/.parts/<table>/<key>.pkl``; a part made by
   the same call (function and arguments) is reused, so an interrupted grid resumes where it stopped;
4. **failure**: when a task fails, the others finish and keep their parts, nothing is written, and
   :class:`GridFailed` names every failed task with its error (the command line prints one line
   per failed task and exits with status 1);
5. **table**: the records, with those ``kept`` from an earlier table, are combined in the order of
   their keys into the tables, each written atomically, then the provenance ``OUT/<table>.json``
   (the caller's grid, seeds and keys, the seconds of each task, the rows, versions and git commit);
6. the parts are removed, once the tables and the provenance are written.

When the new tables are byte for byte those already in OUT (a rerun of the same grid), nothing in
OUT is rewritten: the provenance stays as it is, and this call's task times go to the log
``OUT/.logs/<stem>.log`` (git-ignored), one JSON line per call.
"""
from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import pandas as pd
import torch

from ipbook.experiments.dask_engine import run_tasks
from ipbook.nets.config import CHECKPOINT_FILE
from ipbook.readers import read_json, read_table
from ipbook.store import (atomic_write, check_writable, git_commit, is_committed, refuse_smaller_table,
                          removed_on_failure, versions)

__all__ = ["GridFailed", "Guard", "run_grid", "part_path", "PARTS", "LOGS", "lost_runs_remedy", "checkpoint_plan"]

#: The folder of OUT that holds the parts of unfinished grids (git-ignored).
PARTS = ".parts"
#: The folder of OUT that holds the task times of reruns that changed no table (git-ignored).
LOGS = ".logs"


class GridFailed(RuntimeError):
    """Tasks of a grid failed, so nothing was written; the parts of the tasks that finished are
    kept for the rerun. ``failed`` maps each failed task's key to its error, one line each."""

    def __init__(self, grid: str, failed: dict[str, str]):
        self.grid, self.failed = grid, dict(sorted(failed.items()))
        super().__init__(f"{len(failed)} task(s) of the {grid} grid failed, nothing written: "
                         + "; ".join(f"{k}: {v}" for k, v in self.failed.items()))

    def lines(self) -> list[str]:
        """One ``error: KEY failed: ERROR`` line per failed task, as ``python -m ipbook`` prints them."""
        return [f"error: {key} failed: {err}" for key, err in self.failed.items()]


@dataclass(frozen=True)
class Guard:
    """The never-shrink rule for one kind of entry: the table in OUT holds ``have`` (labels such as
    ``run/seed-S`` or a setting), the new table will hold ``will``; ``what`` names the kind in the
    error (``run(s)``) and ``remedy`` says how to make the lost entries available again."""

    have: Iterable[str]
    will: Iterable[str]
    what: str
    remedy: str


def lost_runs_remedy(lost: Iterable[str], missing: Iterable[str], *, profile: str, dataset: str,
                     root=None) -> str:
    """How the runs and seeds ``lost`` (``run/seed-S`` keys a table holds that a new one would
    lack) come back, for a grid on a sweep's checkpoints: the sweep that recreates the checkpoints
    of those ``missing`` here (with its ``--root`` when the sweep is not in the default place), and
    for the others, that they were not asked for (``--runs``, ``--seeds``)."""
    lost, missing = set(lost), set(missing)
    no_checkpoints = sorted(lost & missing)
    said = []
    if no_checkpoints:
        seeds = " ".join(map(str, sorted({int(k.rsplit("seed-", 1)[1]) for k in no_checkpoints})))
        where = f" --root {root}" if root is not None else ""
        said.append(f"python -m ipbook sweep --profile {profile} --dataset {dataset} --seeds {seeds} "
                    f"--recreate-checkpoints{where} recreates the checkpoints of those without them here")
    if lost - missing:
        said.append(f"{len(lost - missing)} are not among the runs and seeds asked for (--runs, --seeds)")
    return "; ".join(said)


def checkpoint_plan(earlier, runs_dir: Path, names: Sequence[str], seeds: Sequence[int], extra: tuple, *,
                    profile: str, dataset: str, root=None) -> tuple[dict, dict, list, Guard]:
    """The plan of a grid with one task per run and seed of a sweep (``runs_dir/<run>/seed-S``):
    ``tasks`` (``run/seed-S`` -> ``(run_dir, run, *extra)``) for those with checkpoints here,
    ``kept`` (their rows of the ``earlier`` table, columns ``run`` and ``seed``) for the others it
    holds, ``missing`` for the rest, and the never-shrink :class:`Guard` of the table."""
    have = set() if earlier is None else {f"{r}/seed-{s}" for r, s in zip(earlier.run, earlier.seed)}
    tasks, kept, missing = {}, {}, []
    for seed in seeds:
        for name in names:
            key, run_dir = f"{name}/seed-{seed}", Path(runs_dir) / name / f"seed-{seed}"
            if (run_dir / CHECKPOINT_FILE).is_file():
                tasks[key] = (str(run_dir), name, *extra)
            elif key in have:
                kept[key] = earlier[(earlier.run == name) & (earlier.seed == seed)]
            else:
                missing.append(key)
    remedy = lost_runs_remedy(have - {*tasks, *kept}, missing, profile=profile, dataset=dataset, root=root)
    return tasks, kept, missing, Guard(have, {*tasks, *kept}, "run(s)", remedy)


def part_path(out, table: str, key: str) -> Path:
    """Where the task ``key`` of the grid writing ``OUT/<table>`` keeps its records:
    ``OUT/.parts/<table's stem>/<key, / as ->.pkl`` (``mnist.csv.gz``, ``deep/seed-3`` ->
    ``.parts/mnist/deep-seed-3.pkl``)."""
    return Path(out) / PARTS / _stem(table) / f"{key.replace('/', '-')}.pkl"


def run_grid(fn: Callable[..., object], tasks: dict[str, tuple], *, out, tables: Sequence[str],
             combine: Callable[[dict[str, object]], Sequence[pd.DataFrame]], info: dict,
             kept: dict[str, object] | None = None, guards: Sequence[Guard] = (), force: bool = False,
             workers: int | None = None, scheduler: str | None = None, progress: bool = True,
             desc: str = "grid") -> tuple[dict, list[pd.DataFrame]] | None:
    """Run the grid's tasks and write its tables (see the module's steps).

    Parameters
    ----------
    fn : a module-level function (it runs in worker processes); ``fn(*tasks[key])`` returns the
        task's records, any picklable object.
    tasks : ``{key: args}``, one task per key.
    out : the output folder OUT.
    tables : the file names in OUT, the main table first (``mnist.csv.gz``); the guard is about
        it, and its stem names the parts' folder and the provenance ``<stem>.json``.
    combine : ``combine(records)`` -> one DataFrame per name of ``tables``; ``records`` maps every
        key, of ``tasks`` and ``kept``, to its records, sorted by key.
    info : what the provenance records first (the grid's settings, seeds, keys), JSON-able.
    kept : ``{key: records}`` from an earlier table, combined with the new ones (not run).
    guards : checked before any work against ``OUT/<tables[0]>``, unless ``force``.
    workers, scheduler, progress, desc : for :func:`ipbook.experiments.dask_engine.run_tasks`.

    Returns
    -------
    ``(provenance, frames)``: the dict written to ``OUT/<stem>.json`` and the tables written; None
    when there is no task, unless ``force`` and records are ``kept`` (nothing is run, nothing written).

    Raises
    ------
    ipbook.store.SmallerTableError : a guard fails (before any work).
    GridFailed : a task failed (after every task ran; nothing written).
    """
    out_dir = check_writable(out, "output folder")
    _refuse_damaged(out_dir, tables)
    for g in guards:
        refuse_smaller_table(out_dir / tables[0], g.have, g.will, what=g.what, remedy=g.remedy, force=force)
    if not tasks and not (kept and force):   # unforced, kept rows alone would rewrite the table as it is
        return None
    parts = {key: part_path(out_dir, tables[0], key) for key in tasks}
    done = {key: r for key in tasks if (r := _finished_part(parts[key], fn, tasks[key])) is not None}
    todo = {key: (fn, args, str(parts[key])) for key, args in tasks.items() if key not in done}
    parts_dir = out_dir / PARTS / _stem(tables[0])
    with removed_on_failure(out_dir):
        parts_dir.mkdir(parents=True, exist_ok=True)
        results = run_tasks(_run_part, todo, workers=workers, scheduler=scheduler, progress=progress,
                            desc=desc) if todo else {}
        failed = {k: f"{type(v).__name__}: {v}".splitlines()[0] for k, v in results.items()
                  if isinstance(v, BaseException)}
        if failed and not any(parts_dir.iterdir()):   # nothing to resume from: no new folder is left
            _remove_parts(out_dir, tables[0])
            raise GridFailed(desc, failed)
    if failed:
        raise GridFailed(desc, failed)
    done.update({key: pickle.loads(parts[key].read_bytes()) for key in results})
    records = dict(sorted({**(kept or {}), **{k: r["records"] for k, r in done.items()}}.items()))
    frames = list(combine(records))
    seconds = {k: round(done[k]["seconds"], 1) for k in sorted(done)}
    provenance = _write_tables(out_dir, tables, frames, info, seconds)
    _remove_parts(out_dir, tables[0])
    return provenance, frames


def _write_tables(out_dir: Path, tables: Sequence[str], frames: list[pd.DataFrame], info: dict,
                  seconds: dict) -> dict:
    """Write the tables, then their provenance, atomically; returns the provenance. When every
    table is byte for byte the one in OUT and the provenance on disk says the same (``info`` and
    the rows; the times, versions and commit aside), nothing is written: the task times are logged
    (:func:`_log_times`) and the provenance on disk is returned, with ``unchanged``."""
    texts = {name: _csv_bytes(name, frame) for name, frame in zip(tables, frames, strict=True)}
    record = out_dir / f"{_stem(tables[0])}.json"
    same = {name: (out_dir / name).is_file() and (out_dir / name).read_bytes() == text for name, text in texts.items()}
    if all(same.values()) and record.is_file():
        old, says = read_json(record), json.loads(json.dumps({**info, "rows": len(frames[0])}))
        if all(old.get(k) == v for k, v in says.items()):
            _log_times(out_dir, tables[0], seconds, len(frames[0]))
            return {**old, "task_seconds": seconds, "unchanged": True}
    for name, text in texts.items():
        if not same[name]:
            atomic_write(out_dir / name, lambda f, text=text: f.write(text))
    provenance = {**info, "task_seconds": seconds, "rows": len(frames[0]), "versions": versions(), "git": git_commit()}
    atomic_write(record, lambda f: f.write(json.dumps(provenance, indent=2).encode()))
    return provenance


def _refuse_damaged(out_dir: Path, tables: Sequence[str]) -> None:
    """Before any work: the committed tables and provenance in OUT can be read (a damaged one
    raises :class:`ipbook.readers.DamagedFileError`, naming the ``git checkout`` that restores
    it), so that no grid replaces a damaged committed file, not even with ``force``."""
    for name in [*tables, f"{_stem(tables[0])}.json"]:
        path = out_dir / name
        if path.is_file() and is_committed(path):
            read_json(path) if name.endswith(".json") else read_table(path)


def _stem(table: str) -> str:
    return table.removesuffix(".gz").removesuffix(".csv")


def _task_name(fn) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def _run_part(fn, args: tuple, part: str) -> float:
    """One task, on a worker: ``fn(*args)`` with one intra-op thread, its records written to
    ``part`` atomically with the call that made them; returns the seconds it took."""
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    records = fn(*args)
    seconds = time.perf_counter() - t0
    record = {"task": _task_name(fn), "args": args, "records": records, "seconds": seconds}
    atomic_write(Path(part), lambda f: pickle.dump(record, f))
    return seconds


def _finished_part(part: Path, fn, args: tuple) -> dict | None:
    """The part's record when ``part`` was made by the call ``fn(*args)``; None otherwise, or when it
    cannot be read (then the task runs again)."""
    if not part.is_file():
        return None
    try:
        record = pickle.loads(part.read_bytes())
        same = record["task"] == _task_name(fn) and bool(record["args"] == args)
    except Exception:   # an old format, a changed class: the task runs again
        return None
    return record if same else None


def _csv_bytes(name: str, frame: pd.DataFrame) -> bytes:
    """``frame`` as CSV, 6 significant digits, gzip (with no time stamp, so equal tables are equal
    files) when ``name`` ends in ``.gz``."""
    gz = {"method": "gzip", "mtime": 0} if name.endswith(".gz") else None
    buffer = io.BytesIO()
    frame.to_csv(buffer, index=False, float_format="%.6g", compression=gz)
    return buffer.getvalue()


def _log_times(out_dir: Path, table: str, seconds: dict, rows: int) -> None:
    """Append this call's task times to ``OUT/.logs/<stem>.log`` (a rerun that changed no table)."""
    log = out_dir / LOGS / f"{_stem(table)}.log"
    log.parent.mkdir(exist_ok=True)
    with open(log, "a") as f:
        f.write(json.dumps({"finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "rows": rows,
                            "unchanged": True, "task_seconds": seconds}) + "\n")


def _remove_parts(out_dir: Path, table: str) -> None:
    """Remove the grid's parts, and ``OUT/.parts`` when no other grid has parts there."""
    shutil.rmtree(out_dir / PARTS / _stem(table), ignore_errors=True)
    with_parts = out_dir / PARTS
    if with_parts.is_dir() and not os.listdir(with_parts):
        with_parts.rmdir()
