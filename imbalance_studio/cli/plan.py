"""`imbalance-studio plan (FOLDER | PROJECT)`: the curation plan, headless.

A folder starts a fresh project; a `*.isproj.json` file loads one (its dataset root is
scanned). Options override the project's settings; `--save-project` writes the result so a
whole curation can be scripted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.dataset import Dataset, ProblemReason, imbalance_ratio, majority_baseline
from ..core.plan import SPLITS, Plan, make_plan, train_counts
from ..core.policies import POLICY_HELP, apply_policy, parse_policy
from ..core.project import PROJECT_SUFFIX, Method, Project, SplitSettings
from ..core.reconcile import snapshot_of
from ..core.scanning import MIN_SIDE
from ..core.text import plural, printable
from . import CliError, count_arg
from .diffusion_arg import (
    add_diffusion_arguments,
    apply_diffusion_args,
    check_diffusion_ready,
    diffusion_wanted,
)
from .notes import note_dataset_changes
from .progress import run_steps
from .project_arg import (
    OVERWRITE_FLAG,
    check_save_target,
    is_project_arg,
    load_project,
    save_project,
)
from .scan import add_min_size_argument, load_dataset
from .stack_arg import STACK_HELP, resolve_stack

if TYPE_CHECKING:
    from ..core.inspect import SplitGroups


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="show the curation plan: split, removals, copies, new images")
    p.add_argument("target", metavar="FOLDER|PROJECT", help=f"dataset root or *{PROJECT_SUFFIX}")
    p.add_argument("--policy", help=f"fill every class target: {POLICY_HELP}")
    p.add_argument(
        "--method",
        choices=[Method.AUGMENT.value, Method.DUPLICATE.value, Method.DIFFUSION.value],
        help="how a policy closes a gap upwards (default: augment)",
    )
    add_diffusion_arguments(p)
    p.add_argument("--split", help="train,val,test fractions (default 0.7,0.15,0.15)")
    p.add_argument("--seed", type=int, help="seed of the split and of every random choice")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--list-files", action="store_true", help="with --json: list kept files")
    p.add_argument(
        "--save-project",
        metavar="P",
        help="write the project file P (new, or over one of our project files)",
    )
    p.add_argument(
        OVERWRITE_FLAG,
        action="store_true",
        help="with --save-project: replace P even if it is not a project file",
    )
    p.add_argument("--augment", metavar="STACK", help=STACK_HELP)
    add_duplicate_arguments(p)
    p.add_argument("--quick", action="store_true", help="do not decode images while scanning")
    p.add_argument(
        "--workers", type=count_arg, default=os.cpu_count() or 1, help="processes for decoding"
    )
    add_min_size_argument(p)
    p.set_defaults(func=run)


def add_duplicate_arguments(p: argparse.ArgumentParser) -> None:
    """--near-threshold and --no-group-duplicates, for every command that makes a plan."""
    p.add_argument(
        "--near-threshold",
        type=int,
        metavar="N",
        help="Hamming distance (of 64 bits) under which two pictures are near duplicates "
        "(default: the project's, else 10)",
    )
    p.add_argument(
        "--no-group-duplicates",
        action="store_true",
        help="split without keeping near-duplicate groups together (identical files still "
        "are); the export then counts the pairs that cross splits",
    )


def split_groups(dataset: Dataset, project: Project, workers: int, quiet: bool) -> SplitGroups:
    """Identical files and the inspection's duplicate groups, as the project's settings say:
    the groups every plan of the CLI is made with."""
    from ..core.inspect import iter_split_groups

    s = project.inspect
    steps = iter_split_groups(
        dataset,
        group_duplicates=s.group_duplicates,
        near_threshold=s.near_threshold,
        workers=workers,
    )
    return run_steps(steps, "duplicates", quiet=quiet)


def build_project(args: argparse.Namespace) -> tuple[Project, Dataset, dict[str, str]]:
    """The project the options describe, its scanned dataset and split groups."""
    project, dataset, found = build_inspected_project(args)
    return project, dataset, found.groups


def build_inspected_project(args: argparse.Namespace) -> tuple[Project, Dataset, SplitGroups]:
    """`build_project` with the whole `SplitGroups` (the inspection report with it)."""
    from ..core.inspect import MAX_THRESHOLD

    # Every option is checked before the (possibly long) scan.
    try:
        split = SplitSettings.parse(args.split) if args.split is not None else None
        if args.policy:
            parse_policy(args.policy)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    stack = resolve_stack(args.augment) if args.augment else None
    near = getattr(args, "near_threshold", None)
    if near is not None and not 0 <= near <= MAX_THRESHOLD:
        raise CliError(f"--near-threshold {near}: must be 0 to {MAX_THRESHOLD}")
    if is_project_arg(args.target):
        project = load_project(args.target)
    elif Path(args.target).is_dir():
        project = Project(dataset_root=str(Path(args.target).absolute()))
    else:
        raise CliError(f"{args.target}: no such folder or project file")
    if diffusion_wanted(args):
        apply_diffusion_args(args, project)
    if args.method == Method.DIFFUSION or any(
        t.method == Method.DIFFUSION and t.target is not None for t in project.targets.values()
    ):
        check_diffusion_ready(project)  # the extra and a complete model, before the scan
    min_side = getattr(args, "min_size", MIN_SIDE)
    dataset = load_dataset(project.dataset_root, args.quick, args.workers, args.json, min_side)
    note_dataset_changes(project, dataset)
    if args.seed is not None:
        project.seed = args.seed
    if split is not None:
        project.split = split
    if stack is not None:
        project.augment.default_stack = stack
    if near is not None:
        project.inspect.near_threshold = near
    if getattr(args, "no_group_duplicates", False):
        project.inspect.group_duplicates = False
    found = split_groups(dataset, project, args.workers, quiet=args.json)
    groups = found.groups
    # --method alone re-applies the project's policy with that method (oversample if none).
    policy = args.policy or ((project.policy or "oversample") if args.method else None)
    if policy:
        try:
            counts = train_counts(dataset, project, groups=groups)
            project.targets = apply_policy(policy, counts, Method(args.method or Method.AUGMENT))
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        project.policy = policy
    return project, dataset, found


def run(args: argparse.Namespace) -> int:
    if args.list_files and not args.json:
        raise CliError("--list-files lists the kept files in the JSON output: add --json")
    if args.save_project:  # refused before minutes of scanning, and checked again at the end
        check_save_target(args.save_project, args.overwrite_project)
    project, dataset, groups = build_project(args)
    report_left_out(dataset)
    plan = make_plan(dataset, project, groups=groups)
    if args.save_project:
        project.snapshot = snapshot_of(dataset)
        save_project(project, args.save_project, args.overwrite_project, dataset)
        print(f"saved project to {printable(args.save_project)}", file=sys.stderr)
    if args.json:
        print(json.dumps(plan.to_json(list_files=args.list_files), indent=2))
    else:
        print_plan(plan, project)
    return 0


# Problems of the listing (not image files at all, or folders): `scan` reports those.
_LISTING = frozenset({
    ProblemReason.EMPTY_CLASS, ProblemReason.UNSUPPORTED_EXTENSION, ProblemReason.LOOSE_FILE,
    ProblemReason.SYMLINK_LOOP,
})  # fmt: skip


def report_left_out(dataset: Dataset, shown: int = 10) -> None:
    """Image files the scan left out (FIFOs, empty or broken files), on stderr: the plan
    does not count them, and `--json` output stays one object."""
    gone = [p for p in dataset.problems if p.excludes and p.reason not in _LISTING]
    if not gone:
        return
    print(f"note: {plural(len(gone), 'image file')} left out of the plan:", file=sys.stderr)
    for p in gone[:shown]:
        detail = f" ({p.detail})" if p.detail else ""
        print(f"  {p.path}: {p.reason}{detail}", file=sys.stderr)
    if len(gone) > shown:
        print(f"  ... and {len(gone) - shown} more (`scan` lists them all)", file=sys.stderr)


def _ratio(counts: list[int]) -> str:
    r = imbalance_ratio(counts)
    return "∞" if not math.isfinite(r) else f"{r:.2f}"


def print_plan(plan: Plan, project: Project) -> None:
    s = project.split
    print(
        f"{printable(project.dataset_root)}\nseed {plan.seed}, "
        f"split {s.train:g}/{s.val:g}/{s.test:g}, policy {printable(plan.policy or 'none')}"
    )
    names = [printable(c) for c in plan.classes]  # a name with a newline keeps its row
    width = max([len(c) for c in names] + [5])
    cols = ("original", "removed", "kept", "dup", "generate", "final")
    for split in SPLITS:
        print(f"\n{split:<{width + 2}}" + "".join(f"{c:>10}" for c in cols))
        for cp in plan.splits[split]:
            vals = (
                cp.original,
                len(cp.removed),
                len(cp.kept),
                len(cp.duplicates),
                len(cp.generate),
                cp.final,
            )
            print(f"  {names[cp.class_index]:<{width}}" + "".join(f"{v:>10}" for v in vals))
        total = (sum(plan.original_counts(split)), sum(plan.final_counts(split)))
        print(f"  {'total':<{width}}{total[0]:>10}{'':>40}{total[1]:>10}")
    print(f"\ngeneration: {plan.generation_summary()}")
    before, after = plan.original_counts("train"), plan.final_counts("train")
    print(f"train imbalance ratio (largest / smallest): {_ratio(before)} → {_ratio(after)}")
    print(
        f"train majority-class baseline accuracy: {majority_baseline(before):.1%} → "
        f"{majority_baseline(after):.1%}"
    )
    if plan.warnings:
        print("warnings:")
        for w in plan.warnings:
            print(f"  {printable(w)}")
