"""The `imbalance-studio` process: window first, heavy libraries never before it."""

import json
import os
import subprocess
import sys

from PIL import Image

HEAVY = ("torch", "torchvision", "albumentations", "sklearn", "cv2")


def run_app(args, tmp_path, report=None, timeout=120):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    if report is not None:
        env["IMBALANCE_STUDIO_REPORT_MODULES"] = str(report)
    return subprocess.run(
        [sys.executable, "-m", "imbalance_studio", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=tmp_path,
    )


def test_screenshot_of_a_folder_with_no_heavy_imports_before_the_window(tmp_path):
    from datasets import write_digits

    root = tmp_path / "digits"
    write_digits(root, counts=[12, 5, 3])
    out, report = tmp_path / "shot.png", tmp_path / "modules.json"
    proc = run_app([str(root), "--screenshot", str(out)], tmp_path, report)
    assert proc.returncode == 0, proc.stderr
    modules = set(json.loads(report.read_text())["modules"])
    assert "PySide6.QtWidgets" in modules  # the report really was written after show()
    loaded = {m.split(".")[0] for m in modules}
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    # Slow, window-irrelevant imports wait until the window is up, too.
    assert "pyqtgraph" not in loaded and "superqt" not in loaded
    with Image.open(out) as shot:
        assert shot.size == (1366, 850)
    # The offscreen platform's "does not support propagateSizeHints()" is not repeated to
    # the user (it was, once per top-level window).
    assert "propagateSizeHints" not in proc.stderr


def test_screenshot_of_a_missing_folder_fails_with_a_message(tmp_path):
    out = tmp_path / "shot.png"
    proc = run_app([str(tmp_path / "nope"), "--screenshot", str(out)], tmp_path)
    assert proc.returncode == 1
    assert "no such folder" in proc.stderr
    assert "Traceback" not in proc.stderr
