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


# The package, not only its `runtime`: told only that `runtime` was missing, the import still
# ran the package's own start-up (8 modules, ~8 ms).
CUDA_RUNTIME = "cuda.bindings"


def import_pyqtgraph() -> None:
    """Import pyqtgraph without the CUDA runtime bindings its `RawImageWidget` (which we never
    use) imports where they are installed (torch brings them): ~80 ms of CPU and a search of
    the disk for NVIDIA libraries, on the way to the first chart. They stay importable: only
    this one import is told they are missing (pyqtgraph expects that case)."""
    if "pyqtgraph" in sys.modules or CUDA_RUNTIME in sys.modules:
        import pyqtgraph

        return
    sys.modules[CUDA_RUNTIME] = None  # type: ignore[assignment]  ("not installed" to importers)
    try:
        import pyqtgraph  # noqa: F401
    finally:
        if CUDA_RUNTIME in sys.modules and sys.modules[CUDA_RUNTIME] is None:
            del sys.modules[CUDA_RUNTIME]
