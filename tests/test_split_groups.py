"""Duplicate-aware split: every exact or near-duplicate group lands in one split, and the
export counts the near-duplicate pairs that cross splits (none unless grouping is off)."""

from __future__ import annotations

import json

import pytest
from clirun import run_cli
from photo_corpus import build_corpus

from imbalance_studio.core.inspect import iter_split_groups, leak_check, merge_groups
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.progress import drive
from imbalance_studio.core.project import Mark, Project
from imbalance_studio.core.scanning import scan


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    # Many groups in few classes: an ungrouped split is sure to separate some pairs.
    return build_corpus(tmp_path_factory.mktemp("split") / "data", n_base=45, n_groups=30)


def test_merge_groups_joins_groups_sharing_a_member():
    merged = merge_groups({"a": "x", "b": "x", "e": "z", "f": "z"}, {"b": "1", "c": "1"})
    assert merged["a"] == merged["b"] == merged["c"]
    assert merged["e"] == merged["f"] != merged["a"]
    assert "d" not in merged


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_group_is_in_one_split(corpus, seed):
    dataset = scan(corpus.root)
    found = drive(iter_split_groups(dataset, workers=1))
    assert found.grouped and found.report.groups
    plan = make_plan(
        dataset, Project(dataset_root=str(corpus.root), seed=seed), groups=found.groups
    )
    for group in found.report.groups:
        assert len({plan.split_of(p) for p in group.paths}) == 1, group
    check = leak_check(found, plan.split_of)
    assert check["near_duplicate_pairs_across_splits"] == 0 and "warning" not in check
    # Stratified as well as the groups allow: held-out splits still get every class.
    for split in ("val", "test"):
        assert all(n > 0 for n in plan.original_counts(split))


def test_without_grouping_pairs_cross_and_are_counted(corpus):
    dataset = scan(corpus.root)
    found = drive(iter_split_groups(dataset, group_duplicates=False, workers=1))
    assert not found.grouped
    plan = make_plan(dataset, Project(dataset_root=str(corpus.root)), groups=found.groups)
    check = leak_check(found, plan.split_of)
    assert check["near_duplicate_pairs_across_splits"] > 0
    assert "without keeping duplicate groups together" in check["warning"]


def test_copies_kept_together_in_a_held_out_split_are_counted(corpus):
    """Keeping copies in one split stops leaks; in val or test they are scored again, and
    the check counts them: here against a decode of every held-out image with Pillow."""
    import hashlib

    from PIL import Image

    dataset = scan(corpus.root)
    found = drive(iter_split_groups(dataset, workers=1))
    project = Project(dataset_root=str(corpus.root), seed=1)
    plan = make_plan(dataset, project, groups=found.groups)
    check = leak_check(found, plan.kept_split_of)
    expected, spare = {}, []
    for split in ("val", "test"):
        pixels: dict[bytes, list[str]] = {}
        for path in (p for p in dataset.paths if plan.split_of(p) == split):
            with Image.open(corpus.root / path) as im:
                im = im.convert("RGB")
                key = hashlib.sha256(im.tobytes() + repr(im.size).encode()).digest()
                pixels.setdefault(key, []).append(path)
        expected[split] = sum(len(paths) - 1 for paths in pixels.values())
        spare += [p for paths in pixels.values() for p in paths[1:]]
    assert check["copies_within_held_out_splits"] == expected
    assert sum(expected.values()) > 0, "the corpus plants exact copies"
    assert "copies_note" in check
    # Done as the note says (all but one copy marked for removal): nothing is scored twice.
    project.marks = {p: Mark(remove=True) for p in spare}
    plan = make_plan(dataset, project, groups=found.groups)
    check = leak_check(found, plan.kept_split_of)
    assert check["copies_within_held_out_splits"] == {"val": 0, "test": 0}
    assert "copies_note" not in check


def test_plan_lists_groups_in_one_split(corpus):
    out = run_cli("plan", corpus.root, "--json", "--list-files", "--workers", "1", timeout=180)
    assert out.returncode == 0, out.stderr
    files = json.loads(out.stdout)["files"]
    where = {p: split for split, by_class in files.items() for ps in by_class.values() for p in ps}
    groups = drive(iter_split_groups(scan(corpus.root), workers=1)).report.groups
    assert groups
    for group in groups:
        assert len({where[p] for p in group.paths}) == 1, group


def test_export_reports_the_leak_check(corpus, tmp_path):
    grouped = run_cli(
        "export", corpus.root, tmp_path / "a", "--quiet", "--workers", "1", timeout=180
    )
    assert grouped.returncode == 0, grouped.stderr
    weights = json.loads((tmp_path / "a" / "weights.json").read_text())
    assert weights["leak_check"]["near_duplicate_pairs_across_splits"] == 0
    assert weights["leak_check"]["duplicate_groups_kept_in_one_split"] is True
    assert not any("near-duplicate pair" in w for w in weights["warnings"])
    readme = (tmp_path / "a" / "README.md").read_text()
    assert "near-duplicate pairs across splits (leak check): 0" in readme
    copies = weights["leak_check"]["copies_within_held_out_splits"]
    assert f"identical copies within val / test: {copies['val']} / {copies['test']}" in readme
    said = any("of another image of the same split" in w for w in weights["warnings"])
    assert said == any(copies.values())
    assert ("of another image of the same split" in grouped.stdout) == said

    out = tmp_path / "b"
    r = run_cli("export", corpus.root, out, "--no-group-duplicates", "--quiet", "--workers", "1",
                timeout=180)  # fmt: skip
    assert r.returncode == 0, r.stderr
    w = json.loads((out / "weights.json").read_text())
    n = w["leak_check"]["near_duplicate_pairs_across_splits"]
    assert n > 0 and w["leak_check"]["duplicate_groups_kept_in_one_split"] is False
    assert any(f"{n} near-duplicate pairs cross splits" in x for x in w["warnings"])
    readme = (out / "README.md").read_text()
    assert f"near-duplicate pairs across splits (leak check): {n}" in readme
    assert "near-duplicate pairs cross splits" in r.stdout
