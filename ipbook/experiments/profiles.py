"""The paper's seven runs per dataset, by profile (``params/<profile>.yaml``).

A profile names default training settings and the runs (``shallow``, ``deep``, ``deep-10pct``,
``sparse``, ``tied``, ``vae``, ``label``), each a set of :class:`~ipbook.nets.config.TrainConfig`
overrides. Results live in ``results/<profile>/<dataset>/<run>/`` and are reused when the config and
the data are identical (:func:`ipbook.nets.training.train`).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from ipbook.nets.runs import Run, check_output_dir, load_run, refuse_replacing_committed
from ipbook.nets.config import TrainConfig
from ipbook.nets.training import train

__all__ = ["PARAMS_DIR", "RESULTS_DIR", "sweep_root", "sensitivity_dir", "second_opinion_dir", "calibration_dir",
           "profile_names", "load_profile", "run_configs", "run_profile",
           "load_seeds"]

REPO = Path(__file__).resolve().parents[2]
PARAMS_DIR = REPO / "params"
RESULTS_DIR = REPO / "results"
_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}


def sweep_root(profile: str) -> Path:
    """Where a profile's sweeps write by default: ``results/controls/`` for the controls
    (``controls-*``), else ``results/``; runs go to ``<root>/<profile>/<dataset>/<run>/seed-S/``."""
    return RESULTS_DIR / "controls" if profile.startswith("controls-") else RESULTS_DIR


def sensitivity_dir(profile: str) -> Path:
    """Where ``python -m ipbook sensitivity`` writes a profile's tables by default:
    ``results/sensitivity/`` for the seeds profile, ``<sweep root>/sensitivity/<profile>/`` else."""
    return RESULTS_DIR / "sensitivity" if profile == "seeds" else sweep_root(profile) / "sensitivity" / profile


def second_opinion_dir(profile: str = "seeds") -> Path:
    """Where ``python -m ipbook second-opinion`` writes a profile's tables by default:
    ``results/second-opinion/`` for the seeds profile, ``results/second-opinion/<profile>/`` else."""
    base = RESULTS_DIR / "second-opinion"
    return base if profile == "seeds" else base / profile


def calibration_dir() -> Path:
    """Where ``python -m ipbook calibrate`` writes its table by default: ``results/calibration/``."""
    return RESULTS_DIR / "calibration"


def profile_names() -> list[str]:
    return sorted(p.stem for p in PARAMS_DIR.glob("*.yaml"))


def load_profile(profile: str) -> dict:
    """The parsed ``params/<profile>.yaml``; ValueError for an unknown profile or field."""
    path = PARAMS_DIR / f"{profile}.yaml"
    if not path.is_file():
        raise ValueError(f"unknown profile {profile!r}; valid profiles: {', '.join(profile_names())}")
    spec = yaml.safe_load(path.read_text())
    for where, fields in [("defaults", spec.get("defaults", {}))] + list(spec["runs"].items()):
        unknown = set(fields) - _FIELDS
        if unknown:
            raise ValueError(f"{path}: {where} has unknown setting(s) {sorted(unknown)}; "
                             f"valid: {sorted(_FIELDS)}")
    return spec


def run_configs(profile: str, dataset: str, **overrides) -> dict[str, TrainConfig]:
    """One :class:`TrainConfig` per run of ``profile`` on ``dataset`` (``overrides`` win)."""
    spec = load_profile(profile)
    return {name: TrainConfig(**{**spec.get("defaults", {}), **fields, "dataset": dataset, **overrides})
            for name, fields in spec["runs"].items()}


def run_profile(profile: str, dataset: str, *, runs: list[str] | None = None,
                root: str | Path | None = None, recompute: bool = False, progress: bool = True,
                **overrides) -> dict[str, Run]:
    """Train (or reuse) every run of ``profile`` on ``dataset``; returns ``{run name: Run}``."""
    configs = run_configs(profile, dataset, **overrides)
    if runs is not None:
        unknown = set(runs) - set(configs)
        if unknown:
            raise ValueError(f"unknown run(s) {sorted(unknown)}; valid: {', '.join(configs)}")
        configs = {k: v for k, v in configs.items() if k in runs}
    base = Path(root) if root is not None else RESULTS_DIR
    for name, cfg in configs.items():   # before any work: the folders, and no committed run replaced
        check_output_dir(base / profile / dataset / name)
        refuse_replacing_committed(base / profile / dataset / name, cfg, replace=recompute)
    return {name: train(cfg, base / profile / dataset / name, recompute=recompute, progress=progress)
            for name, cfg in configs.items()}


def load_seeds(dataset: str, profile: str = "seeds", *, runs: list[str] | None = None,
               root: str | Path | None = None) -> dict[int, dict[str, Run]]:
    """The finished runs of a seed sweep (``python -m ipbook sweep``), without training anything:
    ``{seed: {run name: Run}}`` for every seed of ``params/<profile>.yaml`` whose runs (all of the
    profile's, or only ``runs``) are finished with the profile's config under
    ``ROOT/<profile>/<dataset>/<run>/seed-<s>/``. Seeds with a missing or different run are left
    out; an empty dict means no complete seed."""
    spec = load_profile(profile)
    base = Path(root) if root is not None else RESULTS_DIR
    wanted = run_configs(profile, dataset)
    if runs is not None:
        unknown = set(runs) - set(wanted)
        if unknown:
            raise ValueError(f"unknown run(s) {sorted(unknown)}; valid: {', '.join(wanted)}")
    out = {}
    for seed in spec.get("seeds", [0]):
        found = {}
        for name, config in run_configs(profile, dataset, seed=int(seed)).items():
            if runs is not None and name not in runs:
                continue
            try:
                run = load_run(base / profile / dataset / name / f"seed-{seed}")
            except FileNotFoundError:
                break
            if {**config.to_dict(), **run.info["config"]} != config.to_dict():
                break
            found[name] = run
        else:
            out[int(seed)] = found
    return out
