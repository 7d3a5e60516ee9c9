"""ipbook.InformationPlaneRecorder: hooks, values, schedule, modes, cleanup and bad input, and one
test per defect of issue 31 (D1-D11), each on a small model built here."""
import copy
import io
import math
import textwrap
from collections import OrderedDict

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
    assert list(frame.columns) == ["step", "layer", "estimator", "setting", "i_xt", "i_ty", "n", "width", "sigma",
                                   "ceiling_xt", "ceiling_ty", "saturated", "saturated_ty"]


def test_the_schedule_fires_at_the_requested_steps():
    x, _ = _data()
    seq = nn.Sequential(nn.Linear(12, 4))
    for kwargs, expected in (({"every": 4}, [0, 4, 8]), ({"steps": [1, 5, 9]}, [1, 5, 9]),
                             ({"log_steps": 4, "total": 10}, [0, 1, 2, 5, 10])):
        rec = InformationPlaneRecorder(seq, ["0"], x, estimators=["binning"], **kwargs)
        fired = [s for s in range(11) if rec.step(s)]
        assert fired == expected and sorted(set(rec.to_frame().step)) == expected, kwargs
        rec.close()


def test_training_mode_is_restored_and_the_model_carries_no_hook_between_measurements():
    x, _ = _data()
    model = Custom().train()
    with InformationPlaneRecorder(model, ["act"], x, every=1, estimators=["binning"]) as rec:
        rec.step(0)
        assert model.training and model.drop.training
        assert len(model.act._forward_hooks) == 0
        model.eval()
        rec.step(1)
        assert not model.training                   # the mode it had, whatever it was
    with pytest.raises(RuntimeError, match="closed"):
        rec.measure(2)
    assert len(rec.to_frame()) == 2


def test_bad_input_gets_a_clear_error():
    x, y = _data()
    seq = nn.Sequential(nn.Linear(12, 4), nn.ReLU())
    with pytest.raises(ValueError, match=r"unknown layer 'fc9' \(2 named submodules; e.g. 0, 1\)"):
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


# ----------------------------------------------------------------------------- issue 31: D1-D11
class Reshaping(nn.Module):
    """A layer whose first dimension is not N: it reshapes (N, 12, 8) to (12 N, 8)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(8, 4)

    def forward(self, x):
        return self.a(x.reshape(-1, 8))


def test_d1_a_layer_whose_batch_dimension_does_not_hold_the_n_probes_is_refused_at_construction():
    x, y = torch.randn(40, 12, 8), torch.randint(0, 3, (40,))
    with pytest.raises(ValueError, match=r"layer 'a' returns shape \(480, 4\): its batch dimension 0 has 480 "
                                         r"entries, not the 40 probes"):
        InformationPlaneRecorder(Reshaping(), ["a"], x, y, every=1, estimators=["noisy-upper:0.1"])


def test_d2_batch_dim_measures_a_sequence_first_encoder_over_its_n_probes():
    torch.manual_seed(0)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0), 1,
                                enable_nested_tensor=False)
    x = torch.randn(12, 40, 8)                                    # (S, N, E): 40 probes
    rec = InformationPlaneRecorder(enc, ["layers.0"], x, steps=[0], batch_dim=1, estimators=["noisy-upper:0.1"])
    rec.step(0)
    row = rec.to_frame().iloc[0]
    with torch.no_grad():
        t = enc.eval()(x).transpose(0, 1).reshape(40, -1)
    assert (row.n, row.width) == (40, 96)
    assert row.ceiling_xt == pytest.approx(math.log2(40), abs=1e-12)
    assert row.i_xt == pytest.approx(noisy_upper(t.double(), 0.1), abs=1e-9)


def test_d3_each_submodule_keeps_its_own_training_flag_and_a_frozen_batchnorm_its_statistics():
    x, _ = _data()
    model = nn.Sequential(nn.Linear(12, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)).train()
    model[1].eval()                                               # a frozen BatchNorm
    mean = model[1].running_mean.clone()
    rec = InformationPlaneRecorder(model, ["2"], x, every=1, estimators=["binning:10"])
    rec.step(0)
    assert model.training and model[0].training and not model[1].training
    model(x)                                                      # a training step's forward
    assert torch.equal(model[1].running_mean, mean)


def test_d4_the_model_can_be_saved_copied_and_averaged_with_a_recorder_attached():
    from torch.optim.swa_utils import AveragedModel
    x, _ = _data()
    model = nn.Sequential(nn.Linear(12, 8), nn.Tanh(), nn.Linear(8, 3))
    rec = InformationPlaneRecorder(model, ["1"], x, every=1, estimators=["binning:10"])
    rec.step(0)
    torch.save(model, io.BytesIO())                               # no local hook to pickle
    twin, avg = copy.deepcopy(model), AveragedModel(model)
    rec.step(1)
    rec.close()
    assert not any(m._forward_hooks for net in (model, twin, avg) for m in net.modules())
    assert len(rec.to_frame()) == 2


class Twice(nn.Module):
    """A module (``act``) called twice per forward pass."""

    def __init__(self):
        super().__init__()
        self.fc, self.act, self.out = nn.Linear(12, 12), nn.Tanh(), nn.Linear(12, 3)

    def forward(self, x):
        return self.out(self.act(self.fc(self.act(x))))


def test_d5_a_module_called_twice_is_refused_unless_a_call_is_picked():
    x, _ = _data()
    model = Twice()
    with pytest.raises(ValueError, match=r"layer 'act' runs 2 times in one forward pass.*call=\{'act': 0\}"):
        InformationPlaneRecorder(model, ["act"], x, every=1, estimators=["binning:10"])
    with torch.no_grad():
        first, last = torch.tanh(x), torch.tanh(model.fc(torch.tanh(x)))
    for pick, want in ((0, first), (-1, last)):
        rec = InformationPlaneRecorder(model, ["act"], x, steps=[0], estimators=["noisy-upper:0.1"], call={"act": pick})
        rec.step(0)
        assert rec.to_frame().i_xt.iloc[0] == pytest.approx(noisy_upper(want.double(), 0.1), abs=1e-12)


class TupleOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm, self.head = nn.LSTM(8, 5, batch_first=True), nn.Linear(5, 3)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


class DictOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(12, 6)

    def forward(self, x):
        return {"h": torch.tanh(self.fc(x)), "aux": x.sum()}


class DictBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = DictOut()

    def forward(self, x):
        return self.block(x)["h"]


def test_d6_outputs_dtypes_and_devices_are_checked_at_construction_and_follow_the_model():
    torch.manual_seed(0)
    seq = torch.randn(40, 6, 8)
    with pytest.raises(TypeError, match=r"layer 'lstm' returns tuple \(Tensor \(40, 6, 5\), tuple .*output="):
        InformationPlaneRecorder(TupleOut(), ["lstm"], seq, every=1)
    rec = InformationPlaneRecorder(TupleOut(), ["lstm"], seq, steps=[0], output={"lstm": 0}, estimators=["binning:10"])
    rec.step(0)
    assert rec.to_frame().width.iloc[0] == 30
    x, _ = _data()
    with pytest.raises(TypeError, match=r"layer 'block' returns dict with keys 'h', 'aux', not a tensor"):
        InformationPlaneRecorder(DictBlock(), ["block"], x, every=1)
    rec = InformationPlaneRecorder(DictBlock(), ["block"], x, steps=[0], output="h", estimators=["binning:10"])
    rec.step(0)
    assert rec.to_frame().width.iloc[0] == 6
    with pytest.raises(ValueError, match=r"the model failed on the probe at construction: probe_x \(40, 12\) "
                                         r"torch.uint8 on cpu; the model's parameters are torch.float32"):
        InformationPlaneRecorder(nn.Sequential(nn.Linear(12, 3)), ["0"], (x * 10).to(torch.uint8), every=1)
    model = nn.Sequential(nn.Linear(12, 8), nn.Tanh())
    rec = InformationPlaneRecorder(model, ["1"], x.double(), every=1, estimators=["noisy-upper:0.1"])   # float64 probe
    rec.step(0)
    model.double()                                                # the model changes dtype after construction
    rec.step(1)
    with torch.no_grad():
        t = model(x.double())
    assert rec.to_frame().i_xt.iloc[1] == pytest.approx(noisy_upper(t, 0.1), abs=1e-12)


def test_d7_nan_activations_are_named_by_layer_and_step_or_recorded_as_nan():
    x, y = _data()
    for nonfinite in ("raise", "record"):
        model = nn.Sequential(nn.Linear(12, 8), nn.Tanh(), nn.Linear(8, 3))
        rec = InformationPlaneRecorder(model, ["1", "2"], x, y, every=5, estimators=["matrix", "binning:10"],
                                       nonfinite=nonfinite)
        rec.step(0)
        with torch.no_grad():
            model[2].weight[0, 0] = float("nan")                  # layer "2" diverges
        if nonfinite == "raise":
            with pytest.raises(ValueError, match=r"layer '2' at step 5: 40 of 120 activations are NaN or inf"):
                rec.step(5)
            continue
        rec.step(5)
        rec.step(10)
        f = rec.to_frame().set_index(["step", "layer", "estimator"])
        assert f.loc[(5, "2")].i_xt.isna().all() and f.loc[(10, "2")].i_ty.isna().all()
        assert f.loc[(5, "1")].i_xt.notna().all() and not f.loc[(5, "2")].saturated.any()


def test_d8_labels_as_integers_floats_or_one_hot_give_the_same_values():
    x, y = _data(n=60)
    model = nn.Sequential(nn.Linear(12, 6), nn.Sigmoid())
    ests = ["matrix", "noisy-upper:0.1", "binning:10"]
    frames = []
    for labels in (y, y.float(), nn.functional.one_hot(y).float(), y.numpy(), y[:, None]):
        rec = InformationPlaneRecorder(model, ["1"], x, labels, steps=[0], estimators=ests)
        rec.step(0)
        frames.append(rec.to_frame())
    assert frames[0].i_ty.notna().all() and (frames[0].i_ty > 0).all()
    for f in frames[1:]:
        assert np.array_equal(f.i_ty.to_numpy(), frames[0].i_ty.to_numpy())
    with pytest.raises(ValueError, match=r"noisy-upper:0.1 measure\(s\) I\(T;Y\) against class labels"):
        InformationPlaneRecorder(model, ["1"], x, torch.randn(60), every=1, estimators=["matrix", "noisy-upper:0.1"])


def _named():
    return nn.Sequential(OrderedDict(fc=nn.Linear(12, 8), act=nn.Tanh(), head=nn.Linear(8, 3)))


def test_d9_layer_arguments_one_string_module_objects_closest_names_duplicates():
    x, _ = _data()
    model = _named()
    rec = InformationPlaneRecorder(model, "act", x, steps=[0], estimators="binning:10")
    assert rec.layers == ["act"]
    assert InformationPlaneRecorder(model, [model.head, "fc"], x, every=1).layers == ["head", "fc"]
    with pytest.raises(ValueError, match=r"unknown layer 'acts' \(3 named submodules; closest: act\)"):
        InformationPlaneRecorder(model, ["acts"], x, every=1)
    with pytest.raises(ValueError, match=r"layer\(s\) \['act'\] given twice"):
        InformationPlaneRecorder(model, ["act", model.act], x, every=1)
    with pytest.raises(ValueError, match="estimators is empty"):
        InformationPlaneRecorder(model, "act", x, every=1, estimators=[])
    with pytest.raises(ValueError, match="estimator"):
        InformationPlaneRecorder(model, "act", x, every=1, estimators=["binning:10", "binning:10"])


def test_d9_schedule_numbers_and_a_step_measured_twice():
    x, _ = _data()
    model = _named()
    rec = InformationPlaneRecorder(model, "act", x, every=np.int64(5), estimators="binning:10")
    assert [s for s in range(11) if rec.step(s)] == [0, 5, 10]
    with pytest.raises(ValueError, match="step 5 is already measured"):
        rec.step(5)
    assert len(rec.to_frame()) == 3
    with pytest.raises(ValueError, match="every must be an integer >= 1; got True"):
        InformationPlaneRecorder(model, "act", x, every=True)


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc, self.act = nn.Linear(12, 6), nn.Tanh()

    def forward(self, x, mask):
        return self.act(self.fc(x * mask))


def test_d9_tuple_and_dict_inputs_and_a_compiled_model():
    x, _ = _data()
    mask = (torch.arange(12) % 2).float().expand(40, 12)
    for probe in ((x, mask), {"x": x, "mask": mask}):
        model = TwoInputs()
        rec = InformationPlaneRecorder(model, ["act"], probe, steps=[0], estimators=["noisy-upper:0.1"])
        rec.step(0)
        with torch.no_grad():
            t = model(x, mask)
        assert rec.to_frame().i_xt.iloc[0] == pytest.approx(noisy_upper(t.double(), 0.1), abs=1e-12)
    model = _named()
    compiled = torch.compile(model, backend="eager")
    for name in ("act", "_orig_mod.act"):
        rec = InformationPlaneRecorder(compiled, [name], x, steps=[0], estimators=["noisy-upper:0.1"])
        rec.step(0)
        with torch.no_grad():
            t = model.act(model.fc(x))
        assert rec.layers == ["act"]
        assert rec.to_frame().i_xt.iloc[0] == pytest.approx(noisy_upper(t.double(), 0.1), abs=1e-12)


def test_d10_the_documented_loop_records_the_initial_state(tmp_path, monkeypatch):
    import ipbook.nets.recorder as R
    monkeypatch.chdir(tmp_path)
    block = R.__doc__.split(".. code-block:: python\n")[1].splitlines()
    code = textwrap.dedent("\n".join(line for line in block[:next(i for i, line in enumerate(block)
                                                                  if line and not line.startswith(" "))]))
    torch.manual_seed(0)
    model = nn.Sequential(OrderedDict(encoder=nn.Sequential(nn.Linear(12, 8), nn.Tanh(), nn.Linear(8, 4), nn.Tanh())))
    x, y = _data(n=120)
    scope = {"model": model, "x": x, "y": y, "steps": 20}
    exec(code, scope)  # noqa: S102 -- the docstring's own example, run as a user would
    assert sorted(scope["frame"].step.unique()) == [0, 10, 20]


def test_d11_every_row_carries_n_width_ceilings_and_saturation_and_the_matrix_ceiling_is_s_y():
    from ipbook import verdicts
    from ipbook.estimators.matrix import gram_matrix, renyi_entropy, scott_bandwidth
    from ipbook.nets import recorder_frame
    torch.manual_seed(0)
    n = 100
    x, y = torch.randn(n, 12), torch.arange(n) % 10                 # ten balanced classes
    model = nn.Sequential(nn.Linear(12, 64), nn.Tanh(), nn.Linear(64, 1), nn.ReLU())
    with torch.no_grad():
        model[2].bias.fill_(-100.0)                               # layer "3" is all zeros
    rec = InformationPlaneRecorder(model, ["1", "3"], x, y, steps=[0], estimators=["matrix", "binning:30"])
    rec.step(0)
    f = rec.to_frame().set_index(["layer", "estimator"])
    s_y = renyi_entropy(gram_matrix(nn.functional.one_hot(y).double(), sigma=scott_bandwidth(n, 10, 2.0)))
    # closed form: A's eigenvalues are (1 - c)/10 + c once and (1 - c)/10 nine times, c = exp(-1/σ²)
    c = math.exp(-1 / scott_bandwidth(n, 10, 2.0) ** 2)
    closed = math.log2(((1 - c) / 10 + c) ** 1.01 + 9 * ((1 - c) / 10) ** 1.01) / (1 - 1.01)
    assert s_y == pytest.approx(closed, abs=1e-9) and closed == pytest.approx(2.008, abs=5e-4)   # < log2 10
    assert np.allclose(f.ceiling_ty.loc[(slice(None), "matrix")], s_y, rtol=0, atol=1e-9)
    assert f.ceiling_ty.loc[("1", "binning")] == pytest.approx(math.log2(10), abs=1e-12)
    assert (f.n == n).all() and (f.ceiling_xt == math.log2(n)).all()
    assert list(f.width.loc[(slice(None), "matrix")]) == [64, 1]
    assert f.sigma.loc[("1", "matrix")] == pytest.approx(2 * n ** (-1 / 68), abs=1e-12)
    assert f.i_xt.loc[("1", "binning")] == pytest.approx(math.log2(n), abs=1e-12)   # every probe its own cell
    assert f.saturated.loc[("1", "binning")] and not f.saturated.loc[("3", "binning")]
    assert f.i_xt.loc[("3", "binning")] == 0
    assert (recorder_frame.MARGIN_BITS, recorder_frame.MARGIN_FRAC) == (verdicts.MARGIN_BITS, verdicts.MARGIN_FRAC)


# ----------------------------------------------------------------------------- use it like other tools
def _recorded(**kwargs):
    x, y = _data(n=50)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 6), nn.Tanh(), nn.Linear(6, 3))
    rec = InformationPlaneRecorder(model, ["1", "2"], x, y, every=2, estimators=["matrix", "noisy-upper:0.1", "binning:10"],
                                   **kwargs)
    for s in range(5):
        rec.step(s)
    return rec


def test_save_and_load_round_trip_exactly(tmp_path):
    import pandas as pd
    rec = _recorded()
    frame = rec.to_frame()
    assert set(frame.setting) == {"", "0.1", "10"} and set(frame.layer) == {"1", "2"}
    rec.save(tmp_path / "plane.csv")
    back = InformationPlaneRecorder.load(tmp_path / "plane.csv")
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    assert isinstance(back.layer.iloc[0], str) and back.saturated.dtype == bool
    assert len(pd.read_csv(tmp_path / "plane.csv")) == 18           # plain pandas reads it too


def test_plot_draws_one_panel_per_estimator_with_the_ceilings():
    import matplotlib
    matplotlib.use("Agg")
    from ipbook.site import plotting
    rec = _recorded()
    fig = rec.plot()
    panels = [ax for ax in fig.axes if ax.get_title(loc="left")]
    assert [ax.get_title(loc="left") for ax in panels] == ["matrix", "noisy-upper:0.1", "binning:10"]
    ceiling = [line.get_xdata()[0] for line in panels[0].lines if line.get_linestyle() == "--"]
    assert ceiling == [pytest.approx(math.log2(50))]
    fig2 = plotting.plot_plane(rec.to_frame())
    assert len(fig2.axes) == len(fig.axes)


def test_on_measure_receives_each_steps_rows_and_probe_batch_gives_the_same_values():
    seen = []
    rec = _recorded(on_measure=seen.append)
    assert [sorted(set(f.step)) for f in seen] == [[0], [2], [4]] and all(len(f) == 6 for f in seen)
    batched = _recorded(probe_batch=7).to_frame()
    whole = rec.to_frame()
    assert np.allclose(batched.i_xt, whole.i_xt, rtol=0, atol=1e-6) and np.allclose(batched.i_ty, whole.i_ty, atol=1e-6)
