r"""Autoencoders whose I(X; T) is defined: noise inside the network, or a quantized bottleneck.

A deterministic layer of distinct inputs carries all of X, so its Shannon I(X; T) over N probes is
log2 N and never moves. Two changes to the network make the quantity finite and a property of the
trained model:

- **Noise inside** (Goldfeld et al. 2019): every hidden layer's output gets Gaussian noise,
  :math:`\tilde T_l = T_l + \beta \varepsilon_l`, :math:`\varepsilon_l \sim \mathcal N(0, I)`, in
  training *and* in use; the next layer reads :math:`\tilde T_l`. ``forward`` returns each
  layer's :math:`T_l` before its own noise (the centres of sample propagation,
  :func:`ipbook.estimators.noisy.sample_propagation`) and the reconstruction from the noisy path.
- **A quantized bottleneck** (Lorenzen, Igel & Nielsen 2022): the sigmoid bottleneck is rounded
  to :math:`2^k` levels in the forward pass, :math:`Q(z) = \mathrm{round}(z (2^k - 1)) / (2^k - 1)`,
  with straight-through gradients; I(X; Z) = H(Z) is then counted exactly
  (:func:`ipbook.estimators.quantized.code_entropy` of :meth:`QuantizedAE.codes`).

References
----------
Z. Goldfeld et al., "Estimating information flow in deep neural networks", ICML (2019).
S. S. Lorenzen, C. Igel, M. Nielsen, "Information bottleneck: exact analysis of (quantized)
neural networks", ICLR (2022).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from torch import nn

from ipbook.nets.layers import N_BOTTLENECK, N_INPUT, AEOutput
from ipbook.nets.models import DeepAE, ShallowAE, SparseAE, build_model

__all__ = ["NoisyShallowAE", "NoisySparseAE", "NoisyDeepAE", "QuantizedAE", "quantize", "check_noise",
           "build_network"]


def check_noise(beta: float) -> float:
    """β as a float; one-line ValueError unless it is a finite number > 0."""
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not (math.isfinite(beta) and beta > 0):
        raise ValueError(f"the noise's standard deviation beta must be a finite number > 0; got {beta!r}")
    return float(beta)


def _noisy(t: Tensor, beta: float) -> Tensor:
    return t + beta * torch.randn_like(t)


class _NoiseAfterZ:
    """The forward pass of a one-bottleneck AE with noise inside: X′ is decoded from Z + βε, and
    ``layers["Z"]`` is Z before its noise."""

    beta: float

    def forward(self, x: Tensor) -> AEOutput:
        z = self._act(self.encoder(x))
        return AEOutput({"Z": z}, self.decode(_noisy(z, self.beta)), {})

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, beta={self.beta}"


class NoisyShallowAE(_NoiseAfterZ, ShallowAE):
    r"""The shallow AE with noise inside: :math:`Z = \sigma(X W_E^T + b_E)`,
    :math:`X' = \sigma((Z + \beta\varepsilon) W_D^T + b_D)`, in training and in use.

    Args:
        beta: the noise's standard deviation β > 0 (the sigmoid's units lie in [0, 1]).
        n_input, n_bottleneck, activation: as :class:`~ipbook.nets.models.ShallowAE`.

    Shape:
        As :class:`~ipbook.nets.models.ShallowAE`; ``layers["Z"]`` is Z before its noise.
    """

    def __init__(self, beta: float, n_input: int = N_INPUT, n_bottleneck: int = N_BOTTLENECK,
                 activation: str = "sigmoid") -> None:
        super().__init__(n_input, n_bottleneck, activation)
        self.beta = check_noise(beta)


class NoisySparseAE(_NoiseAfterZ, SparseAE):
    r"""The sparse AE with noise inside (the penalty on Z before its noise); ``beta`` as
    :class:`NoisyShallowAE`, the rest as :class:`~ipbook.nets.models.SparseAE`."""

    def __init__(self, beta: float, n_input: int = N_INPUT, n_bottleneck: int = N_BOTTLENECK,
                 rho: float = 0.05, lam: float = 1e-3) -> None:
        super().__init__(n_input, n_bottleneck, rho=rho, lam=lam)
        self.beta = check_noise(beta)


class NoisyDeepAE(DeepAE):
    r"""The deep AE with noise inside: every hidden layer
    :math:`T_{l+1} = \sigma((T_l + \beta\varepsilon_l) W_l^T + b_l)` reads its predecessor's noisy
    output (X′ gets none); ``layers`` hold each :math:`T_l` before its own noise.

    Args:
        beta: the noise's standard deviation β > 0.
        n_input, hidden, n_bottleneck, activation: as :class:`~ipbook.nets.models.DeepAE`.
    """

    def __init__(self, beta: float, n_input: int = N_INPUT, hidden=(256, 128), n_bottleneck: int = N_BOTTLENECK,
                 activation: str = "sigmoid") -> None:
        super().__init__(n_input, hidden, n_bottleneck, activation)
        self.beta = check_noise(beta)

    def forward(self, x: Tensor) -> AEOutput:
        stacks = list(zip(self.encoder.linears, self.encoder.acts)) + list(zip(self.decoder.linears, self.decoder.acts))
        h, acts = x, []
        for lin, act in stacks[:-1]:
            t = act(lin(h))
            acts.append(t)
            h = _noisy(t, self.beta)
        lin, act = stacks[-1]
        return AEOutput(dict(zip(self.layer_names, acts)), act(lin(h)), {})

    def decode(self, z: Tensor) -> Tensor:
        h = _noisy(z, self.beta)
        for lin, act in zip(self.decoder.linears[:-1], self.decoder.acts[:-1]):
            h = _noisy(act(lin(h)), self.beta)
        return self.decoder.acts[-1](self.decoder.linears[-1](h))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, beta={self.beta}"


def quantize(z: Tensor, bits: int) -> Tensor:
    r""":math:`Q(z) = \mathrm{round}(z (2^k - 1)) / (2^k - 1)` for z in [0, 1], with the identity's
    gradient (straight-through): the forward pass sees the levels, the backward pass z."""
    levels = 2 ** bits - 1
    q = torch.round(z * levels) / levels
    return z + (q - z).detach()


class QuantizedAE(ShallowAE):
    r"""The shallow AE with a quantized bottleneck: :math:`Z = Q(\sigma(X W_E^T + b_E))` at
    ``bits`` bits per unit (:func:`quantize`), :math:`X' = \sigma(Z W_D^T + b_D)`.

    Args:
        bits: k, the bits per bottleneck unit (1 to 16): :math:`2^k` levels in [0, 1].
        n_input, n_bottleneck: as :class:`~ipbook.nets.models.ShallowAE` (sigmoid units).

    Shape:
        As :class:`~ipbook.nets.models.ShallowAE`; ``layers["Z"]`` holds the quantized levels.

    Training starts from :meth:`start_at_mean`: with the default decoder bias the first error
    :math:`X' - X \approx 0.5 - X` has the same sign for every image, pushes every code into the
    same corner, and once all images share one code the decoder cannot tell them apart (at Adam's
    lr 0.005 and 0.001, 4 bits, 5 units: H(Z) on 1,000 test images fell from 6.4 bits to 0 within
    500 iterations; from the mean image it rose to 9.9 bits).
    """

    def __init__(self, bits: int, n_input: int = N_INPUT, n_bottleneck: int = N_BOTTLENECK) -> None:
        super().__init__(n_input, n_bottleneck, "sigmoid")
        if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 16:
            raise ValueError(f"bits must be an integer from 1 to 16 (bits per bottleneck unit); got {bits!r}")
        self.bits = bits

    def forward(self, x: Tensor) -> AEOutput:
        z = quantize(torch.sigmoid(self.encoder(x)), self.bits)
        return AEOutput({"Z": z}, self.decode(z), {})

    def start_at_mean(self, mean_image: Tensor) -> None:
        """Set the decoder's bias to the logit of ``mean_image`` (n_input,), so that X' starts at
        the mean training image whatever the code."""
        p = mean_image.detach().reshape(-1).to(self.decoder.bias).clamp(1e-3, 1 - 1e-3)
        with torch.no_grad():
            self.decoder.bias.copy_(torch.log(p / (1 - p)))

    def codes(self, x: Tensor) -> Tensor:
        """The bottleneck's integer codes of a batch: (N, n_Z) int64 in {0, ..., 2^k − 1}."""
        with torch.no_grad():
            return torch.round(torch.sigmoid(self.encoder(x)) * (2 ** self.bits - 1)).to(torch.int64)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, bits={self.bits}"


def build_network(name: str, *, noise: float | None = None, quantize: int | None = None, **kwargs) -> nn.Module:
    """:func:`~ipbook.nets.models.build_model` (``kwargs``: n_classes, bottleneck, activation,
    sparsity), or with ``noise`` β the model with noise inside, with ``quantize`` k bits the
    shallow AE with a quantized bottleneck; the one builder of training and of checkpoints."""
    model = build_model(name, **kwargs)
    if noise is None and quantize is None:
        return model
    if quantize is not None:
        return QuantizedAE(quantize, model.n_input, model.n_bottleneck)
    if name == "sparse":
        return NoisySparseAE(noise, model.n_input, model.n_bottleneck, rho=model.rho, lam=model.lam)
    if name == "deep":
        return NoisyDeepAE(noise, model.n_input, model.hidden, model.n_bottleneck, model.activation)
    return NoisyShallowAE(noise, model.n_input, model.n_bottleneck, model.activation)
