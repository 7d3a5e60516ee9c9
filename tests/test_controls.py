"""ipbook.experiments.controls: settings read from configs, and the three controls' verdicts on tables whose
answers are known."""
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from ipbook.experiments.controls import CONTROLS, collapsed_runs, control_runs, delta_i, dose_response, saxe_verdict, setting_of, width_verdicts


def test_setting_of_resolves_the_defaults():
    assert setting_of({"model": "deep"}, "activation") == "sigmoid"
    assert setting_of({"model": "deep", "activation": "relu"}, "activation") == "relu"
    assert setting_of({"model": "deep", "bottleneck": None}, "bottleneck") == 50
    assert setting_of({"model": "deep", "bottleneck": 5}, "bottleneck") == 5
    assert setting_of({"model": "shallow"}, "sparsity") == 0.0
    assert setting_of({"model": "sparse", "sparsity": None}, "sparsity") == 1e-3
    assert setting_of({"model": "sparse", "sparsity": 0.1}, "sparsity") == 0.1
    with pytest.raises(ValueError, match="unknown control axis 'depth'"):
        setting_of({"model": "deep"}, "depth")


def _run(config, test_loss=0.01):
    return SimpleNamespace(info={"config": config}, metrics={"test_loss": np.array([0.1, test_loss])})


def test_delta_i_carries_the_judges_verdict_per_layer():
    runs = {"shallow-sigmoid": {0: _run({"model": "shallow"})}, "shallow-relu": {0: _run({"model": "shallow", "activation": "relu"})}}
    phases = pd.DataFrame({"run": ["shallow-sigmoid", "shallow-relu", "other"], "seed": [0, 0, 0], "layer": ["Z"] * 3,
                           "peak": [4.0, 2.5, 4.0], "dI": [1.0, 0.05, 2.0], "dI_frac": [0.25, 0.02, 0.5],
                           "verdict": ["simplifies", "does not simplify", "simplifies"]})
    t = delta_i(phases, runs, "activation")
    assert list(t.run) == ["shallow-sigmoid", "shallow-relu"]                    # runs of other controls left out
    assert list(t.setting) == ["sigmoid", "relu"] and list(t.simplifies) == [True, False]
    assert list(t.does_not) == [False, True]


def test_runs_by_setting_orders_runs_by_their_setting():
    from ipbook.experiments.controls import runs_by_setting

    t = pd.DataFrame({"run": ["deep-nz20", "deep-nz5", "deep-nz20", "deep"], "setting": [20, 5, 20, 50]})
    assert runs_by_setting(t, "n_Z = {}") == {"n_Z = 5": "deep-nz5", "n_Z = 20": "deep-nz20", "n_Z = 50": "deep"}
    assert list(runs_by_setting(pd.DataFrame({"run": ["s", "a"], "setting": [1e-3, 0.0]}), "λ = {:g}")) == ["λ = 0", "λ = 0.001"]


def _table(rows, cannot=()):
    """Verdict rows (model, setting, seed, layer, simplifies); a layer that does not simplify is
    "does not simplify" unless its (model, setting, seed, layer) is in ``cannot``."""
    t = pd.DataFrame(rows, columns=["model", "setting", "seed", "layer", "simplifies"])
    unjudged = [tuple(r) in set(cannot) for r in t[["model", "setting", "seed", "layer"]].itertuples(index=False)]
    return t.assign(does_not=~t.simplifies & ~np.array(unjudged, dtype=bool))


def test_saxe_verdict():
    rows = [(m, a, s, "Z", a in ("sigmoid", "tanh")) for m in ("shallow", "deep")
            for a in ("sigmoid", "tanh", "relu", "linear") for s in (0, 1)]
    v = saxe_verdict(_table(rows))
    assert v["holds"] and v["counts"].loc[("deep", "tanh"), "sum"] == 2
    rows[-1] = ("deep", "linear", 1, "Z", True)                                   # one seed compresses with no nonlinearity
    assert not saxe_verdict(_table(rows))["holds"]
    rows[-1] = ("deep", "linear", 1, "Z", False)
    assert not saxe_verdict(_table(rows, cannot=[("deep", "linear", 1, "Z")]))["holds"]   # an absence not shown


def test_width_verdicts_tell_the_two_hypotheses_apart():
    layers = ("E1", "E2", "Z", "D1", "D2")
    yu = [("deep", n, 0, l, l == "Z" and n > 10) for n in (2, 5, 10, 20, 50) for l in layers]
    assert width_verdicts(_table(yu)) == {"yu_principe": True, "tapia_estevez": False, "intrinsic_dim": 10,
                                          "z_every_seed": [20, 50]}
    tapia = [("deep", n, 0, l, n <= 10 and l.startswith("E")) for n in (2, 5, 10, 20, 50) for l in layers]
    assert width_verdicts(_table(tapia)) == {"yu_principe": False, "tapia_estevez": True, "intrinsic_dim": 10,
                                             "z_every_seed": []}


def test_dose_response_averages_over_seeds_per_lambda():
    runs = {"sparse-lam0": {0: _run({"model": "shallow"}, 0.010), 1: _run({"model": "shallow"}, 0.012)},
            "sparse-lam1e-1": {0: _run({"model": "sparse", "sparsity": 0.1}, 0.02), 1: _run({"model": "sparse", "sparsity": 0.1}, 0.02)}}
    table = pd.DataFrame({"run": ["sparse-lam1e-1", "sparse-lam1e-1", "sparse-lam0", "sparse-lam0"], "setting": [0.1, 0.1, 0.0, 0.0],
                          "seed": [0, 1, 0, 1], "layer": ["Z"] * 4, "dI": [3.0, 2.0, 1.0, 1.0],
                          "peak": [4.0, 4.0, 5.0, 3.0], "dI_frac": [0.75, 0.5, 0.2, 1 / 3]})
    geometry = pd.DataFrame({"run": ["sparse-lam1e-1"] * 4 + ["sparse-lam0"] * 2, "seed": [0, 0, 1, 1, 0, 1],
                             "step": [0, 9, 0, 9, 9, 9], "layer": ["Z"] * 6,
                             "mean_activation": [0.5, 0.06, 0.5, 0.04, 0.3, 0.5]})
    d = dose_response(table, geometry, runs)
    assert list(d.lam) == [0.0, 0.1] and list(d.seeds) == [2, 2]
    assert d.dI.tolist() == [1.0, 2.5] and d.dI_sd.iloc[1] == pytest.approx(np.std([3, 2], ddof=1))
    assert d.peak.tolist() == [4.0, 4.0] and d.dI_frac.tolist() == pytest.approx([(0.2 + 1 / 3) / 2, 0.625])
    assert d.mean_activation.tolist() == pytest.approx([0.4, 0.05]) and d.test_loss.tolist() == pytest.approx([0.011, 0.02])


def test_control_runs_join_the_control_profile_with_the_paper_runs(monkeypatch, tmp_path):
    import ipbook.experiments.controls as E   # where control_runs looks load_seeds up

    def fake_load_seeds(dataset, profile, *, runs=None, root=None):
        if profile == "controls-sparsity":
            return {0: {"sparse-lam1e-1": "c0"}, 1: {"sparse-lam1e-1": "c1"}}
        return {1: {"shallow": "s1", "sparse": "p1"}, 2: {"shallow": "s2", "sparse": "p2"}}

    monkeypatch.setattr(E, "load_seeds", fake_load_seeds)
    out = control_runs("sparsity", "mnist", root=tmp_path)
    assert out == {"sparse-lam1e-1": {1: "c1"}, "sparse-lam0": {1: "s1"}, "sparse-lam1e-3": {1: "p1"}}
    monkeypatch.undo()
    assert control_runs(CONTROLS["width"], "mnist", root=tmp_path) == {}


def test_collapsed_runs_end_far_above_the_best_final_test_loss_of_the_control():
    def run(loss):
        return SimpleNamespace(metrics={"test_loss": np.array(loss)})

    runs = {"deep-linear": {0: run([0.2, 0.011, 0.29]), 1: run([0.2, 0.12, 0.12])},   # collapsed; never learned
            "deep-relu": {0: run([0.2, 0.01, 0.049]), 1: run([0.2, 0.01, 0.01])}}
    c = collapsed_runs(runs)
    assert c.to_dict("records") == [{"run": "deep-linear", "seed": 0, "final": 0.29, "best": 0.01},
                                    {"run": "deep-linear", "seed": 1, "final": 0.12, "best": 0.01}]
    assert len(collapsed_runs(runs, factor=4.0)) == 3 and collapsed_runs({}).empty


def test_delta_grid_means_and_counts_per_rule_and_layer():
    import pandas as pd

    from ipbook.experiments.controls import delta_grid

    t = pd.DataFrame({"model": "deep", "setting": ["relu", "relu", "sigmoid", "sigmoid"], "seed": [0, 1, 0, 1],
                      "layer": "Z", "dI": [0.1, 0.3, 1.0, 2.0], "simplifies": [False, True, True, True]})
    mean, k, n = delta_grid({"paper": t}, ["E1", "Z"], order=[("deep", "sigmoid"), ("deep", "relu")])["paper"]
    assert list(mean.index) == [("deep", "sigmoid"), ("deep", "relu")]
    assert mean.loc[("deep", "sigmoid"), "Z"] == 1.5 and mean.loc[("deep", "relu"), "Z"] == pytest.approx(0.2)
    assert (k.loc[("deep", "relu"), "Z"], n.loc[("deep", "relu"), "Z"]) == (1, 2)
    assert mean["E1"].isna().all()                       # a layer the runs lack
