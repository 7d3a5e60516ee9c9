r"""Record the information plane of any PyTorch model from its own training loop.

.. code-block:: python

    from ipbook import InformationPlaneRecorder

    with InformationPlaneRecorder(model, layers=["encoder.1", "encoder.3"], probe_x=x[:100],
                                  probe_y=y[:100], every=10) as rec:
        rec.step(0)                          # the initial state
        for step in range(1, steps + 1):
            ...                              # forward, loss, backward, optimizer.step()
            rec.step(step)                   # measures when the schedule says so
    frame = rec.to_frame()                   # step, layer, estimator, setting, i_xt, i_ty, n, width, ...
    rec.plot()                               # the plane: one panel per estimator, coloured by step
    rec.save("plane.csv")                    # InformationPlaneRecorder.load("plane.csv") reads it back

At a scheduled step the recorder registers forward hooks on the named submodules (only for the
measurement: between measurements the model carries none, so ``torch.save``, ``copy.deepcopy``
and ``AveragedModel`` see a plain model), puts the model in eval mode, runs the fixed probe batch
through it under ``torch.no_grad()`` (CPU and CUDA random states forked, so training draws the same
numbers with and without the recorder), restores every submodule's own training flag, and
estimates for every hooked layer T, with X uniform over the N probes:

* ``matrix`` (the paper's setting: α = 1.01, Scott's rule γ = 2) and any other matrix setting
  (``matrix:gamma=8``, ``matrix:rule=median``, ``matrix:alpha=2``, ...): I(X;T) and, with
  targets, I(T;Y) by the matrix-based Rényi estimator, every setting and layer of a step in one
  batch (:class:`ipbook.estimators.InformationPlane`); class labels become one-hot rows;
* ``noisy-upper:σ²`` and ``noisy-lower:σ²``: the pairwise bounds on I(X; T + ε)
  (:mod:`ipbook.estimators.noisy`); with class labels, I(T+ε; Y) as Saxe et al. (2018) take it,
  the bound on H(T+ε) minus the label-weighted bounds on H(T+ε | Y = y);
* ``binning:k``: H(bin(T)) with k equal-width bins over the layer's range, and with class labels
  the plug-in I(bin(T); Y) (:mod:`ipbook.estimators.binning`).

**What a number can mean.** Every I(X;T) is at most log2 N. With class labels, I(T;Y) is at most
H(Y) under the noisy bounds and binning, and at most S(Y) under the matrix estimator: the Rényi
entropy of the one-hot labels' Gram matrix at the setting's kernel width, below H(Y) and growing
with N (at the paper's setting, ten balanced classes: 2.01, 2.26, 2.37, 2.48, 2.62 bits at N = 100,
500, 1000, 2000, 5000, where H(Y) = 3.32). Each row
carries its ceilings and a ``saturated`` flag (:mod:`ipbook.nets.recorder_frame`). The values
depend on the scale of the activations (kernel width, noise σ², bin size are absolute), and a
deterministic layer's Shannon I(X;T) over N distinct probes is log2 N.

Before the first step, the constructor runs the probe once (its first ``probe_batch``) and checks
every hooked output: a tensor (or the ``output=`` selector's pick), N entries along ``batch_dim``,
one call per forward pass (or the ``call=`` pick). Memory: the activations of a step are kept as
(N, d) float64 until they are measured; the matrix estimator's Gram matrices take 8·N²·(3L + 2)
bytes for L layers, and layers beyond :data:`MATRIX_BYTES` (1 GiB) are measured in turns: one at a
time at N = 5,000. One measurement of a LeNet's four layers (``benchmarks/recorder_scale.py``, one
CPU thread) peaked at 0.6, 1.0, 1.9 and 3.0 GB resident (torch itself 0.65) at N = 500, 1000, 2000
and 5000, and took about 0.5 s, 3 s, 12 s and 3 minutes: the eigen-decompositions.

The package's own trainer (:func:`ipbook.nets.training.train`) records through this class too: it reads
the layers from the model's output (``capture=``) instead of hooks, measures I(T; X′) against the
output of the same forward pass, and estimates on a worker thread (``background=True``) while
training goes on. There is one measuring path.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import numpy as np
import torch
from torch import nn

from ipbook.estimators.binning import binned_label_information, binned_layer_information
from ipbook.estimators.matrix import InformationPlane, VariableSample, scott_bandwidth
from ipbook.estimators.noisy import noisy_lower, noisy_upper
from ipbook.nets import recorder_checks as C
from ipbook.nets.recorder_checks import RECORDER_ESTIMATORS, recorder_estimator
from ipbook.nets.recorder_frame import at_ceiling, load_frame, rows_frame, save_frame

__all__ = ["MATRIX_BYTES", "RECORDER_ESTIMATORS", "InformationPlaneRecorder", "recorder_estimator"]

#: The most memory (bytes) the matrix estimator's Gram matrices of one batch of layers may take.
MATRIX_BYTES = 2 ** 30


class InformationPlaneRecorder:
    """The information plane of named layers of any ``torch.nn.Module``, recorded online.

    Parameters
    ----------
    model : torch.nn.Module
        A ``torch.compile``\\ d model is measured through its original module (no recompilation).
    layers : str, module, or sequence of names and modules
        The layers T: submodules, by name (as in ``model.named_modules()``, with or without
        ``torch.compile``'s ``_orig_mod.``) or as the module objects; a single string is one
        layer. With ``capture``, the names of the layers that ``capture`` returns.
    probe_x : tensor, tuple of tensors or dict of tensors
        The fixed probe inputs, N >= 2 along ``batch_dim``; passed as ``model(x)``,
        ``model(*x)`` or ``model(**x)``. X is uniform over the N probes (its matrix: every part
        flattened and joined). Floating parts follow the model's dtype and device at each
        measurement.
    probe_y : optional
        The targets Y: class labels (N,) as integers or floats holding integers, one-hot rows
        (N, k), or other targets (N, ...), which only the matrix estimator takes.
    every, steps, log_steps : the schedule, exactly one of them
        Measure every ``every`` steps (step 0 included), at the listed ``steps``, or at
        ``log_steps`` log-spaced steps up to ``total`` (0 included).
    estimators : str or sequence of str, default ("matrix",)
        Estimator specs (:func:`ipbook.estimators.parse_spec`) of the families in
        :data:`RECORDER_ESTIMATORS`: ``"matrix"``, ``"matrix:gamma=8"``, ``"noisy-upper:0.1"``,
        ``"binning:30"``, ...
    total : int, optional
        The last step, for ``log_steps``.
    device : torch.device, optional
        Where the probe batch goes (default: the model's device at each measurement).
    capture : callable, optional
        ``capture(output) -> (layers, target)``: reads the layers (a mapping name -> tensor) from
        the model's output on the probe batch instead of hooks, and optionally a per-step target
        (e.g. an autoencoder's X′), against which ``i_ty`` is then measured; ``target`` None
        falls back to ``probe_y``.
    background : bool
        Estimate on one worker thread, overlapping the caller's next steps (the forward pass stays
        in the caller's thread). At most one step is in flight; :meth:`wait`, :meth:`to_frame`
        and :meth:`close` wait for it and re-raise its error.
    batch_dim : int or mapping, default 0
        The dimension of the probe and of the layers' outputs that holds the N probes (1 for
        sequence-first layouts); a mapping gives it per layer, with the key ``"probe_x"`` for the
        probe (0 where not given).
    output : int, str, callable or mapping, optional
        Which tensor of a layer's output to measure where it returns a tuple, a list or a dict:
        an index, a key, or ``output(value) -> tensor``; a mapping gives it per layer.
    call : int or mapping, optional
        Which call of a module that runs more than once per forward pass to measure (0 the first,
        −1 the last); without it such a module is refused.
    nonfinite : {"raise", "record"}, default "raise"
        A layer with NaN or inf activations raises an error naming the layer and the step, or
        (``"record"``) gets NaN values and the training goes on.
    probe_batch : int, optional
        Run the probe through the model this many at a time (default: all N at once).
    on_measure : callable, optional
        ``on_measure(rows)``, called with the new rows (a DataFrame) after each measurement (on the
        worker thread with ``background``): for TensorBoard, W&B or a Lightning callback.
    progress : bool, default True
        A tqdm bar for a measurement that takes more than 2 seconds.
    """

    def __init__(self, model: nn.Module, layers, probe_x, probe_y=None, *, every: int | None = None,
                 steps: Sequence[int] | None = None, log_steps: int | None = None, total: int | None = None,
                 estimators: Sequence[str] | str = ("matrix",), device=None,
                 capture: Callable[[object], tuple[Mapping[str, torch.Tensor], torch.Tensor | None]] | None = None,
                 background: bool = False, batch_dim: int | Mapping[str, int] = 0, output=None,
                 call: int | Mapping[str, int] | None = None, nonfinite: str = "raise",
                 probe_batch: int | None = None, on_measure: Callable | None = None, progress: bool = True):
        self.model, self.capture = model, capture
        self.layers, self._modules = C.resolve_layers(model, layers, named=capture is None)
        self.estimators = C.recorder_estimators(estimators)
        self.every, self.fixed = C.schedule(every, steps, log_steps, total)
        if nonfinite not in ("raise", "record"):
            raise ValueError(f"nonfinite must be 'raise' or 'record'; got {nonfinite!r}")
        self.nonfinite, self.on_measure, self.progress = nonfinite, on_measure, bool(progress)
        self._batch_dim = C.per_layer("batch_dim", batch_dim, self.layers + ["probe_x"], 0)
        self._output = C.per_layer("output", output, self.layers)
        self._call = C.per_layer("call", call, self.layers)
        self.device = torch.device(device) if device is not None else None
        self._set_probe(probe_x, probe_batch)
        self.labels, self.targets = C.class_labels(probe_y, self.n)
        self._check_targets()
        self._plane_setup()
        self._rows: list[tuple] = []
        self._measured: set[int] = set()
        self._closed = False
        self.check()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ipbook-recorder") if background else None
        self._pending = None

    # ------------------------------------------------------------------ setup
    def _set_probe(self, probe_x, probe_batch) -> None:
        self._kind, self._part_names, parts = C.probe_tensors(probe_x)
        self._probe_keys = list(probe_x) if self._kind == "dict" else None
        bd = self._batch_dim["probe_x"]
        self.n = C.probe_n(self._part_names, parts, bd)
        self._parts, self._moved = [p.detach() for p in parts], None
        self.probe_batch = self.n if probe_batch is None else C.count("probe_batch", probe_batch, 1)
        self.x_matrix = C.probe_matrix(self._parts, bd, self.n)

    def _check_targets(self) -> None:
        """Noisy bounds and binning measure I(T;Y) against class labels only."""
        if self.targets is None or self.labels is not None:
            return
        other = [e.spec for e in self.estimators if e.family != "matrix"]
        if other:
            raise ValueError(f"{', '.join(other)} measure(s) I(T;Y) against class labels (integers, floats holding "
                             f"integers, or one-hot rows); probe_y holds other values: give class labels, keep to "
                             f"'matrix', or leave probe_y out")

    def _plane_setup(self) -> None:
        """Every matrix setting, one batch per step; X's part (and the fixed targets') built once."""
        kernels = list(dict.fromkeys(e for e in self.estimators if e.family == "matrix"))
        self._kernel = {e: k for k, e in enumerate(kernels)}
        where = self.device or self._model_device()
        self._plane = InformationPlane(self.x_matrix.to(where), kernels=kernels) if kernels else None
        self._fixed_y = (VariableSample(self.targets.to(where)) if kernels and self.targets is not None else None)
        self._h_y = None
        if self.labels is not None:
            p = np.bincount(self.labels - self.labels.min()) / self.n
            self._h_y = float(-sum(q * math.log2(q) for q in p if q > 0))

    def _model_device(self) -> torch.device:
        p = next(self.model.parameters(), None)
        return p.device if p is not None else torch.device("cpu")

    def _model_dtype(self) -> torch.dtype | None:
        return next((p.dtype for p in self.model.parameters() if p.is_floating_point()), None)

    def check(self) -> None:
        """Run the probe's first batch through the model once and check every layer's output (a
        tensor, or the ``output=`` pick; N rows along ``batch_dim``; one call, or the ``call=``
        pick); a one-line ValueError otherwise. The constructor calls it."""
        self._forward("construction", batches=1)

    # ------------------------------------------------------------------ the forward pass
    def _inputs(self, start: int, stop: int) -> list[torch.Tensor]:
        """The probe's parts [start, stop) along the batch dimension, on the model's device, floating
        parts in its dtype."""
        key = (self.device or self._model_device(), self._model_dtype())
        if self._moved is None or self._moved[0] != key:          # moved once per device and dtype
            device, dtype = key
            self._moved = (key, [t.to(device=device, dtype=dtype if dtype is not None and t.is_floating_point()
                                      else t.dtype) for t in self._parts])
        bd = self._batch_dim["probe_x"]
        return [t.narrow(bd, start, stop - start) for t in self._moved[1]]

    def _call_model(self, module: nn.Module, parts: list[torch.Tensor], where: str):
        try:
            if self._kind == "dict":
                return module(**dict(zip(self._probe_keys, parts)))
            return module(*parts)
        except ValueError:
            raise
        except (RuntimeError, TypeError) as err:
            shapes = ", ".join(f"{n} {tuple(t.shape)} {t.dtype} on {t.device}" for n, t in zip(self._part_names, parts))
            raise ValueError(f"the model failed on the probe at {where}: {shapes}; the model's parameters are "
                             f"{self._model_dtype()} on {self._model_device()}. {type(err).__name__}: "
                             f"{str(err).splitlines()[0] if str(err) else ''}") from err

    def _forward(self, where: str, batches: int | None = None) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        """The layers (N, d) float64 on the CPU (and a captured target) of one pass of the probe,
        hooks registered for its duration only, every submodule's training flag restored."""
        module = C.measured_module(self.model)
        starts = list(range(0, self.n, self.probe_batch))[:batches]
        layers: dict[str, list[torch.Tensor]] = {name: [] for name in self.layers}
        targets: list[torch.Tensor] = []
        flags = [(m, m.training) for m in module.modules()]
        devices = [self._model_device()] if self._model_device().type == "cuda" else []
        with ExitStack() as stack:
            calls: dict[str, list] = {name: [] for name in self.layers}
            for name, m in self._modules.items():
                stack.callback(m.register_forward_hook(self._hook(calls[name])).remove)
            stack.callback(lambda: [setattr(m, "training", t) for m, t in flags])
            stack.enter_context(torch.random.fork_rng(devices=devices))
            stack.enter_context(torch.no_grad())
            module.eval()
            for start in starts:
                stop = min(start + self.probe_batch, self.n)
                output = self._call_model(module, self._inputs(start, stop), where)
                self._collect(output, calls, layers, targets, stop - start)
        out = {name: torch.cat(parts).double().cpu() for name, parts in layers.items()}
        return out, (torch.cat(targets).double().cpu() if targets else None)

    @staticmethod
    def _hook(store: list):
        def hook(module, inputs, output):
            store.append(output)
        return hook

    def _collect(self, output, calls: dict[str, list], layers: dict[str, list], targets: list, nb: int) -> None:
        """One batch's layers, checked and flattened into ``layers`` (and its captured target)."""
        if self.capture is not None:
            captured, target = self.capture(output)
            for name in self.layers:
                if name not in captured:
                    raise ValueError(f"layer(s) {[n for n in self.layers if n not in captured]} are not among "
                                     f"the layers capture returns: {list(captured)}")
                calls[name].append(captured[name])
            if target is not None:
                targets.append(target.detach().reshape(nb, -1))
        for name in self.layers:
            got, calls[name][:] = list(calls[name]), []
            if not got:
                raise ValueError(f"layer {name!r} did not run in the forward pass of the probe batch")
            pick = self._call[name]
            if len(got) > 1 and pick is None:
                raise ValueError(f"layer {name!r} runs {len(got)} times in one forward pass (a module used twice); "
                                 f"pick the call to measure with call={{{name!r}: 0}} (0 the first, -1 the last), "
                                 f"or hook a module used once")
            if pick is not None and not -len(got) <= pick < len(got):
                raise ValueError(f"call={pick} for layer {name!r}, which runs {len(got)} time(s) a forward pass")
            value = C.select_output(name, got[pick if pick is not None else 0], self._output[name])
            layers[name].append(C.flatten_layer(name, value, self._batch_dim[name], nb))

    # ------------------------------------------------------------------ the loop's side
    def due(self, step: int) -> bool:
        """Whether ``step`` is on the schedule."""
        return (self.every is not None and step % self.every == 0) or step in self.fixed

    def step(self, step: int) -> bool:
        """Call after the optimiser's step ``step`` (and with 0 before the first): measures if the
        schedule says so; returns whether it did."""
        step = C.count("step", step, 0)
        if not self.due(step):
            return False
        self.measure(step)
        return True

    def measure(self, step: int) -> None:
        """Measure now, whatever the schedule, and record the rows under ``step``."""
        if self._closed:
            raise RuntimeError("this recorder is closed; make a new one")
        step = C.count("step", step, 0)
        if step in self._measured:
            raise ValueError(f"step {step} is already measured; each step is measured once")
        captured, target = self._forward(f"step {step}")
        self._measured.add(step)
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

    # ------------------------------------------------------------------ the estimates
    def _finite(self, step: int, captured: dict[str, torch.Tensor]) -> set[str]:
        """The layers with NaN or inf activations; an error naming them (``nonfinite="raise"``)."""
        bad = {name: int((~torch.isfinite(t)).sum()) for name, t in captured.items()}
        bad = {name: k for name, k in bad.items() if k}
        if bad and self.nonfinite == "raise":
            name, k = next(iter(bad.items()))
            raise ValueError(f"layer {name!r} at step {step}: {k} of {captured[name].numel()} activations are NaN "
                             f"or inf" + (f" (also {sorted(bad)[1:]})" if len(bad) > 1 else "")
                             + "; nonfinite='record' records NaN and goes on")
        return set(bad)

    def _record(self, step: int, captured: dict[str, torch.Tensor], target: torch.Tensor | None) -> None:
        from tqdm import tqdm
        bad = self._finite(step, captured)
        good = [name for name in self.layers if name not in bad]
        rows, per = [], self._layers_per_batch()
        batches = -(-len(good) // per) if self._plane is not None and good else 0
        with tqdm(total=batches + len(self.layers), desc=f"ipbook recorder, step {step}", delay=2.0,
                  leave=False, disable=not self.progress) as bar:     # shown when a measurement takes > 2 s
            planes = self._matrix(good, captured, target, per, bar) if batches else {}
            for name in self.layers:
                rows += self._estimate(step, name, captured[name], planes.get(name), name in bad)
                bar.update(1)
        self._rows += rows
        if self.on_measure is not None:
            self.on_measure(rows_frame(rows, self._with_targets()))

    def _layers_per_batch(self) -> int:
        """How many layers the matrix estimator takes in one batch: its 3L + 2 Gram matrices of
        every setting, 8·N² bytes each, within :data:`MATRIX_BYTES` (at least one layer)."""
        return max(1, (MATRIX_BYTES // (8 * self.n ** 2 * max(1, len(self._kernel))) - 2) // 3)

    def _matrix(self, names: list[str], captured: dict, target, per: int, bar) -> dict[str, dict]:
        """Every matrix setting's I(X;T), I(T;Y), S(Y) per layer, ``per`` layers a batch."""
        y = self._fixed_y if target is None else target
        out = {}
        for i in range(0, len(names), per):
            chunk = names[i:i + per]
            p = self._plane.planes([captured[n] for n in chunk], y)
            for j, name in enumerate(chunk):
                out[name] = {"i_xt": p["i_xt"][:, j], "i_ty": None if p["i_ty"] is None else p["i_ty"][:, j],
                             "s_y": p["s_y"]}
            bar.update(1)
        return out

    def _estimate(self, step: int, name: str, t: torch.Tensor, plane: dict | None, bad: bool) -> list[tuple]:
        """Every estimator's row on one layer, in the order asked for (rows in
        :data:`~ipbook.nets.recorder_frame.COLUMNS` order)."""
        nan, width = float("nan"), int(t.shape[1])
        # the pairwise distances, for the noisy bounds (and the median rule's σ) only
        v = VariableSample(t) if not bad and any(e.family.startswith("noisy") for e in self.estimators) else None
        rows = []
        for est in self.estimators:
            i_xt = i_ty = sigma = ceiling_ty = nan
            if est.family == "matrix":
                k = self._kernel[est]
                sigma = self._sigma(est, v, width)
                if plane is not None:
                    i_xt = plane["i_xt"][k]
                    if plane["i_ty"] is not None:
                        i_ty, ceiling_ty = plane["i_ty"][k], plane["s_y"][k]
            else:
                ceiling_ty = self._h_y if self._h_y is not None else nan
                if not bad:
                    i_xt, i_ty = self._other(est, t, v)
            ceiling_xt = float(est.ceiling(self.n))
            rows.append((step, name, est.family, est.setting, float(i_xt), float(i_ty), self.n, width,
                         float(sigma), ceiling_xt, float(ceiling_ty), at_ceiling(float(i_xt), ceiling_xt),
                         at_ceiling(float(i_ty), float(ceiling_ty))))
        return rows

    def _sigma(self, est, v: VariableSample | None, width: int) -> float:
        """The matrix setting's kernel width σ of a layer of ``width`` units (NaN where it needs the
        distances, the median rule, and none were computed)."""
        if v is not None:
            return v.bandwidth(est.rule, est.gamma)
        if est.rule == "median":
            return float("nan")
        return scott_bandwidth(self.n, width, est.gamma) * (math.sqrt(width) if est.rule == "tapia" else 1.0)

    def _other(self, est, t: torch.Tensor, v: VariableSample | None) -> tuple[float, float]:
        """``(i_xt, i_ty)`` of a noisy bound (on ``v``, the layer ``t`` with its distances) or
        binning (on ``t``) on one (N, d) layer; ``i_ty`` NaN without labels."""
        nan = float("nan")
        if est.family.startswith("noisy"):
            bound = noisy_upper if est.bound == "upper" else noisy_lower
            return bound(v, est.variance), self._noisy_ty(v, bound, est.variance) if self.labels is not None else nan
        return (binned_layer_information(t, est.bins),
                binned_label_information(t, self.labels, est.bins) if self.labels is not None else nan)

    def _noisy_ty(self, v: VariableSample, bound, variance: float) -> float:
        total = bound(v, variance)
        cond = 0.0
        for label in np.unique(self.labels):
            idx = np.flatnonzero(self.labels == label)
            if len(idx) > 1:
                cond += len(idx) / self.n * bound(v.x[idx], variance)
        return total - cond

    # ------------------------------------------------------------------ results and cleanup
    def _with_targets(self) -> bool:
        return self.targets is not None or self.capture is not None

    def to_frame(self):
        """The rows so far, a DataFrame with the columns of :mod:`ipbook.nets.recorder_frame`:
        ``step, layer, estimator, setting, i_xt`` (bits), with targets ``i_ty``, and ``n, width,
        sigma, ceiling_xt, saturated`` (with targets ``ceiling_ty, saturated_ty``)."""
        self.wait()
        return rows_frame(self._rows, self._with_targets())

    def to_arrays(self, estimator: str = "matrix") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(steps, i_xt, i_ty)`` of one estimator (its spec): (S,) steps in the order measured,
        and (S, L) arrays in bits, the layers in the order given."""
        self.wait()
        est = recorder_estimator(estimator)
        rows = [r for r in self._rows if r[2] == est.family and r[3] == est.setting]
        steps = np.asarray([r[0] for r in rows[::len(self.layers)]], dtype=np.int64)
        values = np.asarray([[r[4], r[5]] for r in rows], dtype=np.float64).reshape(len(steps), len(self.layers), 2)
        return steps, values[..., 0], values[..., 1]

    def plot(self, **kwargs):
        """The plane of :meth:`to_frame` (:func:`ipbook.nets.recorder_plot.plot_plane`); returns the figure."""
        from ipbook.nets.recorder_plot import plot_plane
        return plot_plane(self.to_frame(), **kwargs)

    def save(self, path) -> None:
        """Write :meth:`to_frame` to ``path`` (CSV; :meth:`load` reads it back exactly)."""
        save_frame(self.to_frame(), path)

    @staticmethod
    def load(path):
        """The frame :meth:`save` wrote, equal to the saved one (dtypes and texts kept)."""
        return load_frame(path)

    def close(self) -> None:
        """Wait for the step in flight; the recorder takes no more steps (the rows stay readable).
        The model carries no hooks between measurements, so nothing is left on it."""
        try:
            self.wait()
        finally:
            self._closed = True
            if self._pool is not None:
                self._pool.shutdown(wait=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
