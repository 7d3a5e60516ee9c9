"""The recorder's cost in a user's loop: a LeNet trained with and without it.

LeNet-5 (conv 6@5x5, pool, conv 16@5x5, pool, fc 120, 84, 10; ReLU) on random 28x28 images with
random labels, ``--steps`` Adam steps of 64; the recorder hooks five layers (both conv blocks, the
three fully connected) and measures ``--n`` probes every ``--every`` steps (step 0 included) with
``--estimator``. Prints the seconds of the bare loop, of the loop with the recorder, and the mean
seconds of one measurement.

    python benchmarks/recorder_overhead.py [--steps 1000] [--every 50] [--n 500] [--estimator matrix]
"""
import argparse
import time

import torch
from torch import nn

from ipbook import InformationPlaneRecorder


def lenet() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def run(args, record: bool) -> tuple[float, int]:
    torch.manual_seed(0)
    model = lenet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.rand(10_000, 1, 28, 28), torch.randint(0, 10, (10_000,))
    rec = (InformationPlaneRecorder(model, ["2", "5", "8", "10", "11"], x[:args.n], y[:args.n], every=args.every,
                                    estimators=[args.estimator]) if record else None)
    t0 = time.perf_counter()
    if rec is not None:
        rec.step(0)
    for step in range(1, args.steps + 1):
        idx = torch.randint(0, len(x), (64,))
        opt.zero_grad()
        nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
        if rec is not None:
            rec.step(step)
    seconds = time.perf_counter() - t0
    return seconds, (len(rec.to_frame()) // 5 if rec is not None else 0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--every", type=int, default=50)
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--estimator", default="matrix")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    bare, _ = run(args, False)
    recorded, measurements = run(args, True)
    print(f"LeNet, {args.steps} steps: bare {bare:.1f} s; with the recorder ({args.estimator}, N = {args.n}, "
          f"{measurements} measurements) {recorded:.1f} s: {(recorded - bare) / max(measurements, 1):.2f} s a measurement")


if __name__ == "__main__":
    main()
