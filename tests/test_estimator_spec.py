"""The one estimator interface: spec strings, parse_spec, Estimator objects and the batched matrix MI."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from ipbook import InformationPlaneRecorder
from ipbook.estimators import (
    PAPER,
    MatrixEstimator,
    Setting,
    VariableSample,
    binned_mutual_information,
    ksg_mutual_information,
    mutual_information,
    noisy_lower,
    noisy_upper,
    parse_spec,
    planes_under,
    vae_lower_bound,
    vae_rate,
)
from ipbook.nets.config import TrainConfig

SPECS = ["matrix", "matrix:gamma=8", "matrix:gamma=0.5", "matrix:rule=median", "matrix:rule=tapia",
         "matrix:alpha=2", "matrix:rule=median,gamma=2,alpha=1", "noisy-upper:0.1", "noisy-lower:0.1",
         "noisy-upper:0.001", "noisy-lower:1", "binning:30", "binning:10", "ksg", "vae-rate", "vae-lower"]


def _pair(n=100, d=3, seed=0):
    g = np.random.default_rng(seed)
    x = g.normal(size=(n, d))
    return x, np.tanh(x @ g.normal(size=(d, 2))) + 0.3 * g.normal(size=(n, 2))


@pytest.mark.parametrize("spec", SPECS)
def test_every_spec_round_trips_through_its_canonical_string(spec):
    est = parse_spec(spec)
    assert est.spec == spec                       # these are written canonically already
    assert parse_spec(est.spec) == est and parse_spec(est) is est


def test_spellings_of_one_setting_have_one_canonical_spec():
    assert parse_spec("matrix:gamma=2,alpha=1.01,rule=scott").spec == "matrix"
    assert parse_spec("matrix:alpha=2.0,rule=tapia").spec == "matrix:rule=tapia,alpha=2"
    assert parse_spec("matrix:rule=median,gamma=1").spec == "matrix:rule=median"   # γ = 1: the rule's own
    assert parse_spec("noisy-upper").spec == "noisy-upper:0.1" and parse_spec("noisy-lower:1e-3").spec == "noisy-lower:0.001"
    assert parse_spec("binning").spec == "binning:30"
    assert parse_spec("matrix") == MatrixEstimator() == MatrixEstimator("scott", 2.0, 1.01) == PAPER.estimator
    assert Setting(gamma=8.0).estimator.spec == "matrix:gamma=8"


@pytest.mark.parametrize("spec, message", [
    ("kde", "unknown estimator 'kde'; accepted: matrix[:rule="),
    ("ksg:3", "ksg takes no setting; accepted: matrix"),
    ("matrix:rule=silverman", "unknown bandwidth rule 'silverman'; valid: scott, median, tapia"),
    ("matrix:beta=2", "matrix takes rule=, gamma=, alpha= and method= once each"),
    ("matrix:gamma=0", "gamma must be a finite number > 0; got 0.0"),
    ("matrix:alpha=nan", "alpha must be a finite number > 0; got nan"),
    ("noisy-upper:-1", "noisy-upper takes a noise variance > 0 (finite)"),
    ("noisy-lower:big", "'big' is not a number; accepted: matrix"),
    ("binning:1", "binning takes a bin count >= 2, e.g. 'binning:30'; got 1"),
    ("binning:2.5", "binning takes a bin count >= 2"),
])
def test_a_bad_spec_gets_one_line_naming_it_and_what_is_accepted(spec, message):
    with pytest.raises(ValueError) as err:
        parse_spec(spec)
    text = str(err.value)
    assert text.startswith(f"bad estimator spec {spec!r}: ") and message in text and "\n" not in text


def test_each_estimator_equals_the_family_function_it_wraps():
    x, y = _pair()
    assert parse_spec("matrix").estimate(x, y) == mutual_information(x, y)
    assert parse_spec("matrix:gamma=8").estimate(x, y) == mutual_information(x, y, gamma=8.0)
    assert parse_spec("matrix:rule=median").estimate(x, y) == mutual_information(x, y, rule="median", gamma=1.0)
    assert parse_spec("matrix:rule=tapia,alpha=2").estimate(x, y) == mutual_information(x, y, rule="tapia", gamma=1.0,
                                                                                       alpha=2.0)
    assert parse_spec("binning:10").estimate(x, y) == binned_mutual_information(x, y, bins=10)
    assert parse_spec("ksg").estimate(x, y) == ksg_mutual_information(x, y)
    assert parse_spec("noisy-upper:0.1").estimate(x, y) == noisy_upper(y, 0.1)
    assert parse_spec("noisy-lower:0.01").estimate(x, VariableSample(y)) == noisy_lower(y, 0.01)
    mu, logvar = x, 0.1 * y[:, :1].repeat(3, axis=1)
    assert parse_spec("vae-rate").estimate(mu, logvar) == vae_rate(mu, logvar)
    assert parse_spec("vae-lower").estimate(mu, logvar) == vae_lower_bound(mu, logvar)
    with pytest.raises(ValueError, match="same number of samples"):
        parse_spec("noisy-upper").estimate(x[:50], y)


def test_ceilings_are_log2_n_where_the_estimator_has_one():
    for spec in SPECS:
        expected = None if spec in ("ksg", "vae-rate") else math.log2(100)
        assert parse_spec(spec).ceiling(100) == expected, spec
    # and the values respect it: distinct samples at a narrow kernel, each noise level, each bin count
    x, y = _pair(n=64, d=8)
    for spec in ("matrix:gamma=0.05", "noisy-upper:0.001", "noisy-lower:0.001", "binning:30"):
        est = parse_spec(spec)
        assert 0 <= est.estimate(x, y) <= est.ceiling(64) + 1e-9, spec
    assert parse_spec("matrix:gamma=0.05").estimate(x, x) == pytest.approx(6.0, abs=1e-6)   # saturated: log2 64


def test_batched_matrix_mi_equals_one_call_per_setting_and_layer():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(80, 30, generator=g, dtype=torch.float64)
    layers = [torch.sigmoid(x @ torch.randn(30, w, generator=g, dtype=torch.float64)) for w in (12, 4)]
    target = torch.sigmoid(layers[1] @ torch.randn(4, 30, generator=g, dtype=torch.float64))
    kernels = [parse_spec(s) for s in ("matrix", "matrix:gamma=8", "matrix:rule=median", "matrix:rule=tapia",
                                       "matrix:alpha=2", "matrix:rule=median,alpha=2")]
    out = planes_under(VariableSample(x), layers, kernels, target=target)
    assert out["i_xt"].shape == out["i_ty"].shape == out["s_t"].shape == (6, 2) and out["s_x"].shape == (6,)
    for k, est in enumerate(kernels):
        for l, t in enumerate(layers):
            assert out["i_xt"][k, l] == pytest.approx(est.estimate(x, t), abs=1e-12, rel=0)
            assert out["i_ty"][k, l] == pytest.approx(est.estimate(t, target), abs=1e-12, rel=0)
    # the same numbers from setting triples and from the grid's Settings
    triples = planes_under(x, layers, [(e.rule, e.gamma, e.alpha) for e in kernels])
    np.testing.assert_array_equal(triples["i_xt"], out["i_xt"])
    assert triples["i_ty"] is None and triples["s_y"] is None


def test_the_recorder_takes_any_matrix_spec_and_records_its_canonical_setting():
    torch.manual_seed(0)
    x, y = torch.randn(50, 12), torch.randint(0, 3, (50,))
    seq = nn.Sequential(nn.Linear(12, 6), nn.Sigmoid())
    rec = InformationPlaneRecorder(seq, ["1"], x, y, steps=[0],
                                   estimators=["matrix", "matrix:gamma=8.0", "noisy-upper:1e-1", "binning"])
    rec.step(0)
    frame = rec.to_frame()
    assert list(zip(frame.estimator, frame.setting)) == [("matrix", ""), ("matrix", "gamma=8"),
                                                         ("noisy-upper", "0.1"), ("binning", "30")]
    with torch.no_grad():
        t = seq(x).double()
    assert frame.i_xt.iloc[1] == pytest.approx(mutual_information(x.double(), t, gamma=8.0), abs=1e-12)
    assert rec.to_arrays("matrix:gamma=8")[1][0, 0] == frame.i_xt.iloc[1]
    with pytest.raises(ValueError, match="the recorder cannot record 'vae-rate'"):
        InformationPlaneRecorder(seq, ["1"], x, every=1, estimators=["vae-rate"])


def test_train_config_and_the_grids_check_settings_with_the_one_parser():
    with pytest.raises(ValueError, match="bad estimator spec 'binning:1'"):
        TrainConfig(estimators=("binning:1",))
    with pytest.raises(ValueError, match="unknown bandwidth rule 'silverman'"):
        Setting(rule="silverman")
    from ipbook.experiments.calibration_grid import ESTIMATOR_ORDER, MATRIX_SPECS, TABLE_LABELS, table_spec
    from ipbook.experiments.second_opinion import Grid

    with pytest.raises(ValueError, match="bad estimator spec 'noisy-upper:-0.1'"):
        Grid(variances=(0.1, -0.1))
    assert [e.spec for e in Grid(variances=(0.1,), bins=(30,)).estimators] == ["noisy-upper:0.1", "noisy-lower:0.1",
                                                                               "binning:30"]
    assert ESTIMATOR_ORDER[0] == TABLE_LABELS["matrix"] == "matrix-paper"       # the committed tables' label
    assert [table_spec(TABLE_LABELS[s]) for s in MATRIX_SPECS] == list(MATRIX_SPECS) and table_spec("ksg") == "ksg"
