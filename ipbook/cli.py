"""The ipbook command line: ``python -m ipbook train|runs|sweep|sensitivity|second-opinion|defined|labels|calibrate|book``.

    python -m ipbook train --model deep [--dataset fashion-mnist] --out runs/deep [--steps N] ...
    python -m ipbook runs --profile paper|quick [--dataset NAME] [--runs deep vae] [--recompute]
    python -m ipbook sweep --profile seeds --dataset NAME [NAME ...] --seeds 0 1 2 3 4 [--workers N | --scheduler ADDR]
    python -m ipbook sensitivity --dataset NAME [--profile seeds] [--grid paper|controls|small] [--workers N | --scheduler ADDR]
    python -m ipbook book --profile paper|quick [--dataset NAME] [--out DIR]
    python -m ipbook second-opinion --dataset NAME [--profile seeds] [--workers N | --scheduler ADDR]
    python -m ipbook calibrate [--grid paper|quick] [--n N ...] [--seeds S ...] [--workers N] [--out DIR]

Every error is reported as one ``error: ...`` message on stderr with exit status 2 (1 for a
diverged training run or a chapter that failed, 130 when interrupted); no traceback. A damaged
file is named with what is wrong and how to restore it (:mod:`ipbook.readers`). A failed task of a
sweep or a grid (``sweep``, ``sensitivity``, ``second-opinion``, ``calibrate``) is one
``error: TASK failed: ERROR`` line per failed task, with exit status 1.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import re
import subprocess
import sys

from ipbook.nets.config import MAX_STEPS, TrainingDivergedError
from ipbook.nets.data import DATASET_NAMES, DEFAULT_DATASET, DatasetNotFoundError
from ipbook.nets.layers import ACTIVATION_NAMES
from ipbook.nets.models import CLASSIFIER_NAMES, MODEL_NAMES

_DESCRIPTION = ("Information flows of diverse autoencoders (Lee & Jo 2021): train the paper's "
                "autoencoders while recording the information plane of every layer, and build the book.")


class _Help(argparse.HelpFormatter):
    """Show each option's default where it has one (and its help text does not already say it)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default is None or action.default is False or action.default == argparse.SUPPRESS or "default" in text:
            return text
        if isinstance(action.default, (list, tuple)):   # as it is typed: --dataset fashion-mnist
            return f"{text} (default: {' '.join(map(str, action.default))})"
        return f"{text} (default: %(default)s)"


def _int_at_least(low: int, what: str, high: int | None = None):
    """An argparse type: an integer >= ``low`` (and <= ``high``), else an error that names the
    value and the range."""
    accepted = f"an integer >= {low}" + (f" and <= {high}" if high is not None else "")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {accepted}; got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {accepted}; got {value}")
        return value
    parse.__name__ = what   # argparse names the type in its messages
    return parse


def _number_in(what: str, high: float | None = None):
    """An argparse type: a finite number > 0 (and <= ``high``), else an error that names the value
    and the range."""
    accepted = "a finite number > 0" + (f" and <= {high}" if high is not None else "")

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {accepted}; got {text!r}") from None
        if not (math.isfinite(value) and value > 0 and (high is None or value <= high)):
            raise argparse.ArgumentTypeError(f"must be {accepted}; got {text}")
        return value
    parse.__name__ = what
    return parse


class _Parser(argparse.ArgumentParser):
    """Errors in the arguments are one ``error:`` line (exit status 2), like every other error."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def _profiles() -> str:
    from ipbook.experiments.profiles import profile_names

    return ", ".join(profile_names())


def _add_common(p, *, dataset_help: str, profile: bool = False, several: bool = False) -> None:
    if profile:
        p.add_argument("--profile", default="quick", help=f"the settings, params/PROFILE.yaml: {_profiles()}")
    if several:
        p.add_argument("--dataset", nargs="+", default=[DEFAULT_DATASET], metavar="NAME",
                       help=f"{dataset_help}, one or more, run in the order given: "
                            f"{', '.join(DATASET_NAMES)}")
    else:
        p.add_argument("--dataset", default=DEFAULT_DATASET, metavar="NAME",
                       help=f"{dataset_help}: one of {', '.join(DATASET_NAMES)}")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _train_parser(sub) -> None:
    from ipbook.nets.config import OPTIMIZERS, TrainConfig

    d = TrainConfig()
    p = sub.add_parser("train", help="train one autoencoder (or the classifier) and record its information plane",
                       formatter_class=_Help,
                       description="Train one autoencoder with the information plane of every hidden "
                                   "layer recorded online; writes OUT/metrics.npz and OUT/run.json. "
                                   "The defaults are the paper's settings.")
    p.add_argument("--model", required=True, metavar="MODEL",
                   help=f"one of: {', '.join(MODEL_NAMES)}; or the supervised control: {', '.join(CLASSIFIER_NAMES)}")
    p.add_argument("--out", required=True, help="output directory (checked before training starts)")
    _add_common(p, dataset_help="training and probe data")
    p.add_argument("--epochs", type=_number_in("--epochs", MAX_STEPS), default=d.epochs,
                   help=f"passes over the training set (at most {MAX_STEPS:,} iterations in all)")
    p.add_argument("--steps", type=_int_at_least(1, "--steps", MAX_STEPS), default=None,
                   help=f"total iterations, 1 to {MAX_STEPS:,}; overrides --epochs")
    p.add_argument("--max-steps", type=_int_at_least(1, "--max-steps", MAX_STEPS), default=None,
                   help="cap on the iterations (quick runs)")
    p.add_argument("--train-fraction", type=_number_in("--train-fraction", 1), default=d.train_fraction,
                   help="use this first fraction of the training set (the paper's 10%% run: 0.1)")
    p.add_argument("--batch-size", type=_int_at_least(1, "--batch-size"), default=d.batch_size,
                   help="images per Adam step")
    p.add_argument("--lr", type=_number_in("--lr"), default=d.lr, help="the optimizer's learning rate")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer,
                   help="adam (the paper's) or sgd (plain, no momentum)")
    p.add_argument("--ip-every", type=_int_at_least(1, "--ip-every", MAX_STEPS), default=d.ip_every,
                   help="estimate the information plane every this many iterations")
    p.add_argument("--ip-samples", type=_int_at_least(2, "--ip-samples"), default=d.ip_samples,
                   help="fixed test images the information plane is estimated on, >= 2 and at most "
                        "the test images")
    p.add_argument("--test-points", type=_int_at_least(1, "--test-points", MAX_STEPS), default=None,
                   help="whole-test-set loss evaluations over the run (default: one per 100 "
                        "iterations, at least 20 and at most 300)")
    p.add_argument("--bottleneck", type=_int_at_least(1, "--bottleneck"), default=None,
                   help="bottleneck width n_Z (default: 50; label AE: the number of classes)")
    p.add_argument("--activation", default=d.activation, metavar="NAME",
                   help=f"hidden-layer nonlinearity: one of {', '.join(ACTIVATION_NAMES)} (X' stays a sigmoid)")
    p.add_argument("--sparsity", type=float, default=None,
                   help="the sparse AE's KL weight lambda (default: the paper's 1e-3)")
    p.add_argument("--seed", type=_int_at_least(0, "--seed"), default=d.seed,
                   help="seeds the weights, the batch order and the probe images (an integer >= 0)")
    p.add_argument("--device", default=d.device, help="cpu, cuda or cuda:N")
    p.add_argument("--recompute", action="store_true",
                   help="train even if OUT holds a finished run with this config and data")


def _as_options(message: str, fields) -> str:
    """``message`` with the TrainConfig ``fields`` it names as settings (``ip_samples = 20000``,
    ``batch_size must``, ``(lr)``) named as their options (``--ip-samples``)."""
    names = "|".join(sorted(fields, key=len, reverse=True))
    return re.sub(rf"\b({names})\b(?=\s*=|\s+must|\))", lambda m: "--" + m[1].replace("_", "-"), message)


def _train(args) -> int:
    from ipbook.nets.config import TrainConfig
    from ipbook.claims.findings import run_findings
    from ipbook.nets.training import train
    from ipbook.readers import DamagedFileError

    # every TrainConfig field that has an option (--batch-size -> batch_size); the rest keep their defaults
    fields = [f.name for f in dataclasses.fields(TrainConfig) if hasattr(args, f.name)]
    try:
        config = TrainConfig(**{name: getattr(args, name) for name in fields})
        run = train(config, args.out, recompute=args.recompute, progress=not args.quiet)
    except DamagedFileError:
        raise
    except ValueError as e:
        raise ValueError(_as_options(str(e), fields)) from None
    except TrainingDivergedError as e:
        raise TrainingDivergedError(_as_options(str(e), fields)) from None
    f = run_findings(run)
    print(f"{args.out}: {run.summary()}; {run.info['data']['steps']} iterations, train loss "
          f"{f['train_loss']:.4g} (mean of the last 1 % of iterations), test loss {f['test_loss']:.4g}")
    return 0


def _runs_parser(sub) -> None:
    p = sub.add_parser("runs", help="train (or reuse) the seven runs of a profile on a dataset",
                       formatter_class=_Help,
                       description="Train every run of params/PROFILE.yaml, or reuse it when a finished "
                                   "run with the same config and data exists; results go to "
                                   "results/PROFILE/DATASET/RUN/.")
    _add_common(p, dataset_help="data set", profile=True)
    p.add_argument("--runs", nargs="+", default=None, metavar="RUN",
                   help="only these runs (default: all of the profile)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--recompute", action="store_true",
                   help="train every run again, even those with a finished result")


def _runs(args) -> int:
    from ipbook.experiments.profiles import run_profile

    from ipbook.claims.findings import run_findings

    done = run_profile(args.profile, args.dataset, runs=args.runs, recompute=args.recompute,
                       progress=not args.quiet, device=args.device)
    print("train: the mean loss of the last 1 % of iterations; test: the whole test set at the end")
    for name, run in done.items():
        f = run_findings(run)
        print(f"{name:11s} {run.info['data']['steps']:6d} it  train {f['train_loss']:.4g}  "
              f"test {f['test_loss']:.4g}  {run.summary()}  {run.info['peak_memory_mb']:5.0f} MiB  -> {run.path}")
    return 0


def _book_parser(sub) -> None:
    p = sub.add_parser("book", help="run a profile's experiments, execute every chapter, build the site",
                       formatter_class=_Help,
                       description="Train what is missing for params/PROFILE.yaml on each dataset "
                                   "(finished runs are reused), execute every chapter with papermill for "
                                   "that profile, once per dataset, and build one site into "
                                   "OUT/_build/html: every chapter shows each dataset in its own tab.")
    p.add_argument("--profile", default="quick",
                   help="the settings, params/PROFILE.yaml: paper (the committed runs) or quick (minutes)")
    p.add_argument("--train", action="store_true",
                   help="train the profile's missing runs even when that takes more than a few minutes "
                        "(refused otherwise, naming the command that trains them)")
    p.add_argument("--dataset", nargs="+", default=None, metavar="NAME",
                   help=f"restrict the site to these datasets, one or more of {', '.join(DATASET_NAMES)} "
                        f"(default: mnist and fashion-mnist)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--out", default=None,
                   help="output root; the HTML goes to OUT/_build/html (default: the repository)")


def _book(args) -> int:
    from ipbook.site.build import ChapterFailed, build_book

    try:
        build_book(args.profile, args.dataset, out=args.out, progress=not args.quiet, train=args.train)
    except ChapterFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def _add_tasks(p) -> None:
    """The options of a command that runs seeds x runs as Dask tasks: which, and on what cluster."""
    p.add_argument("--runs", nargs="+", default=None, metavar="RUN",
                   help="only these runs (default: all of the profile)")
    p.add_argument("--seeds", nargs="+", type=_int_at_least(0, "--seeds"), default=None, metavar="S",
                   help="seeds, integers >= 0 (default: the profile's seeds, else 0)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_int_at_least(1, "--workers"), default=None,
                       help="local process workers, one thread each, >= 1 (default: one per core)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="an existing Dask cluster, e.g. tcp://host:8786, instead of a local one")


def _add_sweep_source(p, profiles: tuple[str, ...] | None = None) -> None:
    """The options of a command that evaluates a finished sweep: which sweep (one of ``profiles``
    when given), runs and seeds, and on what cluster."""
    if profiles:
        p.add_argument("--profile", default=profiles[0], choices=profiles, help="the sweep's settings, params/PROFILE.yaml")
    else:
        p.add_argument("--profile", default="seeds", help=f"the sweep's settings, params/PROFILE.yaml: {_profiles()}")
    p.add_argument("--dataset", default=DEFAULT_DATASET, metavar="NAME",
                   help=f"data set of the sweep: one of {', '.join(DATASET_NAMES)}")
    _add_tasks(p)


def _sweep_parser(sub) -> None:
    p = sub.add_parser("sweep", help="seeds x runs of a profile as parallel tasks on a Dask cluster",
                       formatter_class=_Help,
                       description="Train every run of params/PROFILE.yaml for each seed, one Dask task "
                                   "per run, into ROOT/PROFILE/DATASET/RUN/seed-S/. Finished runs are "
                                   "reused, so an interrupted sweep resumes; a failing run is reported "
                                   "by name while the others finish. Without --scheduler, a local "
                                   "cluster of process workers with one thread each.")
    _add_common(p, dataset_help="data sets", profile=True, several=True)
    _add_tasks(p)
    p.add_argument("--root", default=None,
                   help="results root (default: the repository's results/, results/controls/ for controls-*)")
    p.add_argument("--max-steps", type=_int_at_least(1, "--max-steps", MAX_STEPS), default=None,
                   help="cap on the iterations of every run")
    p.add_argument("--force", action="store_true",
                   help="train over committed runs whose config differs (refused otherwise, before any work)")
    p.add_argument("--recreate-checkpoints", action="store_true",
                   help="recreate the checkpoint file of finished runs that lack it here by replaying "
                        "their training without measurements (kept only if the loss matches the record "
                        "at every iteration, else trained again); checkpoints are not committed, and "
                        "without this flag such runs are reused")


def _sweep(args) -> int:
    from ipbook.experiments.sweep import sweep

    overrides = {"max_steps": args.max_steps} if args.max_steps is not None else {}
    datasets = args.dataset if len(args.dataset) > 1 else args.dataset[0]
    report = sweep(args.profile, datasets, args.seeds, runs=args.runs, workers=args.workers,
                   scheduler=args.scheduler, root=args.root, progress=not args.quiet,
                   recreate_checkpoints=args.recreate_checkpoints, force=args.force, **overrides)
    for name, out in sorted(report.done.items()):
        print(f"{name:34s} {report.outcomes[name]}  -> {out}")
    for name, err in sorted(report.failed.items()):
        print(f"error: {name} failed: {err}", file=sys.stderr)
    return 0 if report.ok else 1


def _sensitivity_parser(sub) -> None:
    p = sub.add_parser("sensitivity", help="re-estimate a sweep's checkpoints under a grid of estimator settings",
                       formatter_class=_Help,
                       description="Evaluate the information plane of every run and seed of a sweep at "
                                   "each checkpoint under the estimator grid (bandwidth rule and scale, "
                                   "alpha, N, probe split, probe draws), one Dask task per run and seed; "
                                   "writes OUT/DATASET.csv.gz, OUT/DATASET-input-entropy.csv, "
                                   "OUT/DATASET-geometry.csv.gz, OUT/DATASET-rescaling.csv and "
                                   "OUT/DATASET.json. A run without checkpoints.pt on this machine keeps "
                                   "its rows from the tables already in OUT when they cover the grid and "
                                   "match its recorded plane. Tables with fewer runs, seeds or settings "
                                   "than those in OUT are refused before any work (--force writes them); "
                                   "when every run keeps its rows, nothing is written.")
    _add_sweep_source(p)
    p.add_argument("--draws", type=_int_at_least(1, "--draws"), default=None,
                   help="probe draws at the paper's setting, >= 1 (draw 0 is the run's own; default: "
                        "10 for --grid paper, 5 for controls, 3 for small)")
    p.add_argument("--large-n-steps", type=_int_at_least(1, "--large-n-steps"), default=None,
                   help="checkpoints evaluated at N = 500 and 1000, >= 1 (one seed: the one the "
                        "existing tables used, else the one with the most runs with checkpoints; "
                        "--grid paper only; default: 20)")
    p.add_argument("--force", action="store_true",
                   help="write the tables even when they hold fewer runs, seeds or settings than "
                        "those they replace (refused otherwise, before any work)")
    p.add_argument("--grid", default="paper", choices=["paper", "controls", "small"],
                   help="paper: one factor at a time around the paper's setting; controls: the paper's "
                        "setting, the median and Tapia rules, 5 draws; small: gamma 1, 2, 8, N 100, 3 draws")
    p.add_argument("--root", default=None,
                   help="results root of the sweep (default: results/, results/controls/ for controls-*)")
    p.add_argument("--out", default=None, help="output folder (default: results/sensitivity/, "
                                               "results/controls/sensitivity/PROFILE/ for controls-*)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _sensitivity(args) -> int:
    from ipbook.experiments.sensitivity import evaluate_sweep, named_settings

    grid = named_settings(args.grid, args.draws)
    if args.large_n_steps is not None and not any(s.n > 100 for s in grid):
        raise ValueError(f"--large-n-steps applies to grids with N above 100 (--grid paper); --grid "
                         f"{args.grid} evaluates N = 100 only")
    info = evaluate_sweep(args.dataset, args.profile, settings=grid, seeds=args.seeds, runs=args.runs,
                          root=args.root, out=args.out, large_n_steps=args.large_n_steps or 20,
                          workers=args.workers, scheduler=args.scheduler, progress=not args.quiet,
                          force=args.force)
    if not info["written"]:
        print(f"nothing to evaluate: all {len(info['kept_from_earlier_tables'])} run(s) keep their "
              f"{info['rows']} rows from the tables already there (no checkpoints here); nothing written")
        return 0
    print(f"{len(info['evaluated'])} run(s) evaluated, {info['rows']} rows, "
          f"{sum(info['task_seconds'].values()):.0f} s of task time"
          + ("; the same tables as those there: nothing rewritten" if info.get("unchanged") else ""))
    if info["kept_from_earlier_tables"]:
        print(f"kept from the earlier tables (no checkpoints here): {', '.join(info['kept_from_earlier_tables'])}")
    if info["missing_checkpoints"]:
        print(f"no checkpoints on this machine (left out): {', '.join(info['missing_checkpoints'])}")
    return 0


def _second_opinion_parser(sub) -> None:
    p = sub.add_parser("second-opinion", help="noisy-layer bounds, binning and the VAE's bounds on a sweep's checkpoints",
                       formatter_class=_Help,
                       description="Evaluate the noisy-layer bounds, binning and the VAE's bounds on every "
                                   "layer of every run and seed of a sweep at each checkpoint (N test and "
                                   "N training images, extra test draws at some checkpoints for the noise), "
                                   "one Dask task per run and seed; writes OUT/DATASET.csv.gz and "
                                   "OUT/DATASET.json. Runs without checkpoints here keep their rows; a "
                                   "table with fewer runs than the one in OUT is refused before any work.")
    _add_sweep_source(p)
    p.add_argument("--n", type=_int_at_least(2, "--n"), default=1000,
                   help="probe images per set, >= 2 and at most the test images and the 6,000 training "
                        "images the training probes are drawn from")
    p.add_argument("--draws", type=_int_at_least(1, "--draws"), default=6,
                   help="test-image probe draws in all, draw 0 included, >= 1")
    p.add_argument("--draw-steps", type=_int_at_least(1, "--draw-steps"), default=20,
                   help="checkpoints at which the extra draws are evaluated, >= 1")
    p.add_argument("--root", default=None, help="results root of the sweep (default: results/, results/controls/ for controls-*)")
    p.add_argument("--out", default=None, help="output folder (default: results/second-opinion/, "
                                               "results/second-opinion/PROFILE/ for other profiles)")
    p.add_argument("--force", action="store_true", help="write a table with fewer runs than the one it replaces")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _second_opinion(args) -> int:
    from ipbook.experiments.profiles import second_opinion_dir
    from ipbook.experiments.second_opinion import Grid, evaluate_sweep

    out = args.out or second_opinion_dir(args.profile)
    info = evaluate_sweep(args.dataset, args.profile, grid=Grid(n=args.n, draws=args.draws, draw_steps=args.draw_steps),
                          seeds=args.seeds, runs=args.runs, root=args.root, out=out, workers=args.workers,
                          scheduler=args.scheduler, progress=not args.quiet, force=args.force)
    if not info["written"]:
        print(f"nothing to evaluate: no run has checkpoints here; {len(info['kept_from_earlier_table'])} "
              f"run(s) keep their rows, nothing written")
        return 0
    print(f"{len(info['evaluated'])} run(s) evaluated, {info['rows']} rows, "
          f"{sum(info['task_seconds'].values()):.0f} s of task time -> {out}"
          + ("; the same table as the one there: nothing rewritten" if info.get("unchanged") else ""))
    if info["missing_checkpoints"]:
        print(f"no checkpoints on this machine (left out): {', '.join(info['missing_checkpoints'])}")
    return 0


def _defined_parser(sub) -> None:
    p = sub.add_parser("defined", help="where I(X;T) is defined: the noisy and quantized sweeps at their checkpoints",
                       formatter_class=_Help,
                       description="Measure every run and seed of the noisy or quantized profile that has "
                                   "checkpoints here: I(X;T) of every layer by sample propagation (noise inside) "
                                   "or H(Z) and I(Z;Y) counted over every image (quantized), and each layer's "
                                   "geometry; one Dask task per run and seed; writes OUT/DATASET.csv.gz and "
                                   "OUT/DATASET.json. A table with fewer runs than the one in OUT is refused "
                                   "before any work.")
    _add_sweep_source(p, profiles=("noisy", "quantized"))
    p.add_argument("--n", type=_int_at_least(2, "--n"), default=1000, help="test probes, >= 2")
    p.add_argument("--passes", type=_int_at_least(1, "--passes"), default=8,
                   help="noisy passes per probe for the layers after the first, >= 1")
    p.add_argument("--samples", type=_int_at_least(2, "--samples"), default=10_000,
                   help="Monte-Carlo draws per value, >= 2")
    p.add_argument("--steps", type=_int_at_least(2, "--steps"), default=30,
                   help="checkpoints evaluated, spread evenly over each run's, >= 2")
    p.add_argument("--root", default=None, help="results root of the sweep (default: results/)")
    p.add_argument("--out", default=None, help="output folder (default: results/defined/PROFILE/)")
    p.add_argument("--force", action="store_true", help="write a table with fewer runs than the one it replaces")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _defined(args) -> int:
    from ipbook.experiments.defined import DefinedGrid, defined_dir, evaluate_defined

    out = args.out or defined_dir(args.profile)
    grid = DefinedGrid(n=args.n, passes=args.passes, samples=args.samples, steps=args.steps)
    info = evaluate_defined(args.dataset, args.profile, grid=grid, seeds=args.seeds, runs=args.runs, root=args.root,
                            out=out, workers=args.workers, scheduler=args.scheduler, progress=not args.quiet,
                            force=args.force)
    if args.profile == "quantized":
        from ipbook.experiments.defined import FINAL_WEIGHTS, keep_final_weights
        kept = keep_final_weights(args.dataset, root=args.root)
        print(f"{len(kept)} run(s)' last weights kept as {FINAL_WEIGHTS} beside their run.json (commit them)")
    if not info["written"]:
        print(f"nothing to evaluate: no run has checkpoints here (train them: python -m ipbook sweep --profile "
              f"{args.profile} --dataset {args.dataset} --workers 2); nothing written")
        return 0
    print(f"{len(info['evaluated'])} run(s) evaluated, {info['rows']} rows, "
          f"{sum(info['task_seconds'].values()):.0f} s of task time -> {out}")
    return 0


def _labels_parser(sub) -> None:
    p = sub.add_parser("labels", help="I(T;Y) of a classifier sweep under label estimators, by replaying each run",
                       formatter_class=_Help,
                       description="Measure I(T;Y) of every layer of every finished run and seed of a classifier "
                                   "profile with label estimators whose ceiling is H(Y) (the decoding bound, the "
                                   "matrix estimator with the label kernel), with true and shuffled labels, at "
                                   "checkpoints that a replay of the run's training recreates (the cost of the "
                                   "training alone); one Dask task per run and seed; writes OUT/DATASET.csv.gz "
                                   "and OUT/DATASET.json. Runs that the table there holds on the same grid are "
                                   "kept, not measured again.")
    _add_sweep_source(p, profiles=("supervised", "supervised-sgd", "supervised-quick"))
    p.add_argument("--n", type=_int_at_least(2, "--n"), default=2000, help="test probes of the decoding bound, >= 2")
    p.add_argument("--matrix-n", type=_int_at_least(2, "--matrix-n"), default=1000,
                   help="the first this many probes for the matrix estimator, 2..N")
    p.add_argument("--steps", type=_int_at_least(2, "--steps"), default=24,
                   help="checkpoints per run, evenly spaced in iterations among its online estimators', >= 2")
    p.add_argument("--root", default=None, help="results root of the sweep (default: results/)")
    p.add_argument("--out", default=None, help="output folder (default: results/labels/PROFILE/)")
    p.add_argument("--force", action="store_true",
                   help="measure every run again, and write a table with fewer runs than the one it replaces")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _labels(args) -> int:
    from ipbook.experiments.supervised_labels import LabelGrid, evaluate_labels, labels_dir

    out = args.out or labels_dir(args.profile)
    grid = LabelGrid(n=args.n, matrix_n=args.matrix_n, steps=args.steps)
    info = evaluate_labels(args.dataset, args.profile, grid=grid, seeds=args.seeds, runs=args.runs, root=args.root,
                           out=out, workers=args.workers, scheduler=args.scheduler, progress=not args.quiet,
                           force=args.force)
    if not info["written"]:
        print(f"nothing to evaluate: no finished run here (train them: python -m ipbook sweep --profile "
              f"{args.profile} --dataset {args.dataset} --workers 2); nothing written")
        return 0
    print(f"{len(info['evaluated'])} run(s) evaluated, {len(info['kept_from_earlier_table'])} kept, {info['rows']} "
          f"rows, {sum(info['task_seconds'].values()):.0f} s of task time -> {out}")
    return 0


def _calibrate_parser(sub) -> None:
    p = sub.add_parser("calibrate", help="every estimator on distributions of known mutual information",
                       formatter_class=_Help,
                       description="Evaluate the estimators of ipbook.estimators on the distributions of "
                                   "ipbook.experiments.calibration (Gaussians, Student-t, MI-preserving maps, linear "
                                   "channels) at each N and sample seed, one Dask task per distribution; "
                                   "writes OUT/estimates.csv and OUT/estimates.json. Finished tasks are "
                                   "kept in OUT/.parts/ until the table is written, so an interrupted grid "
                                   "resumes. A table with fewer distributions, N "
                                   "or seeds than the one in OUT is refused before any work (--force).")
    p.add_argument("--grid", default="paper", choices=["paper", "quick"],
                   help="paper: every family, d up to 50, channels from d = 784; quick: one task per family and map, low dimensions")
    p.add_argument("--n", nargs="+", type=_int_at_least(2, "--n"), default=None, metavar="N",
                   help="sample sizes, >= 2 (default: 100 500 1000; quick: 100)")
    p.add_argument("--seeds", nargs="+", type=_int_at_least(0, "--seeds"), default=None, metavar="S",
                   help="sample seeds, >= 0 (default: 0-4; quick: 0 1)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_int_at_least(1, "--workers"), default=None,
                       help="local process workers, one thread each, >= 1 (default: one per core)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS", help="an existing Dask cluster")
    p.add_argument("--out", default=None, help="output folder (default: results/calibration/)")
    p.add_argument("--force", action="store_true", help="write a table smaller than the one it replaces")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _calibrate(args) -> int:
    from ipbook.experiments.calibration_grid import evaluate_grid, named_tasks
    from ipbook.experiments.profiles import calibration_dir

    tasks, ns, seeds = named_tasks(args.grid)
    frame = evaluate_grid(tasks, ns=args.n or ns, seeds=args.seeds or seeds,
                          out=args.out, workers=args.workers, scheduler=args.scheduler,
                          progress=not args.quiet, force=args.force)
    out = args.out or calibration_dir()
    if frame.attrs.get("unchanged"):
        print(f"{len(frame)} rows, the same as {out}/estimates.csv: nothing rewritten (task times in "
              f"{out}/.logs/estimates.log)")
        return 0
    print(f"{len(frame)} rows -> {out}/estimates.csv")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m ipbook`` and its subcommands."""
    from ipbook import __version__

    parser = _Parser(prog="python -m ipbook", description=_DESCRIPTION, formatter_class=_Help)
    parser.add_argument("--version", action="version", version=f"ipbook {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{train,runs,sweep,sensitivity,book,calibrate,second-opinion,defined,labels}",
                                parser_class=_Parser)
    _train_parser(sub)
    _runs_parser(sub)
    _sweep_parser(sub)
    _sensitivity_parser(sub)
    _book_parser(sub)
    _calibrate_parser(sub)
    _second_opinion_parser(sub)
    _defined_parser(sub)
    _labels_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from ipbook.experiments.grid import GridFailed

    try:
        return {"train": _train, "runs": _runs, "sweep": _sweep, "sensitivity": _sensitivity,
                "book": _book, "calibrate": _calibrate, "second-opinion": _second_opinion,
                "defined": _defined, "labels": _labels}[args.command](args)
    except (ValueError, DatasetNotFoundError, MemoryError) as e:   # MemoryError: an estimator's own check
        print(f"error: {e or 'out of memory'}", file=sys.stderr)
        return 2
    except GridFailed as e:
        print("\n".join(e.lines()), file=sys.stderr)
        return 1
    except TrainingDivergedError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as e:
        print(f"error: {e.cmd[0]} failed with exit status {e.returncode}; its messages are above",
              file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: {e.strerror or e}{f': {e.filename}' if e.filename else ''}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        kept = ("finished tasks are kept (OUT/.parts/), so the same command resumes; no table was written"
                if args.command in ("sensitivity", "second-opinion", "calibrate", "defined", "labels")
                else "finished runs are kept, unfinished ones left no run.json")
        print(f"error: interrupted; {kept}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
