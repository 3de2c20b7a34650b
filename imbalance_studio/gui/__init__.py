"""The Qt window: a thin layer of item models, views and workers over `imbalance_studio.core`."""

from __future__ import annotations

import sys


def _pin_none() -> None:
    """Keep None alive on CPython < 3.12 despite PySide6 over-releasing it.

    PySide6 6.12 drops one reference to None on some void calls (QPainter.save/restore,
    setPen, fillRect, QModelIndex.data returning None...). On Python 3.11, where None is
    not immortal, a few minutes of painting a gallery brings its count to zero and the
    interpreter aborts with "none_dealloc". Python 3.12+ makes None immortal; we do the same
    by giving it a reference count no session can use up.
    """
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    import ctypes

    refcnt = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt is PyObject's first field
    if refcnt.value < 1 << 40:
        refcnt.value += 1 << 40


_pin_none()
