"""Make PySide6's per-import check cheap.

PySide6 replaces `__import__` and, after every module imported once it is loaded, asks
whether that module's source mentions "PySide6" (for its opt-in `from __feature__ import
snake_case` syntax) with `inspect.getsource`: a few stat calls, then the file read, decoded
and split into lines through `linecache`, which keeps every line of every module for the
life of the process. That is ~200 us a module against ~30 us for reading the file; with the
~1,300 modules the window, numpy, superqt, pyqtgraph and the scan bring, a fifth of the
start-up's CPU time (in the GUI thread and in every worker thread that imports). The same
question is answered here by reading the module's file: the same answer, without the rest.
"""

from __future__ import annotations

import sys
from types import ModuleType


def _mod_uses_pyside(module: ModuleType) -> bool:
    """True when the module's source file mentions PySide6 (PySide's own test, cheaper)."""
    file = getattr(module, "__file__", None)
    if not isinstance(file, str) or not file.endswith(".py"):
        return False  # an extension or a namespace package: inspect finds no source either
    try:
        with open(file, "rb") as f:
            return b"PySide6" in f.read()
    except OSError:
        return False


def install() -> None:
    """Replace PySide6's check (a no-op where a PySide6 version has no such check)."""
    feature = sys.modules.get("shibokensupport.feature")
    if feature is not None and callable(getattr(feature, "_mod_uses_pyside", None)):
        feature._mod_uses_pyside = _mod_uses_pyside
