"""`imbalance-studio features (PROJECT | FOLDER) OUT`: HOG vectors of every split, the
training split resampled with imbalanced-learn (SMOTE by default), for SVMs and other
classical models. SOURCE is read and planned exactly as `export` does."""

from __future__ import annotations

import argparse
import contextlib
import os
from pathlib import Path

from ..core.features.hog import DEFAULT_SIZE, MAX_SIZE, MIN_SIZE
from ..core.features.resample import DEFAULT_SAMPLER, SAMPLERS
from ..core.policies import POLICY_HELP, parse_policy
from ..core.text import plural, printable
from . import CliError, count_arg
from .export import add_overwrite_arguments
from .progress import run_steps


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "features",
        help="write HOG feature vectors (train resampled with SMOTE & co.) for SVMs",
        description="Write OUT/{train,val,test}.npz (X, y, synthetic, path; no pickles), "
        "features.json (the exact preprocessing and skimage.feature.hog arguments, sampler, "
        "counts), train_synthetic_sources.csv and README.md. Only the training split is "
        "resampled; validation and test hold originals only. OUT must be new, empty, or "
        "(with --overwrite) a previous export holding only what it wrote.",
    )
    p.add_argument("source", help="a project file (*.isproj.json) or a dataset folder")
    p.add_argument("out", help="the folder to create")
    p.add_argument(
        "--sampler",
        choices=tuple(SAMPLERS),
        default=DEFAULT_SAMPLER,
        help=f"how the training vectors are resampled (default: {DEFAULT_SAMPLER}); "
        "random duplicates originals, none leaves them",
    )
    p.add_argument(
        "--size",
        type=int,
        default=DEFAULT_SIZE,
        help=f"side in pixels of the square every image is resized to before HOG "
        f"(default {DEFAULT_SIZE}; {MIN_SIZE}-{MAX_SIZE})",
    )
    p.add_argument("--policy", help=f"{POLICY_HELP} (the training targets, as plan sets them, "
                   "but oversample fills to the largest; default: every class up to the "
                   "largest)")  # fmt: skip
    p.add_argument("--split", help="train,val,test fractions, e.g. 0.7,0.15,0.15")
    p.add_argument("--seed", type=int, help="seed of the split and of the sampler")
    add_overwrite_arguments(p)
    p.add_argument(
        "--workers",
        type=count_arg,
        default=os.cpu_count() or 1,
        help="processes used to decode and featurize images (default: all cores)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..core.export.run import ExportError, check_destination
    from ..core.features.hog import FeatureSettings
    from ..core.features.resample import FeaturesError
    from ..core.features.run import iter_features
    from ..core.plan import make_plan
    from .export import _dataset_root
    from .plan import build_project

    try:
        settings = FeatureSettings(args.size)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    root = _dataset_root(args.source)
    try:
        check_destination(root, args.out, args.overwrite, overwrite_all=args.overwrite_all)
    except ExportError as exc:
        raise CliError(str(exc)) from exc
    # The same project as `plan` and `export` build from the same options.
    args.target, args.quick, args.json = args.source, False, args.quiet
    args.method, args.augment = None, None
    # SMOTE rows are not images with an augmented look: bare `oversample` fills every class
    # to the largest here, as it always did (an explicit oversample:F is kept).
    with contextlib.suppress(ValueError):  # a bad policy is reported by build_project
        if parse_policy(args.policy or "") == ("oversample", None):
            args.policy = "oversample:1"
    project, dataset, groups = build_project(args)
    plan = make_plan(dataset, project, groups=groups)
    try:
        rep = run_steps(
            iter_features(
                dataset, project, plan, Path(args.out), args.sampler, settings=settings,
                workers=args.workers, overwrite=args.overwrite, overwrite_all=args.overwrite_all,
            ),
            "features",
            args.quiet,
        )  # fmt: skip
    except (ExportError, FeaturesError) as exc:
        raise CliError(str(exc)) from exc
    sizes = ", ".join(f"{s} {sum(c['after'])}" for s, c in rep.counts.items())
    print(
        f"wrote {rep.dimensions}-value HOG vectors to {printable(str(rep.out))} ({sizes}; "
        f"{rep.synthetic} synthetic training rows, {args.sampler})"
    )
    for note in rep.notes:
        print(f"note: {printable(note)}")
    if rep.problems:
        print(f"{plural(len(rep.problems), 'file')} left out (listed in README.md)")
    return 0
