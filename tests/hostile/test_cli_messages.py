"""The CLI's promises, one regression test each: no silent overwrite of a file we did not
write, no traceback (a closed pipe included), short messages on huge datasets, the same
dataset-changed notes and the same --augment parsing in every command."""

from __future__ import annotations

import io
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imbalance_studio.cli import BUG_REPORT, DEBUG_ENV, EXIT_BROKEN_PIPE, run_cli
from imbalance_studio.core.dataset import Dataset, Sample
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.project import ClassSnapshot, ClassTarget, Project
from imbalance_studio.core.reconcile import ClassChange, ReconcileReport, describe
from imbalance_studio.core.text import plural, printable, summarize

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


def test_scan_lists_many_problems_by_reason(tmp_path):
    root = _dataset(tmp_path / "data", {"a": 2})
    for i in range(300):
        (root / "a" / f"note_{i}.txt").write_text("x")
    out = cli("scan", root, "--quick")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) < 15 and max(map(len, lines)) <= MAX_LINE
    assert "unsupported extension (300): a/note_0.txt, a/note_1.txt" in out.stdout


def test_a_class_name_with_a_newline_keeps_its_row(tmp_path):
    root = _dataset(tmp_path / "data", {"two\nlines": 2, "plain": 3})
    out = cli("scan", root, "--quick")
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines() if "two\\nlines" in line]
    assert rows == [["1", "two\\nlines", "2", "40.0%"]]  # one row: index, name, count, share


# -- 1: --save-project never replaces a file we did not write ---------------------------


def test_save_project_refuses_to_replace_a_file_that_is_not_a_project(small, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    line = one_error(cli("plan", small, "--quick", "--save-project", notes))
    assert "notes.txt" in line and "not overwritten" in line and "--overwrite-project" in line
    assert notes.read_text() == "my notes\n"
    # a file named like a project is judged by content too
    fake = tmp_path / "fake.isproj.json"
    fake.write_text('{"not": "a project"}')
    one_error(cli("plan", small, "--quick", "--save-project", fake))
    assert fake.read_text() == '{"not": "a project"}'
    # explicitly asked: replaced, atomically, by a project
    out = cli("plan", small, "--quick", "--save-project", notes, "--overwrite-project")
    assert out.returncode == 0, out.stderr
    assert Project.load(notes).dataset_root == str(small)


def test_save_project_over_one_of_our_projects_and_where_nothing_is(small, tmp_path):
    proj = tmp_path / "p.isproj.json"
    assert cli("plan", small, "--quick", "--save-project", proj).returncode == 0
    out = cli("plan", proj, "--quick", "--seed", "5", "--save-project", proj)
    assert out.returncode == 0, out.stderr
    assert Project.load(proj).seed == 5


def test_save_project_refuses_links_special_files_and_folders(small, tmp_path):
    target = tmp_path / "target.txt"
    target.write_text("keep")
    os.symlink(target, tmp_path / "link.isproj.json")
    os.mkfifo(tmp_path / "fifo.isproj.json")
    for name, why in [("link.isproj.json", "symbolic link"), ("fifo.isproj.json", "regular"),
                      (".", "is a folder")]:  # fmt: skip
        line = one_error(cli("plan", small, "--quick", "--save-project", tmp_path / name))
        assert why in line
    assert target.read_text() == "keep"


def test_save_project_refuses_a_class_folder_linked_from_elsewhere(tmp_path):
    outside = _dataset(tmp_path / "outside", {"real": 4})
    root = _dataset(tmp_path / "data", {"a": 5})
    os.symlink(outside / "real", root / "b")
    line = one_error(cli("plan", root, "--quick", "--save-project", outside / "real/p.isproj.json"))
    assert "which a class folder of the dataset links to" in line
    assert sorted(p.name for p in (outside / "real").iterdir()) == [
        f"{i:02d}.png" for i in range(4)
    ]


# -- 7: no traceback -------------------------------------------------------------------


def test_a_closed_pipe_ends_quietly_with_status_141(tmp_path):
    root = tmp_path / "many"
    png = _png(0)
    for i in range(3000):  # the table is bigger than a pipe's buffer
        (root / f"class_{i:04d}").mkdir(parents=True)
        (root / f"class_{i:04d}" / "a.png").write_bytes(png)
    for command in (["scan", root, "--quick"], ["plan", root, "--quick", "--workers", "1"]):
        proc = subprocess.Popen(
            [sys.executable, "-m", "imbalance_studio", *map(str, command)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(os.environ, NO_ALBUMENTATIONS_UPDATE="1"),
        )
        head = [proc.stdout.readline() for _ in range(3)]  # `| head -3`
        proc.stdout.close()
        stderr = proc.stderr.read().decode()
        proc.stderr.close()
        assert proc.wait(timeout=60) == EXIT_BROKEN_PIPE, stderr
        assert stderr == "" and all(head)


def test_closed_stderr_or_stdout_is_not_a_crash(small):
    def sh(tail: str) -> subprocess.CompletedProcess:
        cmd = f"{shlex.quote(sys.executable)} -m imbalance_studio scan {tail}"
        env = dict(os.environ, NO_ALBUMENTATIONS_UPDATE="1")
        return subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, env=env)

    folder = shlex.quote(str(small))
    out = sh(f"{folder} --quick 2>&-")  # no stderr: its lines must not land in stdout
    assert out.returncode == 0 and out.stdout.startswith(str(small)), out.stdout
    out = sh("/nonexistent 2>&-")
    assert out.returncode == 2 and out.stdout == ""
    out = sh(f"{folder} --quick >&-")
    assert out.returncode == 0 and out.stderr == "", out.stderr


def _boom(args):
    raise RuntimeError("disk on fire\nsecond line")


def test_an_unexpected_error_is_one_line_and_the_traceback_only_when_asked(
    monkeypatch, capsys, tmp_path
):
    import imbalance_studio.cli.scan as scan

    monkeypatch.setattr(scan, "run", _boom)
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    assert run_cli(["scan", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "RuntimeError: disk on fire\\nsecond line" in err and BUG_REPORT in err
    assert run_cli(["scan", str(tmp_path), "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err
    monkeypatch.setenv(DEBUG_ENV, "1")
    assert run_cli(["scan", str(tmp_path)]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_argument_errors_are_one_line(capsys):
    for argv in (["scan"], ["plan", "x", "--seed", "abc"], ["scan", "x", "--workers", "0"]):
        with pytest.raises(SystemExit) as exc:
            run_cli(argv)
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "error:" in err and "--help" in err, err


# -- 8b: every command says the dataset changed ----------------------------------------


def test_plan_generate_and_export_say_alike_that_the_dataset_changed(tmp_path):
    root = _dataset(tmp_path / "data", {"big": 12, "small": 5})
    proj = tmp_path / "p.isproj.json"
    assert cli("plan", root, "--quick", "--save-project", proj).returncode == 0
    project = Project.load(proj)
    project.snapshot = {**project.snapshot, "small": ClassSnapshot(count=4, digest="0" * 32)}
    project.save(proj)
    notes = {}
    for command in (["plan", proj, "--quick"], ["generate", proj, "--quick", "--quiet"],
                    ["export", proj, tmp_path / "out", "--quiet"]):  # fmt: skip
        out = cli(*command, "--workers", "1")
        assert out.returncode == 0, out.stderr
        notes[command[0]] = [ln for ln in out.stderr.splitlines() if ln.startswith("note:")]
    assert notes["plan"] and "class small changed since saving: 4 → 5" in notes["plan"][0]
    assert notes["generate"] == notes["plan"] == notes["export"]


# -- bug 6: one --augment parser ---------------------------------------------------------


def test_stack_arguments_are_read_alike(tmp_path, small):
    from imbalance_studio.cli.stack_arg import PRESET_NAMES, resolve_stack
    from imbalance_studio.core.augment import PRESETS

    assert tuple(PRESETS) == PRESET_NAMES
    stack_file = tmp_path / "stack.json"
    stack_file.write_text(json.dumps(PRESETS["light"]))
    assert resolve_stack("light") == PRESETS["light"]
    assert resolve_stack(str(stack_file))["transform"]["transforms"]
    proj = tmp_path / "p.isproj.json"
    errors = set()
    for spec in ("light", stack_file):
        out = cli("plan", small, "--quick", "--augment", spec, "--save-project", proj)
        assert out.returncode == 0, out.stderr
        names = [t["__class_fullname__"].rsplit(".", 1)[-1]
                 for t in Project.load(proj).augment.default_stack["transform"]["transforms"]]  # fmt: skip
        assert names == ["HorizontalFlip", "Rotate", "RandomBrightnessContrast"]
        # (no targets: nothing to make, so no seconds spent loading albumentations)
        out = cli("generate", proj, "--quick", "--quiet", "--augment", spec, "--workers", "1")
        assert out.returncode == 0 and "nothing to generate" in out.stdout, out.stderr
        dest = tmp_path / f"out-{Path(str(spec)).name}"
        out = cli("export", small, dest, "--quiet", "--augment", spec, "--workers", "1")
        assert out.returncode == 0, out.stderr
        assert "Rotate" in (dest / "augment.json").read_text()
    for command in (["plan", small], ["generate", proj], ["export", small, tmp_path / "o"]):
        line = one_error(cli(*command, "--augment", tmp_path / "missing.json"))
        errors.add(line.split(": error: ", 1)[1])
    assert len(errors) == 1
    assert "missing.json: no such augmentation stack file or preset" in errors.pop()


def test_plural_counts_read_as_a_person_writes_them():
    import numpy as np

    assert plural(1, "file") == "1 file"
    assert plural(0, "file") == "0 files"
    assert plural(1000, "image") == "1,000 images"
    assert plural(np.int64(2), "class", "classes") == "2 classes"


def test_marks_on_a_gone_and_a_corrupt_file_are_said_without_a_save_hint(tmp_path):
    from imbalance_studio.core.project import Mark

    root = _dataset(tmp_path / "data", {"big": 12, "small": 5})
    (root / "small" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    proj = tmp_path / "p.isproj.json"
    assert cli("plan", root, "--save-project", proj).returncode == 0
    project = Project.load(proj)
    project.update_marks({"small/broken.png": Mark(remove=True), "big/gone.png": Mark(remove=True)})
    project.save(proj)
    out = cli("plan", proj)
    assert out.returncode == 0, out.stderr
    notes = [ln for ln in out.stderr.splitlines() if ln.startswith("note:")]
    # No "save the project again": the classes did not change, and marks are kept anyway.
    assert not any("save the project again" in n for n in notes), notes
    assert "2 marked files are not in the dataset now (gone, or left out as a problem" in notes[0]


def test_a_folder_with_no_usable_image_scans_without_ratios_and_does_not_export(tmp_path):
    root = _dataset(tmp_path / "data", {"big": 3, "small": 2})
    scanned = cli("scan", root, "--min-size", "4000")
    assert scanned.returncode == 0, scanned.stderr
    assert "no usable image: nothing to balance" in scanned.stdout
    assert "imbalance ratio" not in scanned.stdout and "small/01.png: too small" in scanned.stdout
    exported = cli("export", root, tmp_path / "out", "--min-size", "4000")
    assert exported.returncode == 2 and "nothing to export" in exported.stderr
    assert not (tmp_path / "out").exists()
