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

* ``matrix`` (the paper's setting: α = 1.01, Scott's rule γ = 2) and any other matrix setting
  (``matrix:gamma=8``, ``matrix:rule=median``, ``matrix:alpha=2``, ...): I(X;T) and, with
  targets, I(T;Y) by the matrix-based Rényi estimator, every setting and layer of a step in one
  batch (:class:`ipbook.estimators.InformationPlane`); class labels become one-hot rows;
* ``noisy-upper:σ²`` and ``noisy-lower:σ²``: the pairwise bounds on I(X; T + ε)
  (:mod:`ipbook.estimators.noisy`); with class labels, I(T+ε; Y) as Saxe et al. (2018) take it,
  the bound on H(T+ε) minus the label-weighted bounds on H(T+ε | Y = y);
* ``binning:k``: H(bin(T)) with k equal-width bins over the layer's range, and with class labels
  the plug-in I(bin(T); Y) (:mod:`ipbook.estimators.binning`).

The estimators are named by the spec strings of :func:`ipbook.estimators.parse_spec`.

Every value is in bits and at most log2 N (the VAE-style rate is not among these). Nothing is kept
between steps but the rows: the activations of a step are dropped once it is measured.

The package's own trainer (:func:`ipbook.nets.training.train`) records through this class too: it reads
the layers from the model's output (``capture=``) instead of hooks, measures I(T; X′) against the
output of the same forward pass, and estimates on a worker thread (``background=True``) while
training goes on. There is one measuring path.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from ipbook.estimators.binning import binned_label_information, binned_layer_information
from ipbook.estimators.matrix import InformationPlane, VariableSample
from ipbook.estimators.noisy import noisy_lower, noisy_upper
from ipbook.estimators.spec import Estimator, parse_spec

__all__ = ["InformationPlaneRecorder", "RECORDER_ESTIMATORS", "recorder_estimator"]

#: The estimator families a recorder takes (the text before ``:`` of a spec); KSG and the VAE's
#: bounds need inputs other than a layer.
RECORDER_ESTIMATORS = ("matrix", "noisy-upper", "noisy-lower", "binning")


def recorder_estimator(spec) -> Estimator:
    """The :class:`~ipbook.estimators.Estimator` of ``spec`` (:func:`~ipbook.estimators.parse_spec`),
    or a one-line ValueError where it is not one a recorder takes (:data:`RECORDER_ESTIMATORS`)."""
    est = parse_spec(spec)
    if est.family not in RECORDER_ESTIMATORS:
        raise ValueError(f"the recorder cannot record {spec!r}; it records {', '.join(RECORDER_ESTIMATORS)} "
                         f"(e.g. 'matrix', 'matrix:rule=median', 'noisy-upper:0.001', 'binning:10')")
    return est


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
        Estimator specs (:func:`ipbook.estimators.parse_spec`) of the families in
        :data:`RECORDER_ESTIMATORS`: ``"matrix"``, ``"matrix:gamma=8"``, ``"noisy-upper:0.1"``,
        ``"binning:30"``, ...
    total : int, optional
        The last step, for ``log_steps``.
    device : torch.device, optional
        Where the probe batch goes (default: the model's first parameter's device).
    capture : callable, optional
        ``capture(output) -> (layers, target)``: reads the layers (a mapping name -> tensor) from
        the model's output on the probe batch instead of hooks, and optionally a per-step target
        (e.g. an autoencoder's X′), against which ``i_ty`` is then measured; ``target`` None
        falls back to ``probe_y``.
    background : bool
        Estimate on one worker thread, overlapping the caller's next steps (the forward pass stays
        in the caller's thread). At most one step is in flight; :meth:`wait`, :meth:`to_frame`
        and :meth:`close` wait for it and re-raise its error.
    """

    def __init__(self, model: nn.Module, layers: Sequence[str], probe_x, probe_y=None, *, every: int | None = None,
                 steps: Sequence[int] | None = None, log_steps: int | None = None, total: int | None = None,
                 estimators: Sequence[str] = ("matrix",), device=None,
                 capture: Callable[[object], tuple[Mapping[str, torch.Tensor], torch.Tensor | None]] | None = None,
                 background: bool = False):
        modules = dict(model.named_modules())
        unknown = [] if capture is not None else [name for name in layers if name not in modules or name == ""]
        if not layers or unknown:
            valid = ", ".join(n for n in modules if n) or "none"
            raise ValueError(f"unknown layer name(s) {unknown or '(none given)'}; valid submodule names: {valid}")
        self.model, self.layers, self.capture = model, list(layers), capture
        self.estimators = [recorder_estimator(e) for e in estimators]
        self.every, self.fixed = _schedule(every, steps, log_steps, total)
        param = next(model.parameters(), None)
        self.device = torch.device(device) if device is not None else (param.device if param is not None else torch.device("cpu"))
        self.probe_x = torch.as_tensor(probe_x).to(self.device)
        if self.probe_x.shape[0] < 2:
            raise ValueError(f"probe_x needs at least N = 2 probes; got shape {tuple(self.probe_x.shape)}")
        self.n = self.probe_x.shape[0]
        self.labels, self.targets = self._targets(probe_y)
        # every matrix setting, one batch per step, on the probes' device; X's part is kept
        kernels = list(dict.fromkeys(e for e in self.estimators if e.family == "matrix"))
        self._kernel = {e: k for k, e in enumerate(kernels)}
        self._plane = (InformationPlane(self.probe_x.reshape(self.n, -1).double(), kernels=kernels)
                       if kernels else None)
        self._fixed_y = (VariableSample(self.targets.to(self.device))   # the fixed targets' distances, once
                         if kernels and self.targets is not None else None)
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
        y = self._fixed_y if target is None else target
        planes = (self._plane.planes([captured[name] for name in self.layers], y)
                  if self._plane is not None else None)
        for k, name in enumerate(self.layers):
            self._rows += [(step, name, est, setting, i_xt, i_ty)
                           for est, setting, i_xt, i_ty in self._estimate(captured[name], planes, k)]

    def _estimate(self, t: torch.Tensor, planes: dict | None, layer: int) -> list[tuple[str, str, float, float]]:
        """Every estimator's ``(family, setting, i_xt, i_ty)`` on one layer, in the order asked
        for; ``planes``: the matrix settings' values, computed for all layers in one batch."""
        v, out, nan = VariableSample(t), [], float("nan")
        for est in self.estimators:
            if est.family == "matrix":
                k = self._kernel[est]
                i_xt, i_ty = planes["i_xt"][k, layer], nan if planes["i_ty"] is None else planes["i_ty"][k, layer]
            elif est.family.startswith("noisy"):
                bound = noisy_upper if est.bound == "upper" else noisy_lower
                i_xt = bound(v, est.variance)
                i_ty = self._noisy_ty(v, bound, est.variance) if self.labels is not None else nan
            else:
                i_xt = binned_layer_information(v.x, est.bins)
                i_ty = binned_label_information(v.x, self.labels, est.bins) if self.labels is not None else nan
            out.append((est.family, est.setting, float(i_xt), float(i_ty)))
        return out

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
        """``(steps, i_xt, i_ty)`` of one estimator (its spec): (S,) steps in the order measured,
        and (S, L) arrays in bits, the layers in the order given."""
        self.wait()
        est = recorder_estimator(estimator)
        rows = [r for r in self._rows if r[2] == est.family and r[3] == est.setting]
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

