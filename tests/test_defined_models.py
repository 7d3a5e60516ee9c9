"""Autoencoders whose I(X;T) is defined: noise inside the network and a quantized bottleneck."""
import math

import pytest
import torch

from ipbook.estimators.noisy import sample_propagation
from ipbook.estimators.quantized import code_entropy
from ipbook.nets.defined_models import NoisyDeepAE, NoisyShallowAE, NoisySparseAE, QuantizedAE, quantize
from ipbook.nets.models import DeepAE, ShallowAE


@pytest.fixture
def x():
    return torch.rand(32, 784, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("noisy, plain", [(NoisyShallowAE, ShallowAE), (NoisyDeepAE, DeepAE)])
def test_a_vanishing_noise_gives_the_plain_network_and_a_noise_moves_only_what_follows_it(x, noisy, plain):
    torch.manual_seed(0)
    base = plain()
    quiet, loud = noisy(1e-12), noisy(0.3)
    quiet.load_state_dict(base.state_dict()), loud.load_state_dict(base.state_dict())
    torch.testing.assert_close(quiet(x).x_hat, base(x).x_hat, rtol=0, atol=1e-9)
    a, b = loud(x), loud(x)
    first = next(iter(a.layers))
    assert torch.equal(a.layers[first], b.layers[first])    # before any noise: deterministic
    assert not torch.equal(a.x_hat, b.x_hat)                # after it: two passes differ
    if len(a.layers) > 1:
        assert not torch.equal(a.layers["Z"], b.layers["Z"])


def test_the_sparse_ae_keeps_its_penalty_under_noise(x):
    m = NoisySparseAE(0.1)
    with torch.no_grad():
        out = m(x)
        assert float(m.loss(out, x)) > float(torch.nn.functional.mse_loss(out.x_hat, x))


def test_sample_propagation_of_a_noisy_deep_ae_lies_in_zero_log2_n(x):
    torch.manual_seed(1)
    m = NoisyDeepAE(0.5)
    with torch.no_grad():
        centres = torch.stack([m(x).layers["E2"] for _ in range(4)], dim=1).double()   # (N, K, d)
    value, stderr = sample_propagation(centres, 0.25, samples=2_000)
    assert -3 * stderr <= value <= math.log2(len(x)) + 3 * stderr


def test_the_quantized_bottleneck_takes_2_to_the_k_levels_and_passes_gradients(x):
    m = QuantizedAE(2)
    out = m(x)
    levels = torch.tensor([0, 1, 2, 3]) / 3
    assert torch.isin(out.layers["Z"].detach().mul(3).round(), levels.mul(3)).all()
    torch.testing.assert_close(out.layers["Z"].detach(), m.codes(x).float() / 3)
    m.loss(out, x).backward()
    assert float(m.encoder.weight.grad.abs().sum()) > 0         # straight-through
    assert 0 <= code_entropy(m.codes(x)) <= math.log2(len(x))


def test_quantize_rounds_to_the_nearest_level():
    z = torch.tensor([0.0, 0.1, 0.2, 0.5, 0.9, 1.0], requires_grad=True)
    torch.testing.assert_close(quantize(z, 1), torch.tensor([0.0, 0.0, 0.0, 0.0, 1.0, 1.0]))
    quantize(z, 1).sum().backward()
    torch.testing.assert_close(z.grad, torch.ones(6))


@pytest.mark.parametrize("make, message", [
    (lambda: NoisyShallowAE(0.0), "beta must be a finite number > 0"),
    (lambda: NoisyDeepAE(float("nan")), "beta must be a finite number > 0"),
    (lambda: QuantizedAE(0), "bits must be an integer from 1 to 16"),
])
def test_bad_settings_get_one_line(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("fields, message", [
    ({"model": "vae", "noise": 0.1}, "noise \\(beta\\) is built for the shallow, deep and sparse AEs"),
    ({"model": "shallow", "noise": -1.0}, "noise \\(beta\\) must be a finite number > 0"),
    ({"model": "deep", "quantize": 4}, "quantize \\(bits\\) is built for the shallow AE"),
    ({"model": "shallow", "quantize": 20}, "must be an integer from 1 to 16"),
])
def test_the_config_says_which_models_take_noise_or_quantization(fields, message):
    from ipbook.nets.config import TrainConfig

    with pytest.raises(ValueError, match=message):
        TrainConfig(**fields)


@pytest.mark.parametrize("fields, cls", [({"model": "deep", "noise": 0.3}, NoisyDeepAE),
                                         ({"model": "sparse", "noise": 0.3}, NoisySparseAE),
                                         ({"model": "shallow", "quantize": 4, "bottleneck": 5}, QuantizedAE)])
def test_a_short_run_trains_the_defined_model_and_its_checkpoints_rebuild_it(tmp_path, fields, cls):
    from ipbook.nets.training import train

    run = train(dataset="fashion-mnist", steps=20, ip_every=10, test_points=2, checkpoints=[0, 20],
                progress=False, out_dir=tmp_path / "run", **fields)
    model = run.model_at(20)
    assert isinstance(model, cls)
    assert run.info["config"][next(iter(k for k in ("noise", "quantize") if k in fields))] is not None
