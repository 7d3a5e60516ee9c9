"""Training with the online information plane against the pipeline of the authors' scripts.

Workload: the deep autoencoder (784-256-128-50-128-256-784) on Fashion-MNIST, Adam, batch 100,
information plane of all five layers on 100 test images at EVERY iteration.

- ours: ``ipbook.nets.training.train`` (one InformationPlane call per iteration on a worker thread, X's
  Gram built once, the test loss at 101 points in both lengths, no snapshots).
- baseline (the published scripts' pipeline): a deep copy of all weights every iteration, the loss
  on the whole test set every iteration, and afterwards the information plane from each snapshot
  with scipy pairwise distances and a full numpy SVD per Gram matrix, each MI on its own.

Each side runs in its own process, at two lengths (n/2 and n iterations): the per-iteration time
is the difference of the two runs' times over the difference in iterations (start-up excluded), and
the peak resident memory of both lengths shows whether memory grows with the iterations.

    python benchmarks/training.py [--iterations 500] [--dataset fashion-mnist]
"""
import argparse
import copy
import json
import resource
import subprocess
import sys
import time


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ours(steps, dataset):
    from ipbook.nets.training import train

    t0 = time.perf_counter()
    # 100 test-loss points in both lengths, so the difference of the two runs cancels them.
    train(model="deep", dataset=dataset, steps=steps, ip_every=1, test_points=100, progress=False)
    return time.perf_counter() - t0


def run_baseline(steps, dataset):
    import torch

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from estimator import baseline_plane  # noqa: E402  (scipy pdist + numpy svd, per MI)

    from ipbook.nets.data import load_dataset
    from ipbook.nets.models import build_model

    t0 = time.perf_counter()
    tr, te = load_dataset(dataset, "train"), load_dataset(dataset, "test")
    torch.manual_seed(0)
    model = build_model("deep")
    opt = torch.optim.Adam(model.parameters(), lr=0.005)
    g = torch.Generator().manual_seed(0)
    probe = te.x[:100]
    snapshots, test_losses = [], []
    perm, pos = torch.randperm(len(tr), generator=g), 0
    for _ in range(steps):
        if pos >= len(tr):
            perm, pos = torch.randperm(len(tr), generator=g), 0
        idx = perm[pos:pos + 100]
        pos += 100
        xb = tr.x[idx]
        loss = model.loss(model(xb), xb, tr.y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        snapshots.append(copy.deepcopy(model.state_dict()))
        with torch.no_grad():
            test_losses.append(float(model.loss(model(te.x), te.x, te.y)))
    planes = []
    for state in snapshots:
        model.load_state_dict(state)
        with torch.no_grad():
            out = model(probe)
        planes.append(baseline_plane(probe.double().numpy(),
                                     [t.double().numpy() for t in out.layers.values()],
                                     out.x_hat.double().numpy()))
    return time.perf_counter() - t0


def child(args):
    fn = run_ours if args.child == "ours" else run_baseline
    seconds = fn(args.iterations, args.dataset)
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb()}))


def measure(which, iterations, dataset):
    out = subprocess.run([sys.executable, __file__, "--child", which, "--iterations", str(iterations),
                          "--dataset", dataset], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iterations", type=int, default=500)
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--child", choices=["ours", "baseline"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args)
    n, half = args.iterations, args.iterations // 2
    res = {}
    for which in ("ours", "baseline"):
        short, full = measure(which, half, args.dataset), measure(which, n, args.dataset)
        per_it = (full["seconds"] - short["seconds"]) / (n - half)
        res[which] = per_it
        print(f"{which:8s}: {per_it * 1e3:8.2f} ms/iteration (start-up excluded); peak memory "
              f"{short['peak_mb']:.0f} MiB at {half} iterations, {full['peak_mb']:.0f} MiB at {n} "
              f"(growth {full['peak_mb'] - short['peak_mb']:+.0f} MiB)")
    print(f"speed-up: {res['baseline'] / res['ours']:.1f}x per iteration")


if __name__ == "__main__":
    main()
