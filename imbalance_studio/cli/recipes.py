"""`imbalance-studio recipes (FOLDER | PROJECT)`: which way of balancing helps this dataset?
Makes every recipe of a small fixed grid in a temporary folder (the project and the dataset
are not changed), trains the same small CNN on each and judges it on the validation split;
prints every recipe's metrics and the winner."""

from __future__ import annotations

import argparse
import os
import sys

from ..core.names import json_text
from ..core.recipes import DEFAULT_BUDGET_MIN
from ..core.text import printable
from . import CliError, count_arg
from .evaluate import _size
from .progress import run_steps
from .scan import add_min_size_argument


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 24 * 60:
        raise argparse.ArgumentTypeError(f"{text!r}: minutes, more than 0 and at most 1440")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "recipes",
        help="try a small grid of balancing recipes on this dataset and name the best",
        description="Recipes: raw (the original training images), reweight (loss weighted "
        "by balanced_original_train), sampler (WeightedRandomSampler), duplicate (oversample "
        "by copies), augment-safe and augment-medium (oversample by augmentation with that "
        "preset), augment-own (the project's own stack, when it has one), "
        "augment-safe+cutmix (intra-class CutMix for the smallest classes too) and BEST+cap "
        "(the winner of those with the majority capped mildly, cap:K). Each is exported into "
        "a temporary folder and judged like `evaluate` (same small CNN, seed, steps and "
        "input size) on the validation split only. Nothing is written to the "
        "project or the dataset.",
    )
    p.add_argument("source", help="a project file (*.isproj.json) or a dataset folder")
    p.add_argument("--json", action="store_true", help="print the table as one JSON object")
    p.add_argument(
        "--budget",
        type=_minutes,
        default=DEFAULT_BUDGET_MIN,
        metavar="MINUTES",
        help=f"time to stay within (default {DEFAULT_BUDGET_MIN:g}): fewer seeds, then fewer "
        "steps, when the estimate is over it",
    )
    p.add_argument("--seed", type=int, help="seed of the split and of training (project's)")
    p.add_argument(
        "--seeds", type=count_arg, default=2, help="training seeds per recipe (default 2)"
    )
    p.add_argument("--steps", type=count_arg, default=200, help="steps per training (200)")
    p.add_argument("--size", type=_size, default=64, help="input size in pixels (64)")
    p.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="auto: a CUDA GPU when torch sees one, else the CPU",
    )
    p.add_argument(
        "--workers", type=count_arg, default=os.cpu_count() or 1, help="processes for decoding"
    )
    add_min_size_argument(p, has_quick=False)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..core.evaluate.model import resolve_device
    from ..core.recipes import (
        RecipeError,
        estimate,
        fit_budget,
        iter_recipes,
        recipes_for,
        search_size,
    )
    from .plan import build_inspected_project

    ns = argparse.Namespace(
        target=args.source, split=None, policy=None, method=None, augment=None,
        near_threshold=None, no_group_duplicates=False, quick=False, workers=args.workers,
        json=args.json or args.quiet, min_size=args.min_size, seed=args.seed,
    )  # fmt: skip
    project, dataset, found = build_inspected_project(ns)
    try:
        device = resolve_device(args.device)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    names = [r.name for r in recipes_for(project)] + ["BEST+cap"]
    n = search_size(project)
    images = len(dataset.samples)
    steps, n_seeds, notes = fit_budget(
        n, args.steps, args.size, args.seeds, args.budget * 60, device, images
    )
    est = estimate(n, steps, args.size, n_seeds, device, images)
    print(
        f"recipes: up to {n} ({', '.join(names)}), {n_seeds} seed(s), "
        f"{steps} steps at {args.size} px: about {est / 60:.1f} minutes (making each "
        "recipe's images and export, and training)",
        file=sys.stderr,
        flush=True,
    )
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    seeds = tuple(project.seed + 1 + i for i in range(n_seeds))
    try:
        gen = iter_recipes(
            dataset, project, found.groups, seeds=seeds, steps=steps, size=args.size,
            device=device, workers=args.workers,
        )  # fmt: skip
        table = run_steps(gen, "recipes", args.quiet or args.json)
    except RecipeError as exc:
        raise CliError(str(exc)) from exc
    table["notes"] = notes
    if args.json:
        print(json_text(table))
        return 0
    _print_table(table)
    return 0


def _print_table(table: dict) -> None:
    rare = ", ".join(printable(c) for c in table["rarest_classes"])
    print(
        f"judged on the validation split: {sum(table['val_counts'])} images; seeds "
        f"{table['seeds']}, {table['steps']} steps, {table['size']} px"
    )
    print(f"{'recipe':24} {'n_train':>7} {'bal.acc':>8} {'spread':>7} {'macro-F1':>8} "
          f"{'rare rec.':>9}  vs best")  # fmt: skip
    one_seed = len(table["seeds"]) == 1
    for name, r in table["recipes"].items():
        if name == table["winner"]:
            verdict = "winner"
        elif name == table["best_on_validation"]:
            verdict = "best on val"
        else:
            verdict = "within noise" if r["within_noise_of_best"] else "worse"
        print(
            f"{name:24} {r['n_train']:7d} {r['balanced_accuracy']:8.3f} "
            f"{'n/a' if one_seed else format(r['spread'], '.3f'):>7} "
            f"{r['macro_f1']:8.3f} {r['rarest_recall']:9.3f}  {verdict}"
        )
    print(f"(rare rec.: mean recall of the rarest classes: {rare})")
    if table["cutmix_classes"]:
        print(f"(CutMix classes: {', '.join(printable(c) for c in table['cutmix_classes'])})")
    gain = table["gain_over_raw"]
    line = f"winner: {table['winner']}"
    if gain is not None:
        line += f" ({100 * gain:+.1f} balanced-accuracy points over raw)"
    print(f"{line}: {table['winner_why']}")
    if one_seed:
        print("(spread: n/a with one seed; --seeds 2 or more measures it)")
    if table["caution"]:
        print(f"caution: {table['caution']}")
    cut = [n for n in table["notes"] if "steps instead of" in n]
    if cut:
        print(
            f"caution: {cut[0]}: models this short of their training rank recipes by how fast "
            "they learn, which may not be how well; give a larger --budget for a verdict"
        )
