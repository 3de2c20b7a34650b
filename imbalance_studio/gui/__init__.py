"""The Qt window: a thin layer of item models, views and workers over `imbalance_studio.core`."""

from __future__ import annotations

import sys


def _pin_singletons() -> None:
    """Keep None, True and False alive on CPython < 3.12 despite PySide6 over-releasing them.

    PySide6 6.12 drops one reference to None on some void calls (QPainter.save/restore,
    setPen, fillRect, QModelIndex.data returning None...) and one to True or False on every
    `Signal.emit()` (the bool it returns). On Python 3.11, where these are not immortal, a
    few minutes of painting a gallery, or some thousands of emitted signals, bring a count to
    zero and the interpreter aborts with "none_dealloc" or "bool_dealloc". Python 3.12+ makes
    them immortal; we do the same by giving each a reference count no session can use up.
    """
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    import ctypes

    for obj in (None, True, False):
        refcnt = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt is PyObject's first field
        if refcnt.value < 1 << 40:
            refcnt.value += 1 << 40


_pin_singletons()
