"""What :class:`~ipbook.nets.recorder.InformationPlaneRecorder` checks before it measures: the
schedule, the layers (names, module objects, ``torch.compile``'s prefix, the closest names of a
wrong one), the estimators, the probe inputs and labels, and each hooked output (its selector, its
batch dimension, its calls per forward pass).

Every check raises a one-line ``ValueError`` that names what was given and what is accepted.
"""
from __future__ import annotations

import difflib
import numbers
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from ipbook.estimators.spec import Estimator, parse_spec

__all__ = [
    "RECORDER_ESTIMATORS",
    "class_labels",
    "count",
    "describe",
    "flatten_layer",
    "measured_module",
    "per_layer",
    "probe_matrix",
    "probe_n",
    "probe_tensors",
    "recorder_estimator",
    "recorder_estimators",
    "resolve_layers",
    "schedule",
    "select_output",
]

#: The estimator families a recorder takes (the text before ``:`` of a spec); KSG and the VAE's
#: bounds need inputs other than a layer.
RECORDER_ESTIMATORS = ("matrix", "noisy-upper", "noisy-lower", "binning")

#: A compiled model's (``torch.compile``) submodule names start with this.
COMPILED_PREFIX = "_orig_mod."


def recorder_estimator(spec) -> Estimator:
    """The :class:`~ipbook.estimators.Estimator` of ``spec`` (:func:`~ipbook.estimators.parse_spec`),
    or a one-line ValueError where it is not one a recorder takes (:data:`RECORDER_ESTIMATORS`)."""
    est = parse_spec(spec)
    if est.family not in RECORDER_ESTIMATORS:
        raise ValueError(f"the recorder cannot record {spec!r}; it records {', '.join(RECORDER_ESTIMATORS)} "
                         f"(e.g. 'matrix', 'matrix:rule=median', 'noisy-upper:0.001', 'binning:10')")
    return est


def recorder_estimators(specs) -> list[Estimator]:
    """The estimators of ``specs`` (a spec string or a sequence of them), at least one, none twice."""
    specs = [specs] if isinstance(specs, (str, Estimator)) else list(specs)
    if not specs:
        raise ValueError("estimators is empty; give at least one, e.g. estimators=['matrix', 'binning:30']")
    ests = [recorder_estimator(s) for s in specs]
    twice = sorted({e.spec for e in ests if ests.count(e) > 1})
    if twice:
        raise ValueError(f"estimator(s) {twice} given twice; each is measured once a step")
    return ests


def count(name: str, value, minimum: int) -> int:
    """``value`` as an int >= ``minimum``; Python and numpy integers are accepted, bools and floats not."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def schedule(every, steps, log_steps, total) -> tuple[int | None, set[int]]:
    """``(every, fixed steps)`` of the one schedule given: every K steps (step 0 included), the
    listed steps, or ``log_steps`` log-spaced steps up to ``total`` (0 included)."""
    given = [k for k, v in (("every", every), ("steps", steps), ("log_steps", log_steps)) if v is not None]
    if len(given) != 1:
        raise ValueError(f"give exactly one schedule: every=K, steps=[...] or log_steps=K with total=T; got {given or 'none'}")
    if every is not None:
        return count("every", every, 1), set()
    if steps is not None:
        fixed = {count("each of steps", s, 0) for s in np.asarray(steps).reshape(-1).tolist()}
        return None, fixed
    log_steps, total = count("log_steps", log_steps, 1), count("total (with log_steps)", total, 1)
    return None, {0} | set(np.unique(np.round(np.geomspace(1, total, log_steps)).astype(int)).tolist())


def measured_module(model: nn.Module) -> nn.Module:
    """The module whose submodules are hooked and which runs the probe: a ``torch.compile``d
    model's original module (measuring it does not recompile the model), else ``model``."""
    return getattr(model, "_orig_mod", model) if isinstance(getattr(model, "_orig_mod", None), nn.Module) else model


def _unknown(name: str, names: list[str]) -> ValueError:
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
    hint = f"closest: {', '.join(close)}" if close else f"e.g. {', '.join(names[:8])}" + (", ..." if len(names) > 8 else "")
    return ValueError(f"unknown layer {name!r} ({len(names)} named submodules; {hint}); "
                      f"see [n for n, _ in model.named_modules()]")


def resolve_layers(model: nn.Module, layers, *, named: bool) -> tuple[list[str], dict[str, nn.Module]]:
    """The layer names and their submodules of ``layers``: one name or module, or a sequence of
    names and module objects of ``model`` (``torch.compile``'s ``_orig_mod.`` prefix optional).
    ``named=False`` (a ``capture`` function reads the layers): names are taken as given."""
    if isinstance(layers, (str, nn.Module)):
        layers = [layers]
    layers = list(layers)
    if not layers:
        raise ValueError("layers is empty; name at least one submodule, e.g. layers=['fc1']")
    if not named:
        return _distinct([str(n) for n in layers]), {}
    root = measured_module(model)
    modules = {n: m for n, m in root.named_modules() if n}
    by_id = {id(m): n for n, m in reversed(list(modules.items()))}     # a shared module: its first name
    names = []
    for layer in layers:
        if isinstance(layer, nn.Module):
            if id(layer) not in by_id:
                raise ValueError(f"the module {type(layer).__name__} given as a layer is not a submodule of the model")
            names.append(by_id[id(layer)])
            continue
        if not isinstance(layer, str):
            raise TypeError(f"a layer is a submodule's name or the submodule itself; got {layer!r}")
        name = layer[len(COMPILED_PREFIX):] if layer.startswith(COMPILED_PREFIX) and root is not model else layer
        if name not in modules:
            raise _unknown(layer, list(modules))
        names.append(name)
    names = _distinct(names)
    return names, {n: modules[n] for n in names}


def _distinct(names: list[str]) -> list[str]:
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"layer(s) {twice} given twice; each layer is measured once a step")
    return names


def per_layer(name: str, value, layers: Sequence[str], default=None) -> dict:
    """``value`` for each layer: one value for all, or a mapping (layer name -> value; unknown keys refused)."""
    if isinstance(value, Mapping):
        extra = sorted(set(value) - set(layers))
        if extra:
            raise ValueError(f"{name} names layer(s) {extra} that are not among the layers {list(layers)}")
        return {n: value.get(n, default) for n in layers}
    return {n: value if value is not None else default for n in layers}


# ----------------------------------------------------------------------------- the probe
def probe_tensors(probe_x) -> tuple[str, list[str], list[torch.Tensor]]:
    """The probe's form (``"tensor"``, ``"tuple"`` or ``"dict"``), its parts' names and tensors.
    A tuple is passed as ``model(*x)``, a dict as ``model(**x)``."""
    if isinstance(probe_x, Mapping):
        kind, names, parts = "dict", [str(k) for k in probe_x], list(probe_x.values())
    elif isinstance(probe_x, (tuple, list)):
        kind, names, parts = "tuple", [f"probe_x[{i}]" for i in range(len(probe_x))], list(probe_x)
    else:
        kind, names, parts = "tensor", ["probe_x"], [probe_x]
    if not parts:
        raise ValueError("probe_x is empty; give a tensor, a tuple of tensors (model(*x)) or a dict (model(**x))")
    tensors = [torch.as_tensor(p) for p in parts]
    return kind, (names if kind != "dict" else [f"probe_x[{n!r}]" for n in names]), tensors


def probe_n(names: list[str], tensors: list[torch.Tensor], batch_dim: int) -> int:
    """N, the probes' count: every part's size along ``batch_dim``, which must agree, N >= 2."""
    sizes = []
    for name, t in zip(names, tensors):
        if t.dim() == 0 or not -t.dim() <= batch_dim < t.dim():
            raise ValueError(f"{name} has shape {tuple(t.shape)}: no batch dimension {batch_dim}")
        sizes.append(t.shape[batch_dim])
    if len(set(sizes)) != 1:
        raise ValueError(f"the probe's parts have {sizes} entries along batch_dim={batch_dim}; they must agree")
    if sizes[0] < 2:
        raise ValueError(f"probe_x needs at least N = 2 probes; got shape {tuple(tensors[0].shape)}")
    return int(sizes[0])


def probe_matrix(tensors: list[torch.Tensor], batch_dim: int, n: int) -> torch.Tensor:
    """X as an (N, d) float64 matrix: every part of the probe, batch first, flattened and joined."""
    return torch.cat([t.movedim(batch_dim, 0).reshape(n, -1).double() for t in tensors], dim=1)


def class_labels(probe_y, n: int) -> tuple[np.ndarray | None, torch.Tensor | None]:
    r"""``(labels, targets)`` of ``probe_y``: class labels (N,) or (N, 1) as integers, floats holding
    integers, or one-hot rows (N, k) give ``labels`` and their one-hot (N, k) float64 ``targets``;
    other targets (N, ...) give ``labels`` None and the (N, d) float64 ``targets``."""
    if probe_y is None:
        return None, None
    y = torch.as_tensor(probe_y).detach().cpu()
    if y.dim() == 0 or y.shape[0] != n:
        raise ValueError(f"probe_y must have one row per probe: {n}; got shape {tuple(y.shape)} (N is probe_x's "
                         f"size along batch_dim; set batch_dim= for sequence-first layouts)")
    if not torch.isfinite(y.double()).all():
        raise ValueError("probe_y holds NaN or inf")
    labels = None
    if y.dim() == 2 and y.shape[1] == 1:
        y = y[:, 0]                                              # a column of labels
    if y.dim() == 1 and (not y.is_floating_point() or bool((y == y.round()).all())):
        labels = y.long()
    elif y.dim() == 2 and y.shape[1] > 1 and bool(((y == 0) | (y == 1)).all()) and bool((y.sum(1) == 1).all()):
        labels = y.argmax(1)                                     # one-hot rows
    if labels is None:
        return None, y.reshape(n, -1).double()
    onehot = torch.nn.functional.one_hot(labels - labels.min()).double()
    return labels.numpy(), onehot


# ----------------------------------------------------------------------------- a hooked output
def describe(value) -> str:
    """A short description of a module's output: ``Tensor (200, 12, 8)``, ``tuple (Tensor (...), ...)``."""
    if isinstance(value, torch.Tensor):
        return f"Tensor {tuple(value.shape)}"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(describe(v) for v in value[:3]) + (", ..." if len(value) > 3 else "")
        return f"{type(value).__name__} ({inner})"
    if isinstance(value, Mapping):
        return "dict with keys " + ", ".join(repr(k) for k in list(value)[:6])
    return type(value).__name__


def select_output(name: str, output, selector: int | str | Callable | None) -> torch.Tensor:
    """The tensor to measure of layer ``name``'s ``output``: the output itself, or
    ``selector(output)``, ``output[selector]`` (an index or a key)."""
    if selector is None:
        value = output
    elif callable(selector):
        value = selector(output)
    else:
        try:
            value = output[selector]
        except (IndexError, KeyError, TypeError) as err:
            raise ValueError(f"layer {name!r}: output={selector!r} does not select from its output "
                             f"{describe(output)} ({type(err).__name__}: {err})") from None
    if not isinstance(value, torch.Tensor):
        how = "an index" if isinstance(output, (tuple, list)) else "a key" if isinstance(output, Mapping) else "a callable"
        raise TypeError(f"layer {name!r} returns {describe(value)}, not a tensor; pick the tensor to measure with "
                         f"output={{{name!r}: ...}} ({how} or a callable), or hook a submodule that returns one")
    return value


def flatten_layer(name: str, t: torch.Tensor, batch_dim: int, n: int) -> torch.Tensor:
    """A layer's (n, d) matrix, rows along ``batch_dim``: (…, n, …) -> (n, d), on its device and dtype.
    A layer whose batch dimension does not hold the ``n`` probes of the forward pass is refused."""
    if t.dim() == 0 or not -t.dim() <= batch_dim < t.dim() or t.shape[batch_dim] != n:
        size = t.shape[batch_dim] if t.dim() and -t.dim() <= batch_dim < t.dim() else "no"
        raise ValueError(f"layer {name!r} returns shape {tuple(t.shape)}: its batch dimension {batch_dim} has {size} "
                         f"entries, not the {n} probes of the forward pass; set batch_dim= (e.g. 1 for "
                         f"sequence-first layouts), or hook a module whose output keeps one row per probe")
    return t.detach().movedim(batch_dim, 0).reshape(n, -1)
