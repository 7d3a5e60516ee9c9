r"""The six autoencoders of the paper (Section II, Table I and Appendix B of Lee & Jo 2021).

Every model maps a batch of flattened images :math:`X \in [0, 1]^{N \times 784}` through fully
connected layers to a reconstruction :math:`X' \in (0, 1)^{N \times 784}` and records the activity
of each hidden layer, on which the information plane is later measured:

- ``shallow``: 784-50-784 (layer Z); loss :math:`\mathrm{MSE}(X, X')`.
- ``deep``: 784-256-128-50-128-256-784 (layers E1 E2 Z D1 D2); loss :math:`\mathrm{MSE}(X, X')`.
- ``sparse``: 784-50-784; loss :math:`\mathrm{MSE} + \lambda \sum_j \mathrm{KL}(\rho \| \hat\rho_j)`.
- ``tied``: 784-50-784 with :math:`W_D = W_E^T` (one weight matrix); loss :math:`\mathrm{MSE}(X, X')`.
- ``vae``: 784-256-128-(μ, log σ²)-128-256-784, Z sampled; loss BCE (summed) +
  :math:`\mathrm{KL}(q(Z|X) \| \mathcal N(0, I))`.
- ``label``: 784-256-128-n_Z-128-256-784, softmax Z; loss :math:`\mathrm{MSE} + \lambda\,\mathrm{CE}(Y, Z)`.

Beside them, the supervised control of Section IV's contrast (not an autoencoder):

- ``classifier``: the deep AE's encoder 784-256-128-50 and a 10-way softmax (layers E1 E2 Z Yhat);
  loss :math:`\mathrm{CE}(Y, \hat Y)`.

All hidden layers and the output are sigmoid, except the VAE bottleneck (Gaussian sample) and the
label-AE bottleneck (softmax). Every layer is an :class:`torch.nn.Linear` with torch's default
initialization. ``MSE`` is the mean over all elements (:func:`torch.nn.functional.mse_loss`).

Every model returns an :class:`AEOutput` ``(layers, x_hat, extras)`` from ``forward`` and has
``loss(out, x, y)`` (its training objective on the batch) and ``decode(z)`` (the decoder alone).
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ipbook.nets.layers import (DEEP_HIDDEN, N_BOTTLENECK, N_INPUT, AEOutput, Autoencoder, DeepStack,
                               activation_function, check_sizes)

__all__ = [
    "MODEL_NAMES",
    "ShallowAE",
    "DeepAE",
    "SparseAE",
    "TiedAE",
    "VAE",
    "LabelAE",
    "Classifier",
    "CLASSIFIER_NAMES",
    "build_model",
    "label_interpolations",
]

MODEL_NAMES: tuple[str, ...] = ("shallow", "deep", "sparse", "tied", "vae", "label")
#: The supervised networks (trained on labels, measured against them): the paper's contrast.
CLASSIFIER_NAMES: tuple[str, ...] = ("classifier",)


# ------------------------------------------------------------------------------------- shallow
class ShallowAE(Autoencoder):
    r"""Shallow (vanilla) autoencoder :math:`X - Z - X'` (Equations (7)-(8)).

    .. math::
        Z = \sigma(X W_E^T + b_E), \qquad X' = \sigma(Z W_D^T + b_D), \qquad
        \mathcal L = \frac{1}{N n_X} \sum_{i, k} (X_{ik} - X'_{ik})^2,

    with :math:`\sigma(s) = 1 / (1 + e^{-s})`.

    Args:
        n_input: input size :math:`n_X`. Default: 784
        n_bottleneck: bottleneck size :math:`n_Z`. Default: 50
        activation: the nonlinearity of Z, one of :data:`~ipbook.nets.layers.ACTIVATION_NAMES` (X′ is always a
            sigmoid). Default: ``"sigmoid"``

    Shape:
        - Input: :math:`(N, n_X)`, values in :math:`[0, 1]`.
        - Output: ``AEOutput`` with ``layers["Z"]`` :math:`(N, n_Z)` and ``x_hat`` :math:`(N, n_X)`.

    Attributes:
        encoder: ``nn.Linear(n_input, n_bottleneck)``, weights :math:`W_E` and bias :math:`b_E`.
        decoder: ``nn.Linear(n_bottleneck, n_input)``, weights :math:`W_D` and bias :math:`b_D`.

    Examples::

        >>> m = ShallowAE()
        >>> out = m(torch.rand(100, 784))
        >>> out.layers["Z"].shape, out.x_hat.shape
        (torch.Size([100, 50]), torch.Size([100, 784]))
    """

    layer_names = ("Z",)

    def __init__(self, n_input: int = N_INPUT, n_bottleneck: int = N_BOTTLENECK, activation: str = "sigmoid") -> None:
        super().__init__()
        check_sizes(n_input=n_input, n_bottleneck=n_bottleneck)
        self.n_input, self.n_bottleneck = n_input, n_bottleneck
        self.activation, self._act = activation, activation_function(activation)
        self.encoder = nn.Linear(n_input, n_bottleneck)
        self.decoder = nn.Linear(n_bottleneck, n_input)

    def forward(self, x: Tensor) -> AEOutput:
        z = self._act(self.encoder(x))
        return AEOutput({"Z": z}, self.decode(z), {})

    def decode(self, z: Tensor) -> Tensor:
        return torch.sigmoid(self.decoder(z))


# ---------------------------------------------------------------------------------------- deep
class DeepAE(Autoencoder):
    r"""Deep autoencoder :math:`X - E_1 - E_2 - Z - D_1 - D_2 - X'` (Equation (2)).

    Every layer is :math:`T_{l+1} = \sigma(T_l W_l^T + b_l)` with the sigmoid :math:`\sigma`; the
    loss is :math:`\mathrm{MSE}(X, X')` (mean over elements).

    Args:
        n_input: input size. Default: 784
        hidden: sizes of the encoder layers :math:`E_1, E_2, \dots`; the decoder mirrors them.
            Default: ``(256, 128)``
        n_bottleneck: bottleneck size. Default: 50
        activation: the nonlinearity of every hidden layer, one of :data:`~ipbook.nets.layers.ACTIVATION_NAMES`
            (X′ is always a sigmoid). Default: ``"sigmoid"``

    Shape:
        - Input: :math:`(N, n_X)`.
        - Output: ``AEOutput`` with ``layers`` ``E1`` :math:`(N, 256)`, ``E2`` :math:`(N, 128)`,
          ``Z`` :math:`(N, 50)`, ``D1`` :math:`(N, 128)`, ``D2`` :math:`(N, 256)` and ``x_hat``
          :math:`(N, n_X)`.

    Attributes:
        encoder: the sigmoid layers :math:`X \to E_1 \to \dots \to Z`.
        decoder: the sigmoid layers :math:`Z \to D_1 \to \dots \to X'`.
    """

    def __init__(
        self, n_input: int = N_INPUT, hidden: Sequence[int] = DEEP_HIDDEN, n_bottleneck: int = N_BOTTLENECK,
        activation: str = "sigmoid",
    ) -> None:
        super().__init__()
        hidden = tuple(hidden)
        check_sizes(n_input=n_input, n_bottleneck=n_bottleneck, **{f"hidden[{i}]": h for i, h in enumerate(hidden)})
        self.n_input, self.n_bottleneck, self.hidden, self.activation = n_input, n_bottleneck, hidden, activation
        L = len(hidden)
        self.layer_names = (
            tuple(f"E{i + 1}" for i in range(L)) + ("Z",) + tuple(f"D{i + 1}" for i in range(L))
        )
        self.encoder = DeepStack((n_input, *hidden, n_bottleneck), activation)
        self.decoder = DeepStack((n_bottleneck, *hidden[::-1], n_input), activation, sigmoid_output=True)

    def forward(self, x: Tensor) -> AEOutput:
        enc = self.encoder(x)
        dec = self.decoder(enc[-1])
        acts = enc + dec[:-1]
        return AEOutput(dict(zip(self.layer_names, acts)), dec[-1], {})

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)[-1]


# -------------------------------------------------------------------------------------- sparse
class SparseAE(ShallowAE):
    r"""Sparse autoencoder (SAE): the shallow AE with a KL sparsity penalty on the bottleneck.

    .. math::
        \mathcal L = \mathrm{MSE}(X, X') + \lambda \sum_{j=1}^{n_Z} \mathrm{KL}(\rho \,\|\, \hat\rho_j),
        \qquad \hat\rho_j = \frac{1}{N} \sum_{i=1}^N Z_{ij},

        \mathrm{KL}(\rho \,\|\, q) = \rho \log\frac{\rho}{q} + (1 - \rho) \log\frac{1 - \rho}{1 - q}
        \quad \text{(natural log)}.

    Args:
        n_input: input size. Default: 784
        n_bottleneck: bottleneck size. Default: 50
        rho: target mean activity :math:`\rho` of each bottleneck unit. Default: 0.05
        lam: weight :math:`\lambda` of the penalty. Default: 0.001

    Shape:
        Same as :class:`ShallowAE`.
    """

    #: :math:`\hat\rho_j` is clamped to ``[eps, 1 - eps]`` so that saturated units give a finite penalty.
    eps = 1e-6

    def __init__(
        self, n_input: int = N_INPUT, n_bottleneck: int = N_BOTTLENECK, rho: float = 0.05, lam: float = 1e-3,
        activation: str = "sigmoid",
    ) -> None:
        if activation != "sigmoid":
            raise ValueError(f"the sparse AE's KL penalty needs activations in (0, 1): activation must be "
                             f"'sigmoid'; got {activation!r}")
        super().__init__(n_input, n_bottleneck)
        if not 0.0 < rho < 1.0:
            raise ValueError(f"rho must be in (0, 1); got {rho!r}")
        if lam < 0:
            raise ValueError(f"lam must be >= 0; got {lam!r}")
        self.rho, self.lam = float(rho), float(lam)

    def sparsity_penalty(self, z: Tensor) -> Tensor:
        r""":math:`\sum_j \mathrm{KL}(\rho \,\|\, \hat\rho_j)` for a bottleneck batch ``z`` of shape :math:`(N, n_Z)`."""
        rho = self.rho
        rho_hat = z.mean(dim=0).clamp(self.eps, 1.0 - self.eps)
        kl = rho * torch.log(rho / rho_hat) + (1.0 - rho) * torch.log((1.0 - rho) / (1.0 - rho_hat))
        return kl.sum()

    def loss(self, out: AEOutput, x: Tensor, y: Tensor | None = None) -> Tensor:
        return F.mse_loss(out.x_hat, x) + self.lam * self.sparsity_penalty(out.layers["Z"])

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, rho={self.rho}, lam={self.lam}"


# ---------------------------------------------------------------------------------------- tied
class TiedAE(Autoencoder):
    r"""Tied autoencoder (TAE): the shallow AE with the decoder weights tied to the encoder's.

    .. math::
        Z = \sigma(X W^T + b_E), \qquad X' = \sigma(Z W + b_D), \qquad W_D = W_E^T = W^T,

    i.e. ONE weight matrix :math:`W` of shape :math:`(n_Z, n_X)` (a single ``Parameter``, used
    transposed by the decoder) and two separate biases. The loss is :math:`\mathrm{MSE}(X, X')`.

    Args:
        n_input: input size. Default: 784
        n_bottleneck: bottleneck size. Default: 50

    Shape:
        Same as :class:`ShallowAE`.

    Attributes:
        encoder: ``nn.Linear(n_input, n_bottleneck)`` holding :math:`W` and :math:`b_E`.
        decoder_bias: :math:`b_D` of shape :math:`(n_X)`, initialized like the bias of
            ``nn.Linear(n_bottleneck, n_input)``: :math:`\mathcal U(-1/\sqrt{n_Z}, 1/\sqrt{n_Z})`.
    """

    layer_names = ("Z",)

    def __init__(self, n_input: int = N_INPUT, n_bottleneck: int = N_BOTTLENECK, activation: str = "sigmoid") -> None:
        super().__init__()
        check_sizes(n_input=n_input, n_bottleneck=n_bottleneck)
        self.n_input, self.n_bottleneck = n_input, n_bottleneck
        self.activation, self._act = activation, activation_function(activation)
        self.encoder = nn.Linear(n_input, n_bottleneck)
        self.decoder_bias = nn.Parameter(torch.empty(n_input))
        bound = 1.0 / math.sqrt(n_bottleneck)
        nn.init.uniform_(self.decoder_bias, -bound, bound)

    @property
    def weight(self) -> Tensor:
        """The shared weight :math:`W = W_E = W_D^T`, shape :math:`(n_Z, n_X)`."""
        return self.encoder.weight

    def forward(self, x: Tensor) -> AEOutput:
        z = self._act(self.encoder(x))
        return AEOutput({"Z": z}, self.decode(z), {})

    def decode(self, z: Tensor) -> Tensor:
        return torch.sigmoid(F.linear(z, self.encoder.weight.t(), self.decoder_bias))


# ----------------------------------------------------------------------------------------- vae
class VAE(Autoencoder):
    r"""Variational autoencoder :math:`X - E_1 - E_2 - Z - D_1 - D_2 - X'` (Kingma & Welling).

    The encoder gives the Gaussian posterior :math:`q(Z|X) = \mathcal N(\mu, \mathrm{diag}\,\sigma^2)`
    through two LINEAR heads on :math:`E_2`, and Z is sampled by reparametrization:

    .. math::
        \mu = E_2 W_\mu^T + b_\mu, \quad \log\sigma^2 = E_2 W_v^T + b_v, \quad
        Z = \mu + \varepsilon \odot \sigma, \quad \varepsilon \sim \mathcal N(0, I),

        \mathcal L = -\sum_{i,k} \bigl[X_{ik} \log X'_{ik} + (1 - X_{ik}) \log(1 - X'_{ik})\bigr]
                     - \frac12 \sum_{i,j} \bigl(1 + \log\sigma^2_{ij} - \mu_{ij}^2 - \sigma^2_{ij}\bigr),

    i.e. the binary cross entropy summed over pixels AND batch plus
    :math:`\mathrm{KL}(q(Z|X) \,\|\, \mathcal N(0, I))` summed over units and batch (the negative
    ELBO). :math:`\varepsilon` is drawn from torch's global RNG on every forward pass, in training
    and in evaluation mode alike; ``layers["Z"]`` is the SAMPLED Z.

    Args:
        n_input: input size. Default: 784
        hidden: encoder layer sizes; the decoder mirrors them. Default: ``(256, 128)``
        n_bottleneck: size of Z (and of μ, log σ²). Default: 50

    Shape:
        - Input: :math:`(N, n_X)`, values in :math:`[0, 1]` (BCE targets).
        - Output: ``AEOutput`` with ``layers`` E1, E2, Z, D1, D2, ``x_hat`` :math:`(N, n_X)` and
          ``extras`` ``"mu"`` and ``"logvar"``, both :math:`(N, n_Z)`.
    """

    def __init__(
        self, n_input: int = N_INPUT, hidden: Sequence[int] = DEEP_HIDDEN, n_bottleneck: int = N_BOTTLENECK,
        activation: str = "sigmoid",
    ) -> None:
        super().__init__()
        hidden = tuple(hidden)
        check_sizes(n_input=n_input, n_bottleneck=n_bottleneck, **{f"hidden[{i}]": h for i, h in enumerate(hidden)})
        if not hidden:
            raise ValueError("the VAE needs at least one encoder layer in hidden")
        self.n_input, self.n_bottleneck, self.hidden, self.activation = n_input, n_bottleneck, hidden, activation
        L = len(hidden)
        self.layer_names = (
            tuple(f"E{i + 1}" for i in range(L)) + ("Z",) + tuple(f"D{i + 1}" for i in range(L))
        )
        self.encoder = DeepStack((n_input, *hidden), activation)
        self.fc_mu = nn.Linear(hidden[-1], n_bottleneck)
        self.fc_logvar = nn.Linear(hidden[-1], n_bottleneck)
        self.decoder = DeepStack((n_bottleneck, *hidden[::-1], n_input), activation, sigmoid_output=True)

    def forward(self, x: Tensor) -> AEOutput:
        enc = self.encoder(x)
        mu, logvar = self.fc_mu(enc[-1]), self.fc_logvar(enc[-1])
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        dec = self.decoder(z)
        layers = dict(zip(self.layer_names, enc + [z] + dec[:-1]))
        return AEOutput(layers, dec[-1], {"mu": mu, "logvar": logvar})

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)[-1]

    @staticmethod
    def kl_divergence(mu: Tensor, logvar: Tensor) -> Tensor:
        r""":math:`\mathrm{KL}(\mathcal N(\mu, \sigma^2) \,\|\, \mathcal N(0, 1)) = -\frac12 \sum (1 + \log\sigma^2 - \mu^2 - \sigma^2)`, summed over all elements."""
        return -0.5 * torch.sum(1.0 + logvar - mu.pow(2) - logvar.exp())

    def loss(self, out: AEOutput, x: Tensor, y: Tensor | None = None) -> Tensor:
        bce = F.binary_cross_entropy(out.x_hat, x, reduction="sum")
        return bce + self.kl_divergence(out.extras["mu"], out.extras["logvar"])


# --------------------------------------------------------------------------------------- label
class LabelAE(Autoencoder):
    r"""Label autoencoder (LAE, Appendix B): a deep AE whose softmax bottleneck is trained to be the label.

    .. math::
        Z = \mathrm{softmax}(E_2 W_Z^T + b_Z), \qquad
        \mathcal L = \mathrm{MSE}(X, X') - \frac{\lambda}{N} \sum_{i=1}^N \sum_{j=1}^{n_Z} Y_{ij} \log Z_{ij},

    with one-hot labels :math:`Y` (:math:`n_Z \ge` the number of classes; with :math:`n_Z` larger
    than the number of classes the extra units are classes that never occur). :math:`\log Z` is
    computed as ``log_softmax`` of the logits. All other layers are sigmoid. ``MSE`` is the mean
    over all elements, like the other AEs.

    Args:
        n_input: input size. Default: 784
        hidden: encoder layer sizes; the decoder mirrors them. Default: ``(256, 128)``
        n_classes: number of classes. Default: 10
        n_bottleneck: size of Z; ``None`` means ``n_classes`` (the paper). The authors' script
            used 50. Default: ``None``
        lam: weight :math:`\lambda` of the cross entropy. Default: 0.01

    Shape:
        - Input: :math:`(N, n_X)`; labels ``y`` either int64 :math:`(N,)` class indices or
          :math:`(N, n_Z)` probability rows (e.g. one-hot).
        - Output: ``AEOutput`` with ``layers`` E1, E2, Z, D1, D2 (``Z`` :math:`(N, n_Z)`, rows
          summing to 1), ``x_hat`` :math:`(N, n_X)` and ``extras["logits"]`` :math:`(N, n_Z)`.
    """

    def __init__(
        self,
        n_input: int = N_INPUT,
        hidden: Sequence[int] = DEEP_HIDDEN,
        n_classes: int = 10,
        n_bottleneck: int | None = None,
        lam: float = 0.01,
        activation: str = "sigmoid",
    ) -> None:
        super().__init__()
        hidden = tuple(hidden)
        if n_bottleneck is None:
            n_bottleneck = n_classes
        check_sizes(
            n_input=n_input, n_classes=n_classes, n_bottleneck=n_bottleneck,
            **{f"hidden[{i}]": h for i, h in enumerate(hidden)},
        )
        if n_bottleneck < n_classes:
            raise ValueError(f"n_bottleneck ({n_bottleneck}) must be >= n_classes ({n_classes})")
        if lam < 0:
            raise ValueError(f"lam must be >= 0; got {lam!r}")
        self.n_input, self.n_bottleneck, self.n_classes, self.hidden = n_input, n_bottleneck, n_classes, hidden
        self.lam, self.activation = float(lam), activation
        L = len(hidden)
        self.layer_names = (
            tuple(f"E{i + 1}" for i in range(L)) + ("Z",) + tuple(f"D{i + 1}" for i in range(L))
        )
        self.encoder = DeepStack((n_input, *hidden), activation)
        self.fc_logits = nn.Linear(hidden[-1] if hidden else n_input, n_bottleneck)
        self.decoder = DeepStack((n_bottleneck, *hidden[::-1], n_input), activation, sigmoid_output=True)

    def forward(self, x: Tensor) -> AEOutput:
        enc = self.encoder(x)
        logits = self.fc_logits(enc[-1] if enc else x)
        z = torch.softmax(logits, dim=-1)
        dec = self.decoder(z)
        layers = dict(zip(self.layer_names, enc + [z] + dec[:-1]))
        return AEOutput(layers, dec[-1], {"logits": logits})

    def decode(self, z: Tensor) -> Tensor:
        """Decoder alone: :math:`X'` from bottleneck vectors ``z`` (e.g. noisy one-hot labels, Fig. A3)."""
        return self.decoder(z)[-1]

    def cross_entropy(self, logits: Tensor, y: Tensor) -> Tensor:
        r""":math:`-\frac1N \sum_{i,j} Y_{ij} \log \mathrm{softmax}(\text{logits})_{ij}`; ``y`` indices or rows."""
        log_z = F.log_softmax(logits, dim=-1)
        if y.dim() == 1:
            if y.dtype.is_floating_point:
                raise ValueError("class-index labels y must be an integer tensor")
            return F.nll_loss(log_z, y)
        if y.shape != logits.shape:
            raise ValueError(f"label rows y must have shape {tuple(logits.shape)}; got {tuple(y.shape)}")
        return -(y * log_z).sum(dim=-1).mean()

    def loss(self, out: AEOutput, x: Tensor, y: Tensor | None = None) -> Tensor:
        if y is None:
            raise ValueError("the label AE needs the labels y for its loss")
        return F.mse_loss(out.x_hat, x) + self.lam * self.cross_entropy(out.extras["logits"], y)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, n_classes={self.n_classes}, lam={self.lam}"


# ---------------------------------------------------------------------------------- classifier
class Classifier(nn.Module):
    r"""The supervised control: the deep AE's encoder and a softmax classifier :math:`X - E_1 - E_2 - Z - \hat Y`.

    .. math::
        E_1 = \sigma(X W_1^T + b_1), \quad E_2 = \sigma(E_1 W_2^T + b_2), \quad
        Z = \sigma(E_2 W_3^T + b_3), \quad \hat Y = \mathrm{softmax}(Z W_4^T + b_4),

        \mathcal L = -\frac1N \sum_i \log \hat Y_{i, y_i},

    the cross entropy of the labels (mean over the batch). Section IV of the paper contrasts the
    autoencoders with "general supervised learning", which "maintained the output mutual
    information as constant during the simplifying phase"; this network tests it. Its information
    plane is I(X; T) and I(T; Y) with Y the true labels (:attr:`plane_target` ``"labels"``).

    Args:
        n_input: input size. Default: 784
        hidden: sizes of the layers before Z. Default: ``(256, 128)``
        n_bottleneck: size of Z. Default: 50
        n_classes: number of classes. Default: 10
        activation: the nonlinearity of E1, E2 and Z, one of :data:`~ipbook.nets.layers.ACTIVATION_NAMES`. Default: ``"sigmoid"``

    Shape:
        - Input: :math:`(N, n_X)`; labels ``y`` int64 :math:`(N,)`.
        - Output: ``AEOutput`` with ``layers`` E1 :math:`(N, 256)`, E2 :math:`(N, 128)`, Z
          :math:`(N, 50)`, Yhat :math:`(N, n_\text{classes})` (rows summing to 1), ``x_hat`` the
          class probabilities (the same tensor as ``Yhat``) and ``extras["logits"]``.
    """

    plane_target = "labels"

    def __init__(self, n_input: int = N_INPUT, hidden: Sequence[int] = DEEP_HIDDEN, n_bottleneck: int = N_BOTTLENECK,
                 n_classes: int = 10, activation: str = "sigmoid") -> None:
        super().__init__()
        hidden = tuple(hidden)
        check_sizes(n_input=n_input, n_bottleneck=n_bottleneck, n_classes=n_classes,
                     **{f"hidden[{i}]": h for i, h in enumerate(hidden)})
        self.n_input, self.n_bottleneck, self.hidden = n_input, n_bottleneck, hidden
        self.n_classes, self.activation = n_classes, activation
        self.layer_names = tuple(f"E{i + 1}" for i in range(len(hidden))) + ("Z", "Yhat")
        self.encoder = DeepStack((n_input, *hidden, n_bottleneck), activation)
        self.fc_logits = nn.Linear(n_bottleneck, n_classes)

    def forward(self, x: Tensor) -> AEOutput:
        enc = self.encoder(x)
        logits = self.fc_logits(enc[-1])
        y_hat = torch.softmax(logits, dim=-1)
        return AEOutput(dict(zip(self.layer_names, enc + [y_hat])), y_hat, {"logits": logits})

    def loss(self, out: AEOutput, x: Tensor, y: Tensor | None = None) -> Tensor:
        if y is None:
            raise ValueError("the classifier needs the labels y for its loss")
        return F.cross_entropy(out.extras["logits"], y)

    def extra_repr(self) -> str:
        return f"layers={self.layer_names}, n_classes={self.n_classes}"


# ------------------------------------------------------------------------------------- factory
def label_interpolations(model: "LabelAE", start: int = 0, n_a: int = 11) -> tuple[Tensor, Tensor]:
    r"""Decode :math:`Z = a\,e_{start} + (1 - a)\,e_j` for every other class j (Fig. A3).

    Args:
        model: a trained :class:`LabelAE` whose bottleneck has one unit per class.
        start: the class of the one-hot vector at :math:`a = 1` (0: the digit zero).
        n_a: number of mixing weights, from :math:`a = 1` down to :math:`a = 0`.

    Returns:
        ``(a, images)``: ``a`` of shape :math:`(n_a,)` and ``images`` of shape
        :math:`(n_Z - 1, n_a, n_\text{input})`, row j-th the path from class ``start`` to the
        j-th other class.
    """
    n_z = model.n_bottleneck
    if not 0 <= start < n_z:
        raise ValueError(f"start must be a class index in [0, {n_z}); got {start}")
    a = torch.linspace(1.0, 0.0, n_a)
    eye = torch.eye(n_z)
    others = [j for j in range(n_z) if j != start]
    z = torch.stack([a[:, None] * eye[start] + (1 - a[:, None]) * eye[j] for j in others])
    device = next(model.parameters()).device
    with torch.no_grad():
        images = model.decode(z.reshape(-1, n_z).to(device)).reshape(len(others), n_a, -1)
    return a, images.cpu()


def build_model(name: str, *, n_classes: int = 10, bottleneck: int | None = None,
                activation: str = "sigmoid", sparsity: float | None = None) -> nn.Module:
    """Build one of the paper's autoencoders, or the supervised control, by name with the paper's sizes.

    Args:
        name: one of :data:`MODEL_NAMES` or :data:`CLASSIFIER_NAMES`.
        n_classes: number of classes (used by the label AE only). Default: 10
        bottleneck: size of Z; ``None`` means the paper's: 50, or ``n_classes`` for the label AE.
        activation: the hidden layers' nonlinearity, one of :data:`~ipbook.nets.layers.ACTIVATION_NAMES`. Default: sigmoid
        sparsity: the sparse AE's KL weight λ; ``None`` means the paper's 1e-3. Sparse AE only.

    Raises:
        ValueError: unknown ``name`` or ``activation``; ``sparsity`` for another model.
    """
    if name not in MODEL_NAMES + CLASSIFIER_NAMES:
        raise ValueError(f"unknown model {name!r}; valid names are {', '.join(MODEL_NAMES + CLASSIFIER_NAMES)}")
    activation_function(activation)
    if sparsity is not None and name != "sparse":
        raise ValueError(f"sparsity (the KL weight) applies to the sparse AE only; got model {name!r}")
    if name == "classifier":
        return Classifier(n_classes=n_classes, activation=activation,
                          **({} if bottleneck is None else {"n_bottleneck": bottleneck}))
    if name == "label":
        return LabelAE(n_classes=n_classes, n_bottleneck=bottleneck, activation=activation)
    nz = N_BOTTLENECK if bottleneck is None else bottleneck
    if name == "sparse":
        return SparseAE(n_bottleneck=nz, activation=activation, **({} if sparsity is None else {"lam": sparsity}))
    cls = {"shallow": ShallowAE, "deep": DeepAE, "tied": TiedAE, "vae": VAE}[name]
    return cls(n_bottleneck=nz, activation=activation)
