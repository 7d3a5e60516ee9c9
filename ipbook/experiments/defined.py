"""Where I(X;T) is defined: the noise-trained and quantized runs measured at their checkpoints.

- **Noise inside** (``params/noisy.yaml``): every layer's I(X; T) by sample propagation
  (:func:`ipbook.estimators.noisy.sample_propagation`) on N test probes: the first hidden layer's
  input is clean, so T | X is one Gaussian (K = 1); a later layer's is a mixture over ``passes``
  noisy passes of the layers before it. Each value comes with its Monte-Carlo standard error.
- **A quantized bottleneck** (``params/quantized.yaml``): I(X; Z) = H(Z) and I(Z; Y) counted
  exactly over all training images and over all test images
  (:func:`ipbook.estimators.quantized.code_information`), against log2 N of each.
- **Geometry** beside both: each layer's clustering ratio, effective rank, median pairwise distance
  and saturated share on the probes (:func:`ipbook.experiments.geometry.layer_shape`).

:func:`evaluate_defined` runs every run and seed of a profile with checkpoints here through the
one grid runner (:func:`ipbook.experiments.grid.run_grid`) into ``OUT/<dataset>.csv.gz``.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd
import torch

from ipbook.estimators.noisy import sample_propagation
from ipbook.estimators.quantized import code_information
from ipbook.experiments.geometry import GEOMETRY_KEYS, layer_shape
from ipbook.experiments.grid import checkpoint_plan, run_grid
from ipbook.experiments.probes import probe_index, spread_steps
from ipbook.experiments.profiles import RESULTS_DIR, load_profile, run_configs, sweep_root
from ipbook.nets.data import load_dataset
from ipbook.nets.runs import load_run
from ipbook.readers import read_table

__all__ = ["DEFINED_COLUMNS", "FINAL_WEIGHTS", "DefinedGrid", "defined_dir", "defined_estimates", "evaluate_defined",
           "load_defined", "keep_final_weights", "recount_codes"]

#: The last checkpoint of a quantized run, committed beside its run.json so that anyone can
#: recount its codes (the checkpoints file itself is not committed).
FINAL_WEIGHTS = "final-weights.pt"

#: One row per (run, seed, step, layer, quantity, split): ``value`` (bits, or the geometry's
#: unit), its ``stderr`` (0 where exact) and the N it is taken over.
DEFINED_COLUMNS = ["run", "seed", "step", "layer", "quantity", "split", "n", "value", "stderr"]


@dataclass(frozen=True)
class DefinedGrid:
    """N test probes, noisy passes per probe for the later layers, Monte-Carlo draws per value,
    and the checkpoints evaluated (spread evenly over the run's)."""

    n: int = 1000
    passes: int = 8
    samples: int = 10_000
    steps: int = 30


def defined_dir(profile: str) -> Path:
    """Where :func:`evaluate_defined` writes by default: ``results/defined/<profile>/``."""
    return RESULTS_DIR / "defined" / profile


def _noisy_rows(model, x, y, grid: DefinedGrid) -> list[tuple]:
    """(layer, quantity, split, n, value, stderr) of a model with noise inside, on probes x."""
    with torch.no_grad(), torch.random.fork_rng():
        torch.manual_seed(0)                      # the same noise draws at every checkpoint
        passes = [model(x).layers for _ in range(grid.passes)]
    rows, n = [], len(x)
    for name in passes[0]:
        centres = torch.stack([p[name] for p in passes], dim=1).double()     # (N, K, d)
        if bool((centres == centres[:, :1]).all()):                          # clean input: K = 1
            centres = centres[:, :1]
        bits, se = sample_propagation(centres, model.beta ** 2, samples=grid.samples)
        rows.append((name, "i_xt_sp", "test", n, bits, se))
        shape = layer_shape(centres[:, 0], y)
        rows += [(name, key, "test", n, shape[key], 0.0) for key in GEOMETRY_KEYS]
    return rows


def _quantized_rows(model, x, y, data: dict) -> list[tuple]:
    """H(Z), I(Z; Y) over every training and test image, and Z's geometry on the probes."""
    rows = []
    for split, images in data.items():
        info = code_information(model.codes(images.x.float()), images.y)
        n = len(images.y)
        rows += [("Z", "h_z", split, n, info["h_t"], 0.0), ("Z", "i_zy", split, n, info["i_ty"], 0.0),
                 ("Z", "log2_n", split, n, math.log2(n), 0.0)]
    with torch.no_grad():
        z = model(x).layers["Z"].double()
    shape = layer_shape(z, y)
    return rows + [("Z", key, "test", len(x), shape[key], 0.0) for key in GEOMETRY_KEYS]


def defined_estimates(run, grid: DefinedGrid = DefinedGrid(), *, name: str | None = None,
                      data: dict | None = None, steps: Sequence[int] | None = None) -> pd.DataFrame:
    """The rows of :data:`DEFINED_COLUMNS` of one noise-trained or quantized run at its
    checkpoints (``grid.steps`` of them, spread evenly, or ``steps``)."""
    config = run.info["config"]
    if config.get("noise") is None and config.get("quantize") is None:
        raise ValueError(f"run {name or run.path} has neither noise inside nor a quantized bottleneck: "
                         f"its I(X;T) is not defined; measure it with the second opinion instead")
    seed, name = int(config["seed"]), name or (run.path.parent.name if run.path is not None else config["model"])
    if data is None:
        data = {"train": load_dataset(config["dataset"], "train"), "test": load_dataset(config["dataset"], "test")}
    idx = probe_index(seed, "test", grid.n, 0, len(data["test"].x))
    x, y = data["test"].x[idx].float(), data["test"].y[idx]
    steps = spread_steps(run.checkpoint_steps, grid.steps) if steps is None else sorted(steps)
    rows = []
    for step in steps:
        model = run.model_at(int(step))
        found = _quantized_rows(model, x, y, data) if config.get("quantize") else _noisy_rows(model, x, y, grid)
        rows += [(name, seed, int(step), *r) for r in found]
    return pd.DataFrame(rows, columns=DEFINED_COLUMNS)


def _defined_at(run_dir: str, name: str, grid: DefinedGrid) -> pd.DataFrame:
    """One task of :func:`evaluate_defined`."""
    return defined_estimates(load_run(run_dir), grid, name=name)


def load_defined(dataset: str, profile: str, root=None) -> pd.DataFrame | None:
    """The table of :func:`evaluate_defined`, or None where there is none."""
    path = Path(root if root is not None else defined_dir(profile)) / f"{dataset}.csv.gz"
    return read_table(path) if path.is_file() else None


def _sorted(records: dict) -> list[pd.DataFrame]:
    table = pd.concat(list(records.values()), ignore_index=True)
    return [table.sort_values(["run", "seed", "step", "layer", "quantity", "split"], kind="stable")]


def evaluate_defined(dataset: str, profile: str, *, grid: DefinedGrid = DefinedGrid(), seeds=None, runs=None,
                     root=None, out=None, workers: int | None = None, scheduler: str | None = None,
                     progress: bool = True, force: bool = False) -> dict:
    """Measure every run and seed of ``profile`` (``noisy`` or ``quantized``) that has checkpoints
    here and write ``OUT/<dataset>.csv.gz`` with its provenance (default OUT: :func:`defined_dir`),
    one Dask task per run and seed, resumable, atomic, never shrinking (as every grid)."""
    seeds = list(seeds) if seeds is not None else list(load_profile(profile).get("seeds", [0]))
    names = list(runs) if runs is not None else list(run_configs(profile, dataset))
    base, out_dir = Path(root) if root is not None else sweep_root(profile), Path(out or defined_dir(profile))
    tasks, kept, missing, guard = checkpoint_plan(load_defined(dataset, profile, out_dir), base / profile / dataset,
                                                  names, seeds, (grid,), profile=profile, dataset=dataset, root=root)
    info = {"dataset": dataset, "profile": profile, "seeds": seeds, "grid": dataclasses.asdict(grid),
            "evaluated": sorted(tasks), "kept_from_earlier_table": sorted(kept), "missing_checkpoints": missing}
    written = run_grid(_defined_at, tasks, out=out_dir, tables=[f"{dataset}.csv.gz"], combine=_sorted, info=info,
                       kept=kept, guards=[guard], force=force, workers=workers, scheduler=scheduler,
                       progress=progress, desc=f"defined-{profile}")
    return {**info, "written": False} if written is None else {**written[0], "written": True}


def keep_final_weights(dataset: str, profile: str = "quantized", *, root=None) -> list[Path]:
    """Write the last checkpoint of every run and seed of ``profile`` on ``dataset`` that has its
    checkpoints here as ``FINAL_WEIGHTS`` beside its ``run.json`` (atomically; float32, a few
    hundred kB at most). Returns the files written."""
    from ipbook.store import atomic_write

    base, written = (Path(root) if root is not None else sweep_root(profile)) / profile / dataset, []
    for info in sorted(base.glob("*/seed-*/run.json")):
        run = load_run(info.parent)
        if not run.checkpoint_steps or run.lacks_checkpoint_file:
            continue
        step = max(run.checkpoint_steps)
        state = {"step": step, "state_dict": run.model_at(step).state_dict()}
        atomic_write(info.parent / FINAL_WEIGHTS, lambda f: torch.save(state, f))
        written.append(info.parent / FINAL_WEIGHTS)
    return written


def recount_codes(run_dir, data: dict | None = None) -> dict:
    """H(Z) and I(Z;Y) of a quantized run's final weights (``FINAL_WEIGHTS``), counted over every
    training and every test image: ``{"step": …, "train": {"h_t", "i_ty", …}, "test": {…}}``."""
    from ipbook.nets.defined_models import build_network

    run_dir = Path(run_dir)
    path = run_dir / FINAL_WEIGHTS
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: write it with python -m ipbook defined --profile quantized "
                                f"(or keep_final_weights) on the machine that has the run's checkpoints")
    config = load_run(run_dir).info["config"]
    if config.get("quantize") is None:
        raise ValueError(f"{run_dir} is not a quantized run (its config has no quantize); recount_codes counts codes")
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = build_network("shallow", bottleneck=config["bottleneck"], quantize=config["quantize"])
    model.load_state_dict(saved["state_dict"])
    if data is None:
        data = {"train": load_dataset(config["dataset"], "train"), "test": load_dataset(config["dataset"], "test")}
    out = {"step": int(saved["step"])}
    for split, images in data.items():
        out[split] = code_information(model.eval().codes(images.x.float()), images.y)
    return out
