"""The seed sweep on one worker against two, on the same tasks, in the same run.

Workload: the shallow and the deep AE of the seeds profile (the paper's settings, the information
plane every 10 iterations), seeds 0 and 1, capped at ``--steps`` iterations: four tasks. Each
side runs ``python -m ipbook sweep`` into its own empty results root, so nothing is reused.

Prints each side's wall time (cluster start included), the speed-up of two workers over one,
and the slowdown of a single run when two share the machine; the full sweep's wall time with one
worker is about its two-worker wall time times the speed-up.

    python benchmarks/sweep.py [--steps 3000] [--dataset fashion-mnist]
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def sweep(workers: int, steps: int, dataset: str) -> tuple[float, dict]:
    # The profile's 300 whole-test-set evaluations are spread over the run's iterations: in a
    # capped run they would be most of the work, so the cap keeps the full run's share of them.
    test_points = max(2, round(300 * steps / 30000))
    code = (f"from ipbook.experiments.sweep import sweep; r = sweep('seeds', {dataset!r}, [0, 1], runs=['shallow', 'deep'], "
            f"workers={workers}, root={{root!r}}, progress=False, max_steps={steps}, test_points={test_points}); "
            f"assert r.ok, r.failed")
    with tempfile.TemporaryDirectory() as root:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code.format(root=root)], check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        runs = {f"{p.parent.name}/{p.name}": json.loads((p / "run.json").read_text())["wall_seconds"]
                for p in Path(root, "seeds", dataset).glob("*/seed-*")}
    return wall, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--dataset", default="fashion-mnist")
    args = parser.parse_args()
    one, runs_one = sweep(1, args.steps, args.dataset)
    two, runs_two = sweep(2, args.steps, args.dataset)
    print(f"4 tasks (shallow, deep x seeds 0, 1), {args.steps} iterations each, {args.dataset}")
    for name in sorted(runs_one):
        print(f"  {name:16s} 1 worker {runs_one[name]:6.1f} s   2 workers {runs_two[name]:6.1f} s")
    slow = sum(runs_two.values()) / sum(runs_one.values())
    print(f"sweep wall: 1 worker {one:.1f} s, 2 workers {two:.1f} s: speed-up x{one / two:.2f}")
    print(f"a run takes x{slow:.2f} as long when two share the machine")


if __name__ == "__main__":
    main()
