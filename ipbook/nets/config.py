"""What determines a run: :class:`TrainConfig` (the paper's settings by default) and the
iterations whose weights are kept (:func:`checkpoint_steps`)."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ipbook.nets.data import DATASET_NAMES, DEFAULT_DATASET
from ipbook.nets.layers import ACTIVATION_NAMES
from ipbook.nets.models import CLASSIFIER_NAMES, MODEL_NAMES
from ipbook.nets.recorder import recorder_estimator

__all__ = ['TrainConfig', 'TrainingDivergedError', 'checkpoint_steps', 'CHECKPOINT_FILE', 'MAX_STEPS', 'OPTIMIZERS']


#: The file beside metrics.npz that holds a run's checkpoints: {iteration: float32 state dict}.
CHECKPOINT_FILE = "checkpoints.pt"


#: The most iterations a run may have: the paper's runs have 30,000; at about 10 ms an iteration
#: on a CPU, 10,000,000 are more than a day of training.
MAX_STEPS = 10_000_000
#: The optimizers a run takes (:attr:`TrainConfig.optimizer`).
OPTIMIZERS = ("adam", "sgd")


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a run. The defaults are the paper's settings.

    Parameters
    ----------
    model : one of :data:`ipbook.nets.models.MODEL_NAMES`
    dataset : one of :data:`ipbook.nets.data.DATASET_NAMES`
    epochs : passes over the training set (50 in the paper); ignored when ``steps`` is given.
    steps : total iterations; overrides ``epochs``. The paper's 10% experiment keeps the iteration
        count of the full run: ``steps = 30000`` on 6,000 images is 500 epochs.
    max_steps : optional cap on the iterations (for quick runs).
    train_fraction : the first fraction of the training set that is used.
    batch_size, lr : the batch size and learning rate (the paper's Adam: 100, 0.005).
    optimizer : ``"adam"`` (the paper's) or ``"sgd"``: plain stochastic gradient descent, no
        momentum, no weight decay (Shwartz-Ziv & Tishby's regime, with a small batch).
    ip_every : estimate the information plane every this many iterations (1: every iteration).
    ip_samples : number of fixed test images the information plane is estimated on (100).
    alpha, gamma : estimator order and Scott's-rule scale (1.01, 2).
    test_points : the loss on the whole test set is taken at this many + 1 iterations, spread
        evenly from the start to the end of the run. Default (None): one per 100 iterations,
        at least 20 and at most 300 (:meth:`resolved_test_points`).
    n_recon : number of fixed training and test images whose reconstructions are kept.
    bottleneck : bottleneck width n_Z (default: the paper's, 50; for the label AE the number of
        classes).
    activation : the hidden layers' nonlinearity, one of :data:`ipbook.nets.layers.ACTIVATION_NAMES`
        (default: the paper's sigmoid; X′ stays a sigmoid).
    sparsity : the sparse AE's KL weight λ (default: the paper's 1e-3); sparse AE only.
    noise : β, the standard deviation of the Gaussian noise inside the network, on every hidden
        layer's output in training and in use (:mod:`ipbook.nets.defined_models`); shallow,
        deep and sparse AEs with sigmoid units. Default none.
    quantize : k, the bits per unit of a quantized bottleneck (shallow AE, sigmoid). Default none.
    seed : seeds the weights, the batch order and the probe set.
    device : ``"cpu"`` or ``"cuda"``.
    checkpoints : save the weights at this many iterations of the default analysis schedule
        (:func:`checkpoint_steps`: about half log-spaced, half evenly spaced, with 0 and the
        last iteration), or at an explicit list of iterations; ``None``: no checkpoints.
    estimators : further estimators recorded online, by their specs (:func:`ipbook.estimators.parse_spec`;
        ``"noisy-upper:0.1"``, ``"binning:30"``, ``"matrix:rule=median"``, ...), those an
        :class:`~ipbook.nets.recorder.InformationPlaneRecorder` takes; default none.
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
    optimizer: str = "adam"
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
    noise: float | None = None
    quantize: int | None = None
    estimators: tuple[str, ...] = ()
    estimator_samples: int = 1000
    estimator_points: int = 100

    def __post_init__(self):
        if self.model not in MODEL_NAMES + CLASSIFIER_NAMES:
            raise ValueError(f"unknown model {self.model!r}; valid names: {', '.join(MODEL_NAMES + CLASSIFIER_NAMES)}")
        object.__setattr__(self, "estimators", tuple(self.estimators))
        for spec in self.estimators:
            recorder_estimator(spec)
        if not (isinstance(self.estimator_samples, int) and self.estimator_samples >= 2):
            raise ValueError(f"estimator_samples must be an integer >= 2; got {self.estimator_samples!r}")
        if not (isinstance(self.estimator_points, int) and self.estimator_points >= 2):
            raise ValueError(f"estimator_points must be an integer >= 2; got {self.estimator_points!r}")
        if self.dataset not in DATASET_NAMES:
            raise ValueError(f"unknown dataset {self.dataset!r}; valid names: {', '.join(DATASET_NAMES)}")
        self._check_numbers()
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
        self._check_defined()
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; valid: {', '.join(OPTIMIZERS)}")
        if not (isinstance(self.seed, (int, np.integer)) and self.seed >= 0):
            raise ValueError(f"seed must be an integer >= 0; got {self.seed!r}")
        if self.bottleneck is not None and not (isinstance(self.bottleneck, int) and self.bottleneck >= 1):
            raise ValueError(f"bottleneck must be a positive integer; got {self.bottleneck!r}")
        if self.device not in ("cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ValueError(f"device must be 'cpu' or 'cuda'; got {self.device!r}")

    def _check_defined(self) -> None:
        """Noise inside and a quantized bottleneck: which models and units take them."""
        if self.noise is not None:
            if self.model not in ("shallow", "deep", "sparse") or self.activation != "sigmoid":
                raise ValueError(f"noise (beta) is built for the shallow, deep and sparse AEs with sigmoid units; "
                                 f"got model {self.model!r}, activation {self.activation!r}")
            if isinstance(self.noise, bool) or not (isinstance(self.noise, (int, float)) and math.isfinite(self.noise)
                                                    and self.noise > 0):
                raise ValueError(f"noise (beta) must be a finite number > 0; got {self.noise!r}")
        if self.quantize is not None:
            if self.model != "shallow" or self.activation != "sigmoid" or self.noise is not None:
                raise ValueError(f"quantize (bits) is built for the shallow AE with sigmoid units and no noise; "
                                 f"got model {self.model!r}, activation {self.activation!r}, noise {self.noise!r}")
            if isinstance(self.quantize, bool) or not isinstance(self.quantize, int) or not 1 <= self.quantize <= 16:
                raise ValueError(f"quantize (bits per unit) must be an integer from 1 to 16; got {self.quantize!r}")

    def _check_numbers(self) -> None:
        """Every count an integer in its range, every rate a finite number: ValueError naming the
        field, the value and what is accepted."""
        if not (_is_number(self.epochs) and math.isfinite(self.epochs) and 0 < self.epochs <= MAX_STEPS):
            raise ValueError(f"epochs must be a finite number > 0 and <= {MAX_STEPS}; got {self.epochs!r}")
        if not (_is_number(self.lr) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0; got {self.lr!r}")
        counts = {"batch_size": (self.batch_size, 1), "ip_every": (self.ip_every, 1),
                  "ip_samples": (self.ip_samples, 2)}
        for key in ("steps", "max_steps", "test_points"):
            if getattr(self, key) is not None:
                counts[key] = (getattr(self, key), 1)
        for key, (value, low) in counts.items():
            high = MAX_STEPS if key in ("steps", "max_steps", "test_points", "ip_every") else None
            if not (_is_int(value) and value >= low and (high is None or value <= high)):
                raise ValueError(f"{key} must be an integer >= {low}{f' and <= {high}' if high else ''}; "
                                 f"got {value!r}")

    def total_steps(self, n_train: int) -> int:
        """Iterations of this run on ``n_train`` training images; ValueError when they would be more
        than :data:`MAX_STEPS`."""
        batches = math.ceil(n_train / self.batch_size)
        steps = self.steps if self.steps is not None else math.ceil(self.epochs * batches)
        steps = int(min(steps, self.max_steps) if self.max_steps is not None else steps)
        if steps > MAX_STEPS:
            raise ValueError(f"epochs = {self.epochs:g} of {batches:,} batches of {self.batch_size} images "
                             f"would be {steps:,} iterations; at most {MAX_STEPS:,} are allowed")
        return steps

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
