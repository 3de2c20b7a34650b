"""A hostile or broken `bad_sources.json` in the staging folder: never followed through a
symlink, never opened blocking or read unbounded, never a crash; one line says what was
wrong, and the next finding replaces it with a good record."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from datasets import tree_hash, write_digits

from imbalance_studio.core.generation import BAD_SOURCES_NAME, iter_generate, read_bad_sources
from imbalance_studio.core.generation.badsources import MAX_RECORD_BYTES, record_bad_sources
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.project import ClassTarget, Project
from imbalance_studio.core.scanning import drive, scan


@pytest.fixture
def setup(tmp_path):
    root = tmp_path / "ds"
    write_digits(root, [20, 6])
    staging = tmp_path / "staging"
    staging.mkdir()
    return root, staging, scan(root).paths


def _valid_record(root: Path, rel: str) -> bytes:
    st = os.stat(root / rel)
    entry = {"reason": "corrupt: planted", "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    return json.dumps({"format": 1, "sources": {rel: entry}}).encode()


def _plant(kind: str, path: Path, root: Path, rel: str) -> None:
    if kind == "garbage":
        path.write_bytes(b"\x00\xff{not json")
    elif kind == "not utf-8":
        path.write_bytes(b'{"format": 1, "sources": {"\xff": 1}}')
    elif kind == "other format":
        path.write_bytes(json.dumps({"format": 99, "sources": {}}).encode())
    elif kind == "sources not a table":
        path.write_bytes(json.dumps({"format": 1, "sources": [rel]}).encode())
    elif kind == "too large":
        with open(path, "wb") as f:
            f.truncate(MAX_RECORD_BYTES + 1)  # sparse: costs no disk
    elif kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink into the dataset":
        # A valid-looking record inside the dataset (where we must never write) ...
        target = root / "digit_0" / "record.json"
        target.write_bytes(_valid_record(root, rel))
        path.symlink_to(target)
    elif kind == "dangling symlink":
        path.symlink_to(path.parent / "nowhere.json")
    else:
        raise AssertionError(kind)


KINDS = [
    "garbage", "not utf-8", "other format", "sources not a table", "too large", "directory",
    "fifo", "symlink into the dataset", "dangling symlink",
]  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_an_unusable_record_is_reported_in_one_line_and_never_trusted(setup, kind):
    root, staging, paths = setup
    path = staging / BAD_SOURCES_NAME
    _plant(kind, path, root, paths[0])
    dataset_before = tree_hash(root)
    known = read_bad_sources(staging, root)  # a FIFO must not block here
    assert known.bad == {}
    assert known.problem and "\n" not in known.problem and BAD_SOURCES_NAME in known.problem
    assert "checked again" in known.problem
    if kind in ("directory",):
        return  # a folder in the way: writing a record over it fails, reported by the run
    # The next finding writes a good, regular record in the staging folder (replacing the
    # link itself, never writing through it into the dataset).
    record_bad_sources(staging, root, {paths[1]: "truncated: found"})
    assert path.is_file() and not path.is_symlink()
    assert read_bad_sources(staging, root).bad == {paths[1]: "truncated: found"}
    assert tree_hash(root) == dataset_before


def test_entries_outside_the_dataset_are_ignored(setup):
    root, staging, paths = setup
    outside = staging.parent / "elsewhere.png"
    outside.write_bytes(b"x")
    st = os.stat(outside)
    entry = {"reason": "corrupt", "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    sources = {str(outside): entry, "../elsewhere.png": entry, "digit_0/./x.png": entry,
               "": entry, paths[0]: "not a table", paths[1]: {"reason": 3}}  # fmt: skip
    (staging / BAD_SOURCES_NAME).write_text(json.dumps({"format": 1, "sources": sources}))
    known = read_bad_sources(staging, root)
    assert known.bad == {} and known.problem is None


def test_generation_reports_a_broken_record_and_still_runs(setup):
    root, staging, _ = setup
    (staging / BAD_SOURCES_NAME).write_bytes(b"{broken")
    project = Project(dataset_root=str(root), targets={"digit_1": ClassTarget(target=10)})
    dataset = scan(root)
    plan = make_plan(dataset, project)
    result = drive(iter_generate(dataset, project, plan, staging))
    assert len(result) == sum(len(cp.generate) for cp in plan.splits["train"]) > 0
    assert any(BAD_SOURCES_NAME in p and "unreadable" in p for p in result.problems)
