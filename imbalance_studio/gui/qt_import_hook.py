"""Make PySide6's per-import check free.

PySide6 replaces `__import__` and, after every module imported once it is loaded, asks
whether that module's source mentions "PySide6", with `inspect.getsource`: a few stat calls,
then the file read, decoded and split into lines through `linecache` (which keeps every line
of every module for the life of the process). That is ~200 us of CPU a module, and each
file operation hands the GIL to whichever worker thread is importing or scanning meanwhile;
with the ~1,300 modules the window, numpy, superqt, pyqtgraph and the scan bring, it was a
fifth of the start-up's CPU time.

The answer only picks a module's default for PySide's opt-in `from __feature__ import
snake_case, true_property`: 0 ("no feature": Qt's own names) for a module that mentions
PySide6, -1 ("ignore": no switch, whatever feature set ran last) for the others. A module
that opts in is registered by that import itself, not by this check. Answering "yes" for
every module gives each module that did not opt in Qt's own names, which is the documented
default, and costs nothing.
"""

from __future__ import annotations

import sys
from types import ModuleType


def _mod_uses_pyside(module: ModuleType) -> bool:
    return True


def install() -> None:
    """Replace PySide6's check (a no-op where a PySide6 version has no such check)."""
    feature = sys.modules.get("shibokensupport.feature")
    if feature is not None and callable(getattr(feature, "_mod_uses_pyside", None)):
        feature._mod_uses_pyside = _mod_uses_pyside
