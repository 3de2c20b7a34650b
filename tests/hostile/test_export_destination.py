"""Export destinations that would harm the dataset or the user's files.

A class folder that is a symlink makes its target part of the (read-only) dataset: nothing is
exported, staged, saved or replaced inside it. Replacing a previous export deletes only what
that export wrote; a copied marker does not make a folder ours. The free-space check
estimates from the real sizes (no fixed 16 MiB floor).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from datasets import tree_hash, write_digits
from export_helpers import curated

from imbalance_studio.cli import run_cli
from imbalance_studio.core.augment import PRESETS
from imbalance_studio.core.augment.io import save_stack_file
from imbalance_studio.core.augment.stack import StackError
from imbalance_studio.core.export.destination import MARKER_NAME
from imbalance_studio.core.export.run import ExportError, export, iter_export
from imbalance_studio.core.generation.results import GenerateError
from imbalance_studio.core.generation.run import check_staging
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.project import Project, ProjectError
from imbalance_studio.core.scanning import scan


@pytest.fixture
def linked(tmp_path) -> dict[str, Path]:
    """`sym/` with a plain class, a class `linkout` -> `ext/outside` (5 images) and, deeper
    inside the plain class, a sub-folder linked to `ext/nested` (only a scan finds it)."""
    sym, ext = tmp_path / "sym", tmp_path / "ext"
    write_digits(sym, [40, 5])
    ext.mkdir()
    os.rename(sym / "digit_1", ext / "outside")
    os.symlink(ext / "outside", sym / "linkout")
    write_digits(ext / "deep", [6])
    os.rename(ext / "deep" / "digit_0", ext / "nested")
    os.symlink(ext / "nested", sym / "digit_0" / "more")
    return {"sym": sym, "ext": ext, "outside": ext / "outside", "nested": ext / "nested"}


def _seen(paths: dict[str, Path]) -> tuple[str, str]:
    """What the user sees through the dataset folder, and everything under ext/."""
    return tree_hash(paths["sym"], follow_links=True), tree_hash(paths["ext"])


@pytest.mark.parametrize("mode", ["--copy", "--link"])
@pytest.mark.parametrize("target", ["outside", "nested"])
def test_cli_export_into_a_linked_class_target_is_refused(linked, capsys, mode, target):
    before = _seen(linked)
    out = linked[target] / "new"
    rc = run_cli(["export", str(linked["sym"]), str(out), mode, "--quiet", "--workers", "1"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err
    assert f"inside {os.path.realpath(linked[target])}, which a class folder" in err
    assert not out.exists() and _seen(linked) == before
    assert sum(1 for _ in linked["outside"].iterdir()) == 5


def test_the_scan_records_every_real_folder_it_read(linked):
    dataset = scan(linked["sym"])
    assert dataset.classes == ("digit_0", "linkout")
    real = {os.path.realpath(p) for p in (linked["sym"], linked["outside"], linked["nested"])}
    assert real <= set(dataset.real_dirs)
    assert os.path.realpath(linked["sym"] / "digit_0") in dataset.real_dirs


@pytest.mark.parametrize("link", [False, True])
def test_core_export_refuses_every_dataset_folder(linked, link):
    dataset = scan(linked["sym"])
    project = Project(dataset_root=str(linked["sym"]))
    plan = make_plan(dataset, project)
    before = _seen(linked)
    for out in (linked["outside"] / "new", linked["nested"] / "new", linked["outside"]):
        with pytest.raises(ExportError, match="class folder of the dataset links"):
            export(dataset, project, plan, [], out, link=link)
    assert _seen(linked) == before


def test_replacing_an_export_that_holds_a_linked_class_is_refused(tmp_path):
    """A class folder linked into a previous export: replacing that export would delete it."""
    data, prev = tmp_path / "data", tmp_path / "prev"
    write_digits(data, [30, 20])
    dataset = scan(data)
    project = Project(dataset_root=str(data))
    export(dataset, project, make_plan(dataset, project), [], prev, link=False)
    os.symlink(prev / "train" / "digit_1", data / "zz_linked")
    before = tree_hash(data, follow_links=True)
    rc = run_cli(["export", str(data), str(prev), "--overwrite-all", "--quiet", "--workers", "1"])
    assert rc == 2
    dataset = scan(data)
    with pytest.raises(ExportError, match=r"contains .*digit_1, which a class folder"):
        export(dataset, project, make_plan(dataset, project), [], prev, False, overwrite_all=True)
    assert tree_hash(data, follow_links=True) == before


def test_staging_in_a_linked_class_target_is_refused(linked, tmp_path, capsys):
    before = _seen(linked)
    project = Project(dataset_root=str(linked["sym"]), staging_dir=str(linked["outside"] / "st"))
    with pytest.raises(ProjectError, match="which a class folder of the dataset links to"):
        project.staging_path(None)  # no scan: the class links are resolved on the spot
    dataset = scan(linked["sym"])
    project.staging_dir = str(linked["nested"] / "st")
    with pytest.raises(ProjectError, match="links to"):
        project.staging_path(None, dataset)  # a link deeper inside a class: known to a scan
    with pytest.raises(GenerateError, match="links to"):
        check_staging(linked["nested"] / "st", linked["sym"], dataset.real_dirs)
    with pytest.raises(GenerateError, match="links to"):
        check_staging(linked["outside"] / "st", linked["sym"])
    # End to end: a project whose staging folder is in the linked class, with generation.
    project.staging_dir = str(linked["outside"] / "staging")
    pfile = tmp_path / "p.isproj.json"
    project.save(pfile)
    out = tmp_path / "out"
    rc = run_cli(
        ["export", str(pfile), str(out), "--policy", "target:12", "--augment", "light",
         "--workers", "1", "--quiet"]
    )  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "staging folder" in err and "\n" not in err
    assert not out.exists() and _seen(linked) == before


def test_stack_and_project_files_in_a_linked_class_target_are_refused(linked, capsys):
    before = _seen(linked)
    sym = linked["sym"]
    with pytest.raises(StackError, match="links to"):
        save_stack_file(PRESETS["light"], linked["outside"] / "aug.json", dataset_root=sym)
    dataset = scan(sym)
    with pytest.raises(StackError, match="links to"):
        save_stack_file(PRESETS["light"], linked["nested"] / "a.json", sym, dataset.real_dirs)
    project = Project(dataset_root=str(sym))
    with pytest.raises(ProjectError, match="links to"):
        project.save(linked["outside"] / "p.isproj.json")
    with pytest.raises(ProjectError, match="links to"):
        project.save(linked["nested"] / "p.isproj.json", dataset)
    rc = run_cli(["plan", str(sym), "--save-project", str(linked["outside"] / "p.isproj.json")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "links to" in err and "\n" not in err
    assert _seen(linked) == before


# -- replacing a previous export ---------------------------------------------------------------


@pytest.fixture
def previous(digits_root, tmp_path):
    dataset, project, plan = curated(digits_root)
    out = tmp_path / "out"
    export(dataset, project, plan, [], out, link=False)
    return dataset, project, plan, out


def _run(src: Path, out: Path, *flags: str) -> int:
    return run_cli(["export", str(src), str(out), "--quiet", "--workers", "1", *flags])


def test_overwrite_keeps_what_the_user_added_and_names_it(previous, digits_root, capsys):
    *_, out = previous
    (out / "model.pt").write_bytes(b"\x80weights")
    (out / "train" / "digit_3" / "note.txt").write_text("mine")
    (out / "checkpoints").mkdir()
    before = tree_hash(out)
    assert _run(digits_root, out, "--overwrite") == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--overwrite-all" in err
    for name in ("model.pt", "checkpoints/", "train/digit_3/note.txt"):
        assert name in err
    assert tree_hash(out) == before
    # Asked for explicitly, everything goes.
    assert _run(digits_root, out, "--overwrite-all") == 0
    assert not (out / "model.pt").exists() and not (out / "checkpoints").exists()
    assert (out / "manifest.csv").is_file() and (out / MARKER_NAME).is_file()


def test_overwrite_replaces_an_export_holding_only_its_own_files(previous):
    dataset, project, plan, out = previous
    (out / "evaluation.json").write_text("{}")  # written into an export by `evaluate`
    (out / "README.md").unlink()  # a file of ours missing is fine
    report = export(dataset, project, plan, [], out, link=False, overwrite=True)
    assert (out / "README.md").is_file() and not (out / "evaluation.json").exists()
    assert report.files == sum(sum(plan.final_counts(s)) for s in ("train", "val", "test"))
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]


def test_a_copied_marker_does_not_make_a_folder_an_export(previous, digits_root, tmp_path):
    dataset, project, plan, out = previous
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "model.pt").write_bytes(b"\x80weights")
    shutil.copy(out / MARKER_NAME, foreign / MARKER_NAME)
    for flags in ((), ("--overwrite",), ("--overwrite-all",)):
        assert _run(digits_root, foreign, *flags) == 2
    with pytest.raises(ExportError, match="marker that does not match"):
        export(dataset, project, plan, [], foreign, link=False, overwrite_all=True)
    # Marker and manifest copied together: recognised, but the rest is still not ours.
    shutil.copy(out / "manifest.csv", foreign / "manifest.csv")
    with pytest.raises(ExportError, match=r"model\.pt"):
        export(dataset, project, plan, [], foreign, link=False, overwrite=True)
    assert (foreign / "model.pt").read_bytes() == b"\x80weights"
    # An edited manifest no longer matches its marker either.
    with open(out / "manifest.csv", "a", encoding="utf-8") as fh:
        fh.write("train/digit_0/extra.png,train,digit_0,0,original,x,,,{}\n")
    with pytest.raises(ExportError, match="marker that does not match"):
        export(dataset, project, plan, [], out, link=False, overwrite=True)


def test_a_file_added_during_the_export_is_not_deleted(previous):
    dataset, project, plan, out = previous
    steps = iter_export(dataset, project, plan, [], out, False, overwrite=True)
    for event in steps:
        if event.phase == "writing":
            (out / "model.pt").write_bytes(b"\x80trained meanwhile")
            break
    with pytest.raises(ExportError, match=r"model\.pt"):
        for _ in steps:
            pass
    assert (out / "model.pt").read_bytes() == b"\x80trained meanwhile"
    assert (out / "manifest.csv").is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]  # no partial left


def test_a_linked_folder_inside_an_export_is_never_deleted_through(previous, tmp_path):
    dataset, project, plan, out = previous
    victim = tmp_path / "victim"
    os.rename(out / "train" / "digit_1", victim)
    os.symlink(victim, out / "train" / "digit_1")
    before = tree_hash(victim)
    with pytest.raises(ExportError, match="train/digit_1"):
        export(dataset, project, plan, [], out, link=False, overwrite=True)
    export(dataset, project, plan, [], out, link=False, overwrite_all=True)
    assert (out / "train" / "digit_1").is_dir() and not (out / "train" / "digit_1").is_symlink()
    assert tree_hash(victim) == before and any(victim.iterdir())


def test_the_marker_names_the_export_identity(previous):
    *_, out = previous
    import hashlib

    marker = json.loads((out / MARKER_NAME).read_text())
    digest = hashlib.sha256((out / "manifest.csv").read_bytes()).hexdigest()
    assert marker["manifest_sha256"] == digest
    assert "README.md" in marker["metadata"] and "train/digit_0" in marker["folders"]


def test_an_export_of_an_older_version_is_not_replaced_blindly(previous):
    dataset, project, plan, out = previous
    marker = json.loads((out / MARKER_NAME).read_text())
    for key in ("manifest_sha256", "metadata", "folders"):
        del marker[key]
    marker["version"] = 1
    (out / MARKER_NAME).write_text(json.dumps(marker))
    before = tree_hash(out)
    with pytest.raises(ExportError, match="older Imbalance Studio"):
        export(dataset, project, plan, [], out, link=False, overwrite_all=True)
    assert tree_hash(out) == before


# -- free space ---------------------------------------------------------------------------------


def _own_bytes(out: Path) -> int:
    """Blocks the export itself takes (hard-linked originals are the dataset's)."""
    total = 0
    for dirpath, _, filenames in os.walk(out):
        total += os.lstat(dirpath).st_blocks * 512
        for name in filenames:
            st = os.lstat(os.path.join(dirpath, name))
            total += st.st_blocks * 512 if st.st_nlink == 1 else 0
    return total


@pytest.mark.parametrize("link", [False, True])
def test_a_small_export_fits_a_small_volume(digits_root, tmp_path, monkeypatch, link):
    from imbalance_studio.core.export import destination

    dataset, project, plan = curated(digits_root)
    probe = export(dataset, project, plan, [], tmp_path / "probe", link=link)
    used = _own_bytes(probe.out)
    assert used < 4 * 2**20  # a few MiB: under the old fixed 16 MiB margin
    real = shutil.disk_usage
    free = {"bytes": int(used * 1.3) + 512 * 1024}
    monkeypatch.setattr(
        destination.shutil, "disk_usage", lambda p: real(p)._replace(free=free["bytes"])
    )
    export(dataset, project, plan, [], tmp_path / "fits", link=link)  # refused before
    free["bytes"] = used // 2
    with pytest.raises(ExportError, match="not enough free disk space"):
        export(dataset, project, plan, [], tmp_path / "too-small", link=link)
    assert not (tmp_path / "too-small").exists()


def test_the_estimate_covers_generated_images(digits_root, tmp_path):
    from imbalance_studio.core.export.layout import build_layout
    from imbalance_studio.core.export.run import estimate_bytes
    from imbalance_studio.core.generation import iter_generate
    from imbalance_studio.core.progress import drive
    from imbalance_studio.core.project import Method

    dataset, project, plan = curated(digits_root, method=Method.AUGMENT)
    generated = drive(iter_generate(dataset, project, plan, tmp_path / "staging", workers=1))
    assert generated
    for link in (False, True):
        rep = export(dataset, project, plan, generated, tmp_path / f"out{link}", link=link)
        lay = build_layout(dataset, plan, generated, set(), {})
        listed = (rep.out / "left_out.csv").stat().st_size
        assert listed > 0
        assert estimate_bytes(lay, link, len(rep.problems), listed) >= _own_bytes(rep.out)
