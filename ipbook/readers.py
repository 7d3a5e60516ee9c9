"""Reading the files that commands read back: runs (``run.json``, ``metrics.npz``), tables
(``.csv``, ``.csv.gz``) and their records (``.json``).

Every command reads them through here, so that a damaged file is one error that names it, says
what is wrong with it and how to get it back (:class:`DamagedFileError`, a ValueError: the command
line prints it as one ``error:`` line with exit status 2): ``git checkout -- PATH`` for a committed
file, deleting the run folder for a run, deleting the file for any other. Nothing here writes, so
a damaged file is never overwritten by the command that found it.

* :func:`read_json`, :func:`read_npz`, :func:`read_table`, :func:`read_checkpoints`: the file's
  content, or DamagedFileError.
* :func:`restore_hint`: how a file is restored, in words.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ipbook.store import is_committed

__all__ = ["DamagedFileError", "read_checkpoints", "read_json", "read_npz", "read_table", "restore_hint",
           "shown_path"]

#: The files of a run folder: a damaged one is restored by training the run again.
RUN_FILES = ("run.json", "metrics.npz", "checkpoints.pt")


class DamagedFileError(ValueError):
    """A file that a command reads back cannot be read; the message names it, what is wrong and
    how to restore it, in one line."""

    def __init__(self, path: str | os.PathLike, what: str, error: BaseException | str):
        self.path, self.what = Path(path), what
        why = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        self.why = " ".join(str(why).split())[:160]   # one line, however long the parser's message
        super().__init__(f"{shown_path(self.path)} is damaged: it cannot be read as {what} ({self.why}); "
                         f"{restore_hint(self.path)}")

    def __reduce__(self):   # a task's error travels back from a worker process
        return DamagedFileError, (self.path, self.what, self.why)


def shown_path(path: str | os.PathLike) -> str:
    """``path`` relative to the working directory when it lies below it, else absolute."""
    p = Path(path).absolute()
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def _git_top(path: Path) -> Path | None:
    try:
        done = subprocess.run(["git", "-C", str(path.parent), "rev-parse", "--show-toplevel"],
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None


def restore_hint(path: str | os.PathLike) -> str:
    """How ``path`` is restored: ``git checkout -- PATH`` when it is committed (``git -C TOP
    checkout -- PATH`` when the working directory is outside its repository), deleting its run
    folder for a run's file, deleting it otherwise."""
    p = Path(path).absolute()
    if is_committed(p):
        top = _git_top(p)
        cwd = Path.cwd().absolute()
        if top is not None and cwd != top and top not in cwd.parents:
            return f"restore it with: git -C {top} checkout -- {p.relative_to(top)}"
        return f"restore it with: git checkout -- {shown_path(p)}"
    if p.name == "checkpoints.pt":
        return ("delete it; python -m ipbook sweep ... --recreate-checkpoints recreates it by replaying "
                "the run")
    if p.name in RUN_FILES:
        return f"delete the run folder {shown_path(p.parent)} and train the run again"
    return "delete it and run the command that wrote it again"


def _existing(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(2, "No such file", str(p))
    return p


def read_json(path: str | os.PathLike) -> dict:
    """The JSON object in ``path``; DamagedFileError when it is not one."""
    p = _existing(path)
    try:
        value = json.loads(p.read_bytes())
    except (ValueError, UnicodeDecodeError) as e:
        raise DamagedFileError(p, "JSON", e) from None
    if not isinstance(value, dict):
        raise DamagedFileError(p, "JSON", f"a {type(value).__name__}, not an object")
    return value


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of the NumPy archive ``path``, read in full (so that a damaged member is found
    here, not later); DamagedFileError when it cannot be."""
    p = _existing(path)
    try:
        with np.load(p, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception as e:   # noqa: BLE001 - BadZipFile, zlib.error, EOFError, ValueError (pickled), OSError
        raise DamagedFileError(p, "a NumPy .npz archive", e) from None


def read_table(path: str | os.PathLike, **read_csv) -> pd.DataFrame:
    """The CSV table ``path`` (gzip when its name ends in ``.gz``), ``read_csv`` passed to
    :func:`pandas.read_csv`; DamagedFileError when it cannot be read, or lacks the columns asked
    for (``usecols``)."""
    p = _existing(path)
    what = "a gzip CSV table" if p.name.endswith(".gz") else "a CSV table"
    try:
        return pd.read_csv(p, **read_csv)
    except Exception as e:   # noqa: BLE001 - EOFError, BadGzipFile, ParserError, UnicodeDecodeError, missing columns
        raise DamagedFileError(p, what, e) from None


def read_checkpoints(path: str | os.PathLike) -> dict:
    """A run's checkpoints (``{iteration: state dict}``, tensors only); DamagedFileError when the
    file cannot be read as one."""
    p = _existing(path)
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:   # noqa: BLE001 - UnpicklingError, EOFError, RuntimeError (a truncated archive)
        raise DamagedFileError(p, "a PyTorch checkpoint file", e) from None
