"""numpy helpers that stay off numpy.ma.

`np.unique` (without indices) asks `np.ma.is_masked`, and `np.median` / `np.percentile` go
through numpy.ma too: the first call in a process imports it (~10-25 ms, GIL held). That lands
on the way to a window's first inspection, or a first mark, for arrays that are never masked.
"""

from __future__ import annotations

import numpy as np


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """`np.unique` of a 1-d array: its distinct values, sorted."""
    a = np.sort(a)
    if len(a) > 1:
        a = a[np.concatenate(([True], a[1:] != a[:-1]))]
    return a


def median(values: np.ndarray) -> float:
    """`np.median` of a non-empty 1-d array."""
    n = len(values)
    upper = np.partition(values, n // 2)[n // 2]
    if n % 2:
        return float(upper)
    return float((np.partition(values, n // 2 - 1)[n // 2 - 1] + upper) / 2)
