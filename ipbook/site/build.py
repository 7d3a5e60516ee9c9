"""Build the book for a profile: run the experiments, execute every chapter, build one HTML site.

``python -m ipbook book --profile paper`` does three things:

1. trains every run of ``params/<profile>.yaml`` that has no result with the same config yet, on
   each dataset of the site (:data:`SITE_DATASETS`, or ``--dataset``; results in
   ``results/<profile>/<dataset>/``, reused otherwise);
2. executes each chapter of ``_toc.yml`` with papermill once per dataset, with ``profile`` and
   ``dataset`` injected as parameters, and merges the executions into one page with a tab per
   dataset (:func:`ipbook.site.dataset_tabs.merge_datasets`), in a staging copy of the book under
   ``_build/stage/<profile>-<datasets>/``; chapters without a ``dataset`` parameter run once;
3. builds that copy with Jupyter Book (execution off: the notebooks are already executed) into
   ``_build/html`` (or ``OUT/_build/html``).

Only the profiles of :data:`BOOK_PROFILES` have a book, and a build that would first train more
than :data:`BOOK_TRAINING_LIMIT` iterations (a few minutes) is refused before any work, naming the
command that trains them, unless ``train`` (``--train``).

What each chapter does first (its runs, or a committed table) is in :mod:`ipbook.site.openers`. The plain ``jupyter-book build .`` builds the
book at the notebooks' own defaults (the quick profile on Fashion-MNIST) instead.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import nbformat
import yaml

from ipbook.site.dataset_tabs import SITE_DATASETS, merge_datasets
from ipbook.experiments.profiles import load_profile, REPO, RESULTS_DIR, run_configs, run_profile
from ipbook.nets.data import load_dataset
from ipbook.nets.runs import check_output_dir, config_mismatch, Run
from ipbook.readers import read_json
from ipbook.store import removed_on_failure

__all__ = ["BOOK_PROFILES", "BOOK_TRAINING_LIMIT", "ChapterFailed", "chapters", "build_book", "untrained",
           "show_parameters_in_effect"]

#: The profiles that have a book: the paper's settings (their runs are committed for MNIST and
#: Fashion-MNIST) and the quick profile (minutes on a CPU). The other profiles are sweeps and
#: controls, made by ``python -m ipbook sweep`` and read by the paper profile's chapters.
BOOK_PROFILES = ("paper", "quick")
#: The iterations a book may train without ``--train``: the quick profile's seven runs are 2,800.
BOOK_TRAINING_LIMIT = 10_000


class ChapterFailed(RuntimeError):
    """A chapter raised while it was executed; the message names the chapter, its parameters and
    the error, in one line (the notebook's traceback stays in the executed copy)."""


def untrained(profile: str, dataset: str) -> dict[str, int]:
    """``{run: iterations}`` of the runs of ``profile`` on ``dataset`` that have no finished result
    with their config in ``results/<profile>/<dataset>/`` (the book would train them)."""
    out = {}
    for name, config in run_configs(profile, dataset).items():
        folder = RESULTS_DIR / profile / dataset / name
        finished = (folder / "run.json").is_file() and (folder / "metrics.npz").is_file()
        if finished and config_mismatch(Run(metrics={}, info=read_json(folder / "run.json")), config) is None:
            continue
        n_train = (len(load_dataset(dataset, "train", train_fraction=config.train_fraction))
                   if config.steps is None else 0)   # given steps need no data
        out[name] = config.total_steps(n_train)
    return out


def _refuse_long_training(profile: str, datasets: list[str], train: bool) -> None:
    """Refuse, before any work, a profile without a book, and a build that would train more than
    :data:`BOOK_TRAINING_LIMIT` iterations unless ``train``; each one line naming the command."""
    if profile not in BOOK_PROFILES:
        load_profile(profile)   # an unknown profile is refused as such
        raise ValueError(f"profile {profile!r} has no book: the book is built for --profile "
                         f"{' or '.join(BOOK_PROFILES)} (the paper profile's chapters read the committed "
                         f"results of the others); its runs are made by: python -m ipbook sweep "
                         f"--profile {profile} --dataset {' '.join(datasets)}")
    missing = {d: untrained(profile, d) for d in datasets}
    total = sum(sum(m.values()) for m in missing.values())
    if total > BOOK_TRAINING_LIMIT and not train:
        runs = [f"{d}/{r}" for d, m in missing.items() for r in m]
        commands = " and ".join(f"python -m ipbook runs --profile {profile} --dataset {d}" for d, m in missing.items() if m)
        raise ValueError(f"the {profile} book would first train {len(runs)} run(s) ({', '.join(runs[:4])}"
                         f"{', ...' if len(runs) > 4 else ''}), {total:,} iterations in all, far more than a few "
                         f"minutes: {commands} trains them first, or pass --train to train them in the build")


def chapters(toc: Path | None = None) -> list[Path]:
    """The files of ``_toc.yml`` in reading order, as paths relative to the repository root."""
    toc = toc or REPO / "_toc.yml"
    spec = yaml.safe_load(toc.read_text())
    files = [spec["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []):
                    walk(child)

    walk(spec)
    out = []
    for f in files:
        for suffix in (".ipynb", ".md"):
            if (REPO / f).with_suffix(suffix).is_file():
                out.append(Path(f).with_suffix(suffix))
                break
        else:
            raise FileNotFoundError(f"_toc.yml names {f!r} but no .ipynb or .md file exists for it")
    return out


#: The widest line the parameters cell shows whole at 1280 px (characters; about 95 fit).
CODE_WIDTH = 94


def rerun_comment(command: str, width: int = CODE_WIDTH) -> str:
    """The parameters cell's "Re-run this chapter" comment for ``command``: one line when it fits in
    ``width`` characters, else the command on the lines below, wrapped before a ``-p NAME VALUE``."""
    line = f"# Re-run this chapter: {command}"
    if len(line) <= width:
        return line
    lines, current = ["# Re-run this chapter:"], "#  "
    for word in re.split(r" (?=-p )", command):
        if len(current) + 1 + len(word) > width and current.strip("# "):
            lines.append(current)
            current = "#    "
        current += " " + word
    return "\n".join(lines + [current])


def show_parameters_in_effect(nb: nbformat.NotebookNode, page: Path, params: dict) -> None:
    """One parameters cell, with the values in effect: papermill's injected cell is merged into the
    cell tagged ``parameters`` (its assignments rewritten, its comments kept) and removed, and the
    cell's "Re-run this chapter" line names the injected values (kept as it is when none were
    injected)."""
    cells = nb.cells
    cell = next(c for c in cells if "parameters" in c.metadata.get("tags", []))
    lines = []
    for line in cell.source.splitlines():
        name = re.match(r"(\w+)\s*=", line)
        if name and name.group(1) in params:
            line = f"{name.group(1)} = {params[name.group(1)]!r}"
        elif line.startswith("# Re-run this chapter:") and params:
            args = " ".join(f"-p {k} {v}" for k, v in params.items())
            line = rerun_comment(f"papermill {page.as_posix()} /tmp/out.ipynb {args}")
        lines.append(line)
    cell.source = "\n".join(lines)
    nb.cells = [c for c in cells if "injected-parameters" not in c.metadata.get("tags", [])]


def _ipc_kernel_manager():
    """A kernel manager whose kernels talk over local sockets in a private folder instead of TCP
    (nothing on the network, and no "running over TCP without encryption" warning in builds)."""
    from jupyter_client.manager import KernelManager

    class IPCKernelManager(KernelManager):
        def __init__(self, **kwargs):
            self._folder = tempfile.mkdtemp(prefix="ipbook-kernel-")
            super().__init__(transport="ipc", ip=os.path.join(self._folder, "kernel"), **kwargs)

        def cleanup_resources(self, restart: bool = False) -> None:
            super().cleanup_resources(restart=restart)
            if not restart:  # the socket folder goes with the kernel
                shutil.rmtree(self._folder, ignore_errors=True)

    return IPCKernelManager


def build_book(profile: str = "quick", dataset: str | Sequence[str] | None = None, *,
               out: str | Path | None = None, progress: bool = True, warnings_as_errors: bool = True,
               train: bool = False) -> Path:
    """Run the profile, execute every chapter for it, and build the site; returns the HTML folder.

    ``dataset``: one name, a list, or None for :data:`SITE_DATASETS`. With several, every chapter
    that takes a ``dataset`` parameter is executed once per dataset and shows them in tabs
    (:func:`merge_datasets`): one site. OUT is checked before any work, and removed again if the
    build fails. Only :data:`BOOK_PROFILES` have a book; a build that would train more than
    :data:`BOOK_TRAINING_LIMIT` iterations is refused before any work unless ``train``."""
    t0 = time.perf_counter()
    datasets = list(SITE_DATASETS) if dataset is None else [dataset] if isinstance(dataset, str) else list(dataset)
    if not datasets:
        raise ValueError("give at least one dataset")
    _refuse_long_training(profile, datasets, train)
    if out is not None:
        check_output_dir(out)
        with removed_on_failure(out):   # a failed build leaves no half-made OUT behind
            return _build_book(profile, datasets, out, progress, warnings_as_errors, t0)
    return _build_book(profile, datasets, out, progress, warnings_as_errors, t0)


def _execute(page: Path, target: Path, params: dict) -> nbformat.NotebookNode:
    """Execute one chapter with papermill into ``target``; the executed notebook, its parameters
    cell showing the values in effect. A chapter that raises is one line: ValueError naming the
    file for a damaged file (:class:`ipbook.readers.DamagedFileError`), else :class:`ChapterFailed`."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    print(f"executing {page} {params}", flush=True)
    try:
        papermill.execute_notebook(str(REPO / page), str(target), parameters=params,
                                   kernel_name="python3", progress_bar=False, cwd=str(REPO / page.parent),
                                   kernel_manager_class=_ipc_kernel_manager())
    except PapermillExecutionError as e:   # one line: a damaged file is bad input, the rest a failed chapter
        said = " ".join(str(e.evalue).split())
        if e.ename == "DamagedFileError":
            raise ValueError(said) from None
        raise ChapterFailed(f"chapter {page} {params} failed: {e.ename}: {said} (its traceback is in "
                            f"{target})") from None
    executed = nbformat.read(target, as_version=4)
    show_parameters_in_effect(executed, page, params)
    return executed


def _stage(profile: str, datasets: list[str]) -> Path:
    """A fresh staging copy of the book's configuration, its substitutions saying what it shows."""
    stage = REPO / "_build" / "stage" / f"{profile}-{'+'.join(datasets)}"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    config.setdefault("parse", {})["myst_substitutions"] = {
        "profile": profile, "dataset": " and ".join(datasets),
        # markdown code: Sphinx's smartquotes would turn "--" into a dash in plain text
        "built_by": f"`python -m ipbook book --profile {profile} --dataset {' '.join(datasets)}`"}
    (stage / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    shutil.copy(REPO / "_toc.yml", stage / "_toc.yml")
    if (REPO / "_static").is_dir():
        shutil.copytree(REPO / "_static", stage / "_static")
    return stage


def _build_book(profile: str, datasets: list[str], out, progress: bool, warnings_as_errors: bool, t0: float) -> Path:
    import papermill

    for dataset in datasets:
        run_profile(profile, dataset, progress=progress)  # computes only what is missing
    stage = _stage(profile, datasets)
    for page in chapters():
        target = stage / page
        target.parent.mkdir(parents=True, exist_ok=True)
        if page.suffix != ".ipynb":
            shutil.copy(REPO / page, target)
            continue
        accepted = papermill.inspect_notebook(str(REPO / page))  # names in its `parameters` cell
        base = {"profile": profile} if "profile" in accepted else {}
        if "dataset" not in accepted or len(datasets) == 1:
            params = {**base, **({"dataset": datasets[0]} if "dataset" in accepted else {})}
            nbformat.write(_execute(page, target, params), target)
            continue
        executed = {d: _execute(page, target.with_name(f"{target.stem}.{d}.ipynb"), {**base, "dataset": d})
                    for d in datasets}
        for d in datasets:
            target.with_name(f"{target.stem}.{d}.ipynb").unlink()
        nbformat.write(merge_datasets(executed), target)
    root = Path(out) if out is not None else REPO
    exe = shutil.which("jupyter-book") or str(Path(sys.executable).with_name("jupyter-book"))
    cmd = [exe, "build", str(stage), "--path-output", str(root)]
    if warnings_as_errors:
        cmd += ["--warningiserror", "--keep-going"]
    subprocess.run(cmd, check=True)
    html = root / "_build" / "html"
    print(f"book for profile {profile!r}, dataset(s) {', '.join(datasets)} built in {time.perf_counter() - t0:.0f} s: "
          f"{html / 'index.html'}")
    return html
