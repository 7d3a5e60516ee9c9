"""The matrix estimator at large N: the exact path (every eigenvalue) against the Lanczos path.

Workload: one information plane, X (N test images of MNIST, d = 784), three layers (sigmoid
features of random projections, widths 256, 128 and 50: a spectrum from flat to steep) and X'
(784 wide): 11 entropies at the paper's setting (Scott's rule, γ = 2, α = 1.01). Both paths go
through `planes_under`, in one process on one thread; the Lanczos path first, so that each path's
peak memory can be read from the process's high-water mark. Also printed: the load of the
machine, each path's Gram matrices alone (the N²·d floor of any method), and the Lanczos path's
cost in matrix-product columns.

    python benchmarks/estimator_large_n.py [--n 1000 2000 4000] [--tol 0.01]
"""
import argparse
import os
import time

import numpy as np
import torch

from ipbook.estimators.lanczos import entropy_lanczos
from ipbook.estimators.matrix import VariableSample, joint_gram, planes_under
from ipbook.nets.data import load_dataset
from ipbook.store import peak_memory_mb

KERNEL = [("scott", 2.0, 1.01)]


def workload(n: int):
    """X, three layers and X' on the first N MNIST test images (seeded projections)."""
    g = torch.Generator().manual_seed(0)
    x = load_dataset("mnist", "test").x[:n].double()
    t, layers = x, []
    for width in (256, 128, 50, 784):
        w = torch.randn(t.shape[1], width, generator=g, dtype=torch.float64) * 3 / t.shape[1] ** 0.5
        t = torch.sigmoid(t @ w)
        layers.append(t)
    return x, layers[:3], layers[3]


def all_entropies(out) -> np.ndarray:
    """The 11 entropies of a plane: S(X), S(X'), S(T_l), S(X, T_l) and S(T_l, X')."""
    s_x, s_y, s_t = out["s_x"][0], out["s_y"][0], out["s_t"][0]
    return np.concatenate([[s_x, s_y], s_t, s_x + s_t - out["i_xt"][0], s_t + s_y - out["i_ty"][0]])


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def columns(x, layers, x_hat, tol) -> int:
    """The Lanczos path's product columns over the plane's 11 matrices."""
    grams = [VariableSample(v).gram("scott", 2.0) for v in [x, x_hat, *layers]]
    mats = grams + [joint_gram(grams[0], a) for a in grams[2:]] + [joint_gram(a, grams[1]) for a in grams[2:]]
    return sum(entropy_lanczos(m, 1.01, tol=tol).columns for m in mats)


def product_seconds(n: int, cols: int) -> float:
    """Seconds that ``cols`` columns of A V take as 32-column products on this machine."""
    a = torch.rand(n, n, dtype=torch.float64)
    v = torch.rand(n, 32, dtype=torch.float64)
    (v.T @ a)
    _, dt = timed(lambda: [(v.T @ a) for _ in range(3)])
    return dt / 3 * cols / 32


def main(sizes, tol):
    torch.set_num_threads(1)
    print(f"one thread; load average at start {os.getloadavg()[0]:.2f}; tol {tol} bit per entropy")
    print(f"{'N':>5} {'exact s':>8} {'lanczos s':>9} {'ratio':>6} {'max |Δ| bit':>11} {'est. error':>10} "
          f"{'grams s':>7} {'columns':>7} {'products s':>10} {'peak MB (lanczos, exact)':>24}")
    for n in sizes:
        x, layers, x_hat = workload(n)
        _, t_gram = timed(lambda: [VariableSample(v).gram("scott", 2.0) for v in [x, x_hat, *layers]])
        fast, t_fast = timed(lambda: planes_under(x, layers, KERNEL, target=x_hat, method="lanczos", tol=tol))
        peak_fast = peak_memory_mb()
        exact, t_exact = timed(lambda: planes_under(x, layers, KERNEL, target=x_hat, method="exact"))
        diff = np.abs(all_entropies(fast) - all_entropies(exact)).max()
        cols = columns(x, layers, x_hat, tol)
        print(f"{n:>5} {t_exact:>8.2f} {t_fast:>9.2f} {t_exact / t_fast:>6.1f} {diff:>11.4f} {fast['error']:>10.4f} "
              f"{t_gram:>7.2f} {cols:>7} {product_seconds(n, cols):>10.2f} {peak_fast:>11.0f} {peak_memory_mb():>12.0f}",
              flush=True)
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 2000, 4000])
    parser.add_argument("--tol", type=float, default=0.01)
    args = parser.parse_args()
    main(args.n, args.tol)
