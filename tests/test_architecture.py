"""The split between core and GUI is proven, not promised."""

import subprocess
import sys
import textwrap

QT_MODULES = ("PySide6", "pyqtgraph", "superqt", "qtpy")
HEAVY = ("torch", "torchvision", "albumentations", "sklearn", "cv2")


def loaded_after(code: str) -> set[str]:
    probe = textwrap.dedent(code) + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "", "NO_ALBUMENTATIONS_UPDATE": "1"},
    )
    assert out.returncode == 0, out.stderr
    import json

    return {m.split(".")[0] for m in json.loads(out.stdout.strip().splitlines()[-1])}


def test_core_imports_no_qt_and_nothing_heavy():
    import pkgutil

    import imbalance_studio.core as core

    names = [m.name for m in pkgutil.walk_packages(core.__path__, "imbalance_studio.core.")]
    assert "imbalance_studio.core.scanning" in names
    mods = loaded_after("\n".join(f"import {n}" for n in names))
    assert not mods & set(QT_MODULES), mods & set(QT_MODULES)
    assert not mods & set(HEAVY), mods & set(HEAVY)


def test_cli_imports_no_qt():
    mods = loaded_after("import imbalance_studio.cli as c; c.build_parser()")
    assert not mods & set(QT_MODULES)
    assert not mods & set(HEAVY)
