"""What each chapter does first: its runs (trained or reused) for a profile and dataset, or the
committed table of a grid, with a note on where the numbers come from."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from myst_nb import glue

from ipbook import verdicts
from ipbook.claims import paper
from ipbook.experiments.calibration import MIXTURE_GRIDS, mixture_bounds
from ipbook.experiments.calibration_grid import estimate_table, load_estimates, named_tasks
from ipbook.experiments.controls import QUICK_OVERRIDES
from ipbook.experiments.profiles import calibration_dir, load_seeds, REPO, RESULTS_DIR, run_profile, second_opinion_dir
from ipbook.experiments.second_opinion import activation_rows, Grid, load_table, run_estimates
from ipbook.experiments.sensitivity import evaluate_checkpoints, load_tables, named_settings
from ipbook.experiments.supervised import load_supervised, plane_frame
from ipbook.experiments.sweep import sweep_tasks
from ipbook.nets.data import load_dataset
from ipbook.nets.training import train
from ipbook.readers import read_json
from ipbook.site import conclusions as C, plotting
from ipbook.site.dataset_tabs import DATASET_TITLES, SITE_DATASETS
from ipbook.text import Text, spoken_list

__all__ = ["committed_or_now", "open_chapter", "seeds_by_dataset", "seed_runs", "open_sensitivity",
           "open_calibration", "open_mixture_bounds", "open_second_opinion", "open_activation_control", "open_supervised", "open_answer"]


def open_chapter(profile: str, dataset: str, run_names: list[str], *, results=None, tol: float = 0.05,
                 seeds_profile: str | None = "seeds"):
    """What every figure chapter does first: the book's figure style, its runs (trained where
    missing, else reused), the paper's claims on them, and every number glued for the page
    (:func:`ipbook.claims.paper.glue_values`, plus ``profile_name``, ``dataset_name``, ``n_seeds``,
    ``seeds_note``, a sentence for captions, ``seeds_every_note``, how often the seeds measured, and
    ``cannot_note``, what *cannot be judged* means in the claims table).

    For the paper profile, the finished seeds of ``seeds_profile`` (``python -m ipbook sweep
    --profile seeds``) that hold all of ``run_names`` are read too, without training; fewer than
    two count as none. Returns ``(runs, claims, values, seeds)``, ``seeds`` being
    ``{seed: {run name: Run}}`` (empty without seed results).
    """
    plotting.book_style()
    runs = run_profile(profile, dataset, runs=run_names, root=results, progress=False)
    claims = paper.paper_claims(runs, tol=tol)
    seeds = {}
    if profile == "paper" and seeds_profile:
        seeds = load_seeds(dataset, seeds_profile, runs=run_names, root=results)
        seeds = seeds if len(seeds) >= 2 else {}
    values = paper.glue_values(runs, claims)
    values.update(profile_name=Text(profile), dataset_name=Text(dataset),
                  n_seeds=len(seeds) or 1, seeds_note=Text(_seeds_note(seeds, seeds_profile)),
                  seeds_note_curves=Text(_seeds_note(seeds, seeds_profile, "curves")),
                  seeds_note_planes=Text(_seeds_note(seeds, seeds_profile, "planes")),
                  seeds_every_note=Text(_seeds_every_note(runs, seeds, seeds_profile)),
                  cannot_note=paper.cannot_note(runs))
    for name, value in values.items():
        glue(name, value, display=False)
    return runs, claims, values, seeds


def seeds_by_dataset(profile: str, dataset: str, runs: dict, seeds: dict, *, results=None) -> dict:
    """``{dataset: {seed: {run name: Run}}}`` for a verdict table with one column per dataset
    (:func:`ipbook.claims.paper.verdicts_by_dataset`): at the paper profile, the finished seeds (two or
    more) of the seeds profile for every dataset of :data:`SITE_DATASETS`, read without training;
    otherwise, or where no dataset has them, this page's own ``seeds`` (else its ``runs`` as seed 0)."""
    out = {}
    if profile == "paper":
        for name in SITE_DATASETS:
            found = load_seeds(name, "seeds", runs=list(runs), root=results)
            if len(found) >= 2:
                out[name] = found
    return out or {dataset: seeds or {0: runs}}


def committed_or_now(profile: str, committed, compute, *, glue_as: str, missing: str):
    """The rule of every chapter that reads a committed result: at the paper profile,
    ``committed()``, which returns ``(value, note)`` or None where nothing is committed; otherwise,
    or where it returned None, ``compute()``, which returns ``(value, note)`` made as the page runs,
    and at the paper profile the note then says what is missing ("; no committed ``missing``.").
    The note is glued as ``glue_as``. Returns ``(value, note)``."""
    found = committed() if profile == "paper" else None
    if found is None:
        value, note = compute()
        note += f"; no committed {missing}." if profile == "paper" else "."
    else:
        value, note = found
    glue(glue_as, Text(note), display=False)
    return value, note


def open_sensitivity(profile: str, dataset: str, run_names: list[str], *, results=None,
                     sensitivity_root=None) -> tuple[tuple, str]:
    """What each estimator-sensitivity chapter does first: the book's figure style and the tables
    (rows, inputs, geometry, rescaling) of :mod:`ipbook.experiments.sensitivity`, with a sentence saying
    where they come from (glued as ``sensitivity_note``).

    For the paper profile, the committed tables of ``python -m ipbook sensitivity`` on the seeds
    sweep (``results/sensitivity/<dataset>*``). Otherwise, or where none are committed, the
    :func:`~ipbook.experiments.sensitivity.named_settings` ``quick`` on the checkpoints of the quick profile's ``run_names``
    (trained where missing), computed as the page runs.
    """
    plotting.book_style()

    def committed():
        tables = load_tables(dataset, sensitivity_root)
        if tables is None:
            return None
        base = Path(sensitivity_root) if sensitivity_root is not None else REPO / "results" / "sensitivity"
        info = read_json(base / f"{dataset}.json")
        seeds = sorted({int(k.split("seed-")[1]) for k in info["evaluated"]})
        note = (f"The estimator grid of python -m ipbook sensitivity on the checkpoints of the seeds "
                f"profile (30,000 iterations): {len(info['evaluated'])} runs and seeds, seeds "
                f"{', '.join(map(str, seeds))}.")
        if info["missing_checkpoints"]:
            note += (f" Left out for want of checkpoints on the machine that evaluated the grid: "
                     f"{len(info['missing_checkpoints'])} runs and seeds.")
        return tables, note

    def now():
        runs = run_profile("quick", dataset, runs=run_names, root=results, progress=False)
        parts = [evaluate_checkpoints(run, named_settings("quick"), name=name) for name, run in runs.items()]
        tables = tuple(pd.concat([p[i] for p in parts], ignore_index=True) for i in range(4))
        steps = max(int(r.info["config"].get("steps") or 0) for r in runs.values())
        return ((tables[0], tables[1].drop_duplicates(), tables[2], tables[3]),
                f"A small estimator grid computed as this page ran, on the checkpoints of the quick "
                f"profile's runs (seed 0, {steps:,} iterations: the fitting phase only)")

    tables, note = committed_or_now(profile, committed, now, glue_as="sensitivity_note",
                                    missing="sensitivity results exist for this dataset")
    glue("profile_name", Text(profile), display=False)
    glue("dataset_name", Text(dataset), display=False)
    return tables, note


def open_calibration(profile: str, *, root=None):
    """What the calibration chapter does first: the book's figure style and the table of
    :mod:`ipbook.experiments.calibration_grid`, with a sentence saying where it comes from (glued as
    ``calibration_note``). For the paper profile, the committed ``results/calibration/estimates.csv``
    (``python -m ipbook calibrate``); otherwise, or where none is committed, the quick grid (one
    task per family, N = 100, two seeds), computed as the page runs in well under a minute."""
    plotting.book_style()

    def committed():
        rows = load_estimates(root)
        if rows is None:
            return None
        info = read_json(Path(root or calibration_dir()) / "estimates.json")
        return rows, (f"The grid of python -m ipbook calibrate: {info['tasks']} distributions, N = "
                      f"{', '.join(map(str, info['ns']))}, {len(info['seeds'])} sample seeds each "
                      f"({len(rows):,} estimates).")

    def now():
        return (estimate_table(*named_tasks("quick")),
                "A small grid computed as this page ran: one distribution per family and map, N = 100, two sample seeds")

    return committed_or_now(profile, committed, now, glue_as="calibration_note", missing="calibration table exists")


def open_mixture_bounds(profile: str):
    """The calibration chapter's noisy-layer mixtures: :func:`ipbook.experiments.calibration.mixture_bounds`
    on the grid of :data:`~ipbook.experiments.calibration.MIXTURE_GRIDS` named ``paper`` for the
    paper profile (d up to 256, 20,000 draws, about 10 s on one core), else ``quick`` (d up to 50,
    5,000 draws), computed as the page runs, with a sentence saying so (glued as ``mixture_note``).
    Returns ``(table, seconds)``."""
    import time

    ns, ds, variances, samples = MIXTURE_GRIDS["paper" if profile == "paper" else "quick"]
    start = time.perf_counter()
    table = mixture_bounds(ns, ds, variances, samples=samples)
    seconds = time.perf_counter() - start
    glue("mixture_note", Text(f"Computed as this page ran in {seconds:.0f} s: {len(table)} settings, "
                              f"{samples:,} Monte-Carlo draws each."), display=False)
    return table, seconds


def open_second_opinion(profile: str, dataset: str, *, results=None, root=None):
    """What the second-opinion chapter does first: the book's figure style and the rows of
    :mod:`ipbook.experiments.second_opinion`, with a sentence saying where they come from (glued as
    ``second_opinion_note``). For the paper profile, the committed
    ``results/second-opinion/<dataset>.csv.gz``; otherwise, or where none is committed, a small grid
    (N = 100 test images, 3 draws at 4 checkpoints) on the quick profile's checkpoints, computed as
    the page runs. Returns ``(rows, note, n_seeds)``."""
    plotting.book_style()

    def committed():
        rows = load_table(dataset, root)
        if rows is None:
            return None
        info = read_json(Path(root or second_opinion_dir()) / f"{dataset}.json")
        seeds = sorted(set(rows.seed))
        note = (f"The estimators of python -m ipbook second-opinion on the checkpoints of the seeds profile "
                f"(30,000 iterations), N = {info['grid']['n']} probe images: {rows.groupby(['run', 'seed']).ngroups} "
                f"runs and seeds, seeds {', '.join(map(str, seeds))}.")
        if info.get("missing_checkpoints"):
            note += (f" Not yet evaluated (their checkpoints were not recreated on the machine that "
                     f"evaluated the grid): {len(info['missing_checkpoints'])} runs and seeds.")
        return rows, note

    def now():
        runs = run_profile("quick", dataset, root=results, progress=False)
        steps = max(int(r.info["config"].get("steps") or 0) for r in runs.values())
        return (_small_grid_rows(runs, dataset),
                f"A small grid computed as this page ran, on the checkpoints of the quick profile's runs "
                f"(seed 0, {steps:,} iterations: the fitting phase only), N = 100 test images")

    rows, note = committed_or_now(profile, committed, now, glue_as="second_opinion_note",
                                  missing="second-opinion table exists for this dataset")
    return rows, note, int(rows.seed.nunique())


def _small_grid_rows(runs: dict, dataset: str):
    """The second-opinion chapter's small grid (N = 100 test images, 3 draws at 4 checkpoints) on
    ``runs`` ({name: Run}), the test images loaded once for all of them."""
    grid, data = Grid(n=100, draws=3, draw_steps=4, train_probe=False), {"test": load_dataset(dataset, "test")}
    return pd.concat([run_estimates(run, grid, name=name, data=data) for name, run in runs.items()],
                     ignore_index=True)


def open_activation_control(profile: str, dataset: str, seeds_rows, *, results=None, root=None):
    """The activation control under the estimators of :mod:`ipbook.experiments.second_opinion`: the rows of
    :func:`~ipbook.experiments.second_opinion.activation_rows` and a sentence on where they come from (glued as
    ``activation_note``). For the paper profile, the committed
    ``results/second-opinion/controls-activation/<dataset>.csv.gz`` beside ``seeds_rows`` (the
    seeds profile's table); otherwise, or where none is committed, the quick version of each run
    (seed 0, :data:`ipbook.experiments.controls.QUICK_OVERRIDES`) on the second-opinion chapter's small grid.
    Returns ``(rows, note)``."""
    def committed():
        table = load_table(dataset, Path(root or second_opinion_dir()) / "controls-activation")
        if table is None:
            return None
        seeds = sorted(set(table.seed))
        base = sorted(set(seeds_rows[seeds_rows.run.isin(["shallow", "deep"])].seed))
        return activation_rows(seeds_rows, table), (
            f"The tanh, ReLU and linear runs of the activation control, seed{'s' if len(seeds) > 1 else ''} "
            f"{', '.join(map(str, seeds))}, and the paper's sigmoid runs of the seeds profile, seed"
            f"{'s' if len(base) > 1 else ''} {', '.join(map(str, base))}; the same grid as above.")

    def now():
        runs = run_profile("controls-activation", dataset, root=Path(results or RESULTS_DIR) / "quick",
                           progress=False, **QUICK_OVERRIDES)
        sigmoid = seeds_rows
        if profile == "paper":   # the committed seeds rows are on another grid: the quick sigmoid runs
            sigmoid = _small_grid_rows(run_profile("quick", dataset, runs=["shallow", "deep"], root=results,
                                                   progress=False), dataset)
        return activation_rows(sigmoid, _small_grid_rows(runs, dataset)), (
            f"The quick version of each run of the activation control (seed 0, {QUICK_OVERRIDES['steps']} "
            f"iterations: the fitting phase only) and the quick profile's shallow and deep AE, N = 100 test images")

    return committed_or_now(profile, committed, now, glue_as="activation_note",
                            missing="second-opinion table of the control exists for this dataset")


def open_supervised(profile: str, dataset: str, *, results=None):
    """What the supervised part of "Measure your own network" does first: the runs of the
    supervised control as one :func:`ipbook.experiments.supervised.plane_frame`, with a sentence saying where
    they come from (glued as ``supervised_note``, and as Markdown, with the command in a code span,
    as ``supervised_note_md``). For the paper profile, the committed runs of
    ``params/supervised.yaml``; otherwise, or where none is committed, the ``supervised-quick``
    profile (seed 0, 400 iterations), trained as the page runs (reused when already there).
    Returns ``(frame, note)``."""
    def committed():
        runs = load_supervised(dataset, root=results)
        if not runs:
            return None
        seeds = {name: sorted(s) for name, s in runs.items()}
        steps = max(int(r.info["config"]["steps"]) for s in runs.values() for r in s.values())
        return plane_frame(runs), (
            f"The supervised profile (`python -m ipbook sweep --profile supervised`), {steps:,} iterations: "
            + "; ".join(f"{name} seeds {', '.join(map(str, s))}" for name, s in seeds.items()) + ".")

    def now():
        for config, out in sweep_tasks("supervised-quick", dataset, [0], root=results).values():
            train(config, out, progress=False)     # in this process, one after the other
        return (plane_frame(load_supervised(dataset, profile="supervised-quick", root=results)),
                "The supervised-quick profile, trained as this page ran: seed 0, 400 iterations (the fitting phase only)")

    frame, note = committed_or_now(profile, committed, now, glue_as="supervised_note",
                                   missing="supervised runs exist for this dataset")
    from IPython.display import Markdown
    # as Markdown too: the command in a code span keeps its "--" (text would get an en dash)
    glue("supervised_note_md", Markdown(note), display=False)
    return frame, note


def open_defined(profile: str, dataset: str, *, results=None, root=None):
    """What the chapter "Where I(X;T) is defined" does first: the rows of
    :mod:`ipbook.experiments.defined` for the noise-trained runs and for the quantized bottleneck,
    with a sentence saying where they come from (glued as ``defined_note``). For the paper
    profile, the committed ``results/defined/{noisy,quantized}/<dataset>.csv.gz``; otherwise, or
    where neither is committed, the ``noisy-quick`` and ``quantized-quick`` profiles (seed 0, 400
    iterations), trained as the page runs, measured on a small grid (N = 200 test images, 2 noisy
    passes, 2,000 draws, 12 checkpoints). Returns ``(noisy_rows, quantized_rows, note)``; either
    rows may be None where that table is not committed."""
    from ipbook.experiments.defined import DefinedGrid, defined_dir, defined_estimates, load_defined

    def committed():
        tables = {p: load_defined(dataset, p, None if root is None else Path(root) / p) for p in ("noisy", "quantized")}
        root_of = {p: Path(root) / p if root is not None else defined_dir(p) for p in tables}
        if all(t is None for t in tables.values()):
            return None
        said = [f"{p}: {t.groupby(['run', 'seed']).ngroups} runs and seeds, {t.step.nunique()} checkpoints"
                for p, t in tables.items() if t is not None]
        grids = {p: read_json(root_of[p] / f"{dataset}.json")["grid"]
                 for p, t in tables.items() if t is not None}
        g = grids.get("noisy") or grids["quantized"]
        how = (f"N = {g['n']} test probes, {g['passes']} noisy passes and {g['samples']:,} Monte-Carlo draws per "
               f"value" if "noisy" in grids else f"N = {g['n']} test probes for the geometry")
        return tables, (f"The committed tables of python -m ipbook defined ({how}; exact counts over every "
                        "image): " + "; ".join(said))

    def now():
        grid, data = DefinedGrid(n=200, passes=2, samples=2000, steps=12), None
        tables = {}
        for p in ("noisy", "quantized"):
            frames = []
            for name, (config, out) in sweep_tasks(f"{p}-quick", dataset, [0], root=results).items():
                run = train(config, out, progress=False)
                data = data or {s: load_dataset(dataset, s) for s in ("train", "test")}
                frames.append(defined_estimates(run, grid, name=name.split("/")[0], data=data))
            tables[p] = pd.concat(frames, ignore_index=True)
        return tables, ("The noisy-quick and quantized-quick profiles, trained as this page ran: seed 0, 400 "
                        "iterations (the fitting phase only), N = 200 test probes")

    tables, note = committed_or_now(profile, committed, now, glue_as="defined_note",
                                    missing="defined tables exist for this dataset")
    return tables["noisy"], tables["quantized"], note


def open_answer(datasets, *, sensitivity_root=None, second_opinion_root=None, calibration_root=None):
    """What the home page and the Conclusions do first: the evidence of every claim per dataset
    (:func:`ipbook.site.conclusions.evidence`, from the committed grids; datasets without a committed
    grid are left out), and glued: ``n_claims``; per dataset ``<d>_n_<k>``, the number of claims
    in category k (0-5, :data:`ipbook.site.conclusions.CATEGORIES`), ``<d>_seeds``, the seeds of its
    sensitivity grid, and ``<d>_real_seeds``, those of its second-opinion table; the calibration's
    ``cal_truth``, ``cal_d_lo``, ``cal_est_lo``, ``cal_d_hi``, ``cal_est_hi``; ``everywhere_both``,
    the claims that hold under every estimator on every dataset; ``<d>_defined_answer``, the
    answer where I(X;T) is defined (:func:`ipbook.site.defined_page.committed_answer`); ``answer_md``, the answer in
    words (:func:`ipbook.site.conclusions.plain_answer`); ``margin_bits``, ``margin_pct`` (the judge's
    margin); and the two tables (``answer_table``, ``category_table``). Returns ``{title:
    evidence}``."""
    from IPython.display import Markdown

    plotting.book_style()
    evidences, loaded_by_title = {}, {}
    for d in datasets:
        loaded = C.load_evidence(d, sensitivity_root=sensitivity_root, second_opinion_root=second_opinion_root)
        if loaded is None:
            continue
        title = DATASET_TITLES.get(d, d)
        loaded_by_title[title] = loaded
        evidences[title] = e = C.evidence(loaded["matrix"], loaded["real"])
        cats = [C.category(r) for r in e.itertuples()]
        for k, name in enumerate(C.CATEGORIES):
            glue(f"{d}_n_{k}", cats.count(name), display=False)
        glue(f"{d}_seeds", int(loaded["matrix"].attrs["n_seeds"]), display=False)
        glue(f"{d}_real_seeds", spoken_list(loaded["real_seeds"]), display=False)
    from ipbook.site.defined_page import committed_answer
    for d in datasets:
        said = committed_answer(d)
        glue(f"{d}_defined_answer", said if said is not None else Text("not yet measured for this dataset."),
             display=False)
    if not evidences:
        raise FileNotFoundError("no committed sensitivity grid for any of " + ", ".join(datasets))
    first = next(iter(evidences.values()))
    glue("n_claims", len(first), display=False)
    glue("answer_md", Markdown(C.plain_answer(C.answer_facts(loaded_by_title))), display=False)
    glue("margin_bits", verdicts.MARGIN_BITS, display=False)
    glue("margin_pct", 100 * verdicts.MARGIN_FRAC, display=False)
    cats = C.category_table(evidences)
    glue("everywhere_both", spoken_list([c for c in cats.index if cats.at[c, "both"] == C.CATEGORIES[0]]),
         display=False)
    glue("answer_table", plotting.styled_table(C.answer_table(evidences)), display=False)
    glue("category_table", plotting.styled_table(cats.drop(columns="both") if len(evidences) > 1 else cats), display=False)
    rows = load_estimates(calibration_root)
    if rows is not None:
        for key, value in C.calibration_numbers(rows).items():
            glue(f"cal_{key}", value, display=False)
    return evidences


def seed_runs(seeds: dict, name: str, *, other_than: int | None = None) -> list:
    """The runs named ``name`` of every seed in ``seeds`` ({seed: {run name: Run}}), in seed
    order, leaving out seed ``other_than``; an empty list without seeds."""
    return [runs[name] for seed, runs in sorted(seeds.items()) if seed != other_than and name in runs]


def _seeds_note(seeds: dict, seeds_profile: str | None, kind: str = "both") -> str:
    """The caption sentence on seeds for panels over training (``curves``: bands), information
    planes (``planes``: open circles) or ``both``."""
    if not seeds:
        return "One seed (seed 0); no seed sweep was found for this profile."
    listed = ", ".join(str(s) for s in sorted(seeds))
    others = ", ".join(str(s) for s in sorted(seeds) if s != 0)
    curves = (f"Shaded: the range (min–max) over {len(seeds)} seeds ({listed}) of the {seeds_profile} "
              f"profile, dashed: their median.")
    planes = f"Open circles: the final points of seeds {others} of the {seeds_profile} profile; the trajectory is seed 0's."
    return {"curves": curves, "planes": planes, "both": f"{curves} {planes}"}[kind]


def _every(run) -> int:
    return int(run.info["config"].get("ip_every") or 1)


def _seeds_every_note(runs: dict, seeds: dict, seeds_profile: str | None) -> str:
    """The claims-table caption's sentence on how often the seeds and the page's runs measured the
    plane, which sets the size of a count of measurements (DPI violations)."""
    if not seeds:
        return "No seed sweep was found for this profile."
    mine = max(_every(r) for r in runs.values())
    theirs = max(_every(r) for by_run in seeds.values() for r in by_run.values())
    if mine == theirs:
        return f"The runs of the {seeds_profile} profile measure the plane as often as this page's (every {mine} iterations)."
    return (f"The runs of the {seeds_profile} profile measure the plane every {theirs} iterations, this page's every "
            f"{mine}: their counts of measurements (DPI violations) are about 1/{theirs // mine} as large.")


def open_deep_encoder(profile: str, dataset: str) -> tuple[list, str]:
    """The deep AE's runs whose encoder "Measure your own network" compares with the classifier: its
    seeds of the seeds profile for the paper profile (where committed), else the quick profile's run
    (trained as the page runs, reused when there). Returns ``(runs, note)``, the note in words."""
    if profile == "paper" and (ae_seeds := load_seeds(dataset, runs=["deep"])):
        return [r["deep"] for r in ae_seeds.values()], f"{len(ae_seeds)} seeds of the seeds profile"
    return [run_profile("quick", dataset, runs=["deep"], progress=False)["deep"]], "the quick profile's run"
