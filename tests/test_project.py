"""Project files: round trip, strict validation, atomic save, autosave, reconcile."""

import json
import os
import re
import shutil
import time

import pytest
from datasets import write_digits

from imbalance_studio.core import project as project_mod
from imbalance_studio.core.autosave import (
    autosave_path,
    discard_autosave,
    find_autosaves,
    write_autosave,
)
from imbalance_studio.core.project import (
    PROJECT_VERSION,
    ClassTarget,
    Mark,
    Method,
    Project,
    ProjectError,
    SplitSettings,
)
from imbalance_studio.core.reconcile import reconcile, snapshot_of
from imbalance_studio.core.rel_paths import check_rel_path
from imbalance_studio.core.scanning import scan


@pytest.fixture(autouse=True)
def _own_state_dir(tmp_path, monkeypatch):
    # Autosaves of one test must not be found by another.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def full_project(root) -> Project:
    p = Project(dataset_root=str(root), seed=7, policy="median")
    p.split = SplitSettings(train=0.8, val=0.1, test=0.1)
    p.set_mark("digit_0/digit_0_001.png", Mark(remove=True))
    p.set_mark("digit_9/digit_9_000.png", Mark(duplicate=3))
    p.targets = {"digit_9": ClassTarget(target=40, method=Method.DUPLICATE)}
    p.augment.default_stack = {"__version__": "2.0.8", "transform": {"transforms": []}}
    p.generation.rejected = ["digit_9-0003"]
    return p


def test_round_trip_keeps_everything(tmp_path):
    p = full_project(tmp_path / "data")
    file = tmp_path / "curation.isproj.json"
    p.save(file)
    loaded = Project.load(file)
    assert loaded == p
    assert json.loads(file.read_text())["version"] == PROJECT_VERSION
    assert [f.name for f in tmp_path.iterdir()] == ["curation.isproj.json"]  # no temp left


def test_relative_dataset_root_is_taken_from_the_project_folder(tmp_path):
    file = tmp_path / "sub" / "p.isproj.json"
    Project(dataset_root="../data").save(file)
    assert Project.load(file).dataset_root == str(tmp_path / "sub" / ".." / "data")


def test_save_is_atomic_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    file = tmp_path / "p.isproj.json"
    Project(dataset_root="/a", seed=1).save(file)
    before = file.read_bytes()

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(project_mod.os, "replace", boom)
    with pytest.raises(ProjectError, match="No space left"):
        Project(dataset_root="/a", seed=2).save(file)
    assert file.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir()] == ["p.isproj.json"]


def test_saving_inside_the_dataset_is_refused(tmp_path):
    root = tmp_path / "data"
    (root / "cats").mkdir(parents=True)
    with pytest.raises(ProjectError, match="inside the dataset"):
        Project(dataset_root=str(root)).save(root / "cats" / "p.isproj.json")
    assert not (root / "cats" / "p.isproj.json").exists()


def _write(tmp_path, text: str):
    f = tmp_path / "bad.isproj.json"
    f.write_text(text)
    return f


GOOD = {"version": 1, "dataset_root": "/data", "marks": {"a/b.png": {"remove": True}}}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d | {"version": 99}, "newer Imbalance Studio.*format 99"),
        (lambda d: d | {"version": 0}, "unknown project format version 0"),
        (lambda d: d | {"marks": {"../../etc/passwd": {"remove": True}}}, "escapes the dataset"),
        (lambda d: d | {"marks": {"a/../../x.png": {"remove": True}}}, "escapes the dataset"),
        (lambda d: d | {"marks": {"/etc/passwd": {"remove": True}}}, "absolute paths"),
        (lambda d: d | {"marks": {"C:/x.png": {"remove": True}}}, "absolute paths"),
        (lambda d: d | {"marks": {"a\\..\\..\\x.png": {"remove": True}}}, "backslashes"),
        (lambda d: d | {"seed": "3"}, "seed: Input should be a valid integer"),
        (lambda d: d | {"marks": {"a/b.png": {"remove": 1}}}, "remove: Input should be"),
        (lambda d: d | {"marks": {"a/b.png": {"duplicate": -2}}}, "greater than or equal to 0"),
        (lambda d: d | {"split": {"train": 0.5, "val": 0.1, "test": 0.1}}, "add up to 1"),
        (lambda d: d | {"targets": {"cat": {"method": "clone"}}}, "targets.cat.method"),
        (lambda d: d | {"sede": 3}, "sede: Extra inputs"),
        (lambda d: {k: v for k, v in d.items() if k != "dataset_root"}, "dataset_root: Field"),
    ],
)
def test_bad_files_give_one_clear_line(tmp_path, mutate, message):
    f = _write(tmp_path, json.dumps(mutate(dict(GOOD))))
    with pytest.raises(ProjectError, match=message) as err:
        Project.load(f)
    assert "\n" not in str(err.value) and str(f) in str(err.value)


def test_truncated_and_non_object_and_missing_files(tmp_path):
    text = json.dumps(GOOD, indent=2)
    with pytest.raises(ProjectError, match="broken or truncated JSON at line"):
        Project.load(_write(tmp_path, text[: len(text) // 2]))
    with pytest.raises(ProjectError, match="expected a JSON object"):
        Project.load(_write(tmp_path, "[1, 2]"))
    with pytest.raises(ProjectError, match="not UTF-8"):
        (tmp_path / "bin.isproj.json").write_bytes(b"\xff\xfe\x00garbage")
        Project.load(tmp_path / "bin.isproj.json")
    with pytest.raises(ProjectError, match="no such project file"):
        Project.load(tmp_path / "nope.isproj.json")
    assert Project.load(_write(tmp_path, json.dumps(GOOD))).marks["a/b.png"] == Mark(remove=True)


def test_marks_remove_wins_and_empty_marks_are_not_stored():
    assert Mark(remove=True, duplicate=3) == Mark(remove=True)
    p = Project(dataset_root="/d")
    p.set_mark("c/x.png", Mark(duplicate=2))
    p.set_mark("c/x.png", Mark())
    assert p.marks == {}
    with pytest.raises(ValueError, match="escapes"):
        p.set_mark("c/../../x.png", Mark(remove=True))
    with pytest.raises(ValueError):
        p.marks = {"../x.png": Mark(remove=True)}  # assignment is validated as well


def test_a_mark_edit_checks_only_the_changed_marks(monkeypatch):
    p = Project(dataset_root="/d")
    p.update_marks({f"c/{i}.png": Mark(remove=True) for i in range(1000)})
    before = p.marks
    checked = []
    real = project_mod.check_rel_paths
    monkeypatch.setattr(
        project_mod, "check_rel_paths", lambda paths: checked.extend(paths) or real(paths)
    )
    p.update_marks({"c/new.png": Mark(duplicate=2), "c/0.png": None})
    assert sorted(checked) == ["c/0.png", "c/new.png"]  # not the 1,000 others again
    assert "c/0.png" not in p.marks and p.marks["c/new.png"] == Mark(duplicate=2)
    assert "c/0.png" in before and before is not p.marks  # replaced: a worker's snapshot holds
    # Bad input is refused whole: nothing of it lands.
    with pytest.raises(ValueError, match="escapes"):
        p.update_marks({"c/ok.png": Mark(remove=True), "c/../../x.png": Mark(remove=True)})
    with pytest.raises(TypeError, match="Mark"):
        p.update_marks({"c/ok.png": {"remove": True}})
    assert "c/ok.png" not in p.marks and len(p.marks) == 1000
    # The file format is unchanged and still validated strictly on load.
    assert Project.from_json_text(p.to_json_text()).marks == p.marks
    assert "marks" in p.model_dump(exclude_unset=True)


def test_split_settings_parse():
    assert SplitSettings.parse("0.8, 0.1, 0.1") == SplitSettings(train=0.8, val=0.1, test=0.1)
    for bad, msg in [
        ("0.7,0.3", "three fractions"),
        ("a,b,c", "numbers"),
        ("0.7,0.2,0.2", "add up"),
        ("70,15,15", r"between 0 and 1, e\.g\. 0\.7,0\.15,0\.15"),  # percentages
        ("1.2,-0.1,-0.1", "between 0 and 1"),
    ]:
        with pytest.raises(ValueError, match=msg):
            SplitSettings.parse(bad)


def test_staging_path(tmp_path):
    root = tmp_path / "data"
    p = Project(dataset_root=str(root))
    assert p.staging_path(tmp_path / "cur.isproj.json") == tmp_path / "cur.staging"
    unsaved = p.staging_path(None)
    assert "imbalance-studio" in str(unsaved) and root not in unsaved.parents
    assert p.staging_path(None) == unsaved
    p.staging_dir = "elsewhere"
    assert p.staging_path(tmp_path / "cur.isproj.json") == tmp_path / "elsewhere"
    p.staging_dir = str(root / "inside")
    with pytest.raises(ProjectError, match="inside the dataset"):
        p.staging_path(tmp_path / "cur.isproj.json")


def test_autosave_is_offered_only_when_newer_than_its_project_file(tmp_path):
    file = tmp_path / "cur.isproj.json"
    p = full_project(tmp_path / "data")
    p.save(file)
    assert find_autosaves() == []
    p.seed = 99  # an edit after the save, then a crash
    time.sleep(0.01)
    write_autosave(p, file)
    os.utime(file, (time.time() - 60, time.time() - 60))
    [found] = find_autosaves()
    assert found.project_file == file and found.project.seed == 99
    # the user saves properly: the autosave is no longer news
    p.save(file)
    os.utime(autosave_path(file), (time.time() - 60, time.time() - 60))
    assert find_autosaves() == []
    discard_autosave(file)
    assert not autosave_path(file).exists()


def test_unsaved_autosaves_and_broken_ones(tmp_path):
    p = Project(dataset_root=str(tmp_path / "data"), seed=4)
    path = write_autosave(p, None)
    assert path == autosave_path(None, p.dataset_root)
    (path.parent / f"junk{'.isproj.json'}").write_text("{ truncated")
    [found] = find_autosaves()  # the broken autosave is skipped, not fatal
    assert found.project_file is None and found.project.seed == 4
    discard_autosave(None, p.dataset_root)
    assert find_autosaves() == []


def test_reconcile_reports_missing_marked_files_new_and_changed_classes(tmp_path):
    root = tmp_path / "data"
    write_digits(root, counts=[12, 8, 6])
    p = Project(dataset_root=str(root))
    p.set_mark("digit_2/digit_2_000.png", Mark(duplicate=2))
    p.set_mark("digit_0/digit_0_003.png", Mark(remove=True))
    p.snapshot = snapshot_of(scan(root))
    assert reconcile(p, scan(root)).ok
    # the folder changes behind our back
    (root / "digit_2/digit_2_000.png").unlink()
    shutil.rmtree(root / "digit_1")
    shutil.copytree(root / "digit_0", root / "digit_7")
    shutil.copy(root / "digit_0/digit_0_000.png", root / "digit_0/new.png")
    report = reconcile(p, scan(root))
    assert report.missing_marks == ("digit_2/digit_2_000.png",)
    assert report.missing_classes == ("digit_1",) and report.new_classes == ("digit_7",)
    changes = {c.name: (c.before, c.now) for c in report.changed_classes}
    assert changes == {"digit_0": (12, 13), "digit_2": (6, 5)}
    assert "digit_2/digit_2_000.png" in p.marks  # kept, only flagged
    text = "\n".join(report.messages())
    assert (
        "1 marked file is not in the dataset now (gone, or left out" in text and "12 → 13" in text
    )


def test_reconcile_finds_missing_marks_across_its_chunks(monkeypatch):
    """Missing marks are struck off chunk by chunk (a job at 1M samples must not hold the
    GIL for one long call); every chunk boundary gives the same answer."""
    from imbalance_studio.core import reconcile as module
    from imbalance_studio.core.dataset import Dataset

    paths = [f"a/{i:03d}.png" for i in range(10)]
    ds = Dataset("/data", ("a",), paths=paths, labels=[0] * 10)
    marked = ["a/000.png", "a/004.png", "a/009.png", "a/gone.png", "b/also-gone.png"]
    p = Project(dataset_root="/data", marks={m: Mark(remove=True) for m in marked})
    for chunk in (1, 3, 4, 10, 1000):
        monkeypatch.setattr(module, "_CHUNK", chunk)
        assert reconcile(p, ds).missing_marks == ("a/gone.png", "b/also-gone.png"), chunk
    assert reconcile(Project(dataset_root="/data"), ds).missing_marks == ()


def test_many_paths_are_checked_as_strictly_as_one():
    """The batch check (one search over the joined paths) refuses whatever the one-path check
    refuses, wherever the bad path sits, and accepts odd but clean names."""
    from imbalance_studio.core.rel_paths import check_rel_paths

    bad = ["/abs", "a\\b", "a\x00b", "C:/x", "c:", "", "a//b", "a/", "./a", "a/./b", "a/..",
           "..", ".", "../x", "a/../b"]  # fmt: skip
    for path in bad:
        with pytest.raises(ValueError):
            check_rel_path(path)
        for at in range(3):
            paths = ["ok/a.png", "z/y.jpg"]
            paths.insert(at, path)
            with pytest.raises(ValueError, match=re.escape(repr(path)) if path else "empty"):
                check_rel_paths(paths)
    odd = ["a/.hidden", "a/..b", "a/b..", "a/...", "é/x y.png", "a/b:c", "line\nbreak/x.png",
           ".a/b", "..a/b", "a./b"]  # fmt: skip
    check_rel_paths(odd)
    for path in odd:
        check_rel_paths([path])
    with pytest.raises(ValueError, match="escapes"):
        check_rel_paths(["new\nline/x.png", "a/../../etc"])  # the newline forces one by one
