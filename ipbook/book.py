"""Build the book for a profile and dataset: run the experiments, execute every chapter, build HTML.

``python -m ipbook book --profile paper --dataset fashion-mnist`` does three things:

1. trains every run of ``params/<profile>.yaml`` that has no result with the same config yet
   (results in ``results/<profile>/<dataset>/``, reused otherwise);
2. executes each chapter of ``_toc.yml`` with papermill, with ``profile`` and ``dataset`` injected
   as parameters, into a staging copy of the book under ``_build/stage/<profile>-<dataset>/``;
3. builds that copy with Jupyter Book (execution off: the notebooks are already executed) into
   ``_build/html`` (or ``OUT/_build/html``).

The plain ``jupyter-book build .`` builds the book at the notebooks' own defaults (the quick
profile) instead.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from .experiments import REPO, run_profile

__all__ = ["chapters", "build_book"]


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


def build_book(profile: str = "quick", dataset: str = "fashion-mnist", *, out: str | Path | None = None,
               progress: bool = True, warnings_as_errors: bool = True) -> Path:
    """Run the profile, execute every chapter for it, and build the site; returns the HTML folder."""
    import papermill

    t0 = time.perf_counter()
    run_profile(profile, dataset, progress=progress)  # computes only what is missing
    stage = REPO / "_build" / "stage" / f"{profile}-{dataset}"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    (stage / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    shutil.copy(REPO / "_toc.yml", stage / "_toc.yml")
    for page in chapters():
        target = stage / page
        target.parent.mkdir(parents=True, exist_ok=True)
        if page.suffix != ".ipynb":
            shutil.copy(REPO / page, target)
            continue
        wanted = {"profile": profile, "dataset": dataset}
        accepted = papermill.inspect_notebook(str(REPO / page))  # names in its `parameters` cell
        params = {k: v for k, v in wanted.items() if k in accepted}
        print(f"executing {page} {params}", flush=True)
        papermill.execute_notebook(str(REPO / page), str(target), parameters=params,
                                   kernel_name="python3", progress_bar=False, cwd=str(REPO / page.parent))
    root = Path(out) if out is not None else REPO
    exe = shutil.which("jupyter-book") or str(Path(sys.executable).with_name("jupyter-book"))
    cmd = [exe, "build", str(stage), "--path-output", str(root)]
    if warnings_as_errors:
        cmd += ["--warningiserror", "--keep-going"]
    subprocess.run(cmd, check=True)
    html = root / "_build" / "html"
    print(f"book for profile {profile!r}, dataset {dataset!r} built in {time.perf_counter() - t0:.0f} s: "
          f"{html / 'index.html'}")
    return html
