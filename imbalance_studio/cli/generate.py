"""`imbalance-studio generate PROJECT`: make the plan's new minority images, headless.

Images go to the project's staging folder with a provenance record each. Resumable: run it
again after Ctrl+C or a crash and it makes only what is missing.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..core.project import PROJECT_SUFFIX, Project, ProjectError
from . import CliError
from .progress import run_steps


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="make the planned new images of the minority classes (resumable)",
    )
    p.add_argument("project", metavar="PROJECT", help=f"project file (*{PROJECT_SUFFIX})")
    p.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes that make images (default: all cores)",
    )
    p.add_argument(
        "--augment",
        metavar="STACK",
        help="augmentation stack file used as the default stack for this run",
    )
    p.add_argument("--quick", action="store_true", help="do not decode images while scanning")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..core.generate import GenerateError, iter_generate, shutdown_pool
    from ..core.plan import iter_content_groups, make_plan
    from .plan import load_stack
    from .scan import load_dataset

    if args.workers < 1:
        raise CliError("--workers must be at least 1")
    project_file = Path(args.project)
    try:
        project = Project.load(project_file)
        staging = project.staging_path(project_file)
    except ProjectError as exc:
        raise CliError(str(exc)) from exc
    if args.augment:
        project.augment.default_stack = load_stack(args.augment)
    dataset = load_dataset(project.dataset_root, args.quick, args.workers, quiet=args.quiet)
    # Content groups keep identical files in one split: the same plan `plan` and `export` make.
    groups = run_steps(iter_content_groups(dataset), "duplicates", args.quiet)
    plan = make_plan(dataset, project, groups=groups)
    wanted = sum(len(cp.generate) for cp in plan.splits["train"])
    if not wanted:
        print("nothing to generate: no class has an augment target above its training count")
        return 0
    # Say how much will be made before making it: a huge target must not run silently.
    print(plan.generation_summary(), flush=True)
    try:
        result = run_steps(
            iter_generate(dataset, project, plan, staging, workers=args.workers),
            "generate",
            args.quiet,
        )
    except GenerateError as exc:
        raise CliError(str(exc)) from exc
    except KeyboardInterrupt:  # Ctrl+C, or SIGTERM/SIGHUP (see cli.signals)
        shutdown_pool()  # queued batches never start; running ones finish and stay valid
        print(
            f"interrupted: the finished images are kept in {staging}; run again to finish",
            file=sys.stderr,
        )
        raise
    return _report(result, plan, staging, wanted)


def _report(result, plan, staging: Path, wanted: int) -> int:
    print(f"{len(result)} of {wanted} images ready in {staging}")
    print(f"  made {result.made}, reused {result.reused} from earlier runs")
    counts: dict[str, int] = {}
    for g in result:
        counts[g.class_name] = counts.get(g.class_name, 0) + 1
    for cp in plan.splits["train"]:
        if cp.generate:
            name = plan.classes[cp.class_index]
            print(f"  {name}: {counts.get(name, 0)} of {len(cp.generate)}")
    for problem in result.problems:
        print(f"problem: {problem}")
    return 0 if len(result) >= wanted else 1
