"""Train an autoencoder while tracking the information plane of every hidden layer online.

One run = one model on one dataset. Every ``ip_every`` iterations the current network is applied to
a fixed probe set of ``ip_samples`` test images and I(X; T), I(T; X′) of every hidden layer T are
estimated by an :class:`~ipbook.nets.recorder.InformationPlaneRecorder` (the same class a user attaches
to their own network), in one :class:`~ipbook.estimators.InformationPlane` call on a worker thread
(X's Gram matrix is built once per run). The supervised control (``classifier``) is measured
against the labels instead: I(X; T) and I(T; Y). ``estimators`` adds further estimators (noisy-layer
bounds, binning) on a larger probe set at the checkpoint schedule's iterations. Nothing else is
kept per iteration but the training loss: no weight snapshots, so memory does not grow with the
number of iterations. The finished run is written by :func:`ipbook.nets.runs.save_run`, and a
finished run in the output folder is reused when :func:`ipbook.nets.runs.reuse_mismatch` allows.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from tqdm import tqdm

from ipbook.estimators.spec import MatrixEstimator
from ipbook.nets.config import CHECKPOINT_FILE, TrainConfig, TrainingDivergedError, checkpoint_steps
from ipbook.nets.data import load_dataset
from ipbook.nets.defined_models import build_network
from ipbook.nets.models import LabelAE, label_interpolations
from ipbook.nets.recorder import InformationPlaneRecorder
from ipbook.nets.runs import Run, check_output_dir, load_run, refuse_replacing_committed, reuse_mismatch, save_run
from ipbook.store import atomic_write, capability_hint, check_memory, git_commit, peak_memory_mb, versions

__all__ = ["train", "replay_at"]

log = logging.getLogger("ipbook")


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


def _check_memory(config: TrainConfig, data: _Data) -> None:
    """Refuse, before any work, a run that would need more memory than this machine has: its
    per-iteration losses, the recorder's rows of every measured layer, the Gram matrices of the
    probe set and the kept checkpoints."""
    total = config.total_steps(len(data.x_train))
    model = build_network(config.model, n_classes=data.n_classes, bottleneck=config.bottleneck,
                          activation=config.activation, sparsity=config.sparsity, noise=config.noise,
                          quantize=config.quantize)
    layers, params = len(model.layer_names), sum(p.numel() for p in model.parameters())
    planes = total // config.ip_every + 2
    need = (32 * total + 320 * planes * layers + 8 * config.ip_samples ** 2 * (layers + 3)
            + 4 * params * len(checkpoint_steps(config.checkpoints, total)))
    check_memory(need, f"a run of {total:,} iterations with the plane of {layers} layers on "
                       f"{config.ip_samples} probes every {config.ip_every} iteration(s)",
                 "give fewer iterations (--steps, --epochs), a larger --ip-every or fewer --ip-samples")


def _build(config: TrainConfig, data: _Data, device: torch.device):
    """The seeded model, its optimiser and the batch-order generator: all that the training
    trajectory depends on besides the data."""
    torch.manual_seed(config.seed)
    model = build_network(config.model, n_classes=data.n_classes, bottleneck=config.bottleneck,
                          activation=config.activation, sparsity=config.sparsity, noise=config.noise,
                          quantize=config.quantize).to(device)
    if config.quantize is not None:
        model.start_at_mean(data.x_train.mean(0))
    if config.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, foreach=True)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, foreach=True)
    return model, optimizer, torch.Generator().manual_seed(config.seed)


def _weights(model) -> dict:
    """A float32 copy of the model's state dict on the CPU (one checkpoint)."""
    return {k: v.detach().to("cpu", torch.float32, copy=True) for k, v in model.state_dict().items()}


def _optimise(config: TrainConfig, data: _Data, model, optimizer, batch_order, schedule: _Schedule,
              on_due, losses: torch.Tensor, bar) -> None:
    """The training loop: the optimizer on mini-batches in the order of ``batch_order``, one pass of the
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
        background=background)


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
    paper = MatrixEstimator(gamma=config.gamma, alpha=config.alpha)   # "matrix" at the paper's defaults
    plane = _recorder(model, config, data, probe_index, steps=schedule.ip, estimators=(paper,), background=True)
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
        _, i_xt, i_second = plane.to_arrays(paper)
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
            progress: bool, *, same_checkpoints: bool = True) -> tuple[dict | None, str]:
    """Train ``old``'s run again without measuring anything, keeping the weights at the checkpoint
    iterations of ``config`` (those of ``old`` unless ``same_checkpoints`` is False). Measurements
    do not touch the training trajectory (they run under a forked RNG), so on the machine kind that
    made ``old`` the replay retraces it exactly, at the cost of the training alone. Returns
    ``(checkpoints, "")`` when the replayed mini-batch loss equals the recorded one at every
    iteration, else ``(None, why)``."""
    total = config.total_steps(len(data.x_train))
    model, optimizer, batch_order = _build(config, data, device)
    schedule = _Schedule(config, total, measure=False)
    if same_checkpoints and schedule.checkpoint != old.checkpoint_steps:
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
                      + capability_hint(old.info.get("versions", {})))
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
        "versions": versions(),
        "git": git,
        "started": started,
        "wall_seconds": wall_seconds,
        "peak_memory_mb": peak_memory_mb(),
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
    atomic_write(old.path / CHECKPOINT_FILE, lambda f: torch.save(states, f))
    old.checkpoints = states
    log.info("%s: %d checkpoints recreated by a replay in %.0f s (the run took %.0f s); the "
             "training loss matched at all %d iterations", old.path, len(states),
             time.perf_counter() - t0, old.info.get("wall_seconds", float("nan")), len(old.metrics["train_loss"]))
    return None


def replay_at(run: Run, steps: Sequence[int], *, device: str = "cpu", progress: bool = False) -> dict[int, dict]:
    """The weights of the finished run ``run`` after each iteration of ``steps``, whatever
    checkpoints it kept, by a replay of its training without measurements (the cost of the
    training alone; :func:`_replay`).

    Returns ``{step: state dict}`` (float32, CPU). Raises ValueError (one line, with why) where the
    replay does not retrace the run's recorded training loss at every iteration: the run was made
    on another machine kind or library version, and only training it again gives weights.
    """
    total = len(run.metrics["train_loss"])
    wanted = sorted({int(s) for s in steps})
    if not wanted or wanted[0] < 0 or wanted[-1] > total:
        raise ValueError(f"steps must be iterations in 0..{total} of {run.path}; got {list(steps)[:5]}")
    config = TrainConfig(**{**run.info["config"], "checkpoints": tuple(wanted)})
    dev = torch.device(device)
    data = _load_data(config, dev)
    with _training_threads(dev):
        states, why = _replay(run, config, data, dev, progress, same_checkpoints=False)
    if states is None:
        raise ValueError(f"{run.path}: a replay cannot give its weights: {why}")
    return states


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
        :meth:`ipbook.nets.data.ImageData.fingerprint`), that run is loaded and returned instead of
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
        refuse_replacing_committed(out_dir, config, replace=recompute or force)
    started, t0 = time.strftime("%Y-%m-%dT%H:%M:%S%z"), time.perf_counter()
    git = git_commit()  # the code as it was when the run started
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

    _check_memory(config, data)
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
