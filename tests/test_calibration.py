"""ipbook.experiments.calibration: the closed forms against independent references, the maps, bad parameters;
ipbook.experiments.calibration_grid: the table's layout, its guard, and what the summaries compute."""
import math

import numpy as np
import pandas as pd
import pytest

from ipbook.experiments.calibration import MAPS, Task, apply_map, channel_matrix, dense_covariance, gaussian_mi, linear_channel_mi, quick_tasks, sample, sparse_covariance, student_t_covariance, student_t_mi, true_mi
from ipbook.experiments.calibration_grid import CALIBRATION_COLUMNS, evaluate_grid, evaluate_task, invariance_table, summary_table


def test_gaussian_closed_forms_match_the_sample_covariance_at_large_n():
    for task in (Task("gaussian-dense", 3), Task("gaussian-sparse", 4)):
        x, y = sample(task, 400_000, seed=0)
        cov = np.cov(np.hstack([x, y]).T)
        assert gaussian_mi(cov, task.d) == pytest.approx(true_mi(task), abs=0.01)
    assert true_mi(Task("gaussian-sparse", 2)) == pytest.approx(-math.log2(1 - 0.64), abs=1e-12)
    assert true_mi(Task("gaussian-sparse", 50)) == pytest.approx(true_mi(Task("gaussian-sparse", 2)), abs=1e-12)
    # the dense Gaussian by the equicorrelation determinant (1-ρ)^(m-1) (1+(m-1)ρ), by hand
    det = lambda m: 0.5 ** (m - 1) * (1 + (m - 1) * 0.5)  # noqa: E731
    for d in (1, 2, 5, 25):
        assert true_mi(Task("gaussian-dense", d)) == pytest.approx(0.5 * math.log2(det(d) ** 2 / det(2 * d)), abs=1e-9)


def test_student_t_tends_to_the_gaussian_and_couples_through_its_scale():
    cov = student_t_covariance(3)
    assert student_t_mi(cov, 3, 1e7) == pytest.approx(gaussian_mi(cov, 3), abs=1e-5)
    assert student_t_mi(np.eye(4), 2, 1.0) > 0.1       # uncorrelated, yet dependent
    assert student_t_mi(cov, 3, 1.0) > student_t_mi(cov, 3, 3.0) > gaussian_mi(cov, 3)
    # Monte Carlo of log p(x, y) - log p(x) - log p(y) for d = 1, nu = 3
    from scipy.stats import multivariate_t, t as t1

    task = Task("student-t", 1, nu=3.0)
    x, y = sample(task, 200_000, seed=1)
    joint = multivariate_t(loc=[0, 0], shape=student_t_covariance(1), df=3)
    mc = np.mean(joint.logpdf(np.hstack([x, y])) - t1.logpdf(x[:, 0], 3) - t1.logpdf(y[:, 0], 3)) / math.log(2)
    assert mc == pytest.approx(true_mi(task), abs=0.01)


def test_the_linear_channel_equals_the_gaussian_formula_of_its_joint_covariance():
    a = channel_matrix(20, 5)
    for var in (0.5, 2.0):
        joint = np.block([[np.eye(20), a.T], [a, a @ a.T + var * np.eye(5)]])
        assert linear_channel_mi(a, var) == pytest.approx(gaussian_mi(joint, 20), abs=1e-9)


@pytest.mark.parametrize("name", MAPS)
def test_each_map_is_invertible_so_the_stated_mi_is_unchanged(name):
    from scipy.special import ndtri

    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 3))
    y = apply_map(name, x, np.random.default_rng(5))
    r = np.linalg.lstsq(x, y, rcond=None)[0]        # the rotation, where the map is one
    back = {"cdf": lambda v: ndtri(v), "halfcube": lambda v: np.sign(v) * np.abs(v) ** (2 / 3),
            "rescale": lambda v: v / (y[0] / x[0]), "rotate": lambda v: v @ r.T}[name]
    np.testing.assert_allclose(back(y), x, atol=1e-8)
    if name == "rotate":
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-10)
    assert true_mi(Task(f"gaussian-sparse+{name}", 5)) == true_mi(Task("gaussian-sparse", 5))
    xs, ys = sample(Task(f"gaussian-sparse+{name}", 5), 100, seed=3)
    np.testing.assert_array_equal(ys, sample(Task("gaussian-sparse", 5), 100, seed=3)[1])   # Y untouched


@pytest.mark.parametrize("make, message", [
    (lambda: dense_covariance(3, rho=1.0), r"correlation must lie in \(-1, 1\); got rho = 1.0"),
    (lambda: sparse_covariance(3, rho=-1.5), r"got rho = -1.5"),
    (lambda: Task("gaussian-dense", 0), "d must be an integer >= 1; got 0"),
    (lambda: Task("gaussian-sparse", 1), "d >= 2; got d = 1"),
    (lambda: Task("student-t", 2, nu=0.0), "nu > 0; got nu = 0.0"),
    (lambda: Task("student-t", 2, nu=-1.0), "nu > 0; got nu = -1.0"),
    (lambda: Task("gaussian-sparse+spin", 2), "unknown family 'gaussian-sparse\\+spin'"),
    (lambda: Task("linear-channel", 10, n_t=0, variance=1.0), "width n_t >= 1"),
    (lambda: sample(Task("gaussian-dense", 2), 1, 0), "n must be an integer >= 2; got 1"),
])
def test_bad_parameters_get_a_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.slow
def test_ksg_is_within_its_known_bias_on_the_one_dimensional_gaussian():
    task = Task("gaussian-dense", 1)                 # ρ = 0.5: 0.2075 bits
    ksg = [r[-1] for s in range(8) for r in evaluate_task(task, 1000, s) if r[4] == "ksg"]
    assert np.mean(ksg) == pytest.approx(true_mi(task), abs=0.03)


@pytest.mark.slow
def test_the_quick_grid_writes_the_table_and_refuses_a_smaller_one(tmp_path):
    frame = evaluate_grid(quick_tasks(), ns=[100], seeds=[0], out=tmp_path, workers=1, progress=False)
    table = pd.read_csv(tmp_path / "estimates.csv", keep_default_na=False)
    assert list(table.columns) == CALIBRATION_COLUMNS and len(table) == len(frame)
    assert set(table.estimator) == {"matrix-paper", "matrix-median", "matrix-tapia", "matrix-alpha2", "ksg",
                                    "binning", "noisy-upper", "noisy-lower"}
    paper = table[table.estimator.str.startswith("matrix") | table.estimator.str.startswith("noisy")]
    assert (paper.bits <= math.log2(100) + 1e-9).all()       # the log2 N ceiling
    noisy = table[table.estimator.str.startswith("noisy")].set_index("estimator").bits
    assert noisy["noisy-lower"] <= noisy["noisy-upper"]
    assert (tmp_path / "estimates.json").is_file()
    with pytest.raises(ValueError, match="would lack"):
        evaluate_grid(quick_tasks()[:2], ns=[100], seeds=[0], out=tmp_path, workers=1, progress=False)
    summary = summary_table(table)
    row = summary[(summary.estimator == "matrix-paper") & (summary.n == 100)].iloc[0]
    mean = table[table.estimator == "matrix-paper"]
    assert row.bias == pytest.approx(float((mean.bits - mean.true_bits).mean()), abs=1e-9)
    shifts = invariance_table(table)
    assert set(shifts["map"]) == set(MAPS) and shifts.delta.notna().all()


def test_the_named_calibration_grids_are_the_cli_and_the_page_grids():
    from ipbook.experiments.calibration import paper_tasks
    from ipbook.experiments.calibration_grid import named_tasks

    tasks, ns, seeds = named_tasks("quick")
    assert tasks == quick_tasks() and ns == [100] and seeds == [0, 1]
    tasks, ns, seeds = named_tasks("paper")
    assert tasks == paper_tasks() and len(tasks) == 57 and ns == [100, 500, 1000] and seeds == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="unknown calibration grid 'big'; valid: paper, quick"):
        named_tasks("big")
