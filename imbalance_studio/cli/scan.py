"""`imbalance-studio scan FOLDER [--json]`: the dataset's facts, headless."""

from __future__ import annotations

import argparse
import json
import math
import os

from ..core.dataset import Dataset, Problem
from ..core.listing import ScanError
from ..core.scanning import MIN_SIDE, iter_scan
from ..core.text import printable, summarize
from . import CliError, count_arg
from .notes import LIST_LIMIT, print_list
from .progress import run_steps


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scan", help="count classes and find unusable files")
    p.add_argument("folder", help="dataset root: one sub-folder per class")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--quick",
        action="store_true",
        help="only list and stat files; do not decode them (misses corrupt/truncated files)",
    )
    p.add_argument(
        "--workers",
        type=count_arg,
        default=os.cpu_count() or 1,
        help="processes used to decode images (default: all cores)",
    )
    add_min_size_argument(p)
    p.set_defaults(func=run)


def add_min_size_argument(p: argparse.ArgumentParser, has_quick: bool = True) -> None:
    """--min-size, shared by every command that scans (`has_quick`: it has --quick)."""
    quick = ", so not with --quick" if has_quick else ""
    p.add_argument(
        "--min-size",
        type=count_arg,
        default=MIN_SIDE,
        metavar="PX",
        help=f"images narrower or lower than PX pixels are problems, not samples "
        f"(default: {MIN_SIDE}; checked when images are decoded{quick})",
    )


def load_dataset(
    folder: str,
    quick: bool = False,
    workers: int = 1,
    quiet: bool = False,
    min_side: int = MIN_SIDE,
) -> Dataset:
    """Scan a folder with core's one scan (`iter_scan`: list, then decode-check every image
    with `workers` processes), with a progress bar on a terminal. `quick` only stats each
    file: FIFOs, devices and empty files are still found (and never opened by the stages
    after this one), corrupt and too small images are not."""
    try:
        # run_steps closes the scan when interrupted (Ctrl+C, SIGTERM): its pool drops the
        # queued decodes.
        # help_here: this process checks files too instead of waiting for the pool.
        steps = iter_scan(
            folder, workers=workers, decode=not quick, help_here=True, min_side=min_side
        )
        return run_steps(steps, "scan", quiet)
    except ScanError as exc:
        raise CliError(str(exc)) from exc


def scan_report(dataset: Dataset) -> dict:
    ratio = dataset.imbalance_ratio
    return {
        "root": str(dataset.root.absolute()),
        "classes": [
            {
                "name": c.name,
                "index": c.index,
                "count": c.count,
                "share": round(c.share, 6),
                "minority": c.is_minority,
            }
            for c in dataset.class_infos()
        ],
        "total": len(dataset.samples),
        "imbalance_ratio": ratio if math.isfinite(ratio) else None,
        "majority_baseline_accuracy": round(dataset.majority_baseline, 6),
        "problems": [
            {"path": p.path, "reason": p.reason, "detail": p.detail, "excluded": p.excludes}
            for p in dataset.problems
        ],
    }


def run(args: argparse.Namespace) -> int:
    dataset = load_dataset(args.folder, args.quick, args.workers, args.json, args.min_size)
    report = scan_report(dataset)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(printable(os.path.abspath(dataset.root)))  # as plan and export name it
    names = [printable(c["name"]) for c in report["classes"]]  # a newline keeps its row
    width = max((len(n) for n in names), default=5)
    print(f"  {'idx':>3}  {'class':<{width}}  {'count':>7}  {'share':>6}")
    for c, name in zip(report["classes"], names, strict=True):
        flag = "  minority" if c["minority"] else ""
        print(f"  {c['index']:>3}  {name:<{width}}  {c['count']:>7}  {c['share']:>6.1%}{flag}")
    ratio = report["imbalance_ratio"]
    print(f"total images: {report['total']}")
    if args.quick:
        print("(--quick: files listed, not decoded: corrupt or too small images are not found)")
    if not report["total"]:  # no ratio or baseline to speak of
        print(
            "no usable image: nothing to balance"
            + (" (see the problems below)" if dataset.problems else "")
        )
        _print_problems(dataset.problems)
        return 0
    print(
        f"imbalance ratio (largest / smallest): {'∞ (a class is empty)' if ratio is None else f'{ratio:.2f}'}"
    )
    print(
        f"majority-class baseline accuracy: {report['majority_baseline_accuracy']:.1%}"
        "  (what always predicting the largest class scores)"
    )
    _print_problems(dataset.problems)
    return 0


def _print_problems(problems: list[Problem]) -> None:
    """Each problem on its line when there are few; else one line per reason naming the first
    few files (thousands of bad files must not bury the counts above)."""
    if not problems:
        return
    print(f"problems ({len(problems)}):")
    if len(problems) <= LIST_LIMIT:
        print_list(
            [f"{p.path}: {p.reason}" + (f" ({p.detail})" if p.detail else "") for p in problems]
        )
        return
    by_reason: dict[str, list[str]] = {}
    for p in problems:
        by_reason.setdefault(p.reason, []).append(p.path)
    for reason, paths in sorted(by_reason.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print(f"  {reason} ({len(paths)}): {summarize(paths)}")
    print("  (scan --json lists every problem)")
