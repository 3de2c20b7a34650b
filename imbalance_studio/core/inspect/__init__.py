"""Inspect a dataset: exact and near duplicates (pixel digest, perceptual hash and a
multi-index search), label conflicts and quality flags named as cleanvision names them.

`iter_inspect(dataset)` is the one entry point (a generator of progress events returning an
`InspectReport`); results are cached per file in the dataset's `core.file_cache` by path,
size and mtime.
"""

from .near import MAX_THRESHOLD, near_pairs
from .quality import DEFAULT_THRESHOLDS, ISSUES, QualityFlag
from .report import DEFAULT_NEAR_THRESHOLD, DuplicateGroup, InspectReport
from .run import InspectProgress, inspect, iter_inspect
from .split_groups import SplitGroups, iter_split_groups, leak_check, merge_groups

__all__ = [
    "DEFAULT_NEAR_THRESHOLD", "DEFAULT_THRESHOLDS", "ISSUES", "MAX_THRESHOLD", "DuplicateGroup",
    "InspectProgress", "InspectReport", "QualityFlag", "SplitGroups", "inspect", "iter_inspect",
    "iter_split_groups", "leak_check", "merge_groups", "near_pairs",
]  # fmt: skip
