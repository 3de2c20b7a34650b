"""What the Export features dialog shows before anything is written: the vectors of every
split (computed once, in the pool), the training split resampled with the chosen sampler,
its 2-D PCA view before and after, and the quick SVC check. Each step runs in a background
job; trying another sampler re-runs only `try_sampler` (seconds), not the featurizing."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

from .check import Projection, SvcCheck, projection, svc_check
from .featurize import FeatureProgress, FeatureSet, iter_featurize
from .hog import FeatureSettings
from .resample import Resampled, resample_train
from .run import plan_targets


@dataclass
class SamplerTrial:
    """One sampler tried on computed vectors (`error`: why it could not resample)."""

    features: FeatureSet
    sampler: str
    resampled: Resampled | None
    projection: Projection | None
    check: SvcCheck | None
    check_error: str = ""
    error: str = ""


def try_sampler(fs: FeatureSet, sampler: str, seed: int, targets) -> SamplerTrial:
    """Resample train with `sampler`, project it, and run the SVC check on validation."""
    from .resample import FeaturesError

    train = fs.splits["train"]
    try:
        res = resample_train(train, fs.classes, sampler, seed, targets)
    except FeaturesError as exc:
        return SamplerTrial(fs, sampler, None, None, None, error=str(exc))
    proj = projection(train.X, res.X, seed) if len(train.y) >= 2 else None
    try:
        check = svc_check(train, res, fs.splits["val"], len(fs.classes))
        why = ""
    except ValueError as exc:
        check, why = None, str(exc)
    return SamplerTrial(fs, sampler, res, proj, check, why)


def iter_preview(
    dataset, project, plan, sampler: str, settings: FeatureSettings | None = None,
    workers: int | None = None,
) -> Generator[FeatureProgress, None, SamplerTrial]:  # fmt: skip
    """Featurize every split, then `try_sampler`."""
    fs = yield from iter_featurize(dataset, plan, settings, workers)
    yield FeatureProgress("checking", 0, None, f"resampling with {sampler} and training two SVCs")
    return try_sampler(fs, sampler, plan.seed, plan_targets(project, plan))
