"""Every file read back is a regular file below a size limit, parsed with bounded nesting;
targets are bounded too, and a plan says how many images it will make before making them."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from clirun import run_cli as cli
from datasets import write_digits

from hostile.test_special_files import unblock_fifos
from imbalance_studio.cli import run_cli
from imbalance_studio.core import safe_read
from imbalance_studio.core.augment import StackError, load_stack_file
from imbalance_studio.core.autosave import autosave_dir, find_autosaves, write_autosave
from imbalance_studio.core.generation.records import read_record
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.project import MAX_TARGET, ClassTarget, Project, ProjectError
from imbalance_studio.core.scanning import check, scan

DEEP = "[" * 100_000 + "]" * 100_000
# kind -> expected phrase of the one-line error
KINDS = {
    "fifo": "not a regular file (a FIFO)",
    "dev-zero": "not a regular file (a character device)",
    "oversized": "too large for",
    "deep": "nested too deeply",
}


def make_bad(path: Path, kind: str, limit: int) -> Path:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        os.symlink("/dev/zero", path)
    elif kind == "oversized":
        path.write_bytes(b" " * (limit + 1))
    else:
        path.write_text(DEEP, encoding="utf-8")
    return path


def assert_one_line_error(out: subprocess.CompletedProcess, phrase: str) -> None:
    assert out.returncode == 2, (out.stdout, out.stderr)
    err = out.stderr.strip()
    assert "Traceback" not in err and err.count("\n") == 0, err
    assert phrase in err, err


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    write_digits(root, [12, 8, 6])
    return root


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("command", ["plan", "export", "generate"])
def test_project_files_that_are_not_files(tmp_path, kind, command):
    path = make_bad(tmp_path / "bad.isproj.json", kind, safe_read.PROJECT_MAX_BYTES)
    extra = [tmp_path / "out"] if command == "export" else []
    assert_one_line_error(cli(command, path, *extra), KINDS[kind])


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("suffix", [".json", ".yaml"])
@pytest.mark.parametrize("command", ["plan", "export"])
def test_stack_files_that_are_not_files(tiny_root, tmp_path, kind, suffix, command):
    path = make_bad(tmp_path / f"stack{suffix}", kind, safe_read.STACK_MAX_BYTES)
    extra = [tmp_path / "out"] if command == "export" else []
    assert_one_line_error(cli(command, tiny_root, *extra, "--augment", path), KINDS[kind])


def test_yaml_aliases_and_nesting_are_refused_in_one_line(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    (tmp_path / "bomb.yaml").write_text(bomb, encoding="utf-8")
    nested = "".join("  " * i + "- \n" for i in range(400))  # block style this time
    (tmp_path / "nested.yaml").write_text(nested, encoding="utf-8")
    for name, phrase in (("bomb.yaml", "aliases"), ("nested.yaml", "nested too deeply")):
        with pytest.raises(StackError) as err:
            load_stack_file(tmp_path / name)
        assert phrase in str(err.value) and "\n" not in str(err.value)


def test_json_nesting_is_bounded_at_its_limit():
    depth = safe_read.MAX_JSON_DEPTH
    assert safe_read.loads_bounded("[" * depth + "]" * depth, "x") is not None
    with pytest.raises(safe_read.InputFileError, match="more than 100 levels"):
        safe_read.loads_bounded("[" * (depth + 1) + "]" * (depth + 1), "x")
    with pytest.raises(safe_read.InputFileError):
        safe_read.loads_bounded('{"a": ' * (depth + 1) + "1" + "}" * (depth + 1), "x")


def test_a_file_that_lies_about_its_size_is_still_bounded():
    status = "/proc/self/status"
    assert os.stat(status).st_size == 0  # and yet it holds ~1 KB
    with pytest.raises(safe_read.InputFileError, match="too large"):
        safe_read.read_bounded_bytes(status, 16, "a test file")
    assert safe_read.read_bounded_bytes(status, 1 << 20, "a test file").startswith(b"Name:")


def test_bad_autosaves_are_skipped_without_hanging(tiny_root, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    good = write_autosave(Project(dataset_root=str(tiny_root)), None)
    folder = autosave_dir()
    bad = [
        make_bad(folder / f"{kind}.isproj.json", kind, safe_read.PROJECT_MAX_BYTES)
        for kind in KINDS
    ]
    start = time.monotonic()
    with unblock_fifos([p for p in bad if p.name.startswith("fifo")]):
        found = find_autosaves()
    assert time.monotonic() - start < 10
    assert [a.path for a in found] == [good]


def test_bad_generation_records_are_made_again(tmp_path):
    folder = tmp_path / "staging" / "digit_0"
    folder.mkdir(parents=True)
    paths = [make_bad(folder / f"{kind}.json", kind, safe_read.RECORD_MAX_BYTES) for kind in KINDS]
    # A record whose image is not its own file beside it (an edited "../../secret").
    (tmp_path / "secret.png").write_bytes(b"x" * 10)
    rec = {"format": 1, "id": "elsewhere", "status": "pending", "image": "../../secret.png",
           "bytes": 10}  # fmt: skip
    paths.append(folder / "elsewhere.json")
    paths[-1].write_text(json.dumps(rec), encoding="utf-8")
    start = time.monotonic()
    with unblock_fifos([folder / "fifo.json"]):
        assert [read_record(p) for p in paths] == [None] * len(paths)
    assert time.monotonic() - start < 10


def test_a_project_too_large_to_read_back_is_not_saved(tiny_root, tmp_path, monkeypatch):
    import imbalance_studio.core.project as project_module

    monkeypatch.setattr(project_module, "PROJECT_MAX_BYTES", 4000)
    project = Project(dataset_root=str(tiny_root))
    for i in range(100):
        project.set_mark(f"digit_0/file_{i:04d}.png", project_module.Mark(remove=True))
    with pytest.raises(ProjectError, match="not saved"):
        project.save(tmp_path / "p.isproj.json")
    assert not (tmp_path / "p.isproj.json").exists()


# -- targets -------------------------------------------------------------------------------


def test_class_targets_are_bounded():
    assert ClassTarget(target=MAX_TARGET).target == MAX_TARGET
    with pytest.raises(ValueError, match="above the limit of 1,000,000 images per class"):
        ClassTarget(target=MAX_TARGET + 1)


@pytest.mark.parametrize("command", ["plan", "export"])
def test_a_huge_policy_target_is_refused_promptly(tiny_root, tmp_path, command):
    extra = [tmp_path / "out"] if command == "export" else []
    start = time.monotonic()
    out = cli(command, tiny_root, *extra, "--policy", "target:100000000")
    assert time.monotonic() - start < 30
    assert_one_line_error(out, "above the limit of 1,000,000 images per class")
    assert not (tmp_path / "out").exists()


def test_a_policy_target_far_above_the_largest_class_is_refused(tiny_root):
    # 12 images in the largest class, 8 of them in training: at most 100 x 8.
    out = cli("plan", tiny_root, "--quick", "--policy", "target:900")
    assert_one_line_error(out, "more than 100 × the largest class")
    assert "target:800" in out.stderr


def test_a_huge_target_in_a_project_file_is_refused(tiny_root, tmp_path):
    path = tmp_path / "huge.isproj.json"
    data = {"dataset_root": str(tiny_root), "targets": {"digit_0": {"target": 100_000_000}}}
    path.write_text(json.dumps(data), encoding="utf-8")
    for command in ("plan", "generate"):
        assert_one_line_error(cli(command, path), "above the limit of 1,000,000")


def _planned(root: Path, project: Project) -> tuple[int, int]:
    dataset = scan(root)
    dataset = check(dataset)
    return make_plan(dataset, project).generation_total()


def test_export_says_how_many_images_it_will_make_first(tiny_root, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["export", str(tiny_root), str(out), "--policy", "target:8", "--augment", "light"]
    assert run_cli([*args, "--quiet", "--workers", "1"]) == 0
    stdout = capsys.readouterr().out
    # 8 / 6 / 4 training images: 0 + 2 + 4 new images for two classes.
    assert stdout.index("will make 6 images for 2 classes") < stdout.index("exported")


def test_generate_says_how_many_images_it_will_make_first(tiny_root, tmp_path, capsys):
    project = Project(dataset_root=str(tiny_root))
    project.targets = {"digit_2": ClassTarget(target=7), "digit_1": ClassTarget(target=9)}
    path = tmp_path / "p.isproj.json"
    project.save(path)
    n, k = _planned(tiny_root, project)
    assert (n, k) == (3 + 3, 2)
    assert run_cli(["generate", str(path), "--quiet", "--workers", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "will make 6 images for 2 classes"
