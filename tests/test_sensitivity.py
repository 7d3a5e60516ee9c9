"""ipbook.experiments.sensitivity: the estimator grid on checkpoints, checked against textbook formulas,
known cases (the Gaussian closed form, an invertible rescaling, the α = 2 Frobenius identity) and
the online trajectory of a trained run."""
import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.spatial.distance import pdist

from ipbook.experiments.appendix import gaussian_mi_theory, gaussian_samples
from ipbook.estimators.matrix import entropies, gram_matrix, information_plane, mutual_information
from ipbook.estimators.binning import binned_mutual_information
from ipbook.estimators.spec import PAPER, Setting
from ipbook.experiments.sensitivity import TABLE_SUFFIXES, evaluate_checkpoints, evaluate_sweep, input_entropy, layer_geometry, load_tables, paper_grid, plane_under_settings, rescaled_information
from ipbook.experiments.probes import probe_index
from ipbook.estimators.matrix import VariableSample


def _sigmoid_layers(seed=0, n=100, widths=(50,), scale=3.0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 784, generator=g, dtype=torch.float64)
    layers, h = [], x
    for w in widths:
        h = torch.sigmoid(h @ (torch.randn(h.shape[1], w, generator=g, dtype=torch.float64) / h.shape[1] ** 0.5 * scale))
        layers.append(h)
    return x, layers


def test_alpha_two_entropy_is_minus_log_frobenius_and_equals_eigenvalue_route():
    x, (t,) = _sigmoid_layers(widths=(20,))
    mats = torch.stack([gram_matrix(x), gram_matrix(t), gram_matrix(t, gamma=8.0)])
    frob = entropies(mats, 2.0)
    lam = torch.linalg.eigvalsh(mats).clamp_min(0.0)
    eig = -torch.log2((lam / lam.sum(-1, keepdim=True)).pow(2).sum(-1))     # S_2 = −log2 Σ λ²
    np.testing.assert_allclose(frob.numpy(), eig.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(frob.numpy(), -np.log2((mats.numpy() ** 2).sum(axis=(1, 2))), atol=1e-12)
    assert 0 < float(frob[2]) < float(frob[1]) <= math.log2(100)    # a wider kernel, a lower entropy


def test_bandwidth_rules_equal_textbook_formulas():
    x, (t,) = _sigmoid_layers(widths=(7,))
    tn = t.numpy()
    v = VariableSample(t)
    n, d = tn.shape
    assert v.bandwidth("scott", 2.0) == pytest.approx(2.0 * n ** (-1 / (4 + d)), rel=1e-12)
    assert v.bandwidth("median", 1.5) == pytest.approx(1.5 * np.median(pdist(tn)), rel=1e-9)
    assert v.bandwidth("tapia", 1.0) == pytest.approx(math.sqrt(d) * n ** (-1 / (4 + d)), rel=1e-12)
    z = (tn - tn.mean(0)) / tn.std(0)
    sigma = math.sqrt(d) * n ** (-1 / (4 + d))
    k = np.exp(-(np.subtract.outer(z, z).transpose(0, 2, 1, 3).diagonal(axis1=2, axis2=3) ** 2).sum(-1)
               / (2 * sigma ** 2))
    np.testing.assert_allclose(v.gram("tapia", 1.0).numpy(), k / n, atol=1e-12)
    with pytest.raises(ValueError, match="unknown bandwidth rule 'silverman'"):
        Setting(rule="silverman")


def test_paper_setting_equals_information_plane_and_each_setting_equals_pairwise_formula():
    x, layers = _sigmoid_layers(widths=(64, 16))
    x_hat = torch.sigmoid(layers[-1] @ torch.ones(16, 784, dtype=torch.float64) * 0.1)
    grid = [PAPER, dataclasses.replace(PAPER, gamma=8.0), dataclasses.replace(PAPER, alpha=2.0)]
    est = plane_under_settings(VariableSample(x), [VariableSample(t) for t in layers], VariableSample(x_hat), grid)
    i_xt, i_tx = information_plane(x, layers, x_hat)
    np.testing.assert_allclose(est["i_xt"][0], i_xt, atol=1e-10)
    np.testing.assert_allclose(est["i_tx"][0], i_tx, atol=1e-10)
    for k, s in enumerate(grid):
        for l, t in enumerate(layers):
            assert est["i_xt"][k, l] == pytest.approx(mutual_information(x, t, alpha=s.alpha, gamma=s.gamma), abs=1e-9)
    assert est["s_x"][0] == pytest.approx(input_entropy(x, [PAPER])[0], abs=1e-12)


def test_every_rule_orders_gaussian_pairs_as_the_closed_form_does():
    rhos = [0.0, 0.3, 0.6, 0.9, 0.99]
    theory = gaussian_mi_theory(np.array(rhos))
    for rule in ("scott", "median", "tapia"):
        s = Setting(rule=rule, gamma=2.0 if rule == "scott" else 1.0)
        est = []
        for rho in rhos:
            xy = torch.from_numpy(gaussian_samples(rho, n=500, seed=0))
            est.append(plane_under_settings(VariableSample(xy[:, :1]), [VariableSample(xy[:, 1:])],
                                            VariableSample(xy[:, :1]), [s])["i_xt"][0, 0])
        assert np.all(np.diff(est) > 0), (rule, est)          # monotone in the true MI
        assert est[0] < 0.25 * theory[-1]                      # near 0 for independent pairs
    # at the paper's gamma the estimate tracks the closed form within 0.1 bit up to rho = 0.6
    xy = torch.from_numpy(gaussian_samples(0.6, n=1000, seed=0))
    assert mutual_information(xy[:, :1], xy[:, 1:]) == pytest.approx(theory[2], abs=0.1)


def test_rescaling_leaves_binned_mi_unchanged_and_moves_the_kernel_estimate():
    x, (t,) = _sigmoid_layers(widths=(50,))
    factors = [0.25, 0.5, 1.0, 2.0, 4.0]
    kernel = rescaled_information(x, t, factors)
    assert np.all(np.diff(kernel) > 0)                         # larger scale, more "information"
    assert kernel[0] < 1.0 and kernel[-1] > 6.0                # from below 1 bit to the ceiling
    assert kernel[-1] <= math.log2(100) + 1e-9
    binned = [binned_mutual_information(x[:, :2], t[:, :2] * c, bins=4) for c in factors]
    assert max(binned) - min(binned) < 1e-12                   # an invertible map: the same MI


def test_saturated_input_makes_the_plane_collapse_onto_the_layer_entropy():
    x, layers = _sigmoid_layers(widths=(256, 128, 50), scale=4.0)
    vx = VariableSample(x)
    assert input_entropy(x, [PAPER])[0] > math.log2(100) - 0.01     # S(X) at the log2 N ceiling
    est = plane_under_settings(vx, [VariableSample(t) for t in layers], vx, [PAPER])
    assert np.abs(est["i_xt"] - est["s_t"]).max() <= 0.006
    assert np.abs(est["i_tx"] - est["s_t"]).max() <= 0.006           # X′ = X is as spread out as X
    assert input_entropy(x, [Setting(gamma=16.0)])[0] < 3.0           # at gamma 16 X is far from the ceiling


def test_layer_geometry_on_a_hand_made_layer():
    t = np.array([[0.005, 0.5], [0.995, 0.2], [0.5, 0.5], [0.5, 0.9]])
    g = layer_geometry(t, labels=[0, 0, 1, 1], sigma=2.0)
    assert g["saturated"] == pytest.approx(2 / 8) and g["mean_activation"] == pytest.approx(t.mean())
    d = pdist(t)                                                 # pairs 01 02 03 12 13 23
    assert g["mean_distance"] == pytest.approx(d.mean()) and g["distance_over_sigma"] == pytest.approx(d.mean() / 2)
    assert g["within_class"] == pytest.approx((d[0] + d[5]) / 2)
    assert g["between_class"] == pytest.approx(d[1:5].mean())
    assert math.isnan(layer_geometry(t * 3 - 1, [0, 0, 1, 1], 1.0)["saturated"])   # not a sigmoid layer
    from ipbook.experiments.sensitivity import saturated_fraction

    assert saturated_fraction(t * 2 - 1, "tanh") == pytest.approx(2 / 8)       # the same points of tanh
    assert saturated_fraction(np.array([[0.0, 1.0], [0.0, 3.0]]), "relu") == pytest.approx(0.5)
    assert math.isnan(saturated_fraction(t, "linear")) and math.isnan(saturated_fraction(t - 2, "relu"))
    with pytest.raises(ValueError, match="labels must have shape"):
        layer_geometry(t, [0, 1], 1.0)


def test_paper_grid_varies_one_factor_at_a_time():
    grid = paper_grid()
    assert grid[0] == PAPER and len(grid) == len(set(grid))
    for s in grid[1:]:
        changed = [f.name for f in dataclasses.fields(Setting) if getattr(s, f.name) != getattr(PAPER, f.name)]
        assert len(changed) == 1 or set(changed) == {"rule", "gamma"}, s
    assert {s.gamma for s in grid if s.rule == "scott"} == {0.5, 1, 2, 4, 8, 16}
    assert {s.draw for s in grid} == set(range(10)) and {s.n for s in grid} == {100, 500, 1000}


def test_probe_draws():
    own = probe_index(3, "test", 100, 0, 10_000)
    assert torch.equal(own, torch.randperm(10_000, generator=torch.Generator().manual_seed(4))[:100].sort().values)
    assert set(own.tolist()) <= set(probe_index(3, "test", 500, 0, 10_000).tolist())   # nested
    assert torch.equal(probe_index(0, "test", 100, 2, 10_000), probe_index(4, "test", 100, 2, 10_000))
    assert not torch.equal(probe_index(0, "test", 100, 1, 10_000), probe_index(0, "test", 100, 2, 10_000))
    with pytest.raises(ValueError, match="needs at least that many"):
        probe_index(0, "train", 7000, 0, 6000)


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    from ipbook.nets.training import train

    root = tmp_path_factory.mktemp("sweep")
    quick = dict(dataset="fashion-mnist", train_fraction=0.1, ip_every=5, test_points=4, progress=False)
    runs = {}
    for name, model in (("deep", "deep"), ("shallow", "shallow")):
        runs[name] = train(model=model, max_steps=40, checkpoints=[0, 20, 40], **quick,
                           out_dir=root / "quick" / "fashion-mnist" / name / "seed-0")
    train(model="tied", max_steps=10, **quick, out_dir=root / "quick" / "fashion-mnist" / "tied" / "seed-0")
    return root, runs


@pytest.mark.slow
def test_checkpoints_give_the_online_trajectory_at_the_paper_setting(tiny_runs):
    _, runs = tiny_runs
    run = runs["deep"]
    grid = [PAPER, Setting(gamma=8.0), Setting(draw=1), Setting(probe="train"), Setting(n=200)]
    rows, inputs, geometry, rescaling = evaluate_checkpoints(run, grid)
    assert set(rows.run) == {"deep"} and len(rows) == 3 * 5 * len(grid)
    m = run.metrics
    paper = rows[(rows.gamma == 2) & (rows.draw == 0) & (rows.n == 100) & (rows.probe == "test")]
    for step in (0, 20, 40):
        k = list(m["step"]).index(step)
        got = paper[paper.step == step].set_index("layer").loc[run.layers]
        np.testing.assert_allclose(got.i_xt, m["i_xt"][k], atol=2e-6)     # metrics are float32
        np.testing.assert_allclose(got.i_tx, m["i_tx"][k], atol=2e-6)
    assert len(inputs) == len(grid) and (inputs.s_x <= np.log2(inputs.n) + 1e-9).all()
    assert len(geometry) == 3 * 5 and geometry.saturated.between(0, 1).all()
    assert (rows.i_xt <= np.log2(rows.n) + 1e-6).all() and (rows.i_xt >= -1e-6).all()
    assert len(rescaling) == 5 * 5 and set(rescaling.step) == {40}
    at_one = rescaling[rescaling.factor == 1.0].set_index("layer").i_xt.loc[run.layers]
    np.testing.assert_allclose(at_one, paper[paper.step == 40].set_index("layer").i_xt.loc[run.layers], atol=1e-12)


@pytest.mark.slow
def test_evaluate_sweep_writes_tables_lists_runs_without_checkpoints_and_repeats_itself(tiny_runs, tmp_path):
    root, _ = tiny_runs
    grid = [PAPER, Setting(gamma=8.0), Setting(n=200)]
    info = evaluate_sweep("fashion-mnist", "quick", settings=grid, seeds=[0], runs=["deep", "shallow", "tied"],
                          root=root, out=tmp_path, large_n_steps=2, workers=2, progress=False)
    assert info["evaluated"] == ["deep/seed-0", "shallow/seed-0"] and info["missing_checkpoints"] == ["tied/seed-0"]
    rows = pd.read_csv(tmp_path / "fashion-mnist.csv.gz")
    assert list(rows.columns) == ["run", "seed", "step", "layer", "rule", "gamma", "alpha", "n", "probe",
                                  "draw", "i_xt", "i_tx", "s_t"]
    # N = 200 on 2 of the 3 checkpoints; the others on all 3: deep 5 layers, shallow 1
    assert len(rows) == (5 + 1) * (3 * 2 + 2)
    inputs = pd.read_csv(tmp_path / "fashion-mnist-input-entropy.csv")
    assert list(inputs.columns) == ["seed", "rule", "gamma", "alpha", "n", "probe", "draw", "s_x"] and len(inputs) == 3
    assert len(pd.read_csv(tmp_path / "fashion-mnist-geometry.csv.gz")) == (5 + 1) * 3
    tables = load_tables("fashion-mnist", root=tmp_path)
    assert len(tables) == 4 and len(tables[0]) == len(rows) and len(tables[3]) == (5 + 1) * 5
    assert load_tables("mnist", root=tmp_path) is None
    assert not (tmp_path / ".parts").exists()            # the parts go once the tables are written
    written = {s: (tmp_path / f"fashion-mnist{s}").read_bytes() for s in TABLE_SUFFIXES}
    again = evaluate_sweep("fashion-mnist", "quick", settings=grid, seeds=[0], runs=["deep", "shallow"],
                           root=root, out=tmp_path, large_n_steps=2, workers=1, progress=False)
    assert again["rows"] == info["rows"] and again["task_seconds"].keys() == {"deep/seed-0", "shallow/seed-0"}
    assert {s: (tmp_path / f"fashion-mnist{s}").read_bytes() for s in TABLE_SUFFIXES} == written   # the same bytes
    with pytest.raises(FileNotFoundError, match="--recreate-checkpoints"):
        evaluate_sweep("fashion-mnist", "quick", settings=grid, seeds=[0], runs=["tied"], root=root,
                       out=tmp_path / "other", progress=False)
    assert not (tmp_path / "other").exists()
    with pytest.raises(ValueError, match=r"would lack 2 run\(s\) .*\(deep/seed-0, shallow/seed-0\)"):
        evaluate_sweep("fashion-mnist", "quick", settings=grid, seeds=[0], runs=["tied"], root=root,
                       out=tmp_path, progress=False)


@pytest.mark.slow
def test_a_run_without_checkpoints_here_keeps_its_rows_from_the_earlier_tables(tiny_runs, tmp_path):
    import shutil

    from ipbook.nets.config import CHECKPOINT_FILE

    root = tmp_path / "sweep"
    shutil.copytree(tiny_runs[0], root)
    grid, out = [PAPER, Setting(gamma=8.0), Setting(n=200)], tmp_path / "out"
    first = evaluate_sweep("fashion-mnist", "quick", settings=grid, seeds=[0], runs=["deep", "shallow"],
                           root=root, out=out, large_n_steps=2, workers=1, progress=False)
    before = load_tables("fashion-mnist", root=out)
    (root / "quick" / "fashion-mnist" / "shallow" / "seed-0" / CHECKPOINT_FILE).unlink()
    again = evaluate_sweep("fashion-mnist", "quick", settings=grid, seeds=[0], runs=["deep", "shallow"],
                           root=root, out=out, large_n_steps=2, workers=1, progress=False)
    assert again["kept_from_earlier_tables"] == ["shallow/seed-0"] and again["missing_checkpoints"] == []
    assert again["evaluated"] == first["evaluated"] and set(again["task_seconds"]) == {"deep/seed-0"}
    after = load_tables("fashion-mnist", root=out)
    for b, a in zip(before, after):
        pd.testing.assert_frame_equal(a, b)
    # rows that do not match the run's recorded plane are not kept
    rows = after[0].copy()
    rows.loc[rows.run == "shallow", "i_xt"] += 0.01
    rows.to_csv(out / "fashion-mnist.csv.gz", index=False)
    with pytest.raises(ValueError, match=r"would lack 1 run\(s\) of the existing one \(shallow/seed-0\); "
                                         r"python -m ipbook sweep --profile quick --dataset fashion-mnist --seeds 0"):
        evaluate_sweep("fashion-mnist", "quick", settings=grid, seeds=[0], runs=["deep", "shallow"],
                       root=root, out=out, large_n_steps=2, workers=1, progress=False)
    third = evaluate_sweep("fashion-mnist", "quick", settings=grid, seeds=[0], runs=["deep", "shallow"],
                           root=root, out=out, large_n_steps=2, workers=1, progress=False, force=True)
    assert third["kept_from_earlier_tables"] == [] and third["missing_checkpoints"] == ["shallow/seed-0"]
    # nor are rows that lack a setting of the grid
    for table, suffix in zip(after, TABLE_SUFFIXES):
        table.to_csv(out / f"fashion-mnist{suffix}", index=False)
    wider = evaluate_sweep("fashion-mnist", "quick", settings=grid + [Setting(gamma=4.0)], seeds=[0],
                           runs=["deep", "shallow"], root=root, out=out, large_n_steps=2, workers=1,
                           progress=False, force=True)
    assert wider["missing_checkpoints"] == ["shallow/seed-0"]


def _synthetic_rows():
    """Two seeds of one layer: I(X;T) rises to 4 bits and falls back to 3 at the paper's setting,
    three probe draws that differ by ±0.1 bit, and a wide kernel that halves every value."""
    rows = []
    steps = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]
    curve = np.array([1.0, 3.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0])   # smoothed over 3: peak 4, final 3
    for seed in (0, 1):
        for step, v in zip(steps, curve):
            for draw, shift in ((0, 0.0), (1, 0.1), (2, -0.1)):
                rows.append(("shallow", seed, step, "Z", "scott", 2.0, 1.01, 100, "test", draw,
                             v + shift, v + shift - 0.01, v + shift + 0.002))
            rows.append(("shallow", seed, step, "Z", "scott", 8.0, 1.01, 100, "test", 0, v / 2, v / 2, v / 2 + 0.5))
    return pd.DataFrame(rows, columns=["run", "seed", "step", "layer", "rule", "gamma", "alpha", "n",
                                       "probe", "draw", "i_xt", "i_tx", "s_t"])


def test_reading_the_tables_gives_the_numbers_put_in():
    from ipbook.claims.robustness import at_setting
    from ipbook.claims.robustness import simplifying_over_checkpoints
    from ipbook.experiments.sensitivity import collapse_deviation, input_entropy_table, probe_noise

    rows = _synthetic_rows()
    assert len(at_setting(rows)) == 2 * 12 and len(at_setting(rows, Setting(gamma=8.0))) == 24
    dev = collapse_deviation(rows).iloc[0]
    assert dev.dev_xt == pytest.approx(0.002) and dev.dev_tx == pytest.approx(0.012)
    phase = simplifying_over_checkpoints(rows)
    assert list(phase.seed) == [0, 1]
    assert phase.dI.iloc[0] == pytest.approx(1.0) and phase.dI_frac.iloc[0] == pytest.approx(0.25)
    assert phase.verdict.tolist() == ["simplifies"] * 2 and phase.low.iloc[0] == pytest.approx(1.0)
    wide = simplifying_over_checkpoints(rows, Setting(gamma=8.0))
    assert wide.dI.iloc[0] == pytest.approx(0.5) and wide.dI_frac.iloc[0] == pytest.approx(0.25)   # same fraction
    assert probe_noise(rows).sd.iloc[0] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="at least two probe draws"):
        probe_noise(rows[rows.draw == 0])
    x, _ = _sigmoid_layers(n=200)
    table = input_entropy_table(x, gammas=(2, 16), ns=(100, 200))
    assert list(table.n) == [100, 100, 200, 200]
    assert table.s_x.iloc[0] == pytest.approx(math.log2(100), abs=0.01) and table.s_x.iloc[1] < 3
    with pytest.raises(ValueError, match="needs that many images"):
        input_entropy_table(x, ns=(500,))


def test_robustness_matrix_counts_the_judges_verdicts_per_seed():
    from ipbook.claims.robustness import claim_verdicts, robustness_matrix, robustness_summary

    rows = _synthetic_rows()
    shift = rows.draw.map({0: 0.0, 1: 0.1, 2: -0.1})
    flat = rows.assign(run="tied", i_xt=np.where(rows.gamma == 2.0, 4.0 + shift, 2.0))   # no drop at all
    rows = pd.concat([rows, flat], ignore_index=True)
    m = robustness_matrix(rows)
    assert list(m.columns) == ["scott γ=2", "scott γ=8"] and m.attrs["n_seeds"] == 2
    n = pd.DataFrame(m.attrs["n"])
    assert (n == 2).all().all() and n.shape == m.shape
    assert ((m / n).attrs["n"] == m.attrs["n"])                     # attrs survive arithmetic
    assert m.loc["Shallow AE simplifies (Z)"].tolist() == [2, 2]   # ΔI = 25 % of the peak at both widths
    assert m.loc["None in the tied AE"].tolist() == [2, 2]
    assert robustness_summary(m) == {"everywhere": list(m.index), "paper_only": [], "nowhere": [], "mixed": []}
    m2 = m.copy()
    m2.attrs = dict(m.attrs)
    m2.loc["None in the tied AE", "scott γ=8"] = 1
    m2.loc["Shallow AE simplifies (Z)"] = 0
    assert robustness_summary(m2) == {"everywhere": [], "paper_only": ["None in the tied AE"],
                                      "nowhere": ["Shallow AE simplifies (Z)"], "mixed": []}
    one_seed = rows[(rows.gamma == 2.0) | (rows.seed == 0)]        # gamma 8 evaluated on seed 0 only
    m3 = robustness_matrix(one_seed)
    assert pd.DataFrame(m3.attrs["n"]).loc["Shallow AE simplifies (Z)"].tolist() == [2, 1]
    assert m3.loc["Shallow AE simplifies (Z)"].tolist() == [2, 1]
    assert "Shallow AE simplifies (Z)" in robustness_summary(m3)["everywhere"]
    # a drop below the margin is no simplifying phase: the claim fails in every seed
    small = rows.assign(i_xt=lambda d: np.where(d.run == "shallow", 4.0 - 0.02 * (d.step >= 50), d.i_xt))
    v = claim_verdicts(small[small.draw == 0].assign(draw=0), PAPER)
    assert v[v.claim == "shallow_simp"].status.tolist() == ["fails", "fails"]
    # a layer pinned within the margin of log2 100 cannot judge a claim of absence
    pinned = rows.assign(i_xt=lambda d: np.where(d.run == "tied", math.log2(100) - 0.05, d.i_xt))
    v = claim_verdicts(pinned, PAPER).set_index(["claim", "seed"])
    assert v.loc[("tied_none", 0), "status"] == "cannot judge" and not v.loc[("tied_none", 0), "judged"]
    m4 = robustness_matrix(pinned, [PAPER])
    assert m4.loc["None in the tied AE"].tolist() == [0] and m4.attrs["n"]["scott γ=2"]["None in the tied AE"] == 0
    assert "None in the tied AE" not in robustness_summary(m4)["everywhere"]


def test_the_named_sensitivity_grids_and_their_draws():
    from ipbook.experiments.sensitivity import controls_grid, named_settings, paper_grid

    assert named_settings("paper") == paper_grid(draws=10) and named_settings("controls") == controls_grid(draws=5)
    small = named_settings("small")
    assert small[0] == PAPER and sorted({s.gamma for s in small if s.rule == "scott"}) == [1.0, 2.0, 8.0]
    assert {s.n for s in small} == {100} and sum(s.draw > 0 for s in small) == 2
    assert len(named_settings("small", draws=5)) == len(small) + 2
    with pytest.raises(ValueError, match="unknown sensitivity grid 'tiny'; valid: paper, controls, small, quick"):
        named_settings("tiny")
