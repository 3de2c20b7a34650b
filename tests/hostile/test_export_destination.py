"""Export destinations that would harm the dataset or the user's files.

A class folder that is a symlink makes its target part of the (read-only) dataset: nothing is
exported, staged, saved or replaced inside it. Replacing a previous export deletes only what
that export wrote; a copied marker does not make a folder ours. The free-space check
estimates from the real sizes (no fixed 16 MiB floor).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from datasets import tree_hash, write_digits

from imbalance_studio.cli import run_cli
from imbalance_studio.core.augment import PRESETS
from imbalance_studio.core.augment.io import save_stack_file
from imbalance_studio.core.augment.stack import StackError
from imbalance_studio.core.generation.run import GenerateError, check_staging
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


def test_the_scan_records_every_real_folder_it_read(linked):
    dataset = scan(linked["sym"])
    assert dataset.classes == ("digit_0", "linkout")
    real = {os.path.realpath(p) for p in (linked["sym"], linked["outside"], linked["nested"])}
    assert real <= set(dataset.real_dirs)
    assert os.path.realpath(linked["sym"] / "digit_0") in dataset.real_dirs


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
