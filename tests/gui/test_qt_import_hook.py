"""PySide6's per-import check is skipped, and `from __feature__ import …` still works."""

import os
import subprocess
import sys
import textwrap


def test_the_window_installs_the_cheap_check():
    import imbalance_studio.gui.app  # noqa: F401
    from imbalance_studio.gui import qt_import_hook

    feature = sys.modules["shibokensupport.feature"]
    assert feature._mod_uses_pyside is qt_import_hook._mod_uses_pyside


def test_a_module_that_opts_into_snake_case_gets_it_and_no_other_module_does(tmp_path):
    (tmp_path / "snaky.py").write_text(
        textwrap.dedent("""
        from __feature__ import snake_case  # noqa: F401
        from PySide6.QtCore import QSize

        def names():
            size = QSize(3, 4)
            return hasattr(size, "isEmpty"), hasattr(size, "is_empty")
        """)
    )
    (tmp_path / "plain.py").write_text(
        textwrap.dedent("""
        from PySide6.QtCore import QSize

        def names():
            size = QSize(3, 4)
            return hasattr(size, "isEmpty"), hasattr(size, "is_empty")
        """)
    )
    (tmp_path / "unrelated.py").write_text(
        "def names(size):\n    return hasattr(size, 'isEmpty')\n"
    )
    script = textwrap.dedent("""
        import imbalance_studio.gui.app
        from PySide6.QtCore import QSize
        import plain, snaky, unrelated
        print(plain.names(), snaky.names(), plain.names(), unrelated.names(QSize(1, 1)))
        """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [
        "(True,",
        "False)",
        "(False,",
        "True)",
        "(True,",
        "False)",
        "True",
    ]


def test_pyqtgraph_is_imported_without_cuda_which_stays_importable(tmp_path):
    script = textwrap.dedent("""
        import importlib.util, sys
        import imbalance_studio.gui.app
        from imbalance_studio.gui.session import warm_imports
        warm_imports()
        import pyqtgraph
        loaded = sorted(m for m in sys.modules if m.startswith("cuda.bindings"))
        if importlib.util.find_spec("cuda") is not None:
            from cuda.bindings import runtime  # what torch may want later
            assert runtime.__name__ == "cuda.bindings.runtime"
        print(loaded, pyqtgraph.PlotWidget.__name__)
        """)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["[]", "PlotWidget"]
