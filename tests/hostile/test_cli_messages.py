"""The CLI's promises, one regression test each: no silent overwrite of a file we did not
write, no traceback (a closed pipe included), short messages on huge datasets, the same
dataset-changed notes and the same --augment parsing in every command."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imbalance_studio.core.dataset import Dataset, Sample
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.project import ClassTarget, Project
from imbalance_studio.core.reconcile import ClassChange, ReconcileReport, describe
from imbalance_studio.core.text import printable, summarize

MAX_LINE = 500


def _png(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (16, 16, 3), np.uint8), "RGB").save(buf, "PNG")
    return buf.getvalue()


def _dataset(root: Path, counts: dict[str, int]) -> Path:
    for ci, (name, n) in enumerate(counts.items()):
        (root / name).mkdir(parents=True)
        for i in range(n):
            (root / name / f"{i:02d}.png").write_bytes(_png(ci * 100 + i))
    return root


def cli(*args, input_dir: Path | None = None, env: dict | None = None):
    return subprocess.run(
        [sys.executable, "-m", "imbalance_studio", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=input_dir,
        env=dict(os.environ, NO_ALBUMENTATIONS_UPDATE="1", **(env or {})),
    )


def one_error(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    return lines[0]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return _dataset(tmp_path_factory.mktemp("small") / "data", {"big": 12, "small": 5})


# -- core/text: one summary for every list of names -------------------------------------


def test_summarize_names_the_first_few_then_counts_the_rest():
    names = [f"class_{i:04d}" for i in range(2000)]
    text = summarize(names)
    assert text == "class_0000, class_0001, class_0002, class_0003, class_0004 and 1995 more"
    assert summarize(["a", "b"]) == "a, b"
    assert summarize(names, limit=1) == "class_0000 and 1999 more"


def test_printable_keeps_a_name_on_one_line():
    name = "new\nline\x1b[31m\u2028" + os.fsdecode(b"\xff")
    text = printable(name)
    assert text == "new\\nline\\x1b[31m\\u2028\\xff"
    assert len(text.splitlines()) == 1
    assert printable("猫 кошка 🐱 a b") == "猫 кошка 🐱 a b"  # real letters stay as they are


# -- 8a: 2,000 classes give short warnings -------------------------------------------------


def _tiny_classes(n: int, per_class: int) -> Dataset:
    classes = tuple(f"class_{i:04d}" for i in range(n))
    samples = [Sample(f"{c}/{j}.png", ci) for ci, c in enumerate(classes) for j in range(per_class)]
    return Dataset("/nonexistent/many", classes, samples)


def _assert_short(lines: list[str], most: int = 8) -> None:
    assert 0 < len(lines) <= most, lines[:20]
    assert max(map(len, lines)) <= MAX_LINE, max(lines, key=len)[:300]


def test_plan_warnings_on_2000_classes_are_a_few_short_lines():
    ds = _tiny_classes(2000, 1)  # too small to split: the 20 KB line of the issue
    project = Project(dataset_root=str(ds.root))
    project.targets = {f"gone_{i}": ClassTarget(target=3) for i in range(2000)}
    _assert_short(list(make_plan(ds, project).warnings))
    # per-class notes (held-out splits of 1-2 images, mostly synthetic) become one line a kind
    ds = _tiny_classes(2000, 5)
    project = Project(dataset_root=str(ds.root))
    project.targets = {c: ClassTarget(target=50) for c in ds.classes}
    warnings = list(make_plan(ds, project).warnings)
    _assert_short(warnings)
    assert any(w.startswith("2000 classes will be mostly synthetic") for w in warnings)
    assert any("class_0000, class_0001" in w and "and 1995 more" in w for w in warnings)


def test_a_few_classes_keep_their_own_notes():
    ds = _tiny_classes(3, 5)
    project = Project(dataset_root=str(ds.root))
    project.targets = {c: ClassTarget(target=50) for c in ds.classes}
    text = "\n".join(make_plan(ds, project).warnings)
    assert "class class_0002: 47 of 50 training images will be synthetic" in text


def test_reconcile_report_of_2000_classes_is_a_few_short_lines():
    names = tuple(f"class_{i:04d}" for i in range(2000))
    report = ReconcileReport(
        missing_marks=tuple(f"{n}/x.png" for n in names),
        missing_classes=names,
        new_classes=tuple(f"new_{n}" for n in names),
        changed_classes=tuple(ClassChange(n, 3, 4) for n in names),
    )
    lines = describe(report)
    _assert_short(lines)
    assert lines == report.messages()
    assert "2000 classes changed since saving (6000 → 8000 files)" in lines[-1]
    one = ReconcileReport((), ("a\nb",), ("c",), (ClassChange("d", 1, 2),))
    assert describe(one) == [
        "1 class missing from the folder: a\\nb",
        "1 new class in the folder: c",
        "class d changed since saving: 1 → 2 (+1 files)",
    ]
