"""`imbalance-studio export (PROJECT | FOLDER) OUT`: plan, generate and export in one run.

With a FOLDER it scans and decode-checks it, builds a project from the options, plans,
generates what the plan asks for (into a staging folder under the user cache) and exports.
With a PROJECT file the options override the saved settings for this run only (the file is
not changed) and generation resumes in the project's staging folder.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from ..core.policies import POLICY_HELP
from ..core.text import printable, summarize
from . import CliError, count_arg
from .dask_arg import add_dask_argument, generation_executor, require_dask
from .diffusion_arg import add_diffusion_arguments
from .notes import print_list
from .plan import add_duplicate_arguments
from .progress import run_steps
from .project_arg import is_project_arg, load_project
from .scan import add_min_size_argument
from .stack_arg import STACK_HELP


def add_overwrite_arguments(p: argparse.ArgumentParser) -> None:
    """--overwrite / --overwrite-all: the rules of every command that writes an export."""
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a previous export at OUT; refused if it holds files it did not write",
    )
    p.add_argument(
        "--overwrite-all",
        action="store_true",
        help="replace a previous export at OUT together with every file added to it "
        "(a trained model, notes): they are deleted",
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write a balanced, training-ready copy: splits, manifest, weights, report",
        description="Write OUT/{train,val,test}/<class>/, manifest.csv, weights.json, "
        "sampler_weights.csv, augment.json, mixing.json and README.md. OUT must be new, "
        "empty, or (with --overwrite) a previous export holding only what it wrote; "
        "--overwrite-all also deletes files added to it since.",
    )
    p.add_argument("source", help="a project file (*.isproj.json) or a dataset folder")
    p.add_argument("out", help="the folder to create")
    p.add_argument(
        "--policy",
        help=f"{POLICY_HELP} (default: a project's own targets; for a folder, none: the "
        "classes keep their counts and the export says so)",
    )
    p.add_argument(
        "--method",
        choices=("augment", "duplicate", "diffusion"),
        help="how --policy closes gaps (default: augment)",
    )
    add_diffusion_arguments(p)
    p.add_argument(
        "--accept-unreviewed",
        action="store_true",
        help="export diffusion images no one has accepted yet (otherwise refused, exit 2)",
    )
    p.add_argument("--split", help="train,val,test fractions, e.g. 0.7,0.15,0.15")
    p.add_argument("--seed", type=int, help="seed of the split and generation")
    p.add_argument("--augment", metavar="STACK", help=STACK_HELP)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--link",
        dest="link",
        action="store_true",
        help="hard-link originals when on the same file system (fast, no extra space; "
        "editing an exported original in place would edit the dataset file)",
    )
    mode.add_argument(
        "--copy", dest="link", action="store_false", help="copy originals (the default)"
    )
    p.add_argument(
        "--keep-exif-orientation",
        action="store_true",
        help="write originals stored rotated (an EXIF orientation tag) byte for byte, for "
        "loaders that apply the tag; by default they are written turned upright, because "
        "torchvision's default loader and Keras ignore the tag",
    )
    add_overwrite_arguments(p)
    p.add_argument(
        "--workers",
        type=count_arg,
        default=os.cpu_count() or 1,
        help="processes used to decode-check and generate images (default: all cores)",
    )
    add_min_size_argument(p, has_quick=False)
    add_dask_argument(p)
    add_duplicate_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run, link=False)


def _dataset_root(source: str) -> Path:
    if is_project_arg(source):
        return Path(load_project(source).dataset_root)
    if Path(source).is_dir():
        return Path(source).absolute()
    raise CliError(f"{source}: no such folder or project file")


def _review_gate(generated, project, staging, accept: bool) -> None:
    """Diffusion images no one has reviewed are refused (exit 2) unless `accept`."""
    from ..core.generation import awaiting_review

    waiting = awaiting_review(generated, project)
    if not waiting:
        return
    n = len(waiting)
    if accept:
        print(f"note: exporting {n} diffusion images no one has reviewed", file=sys.stderr)
        return
    raise CliError(
        f"{n} diffusion image{'s' * (n != 1)} await{'s' * (n == 1)} review (kept in "
        f"{printable(str(staging))}): accept or reject them in the window's Generate tab, "
        "or export them as they are with --accept-unreviewed"
    )


def run(args: argparse.Namespace) -> int:
    from ..core.export.report import imbalance_text, left_imbalanced
    from ..core.export.run import ExportError, check_destination, iter_export
    from ..core.inspect import leak_check
    from ..core.plan import make_plan
    from ..core.project import ProjectError
    from .plan import build_inspected_project

    require_dask(args)
    root = _dataset_root(args.source)
    try:
        # Refuse a bad OUT before minutes of scanning and generating.
        check_destination(root, args.out, args.overwrite, overwrite_all=args.overwrite_all)
    except ExportError as exc:
        raise CliError(str(exc)) from exc
    # The same project as `imbalance-studio plan` builds from the same options.
    args.target, args.quick, args.json = args.source, False, args.quiet
    project, dataset, found = build_inspected_project(args)
    groups = found.groups
    project_file = None if Path(args.source).is_dir() else Path(args.source)
    plan = make_plan(dataset, project, groups=groups)
    generated: list = []
    staging = None
    if any(cp.generate for cp in plan.splits["train"]):
        from ..core.generation import GenerateError, as_problem, iter_generate
        from .generate import already_made

        try:
            staging = project.staging_path(project_file, dataset)
            # Say how much will be made before making it: a huge target must not run silently.
            made = already_made(dataset, project, plan, staging)
            print(plan.generation_summary(made), flush=True)
            with generation_executor(args, dataset, staging) as (executor, workers):
                gen = iter_generate(dataset, project, plan, staging, workers, executor=executor)
                generated = run_steps(gen, "generate", args.quiet)
        except (ProjectError, GenerateError) as exc:
            raise CliError(str(exc)) from exc
        for problem in getattr(generated, "problems", ()):
            print(f"generation: {printable(str(problem))}", file=sys.stderr)
        # Found unusable now (or by an earlier run): one of the dataset's problems from here.
        dataset = dataset.without(as_problem(p, r) for p, r in generated.bad_sources.items())
        _review_gate(generated, project, staging, args.accept_unreviewed)
    else:
        with contextlib.suppress(ProjectError):  # an earlier run's bad sources stay out
            staging = project.staging_path(project_file)
    try:
        rep = run_steps(
            iter_export(
                dataset, project, plan, generated, Path(args.out), args.link,
                overwrite=args.overwrite, overwrite_all=args.overwrite_all, staging=staging,
                leak_check=leak_check(found, plan.kept_split_of),
                keep_exif_orientation=args.keep_exif_orientation,
            ),
            "export",
            args.quiet,
        )  # fmt: skip
    except ExportError as exc:
        raise CliError(str(exc)) from exc
    for w in plan.warnings:
        print(f"warning: {printable(w)}")
    leaks = rep.weights.get("leak_check", {}).get("near_duplicate_pairs_across_splits", 0)
    if leaks:
        print(f"warning: {leaks} near-duplicate pairs cross splits (see README.md)")
    copies = rep.weights.get("leak_check", {}).get("copies_within_held_out_splits", {})
    if any(copies.values()):
        from ..core.inspect.split_groups import copies_text

        print(f"note: {copies_text(copies)}")
    sizes = ", ".join(f"{s} {sum(c['after'])}" for s, c in rep.counts.items())
    order = sorted(rep.origins.items(), key=lambda kv: (kv[0] != "original", kv[0]))
    origins = ", ".join(f"{k} {v}" for k, v in order if v) or "none"
    # Generated images are never linked: of the copies, these came from the staging folder.
    made = rep.files - rep.origins.get("original", 0) - rep.origins.get("duplicate", 0)
    how = f"{rep.linked} hard-linked, {rep.copied - made} copied"
    if made:
        how += f" from the dataset, {made} generated images copied from staging"
    if rep.upright:
        how += f", {rep.upright} turned upright (EXIF orientation)"
    print(
        f"exported {rep.files} files to {printable(str(rep.out))} ({sizes}; by origin: "
        f"{origins}; written: {how})"
    )
    train = rep.counts["train"]
    if left_imbalanced(train["before"], train["after"]):
        print(
            "note: the training split is still imbalanced (imbalance ratio "
            f"{imbalance_text(train['after'])}): this export did not rebalance it. Use the "
            "class weights (weights.json) or sampler weights (sampler_weights.csv), or "
            "export with a policy such as --policy oversample (see README.md)"
        )
    for note in rep.notes:
        print(f"note: {printable(note)}")
    if rep.left_out:
        from ..core.export.report import left_out_text

        print(f"left out of the export: {left_out_text(rep.left_out)} (each in left_out.csv)")
    if rep.empty_classes:
        lacking = "; ".join(
            f"{split}/ has no image of {summarize(names)}"
            for split, names in rep.empty_classes.items()
        )
        print(
            f"note: {lacking}: load the splits with torchvision's "
            "ImageFolder(..., allow_empty=True), as README.md shows"
        )
    if rep.problems:
        print(f"problems ({len(rep.problems):,}, also listed in README.md):")
        print_list([f"{path}: {reason}" for path, reason in rep.problems], "all in README.md")
    return 0
