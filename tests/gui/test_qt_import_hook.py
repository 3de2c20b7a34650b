"""PySide6's per-import "does this module use PySide6?" check, made cheap, answers as before."""

import inspect
import sys


def _inspect_answer(module) -> bool:
    """PySide6's own test (shibokensupport.feature._mod_uses_pyside)."""
    try:
        return "PySide6" in inspect.getsource(module)
    except (TypeError, OSError, SyntaxError):
        return False


def test_the_window_installs_the_cheap_check():
    import imbalance_studio.gui.app  # noqa: F401
    from imbalance_studio.gui import qt_import_hook

    feature = sys.modules["shibokensupport.feature"]
    assert feature._mod_uses_pyside is qt_import_hook._mod_uses_pyside


def test_the_cheap_check_gives_pysides_answer_for_every_loaded_module():
    import numpy  # noqa: F401  (and modules that do not, extensions among them)

    import imbalance_studio.gui.main_window  # noqa: F401  (modules that use PySide6)
    from imbalance_studio.gui.qt_import_hook import _mod_uses_pyside

    modules = [m for m in list(sys.modules.values()) if m is not None]
    answers = {m.__name__: _mod_uses_pyside(m) for m in modules}
    assert answers == {m.__name__: _inspect_answer(m) for m in modules}
    assert answers["imbalance_studio.gui.main_window"] is True
    assert answers["numpy"] is False and answers["numpy._core._multiarray_umath"] is False
