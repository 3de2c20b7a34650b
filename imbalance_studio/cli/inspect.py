"""`imbalance-studio inspect (FOLDER | PROJECT) [--json] [--near-threshold N]`: exact and
near duplicates, label conflicts and quality flags, headless.

The folder is listed and every image decoded once by the inspection itself (results cached
per file by path, size and mtime, so a second run decodes only what changed). Files that do
not decode are listed on stderr, as the scan lists them; `--json` prints one object:
{"root", "duplicates": [{"kind", "paths", "classes"}], "quality": [{"path", "issues",
"scores"}], "traits": {issue: count}}, paths relative to the dataset root. A trait is an issue
most images have (grayscale digits): counted once, flagged on no image.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..core.dataset import ProblemReason
from ..core.project import PROJECT_SUFFIX
from ..core.text import plural, printable, summarize
from . import CliError, count_arg
from .notes import print_list
from .progress import run_steps
from .project_arg import is_project_arg, load_project
from .scan import load_dataset


def _threshold_arg(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    try:
        if not sep:
            raise ValueError
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected ISSUE=VALUE, e.g. dark=0.2") from None


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ..core.inspect.near import MAX_THRESHOLD
    from ..core.inspect.quality import DEFAULT_THRESHOLDS

    p = sub.add_parser(
        "inspect",
        help="find exact and near duplicates, label conflicts and dark/blurry/odd images",
    )
    p.add_argument("target", metavar="FOLDER|PROJECT", help=f"dataset root or *{PROJECT_SUFFIX}")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--near-threshold",
        type=int,
        metavar="N",
        help="largest Hamming distance (of 64 bits) between the perceptual hashes of near "
        f"duplicates, 0 to {MAX_THRESHOLD} (default: the project's, else 10)",
    )
    p.add_argument(
        "--threshold",
        type=_threshold_arg,
        action="append",
        default=[],
        metavar="ISSUE=VALUE",
        help="flag ISSUE below VALUE (repeatable); defaults: "
        + ", ".join(f"{k}={v:g}" for k, v in DEFAULT_THRESHOLDS.items()),
    )
    p.add_argument(
        "--workers", type=count_arg, default=os.cpu_count() or 1, help="processes for decoding"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..core.inspect import MAX_THRESHOLD, iter_inspect
    from ..core.inspect.quality import check_thresholds
    from ..core.project import InspectSettings

    settings = InspectSettings()
    if is_project_arg(args.target):
        project = load_project(args.target)
        root, settings = project.dataset_root, project.inspect
    elif Path(args.target).is_dir():
        root = str(Path(args.target).absolute())
    else:
        raise CliError(f"{args.target}: no such folder or project file")
    threshold = settings.near_threshold if args.near_threshold is None else args.near_threshold
    if not 0 <= threshold <= MAX_THRESHOLD:
        raise CliError(f"--near-threshold {threshold}: must be 0 to {MAX_THRESHOLD}")
    try:
        thresholds = check_thresholds({**settings.quality_thresholds, **dict(args.threshold)})
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    # Listing and a stat of each file only: the inspection decodes every image itself.
    dataset = load_dataset(root, quick=True, quiet=args.json)
    report = run_steps(
        iter_inspect(dataset, near_threshold=threshold, workers=args.workers),
        "inspect",
        quiet=args.json,
    )
    _left_out(report.problems + [p for p in dataset.problems if p.excludes and p.reason in _FILES])
    if args.json:
        print(json.dumps(report.to_json(thresholds), indent=2))
    else:
        _print(report, thresholds)
    return 0


# Image files the listing already left out (a FIFO, an empty file); not folders or other files.
_FILES = frozenset({ProblemReason.NOT_REGULAR, ProblemReason.EMPTY_FILE, ProblemReason.UNREADABLE})


def _left_out(problems) -> None:
    if problems:
        print(f"note: {plural(len(problems), 'file')} could not be inspected:", file=sys.stderr)
        print_list([f"{p.path}: {p.reason}" for p in problems], "see `scan`", file=sys.stderr)


def _print(report, thresholds) -> None:
    from collections import Counter

    groups, flags = report.groups, report.quality(thresholds)
    conflicts = sum(g.conflict for g in groups)
    kinds = Counter(g.kind for g in groups)
    files = len(report.paths) + len(report.problems)
    print(
        f"{printable(str(report.root))}: {plural(len(report.paths), 'image')} "
        f"({report.cached:,} of {plural(files, 'file')} answered from the cache)"
    )
    # A near group may hold copies too (a file, its copy and an edit of it): said, so that
    # "exact" never seems to be all the copies there are.
    with_copies = sum(bool(g.identical) for g in groups)
    held = f", {with_copies} of them holding identical copies" if with_copies else ""
    print(
        f"\nduplicate groups: {len(groups)} ({kinds['exact']} exact, {kinds['near']} near{held}; "
        f"{plural(conflicts, 'label conflict')}), near-duplicate threshold "
        f"{report.near_threshold} bits"
    )
    print_list(
        [
            (f"CONFLICT ({summarize(sorted(set(g.classes)))}) " if g.conflict else "")
            + f"{g.kind}, {len(g.paths)} images"
            + (f" ({g.copies} of them identical copies)" if g.identical else "")
            + ": "
            + summarize(f"{p} [{c}]" for p, c in zip(g.paths, g.classes, strict=True))
            for g in groups
        ],
        "--json lists them all",
    )
    loose = report.loose_groups_note()
    if loose:
        print(f"warning: {loose}")
    counts = Counter(issue for f in flags for issue in f.issues)
    summary = ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"
    print(f"\nflagged images: {len(flags)} ({summary})")
    print_list([f"{f.path}: {', '.join(f.issues)}" for f in flags], "--json lists them all")
    common = report.traits(thresholds)
    if common:
        n = len(report.paths)
        print(
            "not flagged, as most images have it (a trait of this dataset): "
            + ", ".join(f"{k} ({v:,} of {n:,} images)" for k, v in common.items())
        )
