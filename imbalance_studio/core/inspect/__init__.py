"""Inspect a dataset: exact and near duplicates (pixel digest, perceptual hash and a
multi-index search), label conflicts and quality flags named as cleanvision names them.

`iter_inspect(dataset)` is the one entry point (a generator of progress events returning an
`InspectReport`); results are cached per file in the dataset's `core.file_cache` by path,
size and mtime. `iter_split_groups` adds the identical files and gives the plan its groups.

Names are imported on first use: a decoding worker imports `features` alone, not the cache,
the project model and scipy.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "MAX_THRESHOLD": "near", "near_pairs": "near",
    "DEFAULT_THRESHOLDS": "quality", "ISSUES": "quality", "QualityFlag": "quality",
    "DEFAULT_NEAR_THRESHOLD": "report", "DuplicateGroup": "report", "InspectReport": "report",
    "InspectProgress": "run", "inspect": "run", "iter_inspect": "run",
    "SplitGroups": "split_groups", "iter_split_groups": "split_groups",
    "leak_check": "split_groups", "merge_groups": "split_groups",
}  # fmt: skip

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
