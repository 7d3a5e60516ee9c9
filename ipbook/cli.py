"""The ``python -m ipbook`` command line.

    python -m ipbook train --model deep --dataset mnist --out runs/deep [--epochs 50]
        [--steps N] [--train-fraction 1.0] [--ip-every 1] [--ip-samples 100] [--seed 0]
        [--max-steps N] [--device cpu|cuda] [--recompute]
    python -m ipbook runs --profile paper|quick --dataset NAME [--runs deep vae] [--recompute]
    python -m ipbook book --profile paper|quick [--dataset NAME] [--out DIR]
"""
from __future__ import annotations

import argparse
import sys

from .data import DATASET_NAMES, DatasetNotFoundError
from .models import MODEL_NAMES


def _train_parser(sub) -> None:
    p = sub.add_parser("train", help="train one autoencoder and record its information plane",
                       description="Train one autoencoder with the information plane of every hidden "
                                   "layer recorded online; writes OUT/metrics.npz and OUT/run.json.")
    p.add_argument("--model", required=True, help=f"one of: {', '.join(MODEL_NAMES)}")
    p.add_argument("--dataset", required=True, help=f"one of: {', '.join(DATASET_NAMES)}")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--epochs", type=float, default=50, help="passes over the training set (default 50)")
    p.add_argument("--steps", type=int, default=None, help="total iterations; overrides --epochs")
    p.add_argument("--max-steps", type=int, default=None, help="cap on the iterations")
    p.add_argument("--train-fraction", type=float, default=1.0, help="first fraction of the training set")
    p.add_argument("--ip-every", type=int, default=1, help="information plane every N iterations (default 1)")
    p.add_argument("--ip-samples", type=int, default=100, help="test images for the information plane (default 100)")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--lr", type=float, default=0.005)
    p.add_argument("--bottleneck", type=int, default=None, help="label-AE bottleneck width (default: classes)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--recompute", action="store_true", help="train even if OUT holds this exact run")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _train(args) -> int:
    from .training import TrainConfig, train

    config = TrainConfig(model=args.model, dataset=args.dataset, epochs=args.epochs, steps=args.steps,
                         max_steps=args.max_steps, train_fraction=args.train_fraction,
                         batch_size=args.batch_size, lr=args.lr, ip_every=args.ip_every,
                         ip_samples=args.ip_samples, bottleneck=args.bottleneck, seed=args.seed,
                         device=args.device)
    run = train(config, args.out, recompute=args.recompute, progress=not args.quiet)
    f = run.info["final"]
    print(f"{args.out}: {run.info['data']['steps']} iterations, final train loss {f['train_loss']:.4g}, "
          f"test loss {f['test_loss']:.4g}, {run.info['wall_seconds']:.0f} s")
    return 0


def _runs_parser(sub) -> None:
    p = sub.add_parser("runs", help="train (or reuse) the seven runs of a profile on a dataset",
                       description="Train, or reuse when the config is identical, every run of "
                                   "params/PROFILE.yaml; results go to results/PROFILE/DATASET/RUN/.")
    p.add_argument("--profile", default="quick", help="paper or quick (params/*.yaml)")
    p.add_argument("--dataset", default="mnist", help=f"one of: {', '.join(DATASET_NAMES)}")
    p.add_argument("--runs", nargs="*", default=None, help="only these runs (default: all)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--recompute", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _runs(args) -> int:
    from .experiments import run_profile

    done = run_profile(args.profile, args.dataset, runs=args.runs, recompute=args.recompute,
                       progress=not args.quiet, device=args.device)
    for name, run in done.items():
        f = run.info["final"]
        print(f"{name:11s} {run.info['data']['steps']:6d} it  train {f['train_loss']:.4g}  "
              f"test {f['test_loss']:.4g}  {run.info['wall_seconds']:6.0f} s  "
              f"{run.info['peak_memory_mb']:5.0f} MiB  -> {run.path}")
    return 0


def _book_parser(sub) -> None:
    p = sub.add_parser("book", help="run a profile's experiments, execute every chapter, build the site",
                       description="Train what is missing for params/PROFILE.yaml on DATASET (results "
                                   "are reused), execute every chapter with papermill for that "
                                   "profile and dataset, and build the site into _build/html.")
    p.add_argument("--profile", default="quick", help="paper or quick (params/*.yaml)")
    p.add_argument("--dataset", default="fashion-mnist", help=f"one of: {', '.join(DATASET_NAMES)}")
    p.add_argument("--out", default=None, help="output root (default: the repository; HTML in OUT/_build/html)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _book(args) -> int:
    from .book import build_book

    build_book(args.profile, args.dataset, out=args.out, progress=not args.quiet)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ipbook", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _train_parser(sub)
    _runs_parser(sub)
    _book_parser(sub)
    args = parser.parse_args(argv)
    try:
        return {"train": _train, "runs": _runs, "book": _book}[args.command](args)
    except (ValueError, DatasetNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
