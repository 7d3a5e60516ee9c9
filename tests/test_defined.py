"""The noise-trained and quantized runs measured where I(X;T) is defined, and the layers' geometry."""
import math

import numpy as np
import pytest
import torch

from ipbook.estimators.noisy import monte_carlo
from ipbook.experiments.defined import DEFINED_COLUMNS, DefinedGrid, defined_estimates, evaluate_defined, load_defined
from ipbook.experiments.geometry import layer_shape
from ipbook.experiments.probes import probe_index
from ipbook.nets.data import load_dataset
from ipbook.nets.training import train

SMALL = DefinedGrid(n=60, passes=3, samples=600, steps=2)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A tiny noisy and a tiny quantized sweep: root/<profile>/fashion-mnist/<run>/seed-0."""
    root = tmp_path_factory.mktemp("sweeps")
    runs = {("noisy", "deep-b0.3"): {"model": "deep", "noise": 0.3},
            ("noisy", "shallow-b0.3"): {"model": "shallow", "noise": 0.3},
            ("quantized", "q4-z5"): {"model": "shallow", "quantize": 4, "bottleneck": 5}}
    for (profile, name), fields in runs.items():
        train(dataset="fashion-mnist", steps=30, ip_every=10, test_points=2, checkpoints=[0, 30], progress=False,
              out_dir=root / profile / "fashion-mnist" / name / "seed-0", **fields)
    return root


def test_the_geometry_of_a_layer_is_the_textbook_one():
    t = torch.tensor([[0.0, 0.0], [0.0, 0.2], [1.0, 0.0], [1.0, 0.2]], dtype=torch.float64)
    shape = layer_shape(t, [0, 0, 1, 1])
    assert shape["clustering_ratio"] == pytest.approx(0.04 / 1.04)       # within 4·0.01, total 4·0.25 + 4·0.01
    assert shape["effective_rank"] == pytest.approx((0.25 + 0.01) ** 2 / (0.25 ** 2 + 0.01 ** 2))
    assert shape["median_distance"] == pytest.approx(float(np.median([0.2, 1, 1.0198, 1.0198, 1, 0.2])), abs=1e-4)
    assert shape["saturated_share"] == pytest.approx(6 / 8)               # the 0s and 1s: 6 of the 8 values


def test_a_noisy_deep_run_gets_sp_values_and_its_first_layer_is_monte_carlo(sweep):
    from ipbook.nets.runs import load_run

    run = load_run(sweep / "noisy" / "fashion-mnist" / "deep-b0.3" / "seed-0")
    rows = defined_estimates(run, SMALL)
    assert list(rows.columns) == DEFINED_COLUMNS and sorted(set(rows.step)) == [0, 30]
    sp = rows[rows.quantity == "i_xt_sp"]
    assert set(sp.layer) == {"E1", "E2", "Z", "D1", "D2"}
    assert ((sp.value >= -3 * sp.stderr) & (sp.value <= math.log2(60) + 3 * sp.stderr)).all()
    test = load_dataset("fashion-mnist", "test")
    x = test.x[probe_index(0, "test", 60, 0, len(test.x))].float()
    with torch.no_grad():
        e1 = run.model_at(30)(x).layers["E1"].double()
    first = sp[(sp.layer == "E1") & (sp.step == 30)]
    assert float(first.value.iloc[0]) == monte_carlo(e1, 0.09, samples=600)[0]


def test_a_quantized_run_is_counted_over_every_image(sweep):
    from ipbook.nets.runs import load_run

    rows = defined_estimates(load_run(sweep / "quantized" / "fashion-mnist" / "q4-z5" / "seed-0"), SMALL)
    h = rows[(rows.quantity == "h_z")].set_index(["step", "split"]).value
    n = rows[(rows.quantity == "log2_n")].set_index(["step", "split"]).value
    assert (h <= n + 1e-12).all() and (h > 0).all()
    assert set(rows[rows.quantity == "h_z"].n) == {60000, 10000}
    i_zy = rows[rows.quantity == "i_zy"].value
    assert ((i_zy >= 0) & (i_zy <= math.log2(10) + 1e-12)).all()


def test_a_deterministic_run_is_refused(tmp_path):
    run = train(model="shallow", dataset="fashion-mnist", steps=10, ip_every=10, test_points=2,
                checkpoints=[0, 10], progress=False, out_dir=tmp_path / "plain")
    with pytest.raises(ValueError, match="neither noise inside nor a quantized bottleneck"):
        defined_estimates(run, SMALL)


@pytest.mark.slow
def test_the_grid_writes_the_table_and_keeps_it(sweep, tmp_path):
    info = evaluate_defined("fashion-mnist", "noisy", grid=SMALL, seeds=[0], runs=["shallow-b0.3"], root=sweep,
                            out=tmp_path, workers=1, progress=False)
    assert info["written"] and info["evaluated"] == ["shallow-b0.3/seed-0"]
    table = load_defined("fashion-mnist", "noisy", tmp_path)
    assert list(table.columns) == DEFINED_COLUMNS and len(table) == info["rows"]


def test_the_command_without_checkpoints_says_so_and_writes_nothing(tmp_path, capsys):
    from ipbook.cli import main

    assert main(["defined", "--profile", "quantized", "--dataset", "fashion-mnist", "--root", str(tmp_path),
                 "--out", str(tmp_path / "out")]) == 0
    assert "nothing to evaluate" in capsys.readouterr().out and not (tmp_path / "out").exists()


def test_the_final_weights_recount_the_last_checkpoints_codes(sweep):
    from ipbook.experiments.defined import FINAL_WEIGHTS, keep_final_weights, recount_codes
    from ipbook.nets.runs import load_run

    written = keep_final_weights("fashion-mnist", root=sweep)
    run_dir = sweep / "quantized" / "fashion-mnist" / "q4-z5" / "seed-0"
    assert written == [run_dir / FINAL_WEIGHTS]
    assert (run_dir / FINAL_WEIGHTS).stat().st_size < 100_000          # 5 units: small enough to commit
    counted = recount_codes(run_dir)
    rows = defined_estimates(load_run(run_dir), SMALL, steps=[30])
    h = rows[rows.quantity == "h_z"].set_index("split").value
    assert counted["step"] == 30
    assert counted["train"]["h_t"] == pytest.approx(h["train"], abs=1e-12)
    assert counted["test"]["h_t"] == pytest.approx(h["test"], abs=1e-12)
    with pytest.raises(ValueError, match="not a quantized run"):
        (sweep / "noisy" / "fashion-mnist" / "shallow-b0.3" / "seed-0" / FINAL_WEIGHTS).write_bytes(b"")
        recount_codes(sweep / "noisy" / "fashion-mnist" / "shallow-b0.3" / "seed-0")
