"""Originals found unusable by generation: reported by every later run, recorded with the
staging folder, listed with the dataset's problems and left out of every export (core and
CLI; the GUI side is in tests/gui/test_bad_sources_gui.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from datasets import tree_hash, write_digits
from export_helpers import read_manifest

from imbalance_studio.cli import run_cli
from imbalance_studio.core.dataset import Problem, ProblemReason
from imbalance_studio.core.export.run import export
from imbalance_studio.core.generation import BAD_SOURCES_NAME, iter_generate, read_bad_sources
from imbalance_studio.core.generation.badsources import as_problem, record_bad_sources
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.project import ClassTarget, Project
from imbalance_studio.core.scanning import drive, scan

COUNTS = [30, 12, 6]
CORRUPT = b"\x89PNG\r\n\x1a\n" + b"\x00" * 50  # a PNG signature, then nothing valid


def _project(root: Path) -> Project:
    return Project(
        dataset_root=str(root),
        targets={"digit_1": ClassTarget(target=15), "digit_2": ClassTarget(target=12)},
    )


@pytest.fixture
def root(tmp_path) -> Path:
    root = tmp_path / "ds"
    write_digits(root, COUNTS)
    return root


def _generate(root: Path, project: Project, staging: Path):
    dataset = scan(root)  # listed only, as a GUI has it before a file breaks
    plan = make_plan(dataset, project)
    return dataset, plan, drive(iter_generate(dataset, project, plan, staging))


def test_a_source_corrupted_after_generating_stays_out_of_every_later_export(root, tmp_path):
    staging = tmp_path / "staging"
    project = _project(root)
    _, plan, first = _generate(root, project, staging)
    assert first.made == len(first) and not first.bad_sources
    bad = plan.splits["train"][2].generate[0].source
    assert bad in {g.sources[0] for g in first}
    (root / bad).write_bytes(CORRUPT)

    # The run after the damage notices (the source changed under its staged images) ...
    _, _, second = _generate(root, project, staging)
    assert bad in second.bad_sources and second.made > 0
    assert bad not in {s for g in second for s in g.sources}
    assert (staging / BAD_SOURCES_NAME).is_file()
    # ... and a run that decodes nothing still reports it.
    dataset, plan, third = _generate(root, project, staging)
    assert third.made == 0 and third.reused == len(third)
    assert bad in third.bad_sources and any(bad in p for p in third.problems)

    before = tree_hash(root)
    report = export(dataset, project, plan, third, tmp_path / "out", link=False)
    sources = {s for r in read_manifest(tmp_path / "out") for s in r["sources"].split(";")}
    assert bad not in sources
    assert bad in dict(report.problems)
    assert f"`{bad}`" in (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    assert tree_hash(root) == before


def test_the_staging_record_alone_keeps_a_bad_source_out(root, tmp_path):
    """An export that gets no generation result (nothing left to generate, another process)
    still leaves out what the staging folder records."""
    staging = tmp_path / "staging"
    project = _project(root)
    dataset, plan, _ = _generate(root, project, staging)
    bad = plan.splits["train"][0].kept[0]  # a majority-class original, not a source
    record_bad_sources(staging, root, {bad: "truncated: image file is truncated"})
    plain = list(drive(iter_generate(dataset, project, plan, staging)))  # no bad_sources
    report = export(dataset, project, plan, plain, tmp_path / "out", link=False, staging=staging)
    assert bad not in {r["sources"] for r in read_manifest(tmp_path / "out")}
    assert (bad, "does not decode (truncated: image file is truncated)") in report.problems
    # Without the staging folder nothing else knows of it: the control case.
    other = export(dataset, project, plan, plain, tmp_path / "out2", link=False)
    assert bad in {r["sources"] for r in read_manifest(tmp_path / "out2")}
    assert bad not in dict(other.problems)


def test_a_repaired_source_is_used_again(root, tmp_path):
    staging = tmp_path / "staging"
    project = _project(root)
    _, plan, first = _generate(root, project, staging)
    bad = plan.splits["train"][2].generate[0].source
    good = (root / bad).read_bytes()
    (root / bad).write_bytes(CORRUPT)
    _, _, broken = _generate(root, project, staging)
    assert bad in broken.bad_sources
    (root / bad).write_bytes(good)  # repaired: a new size and mtime
    _, _, again = _generate(root, project, staging)
    assert bad not in again.bad_sources and not again.problems
    assert bad in {g.sources[0] for g in again}
    assert bad not in read_bad_sources(staging, root).bad
    # The slots go back to their planned sources: the same images as the first run.
    assert sorted(g.id for g in again) == sorted(g.id for g in first)


def test_cutmix_donors_that_fail_are_recorded_too(root, tmp_path):
    staging = tmp_path / "staging"
    project = _project(root)
    project.generation.cutmix_classes = ["digit_2"]
    _, plan, _ = _generate(root, project, staging)
    kept = plan.splits["train"][2].kept
    for rel in kept[1:]:  # every possible donor but one breaks
        (root / rel).write_bytes(CORRUPT)
    _, _, result = _generate(root, project, staging)
    assert set(kept[1:]) <= set(result.bad_sources)
    assert set(kept[1:]) <= set(read_bad_sources(staging, root).bad)


def test_dataset_without_returns_a_new_dataset_and_lists_each_file_once(root):
    dataset = scan(root)
    rel = dataset.paths[3]
    n = len(dataset.paths)
    out = dataset.without([as_problem(rel, "truncated: image file is truncated")])
    assert out is not dataset and len(dataset.paths) == n  # the old value is unchanged
    assert rel not in out.paths and len(out.paths) == n - 1
    assert Problem(rel, ProblemReason.TRUNCATED, "image file is truncated") in out.problems
    assert out.without([as_problem(rel, "corrupt")]) is out
    odd = as_problem("a/b.png", "failed to decode in an earlier run")
    assert odd.reason == ProblemReason.CORRUPT and odd.excludes


def test_cli_export_leaves_out_and_lists_what_the_staging_folder_records(root, tmp_path, capsys):
    project = _project(root)
    pfile = tmp_path / "p.isproj.json"
    project.save(pfile)
    staging = project.staging_path(pfile)
    staging.mkdir(parents=True)
    dataset = scan(root)
    plan = make_plan(dataset, project)
    generated = plan.splits["train"][2].generate[0].source  # a generation source
    plain = plan.splits["train"][0].kept[0]  # and an original that is only copied
    record_bad_sources(staging, root, {generated: "corrupt: x", plain: "truncated: y"})
    out = tmp_path / "out"
    assert run_cli(["export", str(pfile), str(out), "--workers", "1", "--quiet"]) == 0
    captured = capsys.readouterr()
    sources = {s for r in read_manifest(out) for s in r["sources"].split(";")}
    assert not {generated, plain} & sources
    assert f"  {plain}: truncated" in captured.out and f"  {generated}: corrupt" in captured.out
    # Nothing to generate (no targets): the export reads the record itself.
    plain_file = tmp_path / "plain.isproj.json"
    Project(dataset_root=str(root), staging_dir=str(staging)).save(plain_file)
    out2 = tmp_path / "out2"
    assert run_cli(["export", str(plain_file), str(out2), "--quiet"]) == 0
    assert plain not in {r["sources"] for r in read_manifest(out2)}
    assert f"  {plain}: does not decode" in capsys.readouterr().out


def test_the_record_is_written_atomically_and_sorted(root, tmp_path):
    staging = tmp_path / "s"
    staging.mkdir()
    a, b = scan(root).paths[:2]
    record_bad_sources(staging, root, {b: "corrupt: x"})
    record_bad_sources(staging, root, {a: "truncated: y"})
    doc = json.loads((staging / BAD_SOURCES_NAME).read_text(encoding="utf-8"))
    assert doc["format"] == 1 and list(doc["sources"]) == sorted([a, b])
    st = os.stat(root / a)
    assert doc["sources"][a] == {"reason": "truncated: y", "size": st.st_size,
                                 "mtime_ns": st.st_mtime_ns}  # fmt: skip
    assert [p.name for p in staging.iterdir()] == [BAD_SOURCES_NAME]  # no temp file left
