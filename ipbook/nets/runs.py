"""A finished run on disk, and whether it may stand for a run of a config.

A run is ``DIR/metrics.npz`` (arrays), ``DIR/run.json`` (config, data sizes, versions, git commit,
wall time, peak memory) and, when it kept weights, ``DIR/checkpoints.pt``. All are written
atomically and ``run.json`` last, so a folder holding a ``run.json`` holds a complete run.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ipbook.nets.config import CHECKPOINT_FILE, TrainConfig
from ipbook.nets.defined_models import build_network
from ipbook.readers import read_checkpoints, read_json, read_npz
from ipbook.store import atomic_write, check_writable, is_committed, SmallerTableError

__all__ = ['Run', 'save_run', 'load_run', 'check_output_dir', 'config_mismatch', 'refuse_replacing_committed', 'reuse_mismatch', 'network_of']


@dataclass
class Run:
    """A finished run: ``metrics`` (the arrays of metrics.npz) and ``info`` (run.json)."""
    metrics: dict
    info: dict
    path: Path | None = None
    checkpoints: dict | None = dataclasses.field(default=None, repr=False)
    #: What :func:`~ipbook.nets.training.train` did to return this run: ``"trained"``, ``"reused"`` (a finished run
    #: found in the folder) or ``"replayed"`` (reused, its checkpoints recreated by a replay);
    #: ``seconds``: the time this call took.
    outcome: str = "trained"
    seconds: float = float("nan")

    def summary(self) -> str:
        """What happened, in words: ``trained in 312 s``, ``reused (trained in 921 s on
        2026-11-28)`` or ``replayed in 82 s (checkpoints recreated)``; a run read from disk
        (:func:`load_run`) says what its record says: ``trained in 921 s on 2026-11-28``."""
        if self.outcome == "trained" and self.seconds != self.seconds:   # NaN: not timed by this process
            when = str(self.info.get("started", ""))[:10]
            return f"trained in {self.info.get('wall_seconds', float('nan')):.0f} s{f' on {when}' if when else ''}"
        if self.outcome == "reused":
            when = str(self.info.get("started", ""))[:10]
            return (f"reused (trained in {self.info.get('wall_seconds', float('nan')):.0f} s"
                    f"{f' on {when}' if when else ''})")
        if self.outcome == "replayed":
            return f"replayed in {self.seconds:.0f} s (checkpoints recreated)"
        return f"trained in {self.seconds:.0f} s"

    @property
    def layers(self) -> list[str]:
        return [str(s) for s in self.metrics["layers"]]

    @property
    def checkpoint_steps(self) -> list[int]:
        """The iterations with saved weights (``run.json``'s ``checkpoints.steps``)."""
        return list(self.info.get("checkpoints", {}).get("steps", []))

    @property
    def lacks_checkpoint_file(self) -> bool:
        """Whether the run saved checkpoints whose file is not here (it is not committed)."""
        return bool(self.checkpoint_steps) and (self.path is None or not (self.path / CHECKPOINT_FILE).is_file())

    def model_at(self, step: int, device: str = "cpu"):
        """The model as it was after iteration ``step`` (one of :attr:`checkpoint_steps`), in eval
        mode, rebuilt from ``checkpoints.pt``. Any estimator can then be evaluated on it later
        without retraining; at the run's own settings it gives the online trajectory's value
        (for the deterministic models: the VAE samples Z afresh)."""
        if step not in self.checkpoint_steps:
            raise ValueError(f"no checkpoint at iteration {step}; saved: {self.checkpoint_steps or 'none'}")
        states = self.checkpoints
        if states is None:
            if self.path is None or not (self.path / CHECKPOINT_FILE).is_file():
                raise FileNotFoundError(f"{CHECKPOINT_FILE} is missing in {self.path}: checkpoints stay on "
                                        f"the machine that made them; train again to recreate them")
            states = read_checkpoints(self.path / CHECKPOINT_FILE)
            self.checkpoints = states
        return network_of(self.info, states[int(step)], device)


def network_of(info: dict, state: dict, device: str = "cpu"):
    """The network of a run (its ``run.json`` as ``info``) with the weights ``state``, in eval mode."""
    config = info["config"]
    model = build_network(config["model"], n_classes=info["data"]["n_classes"],
                          bottleneck=config.get("bottleneck"), activation=config.get("activation", "sigmoid"),
                          sparsity=config.get("sparsity"), noise=config.get("noise"),
                          quantize=config.get("quantize"))
    model.load_state_dict(state)
    return model.to(device).eval()


def save_run(run: Run, out_dir: str | os.PathLike) -> Path:
    """Write ``metrics.npz`` (and ``checkpoints.pt``) then ``run.json`` atomically into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "run.json").unlink(missing_ok=True)  # the old marker goes first: never old json + new npz
    atomic_write(out / "metrics.npz", lambda f: np.savez_compressed(f, **run.metrics))
    if run.checkpoints is not None:
        atomic_write(out / CHECKPOINT_FILE, lambda f: torch.save(run.checkpoints, f))
    atomic_write(out / "run.json", lambda f: f.write(json.dumps(run.info, indent=2).encode()))
    run.path = out
    return out


def load_run(out_dir: str | os.PathLike) -> Run:
    """Read a run written by :func:`~ipbook.nets.training.train`. Raises FileNotFoundError for an
    incomplete directory, :class:`ipbook.readers.DamagedFileError` (one line naming the file and
    how to restore it) for a file that cannot be read."""
    out = Path(out_dir)
    if not (out / "run.json").is_file() or not (out / "metrics.npz").is_file():
        raise FileNotFoundError(f"no complete run in {out} (needs run.json and metrics.npz)")
    info, metrics = read_json(out / "run.json"), read_npz(out / "metrics.npz")
    return Run(metrics=metrics, info=info, path=out)


# ----------------------------------------------------------------------------- reuse
def check_output_dir(out_dir: str | os.PathLike) -> Path:
    """Fail early, before any training, when ``out_dir`` cannot hold a run
    (:func:`ipbook.store.check_writable`: nothing is created). Raises ValueError naming the
    problem."""
    return check_writable(out_dir)


def _resolved(config: dict, n_train: int | None) -> dict:
    """``config`` as the run it makes on ``n_train`` training images: its iterations (``steps``,
    whether given as steps, epochs or a cap) and its test points as numbers; unchanged without
    ``n_train``."""
    if n_train is None:
        return config
    try:
        c = TrainConfig(**config)
        total = c.total_steps(int(n_train))
    except (TypeError, ValueError):
        return config
    return {**config, "steps": total, "epochs": None, "max_steps": None,
            "test_points": c.resolved_test_points(total)}


def config_mismatch(old: Run, config: "TrainConfig") -> str | None:
    """How the finished run ``old``'s config differs from ``config``, in words; None when they make
    the same run: equal settings, iterations and test points counted on ``old``'s training images
    (the paper's 50 epochs of 600 batches are its 30,000 steps). A setting that ``old`` does not
    record was added to :class:`TrainConfig` after it ran, and counts as its default."""
    added = {f.name: list(f.default) if isinstance(f.default, tuple) else f.default
             for f in dataclasses.fields(TrainConfig)}
    old_config, new_config = {**added, **old.info.get("config", {})}, config.to_dict()
    n_train = old.info.get("data", {}).get("n_train")
    old_run, new_run = _resolved(old_config, n_train), _resolved(new_config, n_train)
    if old_config == new_config or old_run == new_run:
        return None
    if old_run is not old_config and new_run is not new_config:   # both resolved: say the iterations
        old_config, new_config = ({_WORDS.get(k, k): v for k, v in c.items() if k not in ("epochs", "max_steps")}
                                  for c in (old_run, new_run))
    changed = sorted(k for k in set(old_config) | set(new_config) if old_config.get(k) != new_config.get(k))
    return "its config differs in " + ", ".join(
        f"{k} ({old_config.get(k)!r} -> {new_config.get(k)!r})" for k in changed)


#: How a difference in the resolved settings is named (epochs, steps and a cap are all iterations).
_WORDS = {"steps": "iterations", "test_points": "test points"}


def refuse_replacing_committed(out_dir: Path, config: "TrainConfig", *, replace: bool = False,
                               flag: str = "--recompute") -> None:
    """Refuse, before any work, to train over a committed run (``run.json`` tracked by git) whose
    config differs from ``config``: that would replace a committed result with another. ``replace``
    (the command's ``flag``: ``--recompute``, the sweep's ``--force``) replaces it anyway, but never
    a damaged one: its files are read first (:class:`ipbook.readers.DamagedFileError` names the file
    and the ``git checkout`` that restores it)."""
    if not (out_dir / "run.json").is_file() or not is_committed(out_dir / "run.json"):
        return
    why = config_mismatch(load_run(out_dir), config)
    if why is not None and not replace:
        raise SmallerTableError(f"refusing to train over the committed run in {out_dir}: {why}; give "
                                f"another output folder, or pass {flag} to replace it")


def reuse_mismatch(old: Run, config: "TrainConfig", fingerprint: dict, *,
                   require_checkpoints: bool = False) -> str | None:
    """Why the finished run ``old`` cannot stand for a run of ``config`` on data with
    ``fingerprint``; None when it can (same config and same data, and with
    ``require_checkpoints`` its checkpoint file at hand). A setting that ``old`` does not record
    was added to :class:`TrainConfig` after it ran, and counts as its default."""
    why = config_mismatch(old, config)
    if why is not None:
        return why
    old_print = old.info.get("data", {}).get("fingerprint")
    if old_print is None:
        return "it records no data fingerprint, so the data it was trained on cannot be checked"
    if old_print != fingerprint:
        return "the data changed: " + "; ".join(
            f"{split} {old_print.get(split, {}).get('n')} images sha256 "
            f"{str(old_print.get(split, {}).get('sha256'))[:12]}… -> {fingerprint[split]['n']} images "
            f"sha256 {fingerprint[split]['sha256'][:12]}…"
            for split in fingerprint if old_print.get(split) != fingerprint[split])
    if require_checkpoints and old.lacks_checkpoint_file:
        return f"its {CHECKPOINT_FILE} is not here (checkpoints stay on the machine that made them)"
    return None
