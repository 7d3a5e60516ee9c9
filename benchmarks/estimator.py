"""Time `information_plane` against the straightforward estimator of the authors' scripts.

Workload: the deep autoencoder's information plane at one training iteration, N = 100 samples:
X (784), five hidden layers (256, 128, 50, 128, 256), X' (784): ten MI values.

Baseline (as in the published scripts): each MI on its own, pairwise distances with scipy, a full
numpy.linalg.svd of every Gram matrix
(30 full SVDs, U and V included). Ours: 7 Gram matrices and one batched float64
eigvalsh of 17 matrices. A floor is timed too: just the 17 eigen-decompositions.

    python benchmarks/estimator.py [--repeats 200]
"""
import argparse
import os
import time

PARSER = argparse.ArgumentParser(description=__doc__.splitlines()[0])
PARSER.add_argument("--repeats", type=int, default=200)
PARSER.add_argument("--threads", type=int, default=None,
                    help="threads for torch and for numpy's BLAS alike (default: each library's own)")

if __name__ == "__main__":  # numpy's and scipy's BLAS read their thread count once, at import
    ARGS = PARSER.parse_args()
    if ARGS.threads:
        for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
            os.environ[var] = str(ARGS.threads)

import numpy as np
import torch
from scipy.spatial.distance import pdist, squareform

from ipbook.estimators.matrix import InformationPlane, information_plane


def baseline_entropy(a, alpha):
    s = np.linalg.svd(a)[1]  # a full SVD (U, S, V^T), as the published scripts call it
    return np.log2(np.sum(s**alpha)) / (1 - alpha)


def baseline_gram(x, gamma):
    n, d = x.shape
    sigma = gamma * n ** (-1 / (4 + d))
    k = np.exp(-squareform(pdist(x, "sqeuclidean")) / (2 * sigma**2))
    return k / np.trace(k)


def baseline_mi(x, y, alpha=1.01, gamma=2.0):
    a, b = baseline_gram(x, gamma), baseline_gram(y, gamma)
    ab = a * b / np.trace(a * b)
    return baseline_entropy(a, alpha) + baseline_entropy(b, alpha) - baseline_entropy(ab, alpha)


def baseline_plane(x, layers, x_hat):
    return (np.array([baseline_mi(x, t) for t in layers]),
            np.array([baseline_mi(t, x_hat) for t in layers]))


def timeit(fn, repeats):
    fn()  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeats):
        out = fn()
    return (time.perf_counter() - t0) / repeats, out


def main(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    n = 100
    x = torch.rand(n, 784, generator=g)
    layers, h = [], x
    for w in (256, 128, 50, 128, 256):
        h = torch.sigmoid(h @ (torch.randn(h.shape[1], w, generator=g) / h.shape[1] ** 0.5 * 3))
        layers.append(h)
    x_hat = torch.sigmoid(h @ torch.randn(256, 784, generator=g) / 16 * 3)
    xn, ln, rn = x.double().numpy(), [t.double().numpy() for t in layers], x_hat.double().numpy()

    t_base, (b_xt, b_tx) = timeit(lambda: baseline_plane(xn, ln, rn), max(args.repeats // 10, 5))
    t_ours, (o_xt, o_tx) = timeit(lambda: information_plane(x, layers, x_hat), args.repeats)
    plane = InformationPlane(x)  # what the trainer calls each iteration: X's Gram built once
    t_cached, _ = timeit(lambda: plane(layers, x_hat), args.repeats)
    grams = [baseline_gram(v, 2.0) for v in [xn, *ln, rn]]
    joints = [grams[0] * g for g in grams[1:-1]] + [g * grams[-1] for g in grams[1:-1]]
    mats = torch.from_numpy(np.stack(grams + [j / np.trace(j) for j in joints]))  # the same 17
    t_floor, _ = timeit(lambda: torch.linalg.eigvalsh(mats), args.repeats)
    diff = max(np.abs(b_xt - o_xt).max(), np.abs(b_tx - o_tx).max())

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, N = {n}, ten MI values")
    print(f"I(X;T)  = {np.round(o_xt, 3)}")
    print(f"I(T;X') = {np.round(o_tx, 3)}")
    print(f"baseline (scipy pdist + numpy svd, per MI): {t_base * 1e3:8.2f} ms")
    print(f"ipbook information_plane (batched):        {t_ours * 1e3:8.2f} ms")
    print(f"ipbook InformationPlane, X cached (16 eig): {t_cached * 1e3:8.2f} ms")
    print(f"floor: one batched eigvalsh of 17 matrices: {t_floor * 1e3:8.2f} ms")
    print(f"speed-up: {t_base / t_ours:.1f}x (X cached: {t_base / t_cached:.1f}x)   ours / floor: {t_ours / t_floor:.2f}")
    print(f"bound: baseline / floor = {t_base / t_floor:.1f}x (the float64 eigen step alone, nothing else)")
    print(f"largest difference: {diff:.2e} bits")
    ok = t_base / t_ours >= 10 and diff <= 1e-5
    print("target (>= 10x, <= 1e-5 bits):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main(ARGS)
