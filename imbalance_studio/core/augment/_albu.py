"""The one place that imports albumentations (lazily, with its update check switched off)."""

from __future__ import annotations

import os
import warnings
from types import ModuleType


def albumentations() -> ModuleType:
    """Import albumentations on first use; never at module import time (the window comes first)."""
    # Without this albumentations makes a network request on import to look for updates.
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import albumentations as A

    return A
