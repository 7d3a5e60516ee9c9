"""Train an autoencoder while tracking the information plane of every hidden layer online.

One run = one model on one dataset. Every ``ip_every`` iterations the current network is applied to
a fixed probe set of ``ip_samples`` test images and I(X; T), I(T; X′) of every hidden layer T are
estimated by an :class:`~ipbook.recorder.InformationPlaneRecorder` (the same class a user attaches
to their own network), in one :class:`~ipbook.estimators.InformationPlane` call on a worker thread
(X's Gram matrix is built once per run). The supervised control (``classifier``) is measured
against the labels instead: I(X; T) and I(T; Y). ``estimators`` adds further estimators (noisy-layer
bounds, binning) on a larger probe set at the checkpoint schedule's iterations. Nothing else is kept per iteration but the training loss: no weight snapshots, so memory
does not grow with the number of iterations.

Results go to ``DIR/metrics.npz`` (arrays) and ``DIR/run.json`` (config, data sizes, versions, git
commit, wall time, peak memory). Both are written atomically and ``run.json`` is written last, so a
directory holding a ``run.json`` holds a complete run.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .data import DATASET_NAMES, DEFAULT_DATASET, load_dataset
from .models import ACTIVATION_NAMES, CLASSIFIER_NAMES, MODEL_NAMES, LabelAE, build_model, label_interpolations
from .recorder import InformationPlaneRecorder, parse_estimator

__all__ = ["TrainConfig", "Run", "TrainingDivergedError", "train", "load_run", "check_output_dir",
           "reuse_mismatch", "config_mismatch", "refuse_replacing_committed", "checkpoint_steps", "CHECKPOINT_FILE"]

log = logging.getLogger("ipbook")


#: The file beside metrics.npz that holds a run's checkpoints: {iteration: float32 state dict}.
CHECKPOINT_FILE = "checkpoints.pt"


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a run. The defaults are the paper's settings.

    Parameters
    ----------
    model : one of :data:`ipbook.models.MODEL_NAMES`
    dataset : one of :data:`ipbook.data.DATASET_NAMES`
    epochs : passes over the training set (50 in the paper); ignored when ``steps`` is given.
    steps : total iterations; overrides ``epochs``. The paper's 10% experiment keeps the iteration
        count of the full run: ``steps = 30000`` on 6,000 images is 500 epochs.
    max_steps : optional cap on the iterations (for quick runs).
    train_fraction : the first fraction of the training set that is used.
    batch_size, lr : Adam's batch size and learning rate (100, 0.005).
    ip_every : estimate the information plane every this many iterations (1: every iteration).
    ip_samples : number of fixed test images the information plane is estimated on (100).
    alpha, gamma : estimator order and Scott's-rule scale (1.01, 2).
    test_points : the loss on the whole test set is taken at this many + 1 iterations, spread
        evenly from the start to the end of the run. Default (None): one per 100 iterations,
        at least 20 and at most 300 (:meth:`resolved_test_points`).
    n_recon : number of fixed training and test images whose reconstructions are kept.
    bottleneck : bottleneck width n_Z (default: the paper's, 50; for the label AE the number of
        classes).
    activation : the hidden layers' nonlinearity, one of :data:`ipbook.models.ACTIVATION_NAMES`
        (default: the paper's sigmoid; X′ stays a sigmoid).
    sparsity : the sparse AE's KL weight λ (default: the paper's 1e-3); sparse AE only.
    seed : seeds the weights, the batch order and the probe set.
    device : ``"cpu"`` or ``"cuda"``.
    checkpoints : save the weights at this many iterations of the default analysis schedule
        (:func:`checkpoint_steps`: about half log-spaced, half evenly spaced, with 0 and the
        last iteration), or at an explicit list of iterations; ``None``: no checkpoints.
    estimators : further estimators recorded online, as :class:`~ipbook.recorder.InformationPlaneRecorder`
        names them (``"noisy-upper:0.1"``, ``"binning:30"``, ...); default none.
    estimator_samples : their probe set: this many test images (drawn with ``seed + 2``). Default 1000
    estimator_points : they are measured at the ``checkpoint_steps(estimator_points, total)`` iterations.
        Default 100
    """

    model: str = "deep"
    dataset: str = DEFAULT_DATASET
    epochs: float = 50
    steps: int | None = None
    max_steps: int | None = None
    train_fraction: float = 1.0
    batch_size: int = 100
    lr: float = 0.005
    ip_every: int = 1
    ip_samples: int = 100
    alpha: float = 1.01
    gamma: float = 2.0
    test_points: int | None = None
    n_recon: int = 8
    bottleneck: int | None = None
    seed: int = 0
    device: str = "cpu"
    checkpoints: int | tuple[int, ...] | None = None
    activation: str = "sigmoid"
    sparsity: float | None = None
    estimators: tuple[str, ...] = ()
    estimator_samples: int = 1000
    estimator_points: int = 100

    def __post_init__(self):
        if self.model not in MODEL_NAMES + CLASSIFIER_NAMES:
            raise ValueError(f"unknown model {self.model!r}; valid names: {', '.join(MODEL_NAMES + CLASSIFIER_NAMES)}")
        object.__setattr__(self, "estimators", tuple(self.estimators))
        for spec in self.estimators:
            parse_estimator(spec)
        if not (isinstance(self.estimator_samples, int) and self.estimator_samples >= 2):
            raise ValueError(f"estimator_samples must be an integer >= 2; got {self.estimator_samples!r}")
        if not (isinstance(self.estimator_points, int) and self.estimator_points >= 2):
            raise ValueError(f"estimator_points must be an integer >= 2; got {self.estimator_points!r}")
        if self.dataset not in DATASET_NAMES:
            raise ValueError(f"unknown dataset {self.dataset!r}; valid names: {', '.join(DATASET_NAMES)}")
        positive = {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr,
                    "ip_every": self.ip_every, "ip_samples": self.ip_samples}
        for key in ("steps", "max_steps", "test_points"):
            if getattr(self, key) is not None:
                positive[key] = getattr(self, key)
        for key, value in positive.items():
            if not value > 0:
                raise ValueError(f"{key} must be > 0; got {value!r}")
        if self.ip_samples < 2:
            raise ValueError(f"ip_samples must be >= 2; got {self.ip_samples}")
        if not 0 < self.train_fraction <= 1:
            raise ValueError(f"train_fraction must be in (0, 1]; got {self.train_fraction}")
        if isinstance(self.checkpoints, list):
            object.__setattr__(self, "checkpoints", tuple(self.checkpoints))
        if isinstance(self.checkpoints, int) and self.checkpoints < 2:
            raise ValueError(f"checkpoints must be >= 2 (a count) or a list of iterations; got {self.checkpoints}")
        if isinstance(self.checkpoints, tuple) and any(int(k) < 0 for k in self.checkpoints):
            raise ValueError(f"checkpoint iterations must be >= 0; got {list(self.checkpoints)}")
        if self.activation not in ACTIVATION_NAMES:
            raise ValueError(f"unknown activation {self.activation!r}; valid: {', '.join(ACTIVATION_NAMES)}")
        if self.activation != "sigmoid" and self.model == "sparse":
            raise ValueError("the sparse AE's KL penalty needs sigmoid units; activation must be 'sigmoid'")
        if self.sparsity is not None and self.model != "sparse":
            raise ValueError(f"sparsity (the KL weight) applies to the sparse AE only; got "
                             f"sparsity={self.sparsity!r} for model {self.model!r}")
        if self.sparsity is not None and not (math.isfinite(self.sparsity) and self.sparsity >= 0):
            raise ValueError(f"sparsity must be a finite number >= 0 (the paper's: 1e-3); got {self.sparsity!r}")
        if not (isinstance(self.seed, (int, np.integer)) and self.seed >= 0):
            raise ValueError(f"seed must be an integer >= 0; got {self.seed!r}")
        if self.bottleneck is not None and not (isinstance(self.bottleneck, int) and self.bottleneck >= 1):
            raise ValueError(f"bottleneck must be a positive integer; got {self.bottleneck!r}")
        if self.device not in ("cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ValueError(f"device must be 'cpu' or 'cuda'; got {self.device!r}")

    def total_steps(self, n_train: int) -> int:
        """Iterations of this run on ``n_train`` training images."""
        steps = self.steps if self.steps is not None else math.ceil(self.epochs * math.ceil(n_train / self.batch_size))
        return int(min(steps, self.max_steps) if self.max_steps is not None else steps)

    def resolved_test_points(self, total_steps: int) -> int:
        """``test_points``, or by default one test evaluation per 100 iterations, in [20, 300]."""
        if self.test_points is not None:
            return self.test_points
        return int(min(300, max(20, total_steps // 100)))

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        for key in ("checkpoints", "estimators"):
            if isinstance(d[key], tuple):
                d[key] = list(d[key])  # as it reads back from run.json
        return d


def checkpoint_steps(spec: int | tuple[int, ...] | None, total: int) -> list[int]:
    """The iterations at which a run of ``total`` iterations saves its weights.

    ``spec`` a count K: the union of about K/2 log-spaced and K/2 evenly spaced iterations (dense
    early, where the fitting phase is fast, and spread over the long rest), always with 0 and
    ``total``, so about K in all; a list: those iterations (each at most ``total``); None: none.
    """
    if spec is None:
        return []
    if isinstance(spec, int):
        half = max(1, spec // 2)
        logs = np.geomspace(1, max(total, 1), half) if total >= 1 else np.zeros(1)
        evens = np.linspace(0, total, half + 1)
        return sorted({0, total} | set(np.round(logs).astype(int).tolist()) | set(np.round(evens).astype(int).tolist()))
    steps = sorted({int(k) for k in spec})
    if steps and steps[-1] > total:
        raise ValueError(f"checkpoint iteration {steps[-1]} is beyond the run's {total} iterations")
    return steps


@dataclass
class Run:
    """A finished run: ``metrics`` (the arrays of metrics.npz) and ``info`` (run.json)."""

    metrics: dict
    info: dict
    path: Path | None = None
    checkpoints: dict | None = dataclasses.field(default=None, repr=False)
    #: What :func:`train` did to return this run: ``"trained"``, ``"reused"`` (a finished run
    #: found in the folder) or ``"replayed"`` (reused, its checkpoints recreated by a replay);
    #: ``seconds``: the time this call took.
    outcome: str = "trained"
    seconds: float = float("nan")

    def summary(self) -> str:
        """What happened, in words: ``trained in 312 s``, ``reused (trained in 921 s on
        2026-11-28)`` or ``replayed in 82 s (checkpoints recreated)``."""
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
            states = torch.load(self.path / CHECKPOINT_FILE, map_location="cpu", weights_only=True)
            self.checkpoints = states
        config = self.info["config"]
        model = build_model(config["model"], n_classes=self.info["data"]["n_classes"],
                            bottleneck=config.get("bottleneck"), activation=config.get("activation", "sigmoid"),
                            sparsity=config.get("sparsity"))
        model.load_state_dict(states[int(step)])
        return model.to(device).eval()


# ----------------------------------------------------------------------------- provenance
def _git_commit() -> dict:
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


def _versions() -> dict:
    import torchvision

    from . import __version__

    return {"python": sys.version.split()[0], "ipbook": __version__, "torch": torch.__version__,
            "torchvision": torchvision.__version__, "numpy": np.__version__,
            "platform": platform.platform(), "cpu": _cpu_model(),
            # the instruction set torch's CPU kernels dispatch to: runs agree bit for bit only
            # where it (and the CPU) are the same
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability()}


def _capability_hint(recorded: dict) -> str:
    """A hint when a run was recorded under another instruction set of torch's CPU kernels than
    this process dispatches to (``ATEN_CPU_CAPABILITY`` selects it), else ''."""
    was, now = recorded.get("torch_cpu_capability"), torch.backends.cpu.get_cpu_capability()
    if not was or was == now:
        return ""
    return (f" (the run was recorded with torch's CPU kernels at {was}, this process uses {now}: "
            f"ATEN_CPU_CAPABILITY={was.lower()} in the environment selects {was})")


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ----------------------------------------------------------------------------- atomic output
def _atomic_write(path: Path, write) -> None:
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


def save_run(run: Run, out_dir: str | os.PathLike) -> Path:
    """Write ``metrics.npz`` (and ``checkpoints.pt``) then ``run.json`` atomically into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "run.json").unlink(missing_ok=True)  # the old marker goes first: never old json + new npz
    _atomic_write(out / "metrics.npz", lambda f: np.savez_compressed(f, **run.metrics))
    if run.checkpoints is not None:
        _atomic_write(out / CHECKPOINT_FILE, lambda f: torch.save(run.checkpoints, f))
    _atomic_write(out / "run.json", lambda f: f.write(json.dumps(run.info, indent=2).encode()))
    run.path = out
    return out


def load_run(out_dir: str | os.PathLike) -> Run:
    """Read a run written by :func:`train`. Raises FileNotFoundError for an incomplete directory."""
    out = Path(out_dir)
    if not (out / "run.json").is_file() or not (out / "metrics.npz").is_file():
        raise FileNotFoundError(f"no complete run in {out} (needs run.json and metrics.npz)")
    info = json.loads((out / "run.json").read_text())
    with np.load(out / "metrics.npz", allow_pickle=False) as z:
        metrics = {k: z[k] for k in z.files}
    return Run(metrics=metrics, info=info, path=out)


# ----------------------------------------------------------------------------- reuse
def check_output_dir(out_dir: str | os.PathLike) -> Path:
    """Fail early, before any training, when ``out_dir`` cannot hold a run
    (:func:`ipbook.outputs.check_writable`: nothing is created). Raises ValueError naming the
    problem."""
    from .outputs import check_writable

    return check_writable(out_dir)


def config_mismatch(old: Run, config: "TrainConfig") -> str | None:
    """How the finished run ``old``'s config differs from ``config``, in words; None when equal. A
    setting that ``old`` does not record was added to :class:`TrainConfig` after it ran, and counts
    as its default."""
    added = {f.name: list(f.default) if isinstance(f.default, tuple) else f.default
             for f in dataclasses.fields(TrainConfig)}
    old_config, new_config = {**added, **old.info.get("config", {})}, config.to_dict()
    if old_config == new_config:
        return None
    changed = sorted(k for k in set(old_config) | set(new_config) if old_config.get(k) != new_config.get(k))
    return "its config differs in " + ", ".join(
        f"{k} ({old_config.get(k)!r} -> {new_config.get(k)!r})" for k in changed)


def refuse_replacing_committed(out_dir: Path, config: "TrainConfig") -> None:
    """Refuse, before any work, to train over a committed run (``run.json`` tracked by git) whose
    config differs from ``config``: that would replace a committed result with another. Pass
    ``recompute`` (``--recompute``) to replace it anyway."""
    from .outputs import SmallerTableError, is_committed

    if not (out_dir / "run.json").is_file() or not is_committed(out_dir / "run.json"):
        return
    why = config_mismatch(load_run(out_dir), config)
    if why is not None:
        raise SmallerTableError(f"refusing to train over the committed run in {out_dir}: {why}; give "
                                f"another output folder, or pass --recompute to replace it")


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


# ----------------------------------------------------------------------------- training
def _eval_loss(model, x, y, batch_size) -> float:
    """The training objective on a whole set, averaged over batches of the training batch size."""
    total, count = 0.0, 0
    for i in range(0, len(x), batch_size):
        xb, yb = x[i:i + batch_size], y[i:i + batch_size]
        total += float(model.loss(model(xb), xb, yb)) * len(xb)
        count += len(xb)
    return total / count


def _check_finite(losses: torch.Tensor, first: int, last: int) -> None:
    """Raise TrainingDivergedError naming the first step in [first, last] with a NaN/inf loss."""
    chunk = losses[first - 1:last]
    bad = ~torch.isfinite(chunk)
    if bool(bad.any()):
        step = first + int(bad.nonzero()[0, 0])
        value = float(chunk[step - first])
        raise TrainingDivergedError(
            f"training diverged: the loss is {value} at iteration {step}; lower the learning rate "
            f"(lr) or check the input data")


@dataclass
class _Data:
    """The tensors of one run, on its device, and the fingerprint of what was loaded."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int
    fingerprint: dict


def _load_data(config: TrainConfig, device: torch.device) -> _Data:
    train_set = load_dataset(config.dataset, "train", train_fraction=config.train_fraction)
    test_set = load_dataset(config.dataset, "test")
    if config.ip_samples > len(test_set):
        raise ValueError(f"ip_samples = {config.ip_samples} exceeds the {len(test_set)} test images")
    if config.estimators and config.estimator_samples > len(test_set):
        raise ValueError(f"estimator_samples = {config.estimator_samples} exceeds the {len(test_set)} test images")
    return _Data(train_set.x.to(device), train_set.y.to(device), test_set.x.to(device),
                 test_set.y.to(device), train_set.n_classes,
                 {"train": train_set.fingerprint(), "test": test_set.fingerprint()})


class _Schedule:
    """The iterations at which a run measures: ``ip`` (information plane) and ``test`` (test loss).

    ``due(step)`` says whether anything is measured or saved at ``step``; ``take_ip`` / ``take_test``
    return the row of that measurement (or None) and advance; ``saves(step)`` whether the weights are
    kept (``checkpoint``); ``further`` holds the iterations of the further estimators
    (:attr:`TrainConfig.estimators`). Steps must be visited in increasing order. Without ``measure``
    only the checkpoints are scheduled (a replay, :func:`_replay`).
    """

    def __init__(self, config: TrainConfig, total: int, measure: bool = True):
        self.ip = sorted(set(range(0, total + 1, config.ip_every)) | {total}) if measure else []
        points = config.resolved_test_points(total)
        self.test = (sorted(set(np.linspace(0, total, points + 1).round().astype(int).tolist()))
                     if measure else [])
        self.checkpoint = checkpoint_steps(config.checkpoints, total)
        self._save = set(self.checkpoint)
        self.further = (checkpoint_steps(config.estimator_points, total)
                        if measure and config.estimators else [])
        self._further = set(self.further)
        self._k_ip = self._k_test = 0

    @staticmethod
    def _at(steps: list[int], k: int, step: int) -> bool:
        return k < len(steps) and steps[k] == step

    def due(self, step: int) -> bool:
        return (self._at(self.ip, self._k_ip, step) or self._at(self.test, self._k_test, step)
                or step in self._save or step in self._further)

    def measures_further(self, step: int) -> bool:
        """Whether the further estimators measure after ``step``."""
        return step in self._further

    def saves(self, step: int) -> bool:
        """Whether the weights after ``step`` are kept as a checkpoint."""
        return step in self._save

    def take_ip(self, step: int) -> int | None:
        if not self._at(self.ip, self._k_ip, step):
            return None
        self._k_ip += 1
        return self._k_ip - 1

    def take_test(self, step: int) -> int | None:
        if not self._at(self.test, self._k_test, step):
            return None
        self._k_test += 1
        return self._k_test - 1


def _build(config: TrainConfig, data: _Data, device: torch.device):
    """The seeded model, its optimiser and the batch-order generator: all that the training
    trajectory depends on besides the data."""
    torch.manual_seed(config.seed)
    model = build_model(config.model, n_classes=data.n_classes, bottleneck=config.bottleneck,
                        activation=config.activation, sparsity=config.sparsity).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, foreach=True)
    return model, optimizer, torch.Generator().manual_seed(config.seed)


def _weights(model) -> dict:
    """A float32 copy of the model's state dict on the CPU (one checkpoint)."""
    return {k: v.detach().to("cpu", torch.float32, copy=True) for k, v in model.state_dict().items()}


def _optimise(config: TrainConfig, data: _Data, model, optimizer, batch_order, schedule: _Schedule,
              on_due, losses: torch.Tensor, bar) -> None:
    """The training loop: Adam on mini-batches in the order of ``batch_order``, one pass of the
    shuffled training set after another, for ``len(losses)`` iterations. ``losses[k]`` receives
    the mini-batch loss of iteration k + 1; ``on_due(step)`` runs at step 0 and after every
    iteration that ``schedule`` names, once the losses so far are checked to be finite."""
    n_train, bs, total = len(data.x_train), config.batch_size, len(losses)
    on_due(0)
    step, checked, perm, pos = 0, 0, None, n_train
    while step < total:
        if pos >= n_train:
            perm, pos = torch.randperm(n_train, generator=batch_order).to(data.x_train.device), 0
        idx = perm[pos:pos + bs]
        pos += bs
        xb, yb = data.x_train[idx], data.y_train[idx]
        loss = model.loss(model(xb), xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses[step] = loss.detach()
        step += 1
        if schedule.due(step):
            _check_finite(losses, checked + 1, step)
            checked = step
            on_due(step)
        if not bar.disable and step % 50 == 0:
            bar.set_postfix_str(f"loss {float(losses[step - 1]):.4g}", refresh=False)
        bar.update(1)
    _check_finite(losses, checked + 1, total)


def _progress_bar(config: TrainConfig, total: int, progress: bool):
    return tqdm(total=total, disable=not progress, desc=f"{config.model}/{config.dataset}",
                mininterval=1.0, ascii=True, dynamic_ncols=False, ncols=100)


def _probe(data: _Data, seed: int, n: int) -> torch.Tensor:
    """The sorted indices of ``n`` test images drawn with ``seed`` (a run's fixed probe set)."""
    index = torch.randperm(len(data.x_test), generator=torch.Generator().manual_seed(seed))
    return index[:n].sort().values


def _capture(out):
    """The recorder's view of an autoencoder's output: its layers, and X′ as the target of the
    plane's second axis, I(T; X′)."""
    return out.layers, out.x_hat


def _capture_layers(out):
    """A classifier's layers; its second axis is measured against the probes' labels."""
    return out.layers, None


def _recorder(model, config: TrainConfig, data: _Data, index: torch.Tensor, *, steps: list[int],
              estimators: tuple[str, ...], background: bool) -> InformationPlaneRecorder:
    """The :class:`InformationPlaneRecorder` of a run on the test images ``index``: every layer of
    ``model``, against X′ (autoencoders) or the labels (:attr:`plane_target` ``"labels"``)."""
    labels = getattr(model, "plane_target", "output") == "labels"
    index = index.to(data.x_test.device)
    return InformationPlaneRecorder(
        model, list(model.layer_names), data.x_test[index], probe_y=data.y_test[index] if labels else None,
        steps=steps, estimators=estimators, capture=_capture_layers if labels else _capture,
        alpha=config.alpha, gamma=config.gamma, background=background)


def _estimator_metrics(recorder: InformationPlaneRecorder, estimators: tuple[str, ...], index) -> dict:
    """``est_step`` (S,), ``est_i_xt`` / ``est_i_ty`` (S, L, E) in bits, ``est_names`` (E,) and
    ``est_probe_index`` of the further estimators of a run (:attr:`TrainConfig.estimators`)."""
    arrays = [recorder.to_arrays(e) for e in estimators]
    return {"est_step": arrays[0][0], "est_names": np.asarray(estimators, dtype=str),
            "est_probe_index": index.numpy(),
            "est_i_xt": np.stack([a[1] for a in arrays], axis=-1),
            "est_i_ty": np.stack([a[2] for a in arrays], axis=-1)}


def _fit(config: TrainConfig, data: _Data, device: torch.device, progress: bool) -> tuple[dict, dict | None]:
    """Train the model of ``config`` and measure it on the schedule; returns the metrics arrays and
    the checkpoints ({iteration: float32 state dict}, None when none are asked for)."""
    total = config.total_steps(len(data.x_train))
    model, optimizer, batch_order = _build(config, data, device)
    probe_index = _probe(data, config.seed + 1, config.ip_samples)
    schedule = _Schedule(config, total)
    # the plane on a worker thread, overlapping the next training steps
    plane = _recorder(model, config, data, probe_index, steps=schedule.ip, estimators=("matrix",), background=True)
    est_index = _probe(data, config.seed + 2, config.estimator_samples) if config.estimators else None
    further = (_recorder(model, config, data, est_index,
                         steps=schedule.further, estimators=config.estimators,
                         background=False) if config.estimators else None)
    test_loss = np.empty(len(schedule.test))
    losses = torch.empty(total, dtype=torch.float64, device=device)
    states = {} if schedule.checkpoint else None
    # Evaluations draw from a forked RNG (the VAE samples Z), so the training trajectory does not
    # depend on how often we look at it.
    forked_rng = (lambda: torch.random.fork_rng(devices=[device] if device.type == "cuda" else []))

    def measure(step: int) -> None:
        if schedule.saves(step):
            states[step] = _weights(model)
        model.eval()
        with torch.no_grad(), forked_rng():
            if schedule.take_ip(step) is not None:
                plane.measure(step)
            if (row := schedule.take_test(step)) is not None:
                test_loss[row] = _eval_loss(model, data.x_test, data.y_test, config.batch_size)
        if schedule.measures_further(step):
            with forked_rng():
                further.measure(step)
        model.train()

    bar = _progress_bar(config, total, progress)
    try:
        _optimise(config, data, model, optimizer, batch_order, schedule, measure, losses, bar)
        _, i_xt, i_second = plane.to_arrays("matrix")
        extra = _final_outputs(model, data, config.n_recon, forked_rng)
    finally:
        bar.close()
        plane.close()
        if further is not None:
            further.close()
    second = "i_ty" if getattr(model, "plane_target", "output") == "labels" else "i_tx"
    return {
        "step": np.asarray(schedule.ip, dtype=np.int64),
        "i_xt": i_xt.astype(np.float32), second: i_second.astype(np.float32),
        "layers": np.asarray(model.layer_names, dtype=str),
        "loss_step": np.arange(1, total + 1, dtype=np.int64),
        "train_loss": losses.cpu().numpy().astype(np.float32),
        "test_loss_step": np.asarray(schedule.test, dtype=np.int64),
        "test_loss": test_loss,
        "probe_index": probe_index.numpy(),
        **(_estimator_metrics(further, config.estimators, est_index) if further is not None else {}),
        **extra,
    }, states


def _replay(old: Run, config: TrainConfig, data: _Data, device: torch.device,
            progress: bool) -> tuple[dict | None, str]:
    """Train ``old``'s run again without measuring anything, keeping the weights at its checkpoint
    iterations. Measurements do not touch the training trajectory (they run under a forked RNG),
    so on the machine kind that made ``old`` the replay retraces it exactly, at the cost of the
    training alone. Returns ``(checkpoints, "")`` when the replayed mini-batch loss equals the
    recorded one at every iteration, else ``(None, why)``."""
    total = config.total_steps(len(data.x_train))
    model, optimizer, batch_order = _build(config, data, device)
    schedule = _Schedule(config, total, measure=False)
    if schedule.checkpoint != old.checkpoint_steps:
        return None, "its checkpoint iterations differ from the schedule's"
    losses = torch.empty(total, dtype=torch.float64, device=device)
    states = {}

    def keep(step: int) -> None:
        if schedule.saves(step):
            states[step] = _weights(model)

    bar = _progress_bar(config, total, progress)
    try:
        _optimise(config, data, model, optimizer, batch_order, schedule, keep, losses, bar)
    finally:
        bar.close()
    replayed, recorded = losses.cpu().numpy().astype(np.float32), old.metrics["train_loss"]
    differs = np.flatnonzero(replayed != recorded)
    if len(differs):
        k = int(differs[0])
        return None, (f"the replayed training loss first differs at iteration {k + 1} "
                      f"({replayed[k]!r} against the recorded {recorded[k]!r}; {len(differs)} of "
                      f"{total} iterations differ): another machine kind or library version"
                      + _capability_hint(old.info.get("versions", {})))
    return states, ""


def _final_outputs(model, data: _Data, n_recon: int, forked_rng) -> dict:
    """Reconstructions of the first training and test images; each layer's mean activation over the
    test set and its units (``final_mean_activation``, (L,): the sparse AE's ρ̂ for Z); and for the
    label AE its decoder on mixtures of one-hot labels (Fig. A3)."""
    model.eval()
    with torch.no_grad(), forked_rng():
        k = min(n_recon, len(data.x_train), len(data.x_test))
        out = {"recon_train_x": data.x_train[:k].cpu().numpy(),
               "recon_train": model(data.x_train[:k]).x_hat.cpu().numpy(),
               "recon_test_x": data.x_test[:k].cpu().numpy(),
               "recon_test": model(data.x_test[:k]).x_hat.cpu().numpy()}
        sums = 0.0
        for start in range(0, len(data.x_test), 1000):   # after the reconstructions: the VAE draws Z
            sums = sums + torch.stack([t.double().sum(0).mean() for t in
                                       model(data.x_test[start:start + 1000]).layers.values()])
        out["final_mean_activation"] = (sums / len(data.x_test)).cpu().numpy()
        if isinstance(model, LabelAE) and model.n_bottleneck == model.n_classes:
            interp_a, interp = label_interpolations(model)
            out.update({"interp_a": interp_a.numpy(), "interp": interp.numpy().astype(np.float32)})
    return out


def _run_info(config: TrainConfig, data: _Data, metrics: dict, device: torch.device, *,
              git: dict, started: str, wall_seconds: float, threads: int, checkpoints: dict | None) -> dict:
    """The run.json record: config, data sizes and fingerprint, versions, commit, cost, final losses."""
    n_train, total = len(data.x_train), len(metrics["train_loss"])
    return {
        "config": config.to_dict(),
        "seed": config.seed,
        "data": {"dataset": config.dataset, "n_train": n_train, "n_test": len(data.x_test),
                 "n_classes": data.n_classes, "ip_samples": config.ip_samples,
                 "steps": total, "epochs": total * config.batch_size / n_train,
                 "test_points": len(metrics["test_loss_step"]) - 1,
                 "fingerprint": data.fingerprint},
        "versions": _versions(),
        "git": git,
        "started": started,
        "wall_seconds": wall_seconds,
        "peak_memory_mb": _peak_memory_mb(),
        "cuda_peak_memory_mb": (torch.cuda.max_memory_allocated(device) / 2**20
                                if device.type == "cuda" else None),
        "torch_threads": 1 if device.type == "cpu" else threads,
        "final": {"train_loss": float(metrics["train_loss"][-1]),
                  "test_loss": float(metrics["test_loss"][-1])},
        **({"checkpoints": {"file": CHECKPOINT_FILE, "steps": sorted(checkpoints)}} if checkpoints else {}),
    }


@contextlib.contextmanager
def _training_threads(device: torch.device):
    """On the CPU, one intra-op thread while training: training and the information plane each get
    one core (the plane's worker thread overlaps them), and the arithmetic, so the trajectory,
    does not depend on the machine's core count."""
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _recreate_checkpoints(old: Run, config: TrainConfig, data: _Data, device: torch.device,
                          progress: bool) -> str | None:
    """Replay the finished run ``old`` (:func:`_replay`) and write its missing checkpoint file;
    None when done, else why it could not be."""
    t0 = time.perf_counter()
    with _training_threads(device):
        states, why = _replay(old, config, data, device, progress)
    if states is None:
        return f"its {CHECKPOINT_FILE} is not here and a replay cannot recreate it: {why}"
    _atomic_write(old.path / CHECKPOINT_FILE, lambda f: torch.save(states, f))
    old.checkpoints = states
    log.info("%s: %d checkpoints recreated by a replay in %.0f s (the run took %.0f s); the "
             "training loss matched at all %d iterations", old.path, len(states),
             time.perf_counter() - t0, old.info.get("wall_seconds", float("nan")), len(old.metrics["train_loss"]))
    return None


def train(config: TrainConfig | None = None, out_dir: str | os.PathLike | None = None, *,
          recompute: bool = False, progress: bool = True, require_checkpoints: bool = False,
          force: bool = False, **overrides) -> Run:
    """Train ``config.model`` on ``config.dataset`` and record the information plane online.

    Parameters
    ----------
    config : TrainConfig, optional
        The run's settings; keyword ``overrides`` replace single fields
        (``train(model="shallow", max_steps=100)``).
    out_dir : path, optional
        Where ``metrics.npz`` and ``run.json`` go; checked before training starts. If it already
        holds a run with the identical config, trained on identical data (the fingerprint of
        :meth:`ipbook.data.ImageData.fingerprint`), that run is loaded and returned instead of
        training again (unless ``recompute``); otherwise a warning says why it is trained again.
        A committed run (its ``run.json`` tracked by git) with another config is not trained over:
        that raises ValueError before any work, unless ``recompute`` or ``force``.
    progress : bool
        Show a tqdm text progress bar with the current loss.
    require_checkpoints : bool
        Reuse a finished run only if its ``checkpoints.pt`` is here too. The file is not
        committed; when it is missing, the run is replayed without measurements to recreate it
        (about the cost of the training alone), and the replay is kept only if its training loss
        equals the recorded one at every iteration. Otherwise (another machine kind) the run is
        trained again in full, measurements included.

    Returns
    -------
    Run
        ``metrics``: ``step`` (S,), ``i_xt`` and ``i_tx`` (S, L) in bits, ``layers`` (L,),
        ``loss_step``/``train_loss`` (T,), ``test_loss_step``/``test_loss`` (P,), ``probe_index``,
        ``recon_*`` images, ``final_mean_activation`` (L,) (each layer's mean over the test set and
        its units, at the end), and for the label AE ``interp_a``/``interp`` (its decoder on
        mixtures of one-hot labels, Fig. A3); ``info``: the run.json content.

    Raises
    ------
    TrainingDivergedError
        When the training loss becomes NaN or inf; the message names the iteration.
    ValueError
        When ``out_dir`` cannot hold a run or holds a committed run of another config, or the
        config does not fit the data.

    The returned run's ``outcome`` says whether it was ``"trained"``, ``"reused"`` or
    ``"replayed"``, and ``seconds`` how long this call took (:meth:`Run.summary`).
    """
    config = dataclasses.replace(config or TrainConfig(), **overrides)
    if out_dir is not None:
        out_dir = check_output_dir(out_dir)
        if not (recompute or force):
            refuse_replacing_committed(out_dir, config)
    started, t0 = time.strftime("%Y-%m-%dT%H:%M:%S%z"), time.perf_counter()
    git = _git_commit()  # the code as it was when the run started
    device = torch.device(config.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but torch finds no CUDA device; use device='cpu'")
    data = _load_data(config, device)
    if out_dir is not None and not recompute and (out_dir / "run.json").is_file():
        old = load_run(out_dir)
        why = reuse_mismatch(old, config, data.fingerprint)
        outcome = "reused"
        if why is None and require_checkpoints and old.lacks_checkpoint_file:
            why, outcome = _recreate_checkpoints(old, config, data, device, progress), "replayed"
        if why is None:
            old.outcome, old.seconds = outcome, time.perf_counter() - t0
            return old
        log.warning("%s: training again, because %s", out_dir, why)

    threads = torch.get_num_threads()
    with _training_threads(device):
        metrics, states = _fit(config, data, device, progress)
    info = _run_info(config, data, metrics, device, git=git, started=started,
                     wall_seconds=time.perf_counter() - t0, threads=threads, checkpoints=states)
    run = Run(metrics=metrics, info=info, checkpoints=states)
    if out_dir is not None:
        save_run(run, out_dir)
    run.seconds = time.perf_counter() - t0
    return run
