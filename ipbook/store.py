"""Runs and tables on disk: what every command checks about its outputs before any work, atomic
writes, and the provenance every run and table records.

* :func:`check_writable`: the output folder can be created or written here. Nothing is left
  behind by the check.
* :func:`removed_on_failure`: the folders a command creates are removed again when it fails.
* :func:`refuse_smaller_table`: a results table is never replaced by one with fewer runs, seeds or
  settings, unless the caller asks for it (``--force``, or another ``--out``).
* :func:`is_committed`: whether a file is tracked by git (a committed result).
* :func:`check_memory`: refuse, before any work, what would need more memory than the machine has.
* :func:`atomic_write`: a file is written beside its target and renamed into place, so an
  interrupted write never leaves a half-written file that looks complete.
* :func:`versions`, :func:`git_commit`, :func:`cpu_model`, :func:`peak_memory_mb`: the provenance
  of a run or table (package versions, the CPU and torch's kernel capability, the commit and
  whether the tree was dirty, peak memory); :func:`capability_hint` explains a replay that
  differs because torch dispatched to another instruction set.
"""
from __future__ import annotations

import contextlib
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterable

import numpy as np
import torch

__all__ = ["SmallerTableError", "check_writable", "removed_on_failure", "refuse_smaller_table", "is_committed",
           "available_memory", "check_memory"]


class SmallerTableError(ValueError):
    """A command would replace a results table with a smaller one."""


def _nearest_existing(path: Path) -> Path:
    parent = path
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def check_writable(path: str | os.PathLike, what: str = "output directory") -> Path:
    """Fail before any work when ``path`` cannot be a folder that this process writes into.

    The nearest existing ancestor must be a directory in which a folder can really be made (a
    temporary one is made and removed again: permission bits do not tell for root, nor for
    ``/proc`` or ``/sys``); ``path`` itself, if it exists, must be a writable directory. Nothing is
    left behind. Returns ``path`` as a :class:`Path`; raises ValueError naming the problem.
    """
    out = Path(path).expanduser()
    if out.exists() and not out.is_dir():
        raise ValueError(f"{what} {out} exists and is not a directory; give a new or existing directory")
    parent = _nearest_existing(out)
    if not parent.is_dir():
        raise ValueError(f"cannot create {what} {out}: {parent} is a file, not a directory")
    try:
        Path(tempfile.mkdtemp(prefix=".ipbook-check-", dir=parent)).rmdir()
    except OSError as e:
        raise ValueError(f"cannot write {what} {out}: {parent} does not accept new files "
                         f"({e.strerror or e})") from None
    return out


@contextlib.contextmanager
def removed_on_failure(path: str | os.PathLike):
    """Within the block, the folders of ``path`` that do not exist yet are the block's: if the
    block raises (or is interrupted), the outermost of them is removed with all it holds."""
    out = Path(path).expanduser().absolute()
    created = None
    probe = out
    while not probe.exists() and probe != probe.parent:
        created, probe = probe, probe.parent
    try:
        yield out
    except BaseException:
        if created is not None and created.exists():
            shutil.rmtree(created, ignore_errors=True)
        raise


def refuse_smaller_table(path: str | os.PathLike, have: Iterable[str], will: Iterable[str], *,
                         what: str, remedy: str, force: bool = False) -> None:
    """Refuse, before any work, to replace the table at ``path`` that holds the entries ``have``
    (e.g. ``run/seed-S`` or setting labels) with one that would hold only ``will``.

    Raises :class:`SmallerTableError` with one line that names the entries that would be lost (the
    first ten), ``remedy`` (the command that makes them available again), and ``--force``. Does
    nothing when ``force``, when the table does not exist, or when nothing would be lost.
    """
    if force or not Path(path).exists():
        return
    lost = sorted(set(have) - set(will))
    if not lost:
        return
    shown = ", ".join(lost[:10]) + (f" and {len(lost) - 10} more" if len(lost) > 10 else "")
    raise SmallerTableError(f"refusing to replace {path}: the new table would lack {len(lost)} {what} "
                            f"of the existing one ({shown}); {remedy}; or pass --force (or another --out) "
                            f"to write the smaller table")


def is_committed(path: str | os.PathLike) -> bool:
    """Whether the file ``path`` is tracked by the git repository that holds it (False outside
    one, or without git)."""
    p = Path(path).absolute()
    if not p.is_file():
        return False
    try:
        done = subprocess.run(["git", "-C", str(p.parent), "ls-files", "--error-unmatch", p.name],
                              capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def available_memory() -> int | None:
    """Bytes of memory this machine can give a new task now (Linux's ``MemAvailable``, else the
    physical memory); None where neither can be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(need: float, what: str, remedy: str) -> None:
    """Refuse, before any work, ``what`` (``"a run of 6,000,000 iterations"``) when it would need
    ``need`` bytes, more than :func:`available_memory`: one ValueError line with both sizes and
    ``remedy`` (the options that make it smaller)."""
    have = available_memory()
    if have is not None and need > have:
        raise ValueError(f"{what} would need about {_size(need)} of memory, more than the "
                         f"{_size(have)} available here; {remedy}")


def _size(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.0f} MiB"


# ----------------------------------------------------------------------------- provenance
def git_commit() -> dict:
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        # Results are outputs, not code: a run that replaces a committed result does not make
        # the next run of the same sweep "dirty".
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)results"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return {"commit": commit or None, "dirty": bool(dirty)}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def versions() -> dict:
    import torchvision

    from ipbook import __version__

    return {"python": sys.version.split()[0], "ipbook": __version__, "torch": torch.__version__,
            "torchvision": torchvision.__version__, "numpy": np.__version__,
            "platform": platform.platform(), "cpu": cpu_model(),
            # the instruction set torch's CPU kernels dispatch to: runs agree bit for bit only
            # where it (and the CPU) are the same
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability()}


def capability_hint(recorded: dict) -> str:
    """A hint when a run was recorded under another instruction set of torch's CPU kernels than
    this process dispatches to (``ATEN_CPU_CAPABILITY`` selects it), else ''."""
    was, now = recorded.get("torch_cpu_capability"), torch.backends.cpu.get_cpu_capability()
    if not was or was == now:
        return ""
    return (f" (the run was recorded with torch's CPU kernels at {was}, this process uses {now}: "
            f"ATEN_CPU_CAPABILITY={was.lower()} in the environment selects {was})")


def cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ----------------------------------------------------------------------------- atomic output
def atomic_write(path: Path, write) -> None:
    """Call ``write(file_object)`` on a temporary file beside ``path``, then rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would make results unreadable to others
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
