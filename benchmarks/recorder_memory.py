"""Memory of InformationPlaneRecorder over a long training loop: it must not grow with the steps.

A small classifier (784-256-128-10, sigmoid) trains on random data for ``--steps`` steps with the
recorder measuring every ``--every`` steps (100 probes, the paper's matrix estimator). The peak of
Python's allocations (tracemalloc) and the process's resident memory are read at 10 % of the run
and at its end; the baseline is the same loop without a recorder, in the same run. The recorder
keeps only its rows (six numbers per layer and measurement), so its growth should be those rows.

    python benchmarks/recorder_memory.py [--steps 10000] [--every 10]
"""
import argparse
import resource
import tracemalloc

import torch
from torch import nn

from ipbook import InformationPlaneRecorder


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def loop(steps: int, every: int | None) -> dict:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.Sigmoid(), nn.Linear(256, 128), nn.Sigmoid(), nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    probe = torch.rand(100, 784)
    rec = InformationPlaneRecorder(model, ["1", "3"], probe, every=every) if every else None
    marks = {}
    tracemalloc.start()
    for step in range(1, steps + 1):
        x, y = torch.rand(32, 784), torch.randint(0, 10, (32,))
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        if rec is not None:
            rec.step(step)
        if step in (steps // 10, steps):
            marks[step] = (tracemalloc.get_traced_memory()[0] / 2**20, rss_mb())
    tracemalloc.stop()
    rows = len(rec.to_frame()) if rec is not None else 0
    return {"marks": marks, "rows": rows}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--every", type=int, default=10)
    args = p.parse_args()
    torch.set_num_threads(1)
    for name, every in (("baseline (no recorder)", None), (f"recorder every {args.every}", args.every)):
        r = loop(args.steps, every)
        (s0, (a0, m0)), (s1, (a1, m1)) = sorted(r["marks"].items())
        print(f"{name:24s} Python allocations {a0:6.2f} -> {a1:6.2f} MiB (+{a1 - a0:.2f}) from step {s0} to {s1}; "
              f"peak RSS {m0:.0f} -> {m1:.0f} MiB; {r['rows']} rows")


if __name__ == "__main__":
    main()
