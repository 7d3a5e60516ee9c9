"""Time and peak memory of one recorder measurement on a small CNN, at N probes.

A LeNet-style CNN (conv 6@5x5, pool, conv 16@5x5, pool, fc 120, fc 84, fc 10) on random 28x28
images; the recorder hooks four layers (two conv blocks' activations, two fully connected) and
measures once with ``--estimator`` (the paper's matrix estimator by default). Each N runs in a fresh
process, so that its peak resident memory (ru_maxrss) is its own; the line gives the seconds of
``rec.measure(0)`` alone and the process's peak RSS.

    python benchmarks/recorder_scale.py [--n 500 1000 2000 5000] [--estimator matrix] [--threads 1]
"""
import argparse
import json
import resource
import subprocess
import sys
import time


def lenet():
    from torch import nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def one(n: int, estimator: str, threads: int) -> dict:
    import torch

    from ipbook import InformationPlaneRecorder
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = lenet()
    x, y = torch.rand(n, 1, 28, 28), torch.randint(0, 10, (n,))
    rec = InformationPlaneRecorder(model, ["2", "5", "8", "10"], x, y, steps=[0], estimators=[estimator])
    t0 = time.perf_counter()
    rec.measure(0)
    seconds = time.perf_counter() - t0
    return {"n": n, "seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rows": len(rec.to_frame())}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, nargs="+", default=[500, 1000, 2000, 5000])
    p.add_argument("--estimator", default="matrix")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(one(args.n[0], args.estimator, args.threads)))
        return
    for n in args.n:
        out = subprocess.run([sys.executable, __file__, "--one", "--n", str(n), "--estimator", args.estimator,
                              "--threads", str(args.threads)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"N = {r['n']:5d}  {args.estimator}: one measurement {r['seconds']:7.2f} s, peak RSS {r['peak_mb']:7.0f} MiB")


if __name__ == "__main__":
    main()
