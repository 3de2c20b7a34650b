"""The feature export in one generator: featurize every split, resample train, write OUT.

`iter_features` yields `FeatureProgress` and returns a `FeaturesReport`; the CLI drives it
with a tqdm bar, the GUI with its job runner (Cancel closes it: the pool's queued chunks are
dropped and nothing is written). The pieces are usable alone, as the GUI does: featurize once
(`iter_featurize`), try samplers (`resample_train`, seconds), then write (`iter_write`).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..export.destination import ExportError, check_destination, check_free_space
from ..plan import SPLITS
from ..progress import drive
from .featurize import FeatureProgress, FeatureSet, iter_featurize
from .hog import FeatureSettings
from .resample import DEFAULT_SAMPLER, FeaturesError, Resampled, resample_train
from .write import FEATURES_FORMAT, FEATURES_VERSION, SOURCES_NAME, export_files, write_export


@dataclass
class FeaturesReport:
    out: Path
    counts: dict[str, dict[str, list[int]]]  # {split: {"before": [...], "after": [...]}}
    dimensions: int
    synthetic: int
    notes: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    features: FeatureSet | None = None
    resampled: Resampled | None = None


def plan_targets(project, plan) -> dict[int, int] | None:
    """Training targets from the plan where the project sets any ({class index: final count},
    undersampling already applied by the plan's kept files); None: balance to the largest."""
    from ..project import Method

    if not any(t.target is not None and t.method != Method.KEEP for t in project.targets.values()):
        return None
    return {cp.class_index: cp.final for cp in plan.splits["train"]}


def _unused_marks(plan, project) -> list[str]:
    """Duplicate marks copy image files; vectors are balanced by the sampler instead. (The
    plan's own copies, of a `duplicate` target, are not marks: not counted.)"""
    train = {p for cp in plan.splits["train"] for p in cp.kept}
    copies = sum(m.duplicate for p, m in project.marks.items() if p in train)
    if not copies:
        return []
    return [
        f"duplicate marks ({copies} copies) are for image exports: feature vectors are "
        "balanced by the sampler, so each marked image is one vector here"
    ]


def features_info(dataset_root: str, fs: FeatureSet, res: Resampled, plan, project) -> dict:
    """features.json."""
    import skimage

    n = len(fs.classes)
    counts = {
        split: {"before": fs.splits[split].counts(n), "after": fs.splits[split].counts(n)}
        for split in SPLITS
    }
    counts["train"]["after"] = np.bincount(res.y, minlength=n).astype(int).tolist()
    sp = project.split
    return {
        "format": FEATURES_FORMAT,
        "version": FEATURES_VERSION,
        "dataset_root": dataset_root,
        "classes": list(fs.classes),
        "class_to_idx": {c: i for i, c in enumerate(fs.classes)},
        "preprocess": fs.settings.preprocess,
        "feature": "skimage.feature.hog",
        "hog": fs.settings.hog,
        "dimensions": fs.settings.dimensions,
        "scikit_image_version": skimage.__version__,
        "sampler": {"name": res.sampler, "params": res.params, "seed": res.seed},
        "split": {"train": sp.train, "val": sp.val, "test": sp.test, "seed": plan.seed},
        "policy": plan.policy,
        "counts": counts,
        "synthetic_rows": int(res.synthetic.sum()),
        "synthetic_sources": SOURCES_NAME,
        "notes": list(res.notes) + list(plan.warnings) + _unused_marks(plan, project),
        "problems": [{"path": p, "reason": r} for p, r in fs.problems],
    }


def iter_write(
    dataset_root, fs: FeatureSet, res: Resampled, plan, project, out: Path | str, *,
    overwrite: bool = False, overwrite_all: bool = False, real_dirs=(),
) -> Generator[FeatureProgress, None, FeaturesReport]:  # fmt: skip
    """Write computed vectors to `out` atomically (ExportError for a refused destination)."""
    yield FeatureProgress("writing", 0, None, "writing the feature files")
    dest = check_destination(
        Path(dataset_root), Path(out), overwrite, overwrite_all=overwrite_all, real_dirs=real_dirs
    )
    info = features_info(str(dataset_root), fs, res, plan, project)
    files, _rows = export_files(fs, res, info)
    check_free_space(dest.out.parent, sum(map(len, files.values())))
    notes = list(info["notes"])
    kept = write_export(dest, files, str(dataset_root), plan.seed, len(res.y))
    if kept is not None:
        notes.append(
            f"files that appeared in the previous export while this one was written were not "
            f"deleted: they are in {kept}"
        )
    yield FeatureProgress("writing", 1, 1, f"wrote the feature vectors to {dest.out}")
    return FeaturesReport(
        dest.out, info["counts"], fs.settings.dimensions, int(res.synthetic.sum()), notes,
        list(fs.problems), fs, res,
    )  # fmt: skip


def iter_features(
    dataset, project, plan, out: Path | str, sampler: str = DEFAULT_SAMPLER, *,
    settings: FeatureSettings | None = None, workers: int | None = None,
    overwrite: bool = False, overwrite_all: bool = False,
) -> Generator[FeatureProgress, None, FeaturesReport]:  # fmt: skip
    """Featurize, resample the training split, and write `out` (see the module doc)."""
    real_dirs = getattr(dataset, "real_dirs", ())
    # A bad OUT is refused before minutes of featurizing (and checked again when written).
    check_destination(dataset.root, Path(out), overwrite, overwrite_all=overwrite_all,
                      real_dirs=real_dirs)  # fmt: skip
    fs = yield from iter_featurize(dataset, plan, settings, workers)
    yield FeatureProgress("resampling", 0, None, f"resampling the training vectors ({sampler})")
    res = resample_train(
        fs.splits["train"], fs.classes, sampler, plan.seed, plan_targets(project, plan)
    )
    return (
        yield from iter_write(
            dataset.root, fs, res, plan, project, out, overwrite=overwrite,
            overwrite_all=overwrite_all, real_dirs=real_dirs,
        )
    )  # fmt: skip


def export_features(dataset, project, plan, out, sampler=DEFAULT_SAMPLER, **kw) -> FeaturesReport:
    """`iter_features` run to its end (no progress)."""
    return drive(iter_features(dataset, project, plan, out, sampler, **kw))


__all__ = [
    "ExportError",
    "FeaturesError",
    "FeaturesReport",
    "export_features",
    "features_info",
    "iter_features",
    "iter_write",
    "plan_targets",
]
