"""What every model of :mod:`ipbook.nets.models` is built from: the hidden-layer nonlinearities,
the paper's layer sizes, the output every model returns (:class:`AEOutput`), the base class
(:class:`Autoencoder`) and a stack of fully connected layers (:class:`DeepStack`)."""
from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ACTIVATIONS", "ACTIVATION_NAMES", "activation_function", "N_INPUT", "N_BOTTLENECK", "DEEP_HIDDEN",
           "AEOutput", "Autoencoder", "check_sizes", "DeepStack"]


#: The hidden-layer nonlinearities a model can be built with (``activation=``): the paper's
#: sigmoid, and the controls of Saxe et al. (2018): tanh (also double-sided saturating), ReLU
#: (one-sided, unbounded) and none. The output layer X′ is a sigmoid whatever the choice, so that
#: reconstructions stay in [0, 1]; the VAE's sampled Z and the label AE's softmax Z keep their own
#: definitions.
ACTIVATIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu, "linear": lambda s: s}


ACTIVATION_NAMES: tuple[str, ...] = tuple(ACTIVATIONS)


def activation_function(name: str):
    """The function of :data:`ACTIVATIONS` called ``name``; ValueError for an unknown name."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; valid: {', '.join(ACTIVATION_NAMES)}")
    return ACTIVATIONS[name]


N_INPUT = 28 * 28


N_BOTTLENECK = 50


DEEP_HIDDEN = (256, 128)


class AEOutput(NamedTuple):
    """What :meth:`Autoencoder.forward` returns.

    Attributes:
        layers: hidden-layer activities in network order (the keys are
            :attr:`Autoencoder.layer_names`), each of shape :math:`(N, n_\\text{layer})`.
        x_hat: reconstruction :math:`X'` of shape :math:`(N, n_\\text{input})`.
        extras: further tensors the loss needs (``"mu"``/``"logvar"`` for the VAE, ``"logits"``
            for the label AE); empty for the others.
    """

    layers: dict[str, Tensor]
    x_hat: Tensor
    extras: dict[str, Tensor]


class Autoencoder(nn.Module):
    """Base class of the autoencoders.

    Subclasses set :attr:`layer_names` and implement :meth:`forward`, :meth:`decode` and
    :meth:`loss`.

    Attributes:
        layer_names: names of the hidden layers in network order, e.g. ``("E1", "E2", "Z", "D1",
            "D2")``; ``forward(x).layers`` has exactly these keys in this order.
        n_input: size of one flattened input image.
        n_bottleneck: size of the bottleneck layer Z.
    """

    layer_names: tuple[str, ...] = ()
    n_input: int
    n_bottleneck: int
    #: what the information plane's second axis measures against: the output X′
    plane_target = "output"

    def forward(self, x: Tensor) -> AEOutput:  # pragma: no cover - abstract
        raise NotImplementedError

    def decode(self, z: Tensor) -> Tensor:  # pragma: no cover - abstract
        """Reconstruction :math:`X'` of shape :math:`(N, n_\\text{input})` from a bottleneck batch ``z``."""
        raise NotImplementedError

    def loss(self, out: AEOutput, x: Tensor, y: Tensor | None = None) -> Tensor:
        """The training objective on the batch ``x`` (labels ``y``), a scalar tensor.

        The default is the reconstruction error :math:`\\mathrm{MSE}(X, X')`.
        """
        return F.mse_loss(out.x_hat, x)

    def extra_repr(self) -> str:
        return f"layers={self.layer_names}"


def check_sizes(**sizes: int) -> None:
    for key, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{key} must be a positive integer; got {value!r}")


class DeepStack(nn.Module):
    """Layers ``sizes[0] -> sizes[1] -> ...`` with the nonlinearity ``activation`` (the last one a
    sigmoid when ``sigmoid_output``, as a decoder's X′); returns every layer's activity."""

    def __init__(self, sizes: Sequence[int], activation: str = "sigmoid", sigmoid_output: bool = False) -> None:
        super().__init__()
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        act = activation_function(activation)
        self.acts = [act] * len(self.linears)
        if sigmoid_output and self.acts:
            self.acts[-1] = torch.sigmoid

    def forward(self, h: Tensor) -> list[Tensor]:
        acts = []
        for lin, act in zip(self.linears, self.acts):
            h = act(lin(h))
            acts.append(h)
        return acts
