r"""Record the information plane of any PyTorch model from its own training loop.

.. code-block:: python

    from ipbook import InformationPlaneRecorder

    with InformationPlaneRecorder(model, layers=["encoder.1", "encoder.3"], probe_x=x[:100],
                                  probe_y=y[:100], every=10) as rec:
        for step in range(1, steps + 1):
            ...                              # forward, loss, backward, optimizer.step()
            rec.step(step)                   # measures when the schedule says so
    frame = rec.to_frame()                   # step, layer, estimator, setting, i_xt, i_ty

At a scheduled step the recorder puts the model in eval mode, runs the fixed probe batch through it
under ``torch.no_grad()`` with forward hooks on the named submodules, restores the training mode,
and estimates for every hooked layer T, with X uniform over the N probes:

* ``matrix`` (the paper's setting: α = 1.01, Scott's rule γ = 2), ``matrix-median``,
  ``matrix-tapia`` (γ = 1) and ``matrix-alpha2``: I(X;T) and, with targets, I(T;Y) by the
  matrix-based Rényi estimator (:mod:`ipbook.estimators.matrix`); class labels become one-hot rows;
* ``noisy-upper:σ²`` and ``noisy-lower:σ²``: the pairwise bounds on I(X; T + ε)
  (:mod:`ipbook.estimators.noisy`); with class labels, I(T+ε; Y) as Saxe et al. (2018) take it,
  the bound on H(T+ε) minus the label-weighted bounds on H(T+ε | Y = y);
* ``binning:k``: H(bin(T)) with k equal-width bins over the layer's range, and with class labels
  the plug-in I(bin(T); Y) (:mod:`ipbook.estimators.binning`).

Every value is in bits and at most log2 N (the VAE-style rate is not among these). Nothing is kept
between steps but the rows: the activations of a step are dropped once it is measured.

The package's own trainer (:func:`ipbook.nets.training.train`) records through this class too: it reads
the layers from the model's output (``capture=``) instead of hooks, measures I(T; X′) against the
output of the same forward pass, and estimates on a worker thread (``background=True``) while
training goes on. There is one measuring path.
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from ipbook.estimators.matrix import InformationPlane, VariableSample
from ipbook.estimators.binning import binned_layer_information
from ipbook.estimators.noisy import noisy_lower, noisy_upper
from ipbook.estimators.binning import _entropy_of_rows, layer_bins
from ipbook.estimators.matrix import _entropies, _hadamard

__all__ = ["InformationPlaneRecorder", "RECORDER_ESTIMATORS", "parse_estimator"]

#: The estimators a recorder takes, with their default setting ("" where none applies).
RECORDER_ESTIMATORS = {"matrix": "", "matrix-median": "", "matrix-tapia": "", "matrix-alpha2": "",
                       "noisy-upper": "0.1", "noisy-lower": "0.1", "binning": "30"}
_MATRIX = {"matrix": ("scott", 2.0, 1.01), "matrix-median": ("median", 1.0, 1.01),
           "matrix-tapia": ("tapia", 1.0, 1.01), "matrix-alpha2": ("scott", 2.0, 2.0)}


def parse_estimator(spec: str) -> tuple[str, str]:
    """``"name"`` or ``"name:setting"`` -> ``(name, setting)``; ValueError for an unknown name or
    a setting that is not a positive number (noise variance) or an integer >= 2 (bins)."""
    name, _, setting = str(spec).partition(":")
    if name not in RECORDER_ESTIMATORS:
        raise ValueError(f"unknown estimator {spec!r}; valid: {', '.join(RECORDER_ESTIMATORS)} "
                         f"(noisy-* and binning take ':setting', e.g. 'noisy-upper:0.001', 'binning:10')")
    setting = setting or RECORDER_ESTIMATORS[name]
    if name.startswith("matrix") and setting:
        raise ValueError(f"{name} takes no setting; got {spec!r}")
    if name.startswith("noisy") and not (_is_number(setting) and float(setting) > 0):
        raise ValueError(f"{name} takes a noise variance > 0, e.g. '{name}:0.1'; got {spec!r}")
    if name == "binning" and not (setting.isdigit() and int(setting) >= 2):
        raise ValueError(f"binning takes a bin count >= 2, e.g. 'binning:30'; got {spec!r}")
    return name, setting


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _schedule(every, steps, log_steps, total) -> tuple[int | None, set[int]]:
    given = [k for k, v in (("every", every), ("steps", steps), ("log_steps", log_steps)) if v is not None]
    if len(given) != 1:
        raise ValueError(f"give exactly one schedule: every=K, steps=[...] or log_steps=K with total=T; got {given or 'none'}")
    if every is not None:
        if not (isinstance(every, int) and every >= 1):
            raise ValueError(f"every must be an integer >= 1; got {every!r}")
        return every, set()
    if steps is not None:
        fixed = {int(s) for s in steps}
        if any(s < 0 for s in fixed):
            raise ValueError(f"steps must be >= 0; got {sorted(fixed)[:5]}")
        return None, fixed
    if not (isinstance(log_steps, int) and log_steps >= 1 and isinstance(total, int) and total >= 1):
        raise ValueError(f"log_steps needs an integer count >= 1 and total=T >= 1; got {log_steps!r}, {total!r}")
    return None, {0} | set(np.unique(np.round(np.geomspace(1, total, log_steps)).astype(int)).tolist())


class InformationPlaneRecorder:
    """The information plane of named layers of any ``torch.nn.Module``, recorded online.

    Parameters
    ----------
    model : torch.nn.Module
    layers : sequence of str
        The layers T: names of submodules (as in ``model.named_modules()``), whose outputs are
        hooked; with ``capture``, the names of the layers that ``capture`` returns. Each must be a
        tensor, flattened to (N, d).
    probe_x : (N, ...) tensor
        The fixed probe inputs, N >= 2; X is uniform over them.
    probe_y : (N,) integer tensor of class labels, or (N, k) tensor of targets, optional
        With it, the frame has ``i_ty``.
    every, steps, log_steps : the schedule, exactly one of them
        Measure every ``every`` steps (step 0 included), at the listed ``steps``, or at
        ``log_steps`` log-spaced steps up to ``total`` (0 included).
    estimators : sequence of str, default ("matrix",)
        Names from :data:`RECORDER_ESTIMATORS`, optionally ``name:setting``.
    total : int, optional
        The last step, for ``log_steps``.
    device : torch.device, optional
        Where the probe batch goes (default: the model's first parameter's device).
    capture : callable, optional
        ``capture(output) -> (layers, target)``: reads the layers (a mapping name -> tensor) from
        the model's output on the probe batch instead of hooks, and optionally a per-step target
        (e.g. an autoencoder's X′), against which ``i_ty`` is then measured; ``target`` None
        falls back to ``probe_y``.
    alpha, gamma : float
        The order and Scott's-rule scale of the ``matrix`` estimator (the paper's 1.01 and 2).
    background : bool
        Estimate on one worker thread, overlapping the caller's next steps (the forward pass stays
        in the caller's thread). At most one step is in flight; :meth:`wait`, :meth:`to_frame`
        and :meth:`close` wait for it and re-raise its error.
    """

    def __init__(self, model: nn.Module, layers: Sequence[str], probe_x, probe_y=None, *, every: int | None = None,
                 steps: Sequence[int] | None = None, log_steps: int | None = None, total: int | None = None,
                 estimators: Sequence[str] = ("matrix",), device=None,
                 capture: Callable[[object], tuple[Mapping[str, torch.Tensor], torch.Tensor | None]] | None = None,
                 alpha: float = 1.01, gamma: float = 2.0, background: bool = False):
        modules = dict(model.named_modules())
        unknown = [] if capture is not None else [name for name in layers if name not in modules or name == ""]
        if not layers or unknown:
            valid = ", ".join(n for n in modules if n) or "none"
            raise ValueError(f"unknown layer name(s) {unknown or '(none given)'}; valid submodule names: {valid}")
        self.model, self.layers, self.capture = model, list(layers), capture
        self.estimators = [parse_estimator(e) for e in estimators]
        self.every, self.fixed = _schedule(every, steps, log_steps, total)
        param = next(model.parameters(), None)
        self.device = torch.device(device) if device is not None else (param.device if param is not None else torch.device("cpu"))
        self.probe_x = torch.as_tensor(probe_x).to(self.device)
        if self.probe_x.shape[0] < 2:
            raise ValueError(f"probe_x needs at least N = 2 probes; got shape {tuple(self.probe_x.shape)}")
        self.n = self.probe_x.shape[0]
        self.labels, self.targets = self._targets(probe_y)
        flat_x = self.probe_x.reshape(self.n, -1).double()
        self._x = VariableSample(flat_x.cpu())
        self._plane = InformationPlane(flat_x, alpha=alpha, gamma=gamma) if ("matrix", "") in self.estimators else None
        # the matrix estimator's other settings need the targets' pairwise distances
        self._needs_y = any(name in _MATRIX and name != "matrix" for name, _ in self.estimators)
        self._fixed_y = VariableSample(self.targets) if self._needs_y and self.targets is not None else None
        self._captured: dict[str, torch.Tensor] = {}
        self._hooks = ([] if capture is not None else
                       [modules[name].register_forward_hook(self._hook(name)) for name in self.layers])
        self._armed = False
        self._rows: list[tuple] = []
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ipbook-recorder") if background else None
        self._pending = None

    # ------------------------------------------------------------------ setup
    def _targets(self, probe_y):
        if probe_y is None:
            return None, None
        y = torch.as_tensor(probe_y)
        if y.shape[0] != self.n:
            raise ValueError(f"probe_y must have one row per probe: {self.n}; got shape {tuple(y.shape)}")
        if y.dim() == 1 and not y.is_floating_point():
            labels = y.long().cpu()
            onehot = torch.nn.functional.one_hot(labels - labels.min()).double()
            return labels.numpy(), onehot
        return None, y.reshape(self.n, -1).double().cpu()

    def _flat(self, name: str, output) -> torch.Tensor:
        if not isinstance(output, torch.Tensor):
            raise ValueError(f"layer {name!r} returns {type(output).__name__}, not a tensor; hook a submodule that returns one")
        return output.detach().reshape(output.shape[0], -1).double().cpu()

    def _hook(self, name: str):
        def hook(module, inputs, output):
            if self._armed:
                self._captured[name] = self._flat(name, output)
        return hook

    # ------------------------------------------------------------------ the loop's side
    def due(self, step: int) -> bool:
        """Whether ``step`` is on the schedule."""
        return (self.every is not None and step % self.every == 0) or step in self.fixed

    def step(self, step: int) -> bool:
        """Call after the optimiser's step ``step``: measures if the schedule says so; returns
        whether it did."""
        if not self.due(int(step)):
            return False
        self.measure(int(step))
        return True

    def measure(self, step: int) -> None:
        """Measure now, whatever the schedule, and record the rows under ``step``."""
        if self._hooks is None:
            raise RuntimeError("this recorder is closed; make a new one")
        was_training = self.model.training
        self.model.eval()
        self._armed = True
        try:
            with torch.no_grad():
                output = self.model(self.probe_x)
        finally:
            self._armed = False
            self.model.train(was_training)
        captured, self._captured, target = self._captured, {}, None
        if self.capture is not None:
            layers, target = self.capture(output)
            captured = {name: self._flat(name, layers[name]) for name in self.layers if name in layers}
            target = None if target is None else target.detach().reshape(self.n, -1).double().cpu()
        missing = [name for name in self.layers if name not in captured]
        if missing:
            raise ValueError(f"layer(s) {missing} did not run in the forward pass of the probe batch")
        self.wait()
        if self._pool is None:
            self._record(step, captured, target)
        else:
            self._pending = self._pool.submit(self._record, step, captured, target)

    def wait(self) -> None:
        """Wait for the step in flight (``background``), re-raising its error here."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def _record(self, step: int, captured: dict[str, torch.Tensor], target: torch.Tensor | None) -> None:
        if target is None:            # the fixed targets: their distances are computed once
            target, y = self.targets, self._fixed_y
        else:
            y = VariableSample(target) if self._needs_y else None
        plane = (self._plane([captured[name] for name in self.layers], target)
                 if self._plane is not None else None)
        for k, name in enumerate(self.layers):
            matrix = None if plane is None else (float(plane[0][k]),
                                                 float("nan") if plane[1] is None else float(plane[1][k]))
            self._rows += [(step, name, est, setting, i_xt, i_ty)
                           for est, setting, i_xt, i_ty in self._estimate(captured[name], y, matrix)]

    def _estimate(self, t: torch.Tensor, y: VariableSample | None,
                  matrix: tuple[float, float] | None) -> list[tuple[str, str, float, float]]:
        """Every estimator's ``(name, setting, i_xt, i_ty)`` on one layer, in the order asked for;
        ``matrix``: the paper-setting values, computed for all layers in one batch."""
        v, out = VariableSample(t), []
        for name, setting in self.estimators:
            if name == "matrix":
                i_xt, i_ty = matrix
            elif name in _MATRIX:
                i_xt, i_ty = self._matrix(v, y, *_MATRIX[name])
            elif name.startswith("noisy"):
                bound = noisy_upper if name == "noisy-upper" else noisy_lower
                i_xt = bound(v, float(setting))
                i_ty = self._noisy_ty(v, bound, float(setting)) if self.labels is not None else float("nan")
            else:
                i_xt = binned_layer_information(v.x, int(setting))
                i_ty = _binned_label_information(v.x, int(setting), self.labels) if self.labels is not None else float("nan")
            out.append((name, setting, float(i_xt), float(i_ty)))
        return out

    def _matrix(self, v: VariableSample, y: VariableSample | None, rule: str, gamma: float,
                alpha: float) -> tuple[float, float]:
        a_x, a_t = self._x.gram(rule, gamma), v.gram(rule, gamma)
        mats = [a_x, a_t, _hadamard(a_x, a_t)]
        if y is not None:
            a_y = y.gram(rule, gamma)
            mats += [a_y, _hadamard(a_t, a_y)]
        s = _entropies(torch.stack(mats), alpha).numpy()
        i_ty = float(s[1] + s[3] - s[4]) if y is not None else float("nan")
        return float(s[0] + s[1] - s[2]), i_ty

    def _noisy_ty(self, v: VariableSample, bound, variance: float) -> float:
        total = bound(v, variance)
        cond = 0.0
        for label in np.unique(self.labels):
            idx = np.flatnonzero(self.labels == label)
            if len(idx) > 1:
                cond += len(idx) / self.n * bound(v.x[idx], variance)
        return total - cond

    # ------------------------------------------------------------------ results and cleanup
    def to_frame(self) -> pd.DataFrame:
        """The rows so far: ``step, layer, estimator, setting, i_xt`` (bits) and, with targets
        (``probe_y`` or a captured target), ``i_ty``."""
        self.wait()
        frame = pd.DataFrame(self._rows, columns=["step", "layer", "estimator", "setting", "i_xt", "i_ty"])
        return frame if (self.targets is not None or self.capture is not None) else frame.drop(columns="i_ty")

    def to_arrays(self, estimator: str = "matrix") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(steps, i_xt, i_ty)`` of one estimator (``name`` or ``name:setting``): (S,) steps in
        the order measured, and (S, L) arrays in bits, the layers in the order given."""
        self.wait()
        name, setting = parse_estimator(estimator)
        rows = [r for r in self._rows if r[2] == name and r[3] == setting]
        steps = np.asarray([r[0] for r in rows[::len(self.layers)]], dtype=np.int64)
        values = np.asarray([[r[4], r[5]] for r in rows], dtype=np.float64).reshape(len(steps), len(self.layers), 2)
        return steps, values[..., 0], values[..., 1]

    def close(self) -> None:
        """Wait for the step in flight, and remove the hooks (the rows stay readable)."""
        try:
            self.wait()
        finally:
            for h in self._hooks or []:
                h.remove()
            self._hooks = None
            if self._pool is not None:
                self._pool.shutdown(wait=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _binned_label_information(t: torch.Tensor, bins: int, labels: np.ndarray) -> float:
    """Plug-in I(bin(T); Y) = H(bin T) + H(Y) − H(bin T, Y) in bits, T binned as
    :func:`~ipbook.estimators.binned_layer_information` bins it."""
    idx = layer_bins(t, bins)
    y = np.asarray(labels, dtype=np.int64)[:, None]
    return _entropy_of_rows(idx) + _entropy_of_rows(y) - _entropy_of_rows(np.hstack([idx, y]))
