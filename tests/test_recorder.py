"""ipbook.InformationPlaneRecorder: hooks, values, schedule, modes, cleanup and bad input."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from ipbook import InformationPlaneRecorder, information_plane
from ipbook.estimators.binning import binned_layer_information
from ipbook.estimators.noisy import noisy_upper


class Custom(nn.Module):
    """A module whose forward is not a plain chain: a skip connection and a submodule used once."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(12, 6)
        self.act = nn.Tanh()
        self.head = nn.Linear(6 + 12, 4)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        h = self.act(self.enc(x))
        return self.head(torch.cat([self.drop(h), x], dim=1))


def _data(n=40, d=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, 3, (n,), generator=g)


def test_hooks_capture_exactly_the_named_outputs_of_a_sequential_and_a_custom_module():
    x, _ = _data()
    seq = nn.Sequential(nn.Linear(12, 8), nn.Sigmoid(), nn.Linear(8, 3))
    rec = InformationPlaneRecorder(seq, ["1"], x, steps=[0], estimators=["binning:10"])
    rec.step(0)
    with torch.no_grad():
        manual = torch.sigmoid(seq[0](x))
    assert rec.to_frame().i_xt.iloc[0] == pytest.approx(binned_layer_information(manual.double(), 10), abs=1e-12)
    custom = Custom()
    rec = InformationPlaneRecorder(custom, ["act", "head"], x, steps=[3], estimators=["noisy-upper:0.1"])
    rec.step(3)
    custom.eval()
    with torch.no_grad():
        h = custom.act(custom.enc(x))
        out = custom.head(torch.cat([h, x], dim=1))
    got = rec.to_frame().set_index("layer").i_xt
    assert got["act"] == pytest.approx(noisy_upper(h.double(), 0.1), abs=1e-12)
    assert got["head"] == pytest.approx(noisy_upper(out.double(), 0.1), abs=1e-12)


def test_the_matrix_values_equal_information_plane_on_the_same_activations():
    x, y = _data(n=60)
    seq = nn.Sequential(nn.Linear(12, 8), nn.Sigmoid(), nn.Linear(8, 12))
    rec = InformationPlaneRecorder(seq, ["1"], x, y, steps=[0])
    rec.step(0)
    with torch.no_grad():
        t, x_hat = torch.sigmoid(seq[0](x)), seq(x)
    i_xt, _ = information_plane(x, [t], x_hat)
    frame = rec.to_frame()
    assert frame.i_xt.iloc[0] == pytest.approx(float(i_xt[0]), abs=1e-12)
    assert 0 <= frame.i_ty.iloc[0] <= math.log2(3) + 1e-9          # I(T;Y) cannot exceed H(Y)
    assert list(frame.columns) == ["step", "layer", "estimator", "setting", "i_xt", "i_ty"]


def test_the_schedule_fires_at_the_requested_steps():
    x, _ = _data()
    seq = nn.Sequential(nn.Linear(12, 4))
    for kwargs, expected in ((dict(every=4), [0, 4, 8]), (dict(steps=[1, 5, 9]), [1, 5, 9]),
                             (dict(log_steps=4, total=10), [0, 1, 2, 5, 10])):
        rec = InformationPlaneRecorder(seq, ["0"], x, estimators=["binning"], **kwargs)
        fired = [s for s in range(11) if rec.step(s)]
        assert fired == expected and sorted(set(rec.to_frame().step)) == expected, kwargs
        rec.close()


def test_training_mode_is_restored_and_the_hooks_are_gone_after_close():
    x, _ = _data()
    model = Custom().train()
    with InformationPlaneRecorder(model, ["act"], x, every=1, estimators=["binning"]) as rec:
        rec.step(0)
        assert model.training and model.drop.training
        assert len(model.act._forward_hooks) == 1
        model.eval()
        rec.step(1)
        assert not model.training                   # the mode it had, whatever it was
    assert len(model.act._forward_hooks) == 0
    with pytest.raises(RuntimeError, match="closed"):
        rec.measure(2)
    assert len(rec.to_frame()) == 2


def test_bad_input_gets_a_clear_error():
    x, y = _data()
    seq = nn.Sequential(nn.Linear(12, 4), nn.ReLU())
    with pytest.raises(ValueError, match=r"unknown layer name\(s\) \['fc9'\]; valid submodule names: 0, 1"):
        InformationPlaneRecorder(seq, ["fc9"], x, every=1)
    with pytest.raises(ValueError, match=r"probe_y must have one row per probe: 40; got shape \(39,\)"):
        InformationPlaneRecorder(seq, ["0"], x, y[:39], every=1)
    with pytest.raises(ValueError, match="the recorder cannot record 'ksg'; it records matrix, noisy-upper"):
        InformationPlaneRecorder(seq, ["0"], x, every=1, estimators=["ksg"])
    with pytest.raises(ValueError, match="noise variance > 0"):
        InformationPlaneRecorder(seq, ["0"], x, every=1, estimators=["noisy-upper:-1"])
    with pytest.raises(ValueError, match="exactly one schedule"):
        InformationPlaneRecorder(seq, ["0"], x, every=1, steps=[1])
    assert len(seq[0]._forward_hooks) == 0          # a refused recorder leaves no hook behind


def test_noisy_label_information_is_at_most_the_label_entropy():
    x, y = _data(n=90)
    seq = nn.Sequential(nn.Linear(12, 5), nn.Sigmoid())
    rec = InformationPlaneRecorder(seq, ["1"], x, y, steps=[0], estimators=["noisy-upper:0.01", "binning:30"])
    rec.step(0)
    h_y = -sum(p * math.log2(p) for p in np.bincount(y.numpy()) / 90 if p > 0)
    assert (rec.to_frame().i_ty <= h_y + 1e-9).all() and (rec.to_frame().i_ty >= -1e-9).all()
