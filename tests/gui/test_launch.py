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
    # By the end the chart and the job runner are loaded, and still none of the heavy ones.
    at_exit = {m.split(".")[0] for m in json.loads(report.read_text())["modules_at_exit"]}
    assert {"pyqtgraph", "superqt"} <= at_exit
    assert not at_exit & set(HEAVY), at_exit & set(HEAVY)
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


def _tree(root):
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*"))


def test_a_screenshot_is_never_saved_inside_the_dataset(tmp_path):
    from datasets import write_digits

    root = tmp_path / "digits"
    write_digits(root, counts=[6, 3])
    before = _tree(root)
    out = root / "digit_1" / "shot.png"  # it would be scanned as one more digit_1 image
    proc = run_app([str(root), "--screenshot", str(out)], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "inside the dataset folder" in proc.stderr and "Traceback" not in proc.stderr
    assert _tree(root) == before
    # Nor when the folder cannot be opened (one class is no dataset): it is still theirs.
    lone = tmp_path / "lone"
    write_digits(lone, counts=[4])
    proc = run_app([str(lone), "--screenshot", str(lone / "digit_0" / "s.png")], tmp_path)
    assert proc.returncode == 2 and "inside the dataset folder" in proc.stderr, proc.stderr
    assert not (lone / "digit_0" / "s.png").exists()


def test_timeout_is_checked_before_the_window_starts(tmp_path):
    for args, said in (
        (["--timeout", "5"], "--timeout applies to --screenshot only"),
        (["--screenshot", "x.png", "--timeout", "-1"], "more than 0 seconds, and finite, not -1"),
        (["--screenshot", "x.png", "--timeout", "nan"], "more than 0 seconds"),
        (["--screenshot", "x.png", "--timeout", "inf"], "and finite, not inf"),
    ):
        proc = run_app(["--demo", *args], tmp_path, timeout=30)
        assert proc.returncode == 2 and said in proc.stderr, (args, proc.stderr)
        assert not (tmp_path / "x.png").exists()


def test_a_project_file_opens_like_its_folder_and_a_broken_one_says_why(tmp_path):
    from datasets import write_digits

    from imbalance_studio.core.project import Project

    root = tmp_path / "digits"
    write_digits(root, counts=[6, 3])
    project_file = tmp_path / "p.isproj.json"
    Project(dataset_root=str(root)).save(project_file)
    out = tmp_path / "shot.png"
    proc = run_app([str(project_file), "--screenshot", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    with Image.open(out) as shot:
        assert shot.size == (1366, 850)
    broken = tmp_path / "broken.isproj.json"
    broken.write_bytes(b'{"dataset_root": ')  # cut short
    proc = run_app([str(broken), "--screenshot", str(tmp_path / "b.png"), "--timeout", "20"],
                   tmp_path)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "broken.isproj.json" in proc.stderr and "Traceback" not in proc.stderr
