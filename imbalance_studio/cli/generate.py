"""`imbalance-studio generate PROJECT`: make the plan's new minority images, headless.

Images go to the project's staging folder with a provenance record each. Resumable: run it
again after Ctrl+C or a crash and it makes only what is missing.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..core.project import PROJECT_SUFFIX, ProjectError
from ..core.text import made_text, printable
from . import CliError, count_arg
from .dask_arg import add_dask_argument, generation_executor, require_dask
from .notes import note_dataset_changes, print_list
from .progress import run_steps
from .project_arg import load_project
from .scan import add_min_size_argument
from .stack_arg import STACK_HELP, resolve_stack


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="make the planned new images of the minority classes (resumable)",
    )
    p.add_argument("project", metavar="PROJECT", help=f"project file (*{PROJECT_SUFFIX})")
    p.add_argument(
        "--workers",
        type=count_arg,
        default=os.cpu_count() or 1,
        help="processes that make images (default: all cores)",
    )
    p.add_argument("--augment", metavar="STACK", help=STACK_HELP)
    add_dask_argument(p)
    p.add_argument("--quick", action="store_true", help="do not decode images while scanning")
    add_min_size_argument(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def already_made(dataset, project, plan, staging) -> int:
    """How many of the plan's images wait in `staging` from an earlier run (reused)."""
    from ..core.generation import staged_for_plan

    return len(staged_for_plan(dataset, project, plan, staging)[0])


def run(args: argparse.Namespace) -> int:
    from ..core.generation import GenerateError, iter_generate, shutdown_pool
    from ..core.plan import make_plan
    from .scan import load_dataset

    require_dask(args)
    stack = resolve_stack(args.augment) if args.augment else None
    project_file = Path(args.project)
    project = load_project(args.project)
    try:
        staging = project.staging_path(project_file)
    except ProjectError as exc:
        raise CliError(str(exc)) from exc
    if stack is not None:
        project.augment.default_stack = stack
    dataset = load_dataset(
        project.dataset_root, args.quick, args.workers, args.quiet, args.min_size
    )
    note_dataset_changes(project, dataset)
    # Duplicate groups stay in one split: the same plan `plan` and `export` make.
    from .plan import split_groups

    groups = split_groups(dataset, project, args.workers, args.quiet).groups
    plan = make_plan(dataset, project, groups=groups)
    wanted = sum(len(cp.generate) for cp in plan.splits["train"])
    if not wanted:
        print("nothing to generate: no class has an augment target above its training count")
        return 0
    try:
        # Say how much will be made before making it: a huge target must not run silently.
        made = already_made(dataset, project, plan, staging)  # may refuse, as generation does
        print(plan.generation_summary(made), flush=True)
        with generation_executor(args, dataset, staging) as (executor, workers):
            gen = iter_generate(dataset, project, plan, staging, workers, executor=executor)
            result = run_steps(gen, "generate", args.quiet)
    except GenerateError as exc:
        raise CliError(str(exc)) from exc
    except KeyboardInterrupt:  # Ctrl+C, or SIGTERM/SIGHUP (see cli.signals)
        shutdown_pool(wait=True)  # queued batches never start; running ones finish and stay valid
        print(
            f"interrupted: the finished images are kept in {printable(str(staging))}; "
            "run again to finish",
            file=sys.stderr,
        )
        raise
    return _report(result, plan, staging, wanted)


def _report(result, plan, staging: Path, wanted: int) -> int:
    print(f"{len(result)} of {wanted} images ready in {printable(str(staging))}")
    print(f"  {made_text(result.made, result.reused)}")
    counts: dict[str, int] = {}
    for g in result:
        counts[g.class_name] = counts.get(g.class_name, 0) + 1
    for cp in plan.splits["train"]:
        if cp.generate:
            name = plan.classes[cp.class_index]
            print(f"  {printable(name)}: {counts.get(name, 0)} of {len(cp.generate)}")
    from ..core.generation import awaiting_review

    waiting = len(awaiting_review(result))
    if waiting:
        print(f"  {waiting} diffusion images await review before an export takes them")
    if result.problems:
        print(f"problems ({len(result.problems)}):")
        print_list([str(p) for p in result.problems])
    return 0 if len(result) >= wanted else 1
