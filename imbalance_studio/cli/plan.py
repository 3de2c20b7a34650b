"""`imbalance-studio plan (FOLDER | PROJECT)`: the curation plan, headless.

A folder starts a fresh project; a `*.isproj.json` file loads one (its dataset root is
scanned). Options override the project's settings; `--save-project` writes the result so a
whole curation can be scripted.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import sys
from pathlib import Path

from ..core.dataset import Dataset, ProblemReason, imbalance_ratio, majority_baseline
from ..core.plan import SPLITS, Plan, iter_content_groups, make_plan, train_counts
from ..core.policies import POLICY_HELP, apply_policy, parse_policy
from ..core.project import (
    PROJECT_SUFFIX,
    Method,
    Project,
    ProjectError,
    SplitSettings,
    reconcile,
)
from . import CliError
from .progress import run_steps
from .scan import load_dataset


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="show the curation plan: split, removals, copies, new images")
    p.add_argument("target", metavar="FOLDER|PROJECT", help=f"dataset root or *{PROJECT_SUFFIX}")
    p.add_argument("--policy", help=f"fill every class target: {POLICY_HELP}")
    p.add_argument(
        "--method",
        choices=[Method.AUGMENT.value, Method.DUPLICATE.value],
        help="how a policy closes a gap upwards (default: augment)",
    )
    p.add_argument("--split", help="train,val,test fractions (default 0.7,0.15,0.15)")
    p.add_argument("--seed", type=int, help="seed of the split and of every random choice")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--list-files", action="store_true", help="with --json: list kept files")
    p.add_argument("--save-project", metavar="P", help="write the project file P")
    p.add_argument("--augment", metavar="STACK", help="augmentation stack file (default stack)")
    p.add_argument("--quick", action="store_true", help="do not decode images while scanning")
    p.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="processes for decoding"
    )
    p.set_defaults(func=run)


def _load_project(target: str) -> Project | None:
    path = Path(target)
    # Anything that is not a folder is taken for a project file, so a FIFO or device gets
    # Project.load's "not a regular file" rather than "no such folder".
    if path.name.endswith(PROJECT_SUFFIX) or (path.exists() and not path.is_dir()):
        try:
            return Project.load(path)
        except ProjectError as exc:
            raise CliError(str(exc)) from exc
    return None


def load_stack(path: str) -> dict:
    """An augmentation stack file as an `A.to_dict` dict."""
    if importlib.util.find_spec("imbalance_studio.core.augment") is not None:
        from ..core.augment import load_stack_file  # type: ignore[attr-defined]

        try:
            return load_stack_file(path)
        except (ValueError, OSError) as exc:  # its messages already name the file
            raise CliError(str(exc).splitlines()[0]) from exc
    from ..core.safe_read import STACK_MAX_BYTES, InputFileError, load_json_bounded

    try:
        stack = load_json_bounded(path, STACK_MAX_BYTES, "an augmentation stack")
    except InputFileError as exc:
        raise CliError(str(exc)) from exc
    except (OSError, ValueError) as exc:
        raise CliError(f"{path}: cannot read augmentation stack ({exc})") from exc
    if not isinstance(stack, dict) or "transform" not in stack:
        raise CliError(f"{path}: not an augmentation stack (no 'transform' key)")
    return stack


def build_project(args: argparse.Namespace) -> tuple[Project, Dataset, dict[str, str]]:
    """The project the options describe, its scanned dataset and content groups."""
    # Every option is checked before the (possibly long) scan.
    try:
        split = SplitSettings.parse(args.split) if args.split is not None else None
        if args.policy:
            parse_policy(args.policy)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    stack = load_stack(args.augment) if args.augment else None
    project = _load_project(args.target)
    if project is None:
        if not Path(args.target).is_dir():
            raise CliError(f"{args.target}: no such folder or project file")
        project = Project(dataset_root=str(Path(args.target).absolute()))
    dataset = load_dataset(project.dataset_root, args.quick, args.workers, quiet=args.json)
    if project.marks or project.snapshot:
        for line in reconcile(project, dataset).messages():
            print(f"note: {line}", file=sys.stderr)
    if args.seed is not None:
        project.seed = args.seed
    if split is not None:
        project.split = split
    if stack is not None:
        project.augment.default_stack = stack
    groups = run_steps(iter_content_groups(dataset), "duplicates", quiet=args.json)
    # --method alone re-applies the project's policy with that method.
    policy = args.policy or (project.policy if args.method else None)
    if policy:
        try:
            counts = train_counts(dataset, project, groups=groups)
            project.targets = apply_policy(policy, counts, Method(args.method or Method.AUGMENT))
        except ValueError as exc:
            raise CliError(str(exc)) from exc
        project.policy = policy
    return project, dataset, groups


def run(args: argparse.Namespace) -> int:
    project, dataset, groups = build_project(args)
    report_left_out(dataset)
    plan = make_plan(dataset, project, groups=groups)
    if args.save_project:
        project.update_snapshot(dataset)
        try:
            project.save(args.save_project, dataset)
        except ProjectError as exc:
            raise CliError(str(exc)) from exc
        print(f"saved project to {args.save_project}", file=sys.stderr)
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
    print(f"note: {len(gone)} image files left out of the plan:", file=sys.stderr)
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
        f"{project.dataset_root}\nseed {plan.seed}, split {s.train:g}/{s.val:g}/{s.test:g}, "
        f"policy {plan.policy or 'none'}"
    )
    width = max([len(c) for c in plan.classes] + [5])
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
            print(f"  {plan.classes[cp.class_index]:<{width}}" + "".join(f"{v:>10}" for v in vals))
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
            print(f"  {w}")
