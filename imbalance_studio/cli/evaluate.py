"""`imbalance-studio evaluate EXPORT`: did balancing help? Trains the same small CNN several
ways on an export and judges each on its validation split; writes OUT/evaluation.json and
evaluation.png and adds an Evaluation section to the export's README."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.names import json_text
from ..core.text import plural, printable
from . import CliError, count_arg
from .progress import run_steps

ARM_NAMES = ("raw", "balanced", "weighted", "sampler", "balanced+weights")  # core.evaluate.ARMS


def _size(text: str) -> int:
    value = count_arg(text)
    if not 8 <= value <= 512:
        raise argparse.ArgumentTypeError(f"{text!r}: use 8 to 512 pixels")
    return value


def _arms(text: str) -> tuple[str, ...]:
    names = tuple(a.strip() for a in text.split(",") if a.strip())
    bad = [a for a in names if a not in ARM_NAMES]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"{text!r}: arms are a comma-separated list of {', '.join(ARM_NAMES)}"
        )
    return names


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="train a small CNN raw / balanced / weighted / ... and compare them on val",
        description="Train the same small CNN (same seed, input size and steps) on an export "
        "several ways: raw (original training images), balanced (the exported training "
        "split), weighted (originals with the balanced_original_train loss weights), sampler "
        "(originals with WeightedRandomSampler), balanced+weights (the double correction). "
        "Judge each on the validation split (never the test split) with balanced accuracy, "
        "macro-F1 and per-class recall from its confusion matrix. Writes EXPORT/"
        "evaluation.json and evaluation.png.",
    )
    p.add_argument("export", help="an export folder (made by `imbalance-studio export`)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("--seed", type=int, default=1, help="seed of every arm (default 1)")
    p.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="auto: a CUDA GPU when torch sees one, else the CPU (deterministic)",
    )
    p.add_argument(
        "--steps",
        type=count_arg,
        default=200,
        help="gradient steps per arm, batches of 32 (default 200; more is slower and closer "
        "to a long training, where balancing tends to matter less)",
    )
    p.add_argument("--size", type=_size, default=64, help="input size in pixels (64)")
    p.add_argument("--arms", type=_arms, help="only these arms, e.g. raw,balanced")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..core.evaluate import EvaluateError, evaluate_and_save

    try:
        gen = evaluate_and_save(
            Path(args.export), seed=args.seed, device=args.device, steps=args.steps,
            size=args.size, arms=args.arms,
        )  # fmt: skip
        report = run_steps(gen, "evaluate", args.quiet or args.json)
    except EvaluateError as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print(json_text(report))
        return 0
    _print_table(report)
    return 0


def _print_table(report: dict) -> None:
    base = report["majority_baseline"]
    print(f"judged on the validation split: {sum(report['val_counts'])} images")
    print(f"{'arm':18} {'n_train':>7} {'bal.acc':>8} {'95% interval':>15} {'macro-F1':>8} "
          f"{'accuracy':>8}")  # fmt: skip
    for name, a in report["arms"].items():
        lo, hi = report["interval"]["balanced_accuracy"][name]
        mark = " *" if name == report["best"] else ""
        print(
            f"{name:18} {a['n_train']:7d} {a['balanced_accuracy']:8.3f} "
            f"{f'{lo:.3f}-{hi:.3f}':>15} {a['macro_f1']:8.3f} {a['accuracy']:8.3f}{mark}"
        )
    rare = min((c for c in report["val_counts"] if c), default=0)
    skew = (
        f"; with {plural(rare, 'validation image')} of the class that has fewest there, "
        "resamples that miss it score without it, so the interval can sit off-centre"
        if rare and rare <= 3
        else ""
    )
    print(
        f"(* the best balanced accuracy; 95% interval: a bootstrap over the validation "
        f"images{skew})"
    )
    print(
        f"(plain accuracy misleads: always answering {printable(base['class'])} scores "
        f"{base['accuracy']:.3f})"
    )
    print(printable(report["summary"]))
    for w in report["warnings"]:
        print(f"warning: {printable(w)}")
    for n in report["notes"]:
        print(f"note: {printable(n)}")
