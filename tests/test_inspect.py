"""Inspect on real photographs (tiles of scikit-image's samples) with planted duplicates and
planted quality problems: what was planted is found, and little else."""

from __future__ import annotations

import hashlib
import os
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from photo_corpus import QUALITY_KINDS, build_corpus
from PIL import Image

from imbalance_studio.core.inspect import ISSUES, inspect, near_pairs
from imbalance_studio.core.scanning import scan


def _pairs(groups) -> set[frozenset[str]]:
    return {frozenset(p) for members in groups for p in combinations(members, 2)}


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        h.update(str(path.relative_to(root)).encode())
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("photos") / "data")


@pytest.fixture(scope="module")
def report(corpus):
    before = _tree_digest(corpus.root)
    result = inspect(scan(corpus.root), workers=1, use_cache=False)
    assert _tree_digest(corpus.root) == before  # read-only on the dataset
    return result


def test_planted_duplicates_are_found_as_groups(corpus, report):
    planted = _pairs(members for _, members in corpus.groups)
    found = _pairs(g.paths for g in report.groups)
    recall = len(planted & found) / len(planted)
    precision = len(planted & found) / len(found)
    assert recall >= 0.9, (recall, sorted(map(sorted, planted - found)))
    assert precision >= 0.9, (precision, sorted(map(sorted, found - planted)))
    assert all(len(g.paths) >= 2 for g in report.groups)
    # Byte copies and pixel-identical re-saves are "exact"; re-encoded copies are not.
    kinds = {frozenset(g.paths): g.kind for g in report.groups}
    for kind, members in corpus.groups:
        if kind == "exact":
            assert kinds.get(frozenset(members)) == "exact", members
        elif frozenset(members) in kinds:
            assert kinds[frozenset(members)] == "near", members


def test_label_conflicts_come_first(corpus, report):
    flags = [g.conflict for g in report.groups]
    assert flags == sorted(flags, reverse=True)  # every conflict before any other group
    conflicts = {frozenset(g.paths) for g in report.groups if g.conflict}
    found = sum(1 for c in corpus.conflicts if any(set(c) <= g for g in conflicts))
    assert found / len(corpus.conflicts) >= 0.9
    for g in report.groups:
        assert g.classes == tuple(p.split("/")[0] for p in g.paths)


def test_planted_quality_problems_are_flagged(corpus, report):
    flagged = {f.path: set(f.issues) for f in report.quality()}
    for kind in (*QUALITY_KINDS, "grayscale"):
        planted = {p for p, k in corpus.flagged.items() if k == kind}
        hits = {p for p, issues in flagged.items() if kind in issues}
        recall = len(planted & hits) / len(planted)
        precision = len(planted & hits) / max(1, len(hits))
        assert recall >= 0.9, (kind, recall, sorted(planted - hits))
        assert precision >= 0.9, (kind, precision, sorted(hits - planted))
    # Every flag carries every score, in 0..1, and the issues are those under threshold.
    for f in report.quality():
        assert set(f.scores) == set(ISSUES)
        assert all(0.0 <= v <= 1.0 for v in f.scores.values())


def test_thresholds_change_the_flags_without_decoding(report):
    default = {f.path for f in report.quality()}
    strict = {f.path for f in report.quality({"blurry": 0.0, "dark": 0.0})}
    loose = {f.path for f in report.quality({"dark": 0.5})}  # 24 of 105 images
    assert strict < default < loose
    # At 0.9, 79 of 105 images are "dark": a trait of the folder, counted once, flagging
    # no image (the rest of the flags are as by default).
    assert report.traits({"dark": 0.9}) == {"dark": 79}
    assert report.traits() == {}
    most = report.quality({"dark": 0.9})
    assert not any("dark" in f.issues for f in most)
    assert {f.path for f in most} <= default
    with pytest.raises(ValueError, match="unknown quality issue"):
        report.quality({"fuzzy": 0.5})


def test_same_folder_same_result_with_pool_and_cache(corpus, report):
    again = inspect(scan(corpus.root), workers=2)  # a process pool, and fills the cache
    assert again.to_json() == report.to_json()
    cached = inspect(scan(corpus.root), workers=2)
    assert cached.cached == len(report.paths)
    assert cached.to_json() == report.to_json()


def test_a_changed_file_is_inspected_again(tmp_path):
    root = tmp_path / "data"
    corpus = build_corpus(root, n_base=12, n_groups=0, n_flagged=0)
    first = inspect(scan(root), workers=1)
    assert first.quality() == []
    victim = root / corpus.base[0]
    dark = Image.open(victim).point(lambda v: v // 8)
    stat = victim.stat()
    dark.save(victim)  # the same name, new content
    os.utime(victim, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = inspect(scan(root), workers=1)
    assert second.cached == len(corpus.base) - 1
    assert [f.path for f in second.quality() if "dark" in f.issues] == [corpus.base[0]]
    # Only the mtime changes (same size, same bytes): measured again all the same.
    os.utime(victim, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    assert inspect(scan(root), workers=1).cached == len(corpus.base) - 1


def test_a_near_group_names_the_identical_copies_it_holds(tmp_path):
    """A photograph, its byte copy and a slightly brighter re-save are one near group; the
    copy is said to be one, not lost among the near ones (nor the exact count short)."""
    root = tmp_path / "data"
    corpus = build_corpus(root, n_base=8, n_groups=0, n_flagged=0)
    original = root / corpus.base[0]
    folder = original.parent
    (folder / "copy of it.png").write_bytes(original.read_bytes())
    Image.open(original).point(lambda v: min(255, v + 6)).save(folder / "brighter.png")
    report = inspect(scan(root), workers=1, use_cache=False)
    cls = folder.name
    copy, edit = f"{cls}/copy of it.png", f"{cls}/brighter.png"
    group = next(g for g in report.groups if copy in g.paths)
    assert group.kind == "near" and set(group.paths) == {corpus.base[0], copy, edit}
    assert [set(c) for c in group.identical] == [{corpus.base[0], copy}]
    assert group.copies == 2
    assert group.to_json()["identical"] == [list(group.identical[0])]
    assert all(g.identical == () for g in report.groups if g is not group)


def test_undecodable_files_are_problems_not_errors(tmp_path):
    root = tmp_path / "data"
    corpus = build_corpus(root, n_base=6, n_groups=0, n_flagged=0)
    good = (root / corpus.base[0]).read_bytes()
    (root / "cat_a" / "truncated.png").write_bytes(good[: len(good) // 2])
    (root / "cat_b" / "noise.jpg").write_bytes(b"\xff\xd8\xff" + os.urandom(200))
    report = inspect(scan(root), workers=1)
    assert {p.path for p in report.problems} == {"cat_a/truncated.png", "cat_b/noise.jpg"}
    assert len(report.paths) == 6


def test_both_searches_equal_every_pair_compared(monkeypatch):
    from imbalance_studio.core.inspect import near

    rng = np.random.default_rng(7)
    hashes = rng.integers(0, 2**63, 3000, dtype=np.int64).astype(np.uint64) << np.uint64(1)
    flips = rng.integers(0, 64, (400, 6))
    for k, bits in enumerate(flips):  # near copies at 1..6 bits, and some exact ones
        h = hashes[k]
        for b in bits[: k % 7]:
            h ^= np.uint64(1) << np.uint64(int(b))
        hashes[2000 + k] = h
    dist = np.bitwise_count(hashes[:, None] ^ hashes[None, :])
    for direct_max in (0, near.DIRECT_MAX):  # the index, then every pair compared in blocks
        monkeypatch.setattr(near, "DIRECT_MAX", direct_max)
        monkeypatch.setattr(near, "DIRECT_ROWS", 700)  # blocks that do not divide the rows
        for threshold in (0, 3, 6, 10, 13):
            i, j = near_pairs(hashes, threshold)
            ei, ej = np.nonzero(np.triu(dist <= threshold, 1))
            assert np.array_equal(i, ei) and np.array_equal(j, ej), (direct_max, threshold)
    with pytest.raises(ValueError, match="threshold"):
        near_pairs(hashes, 40)


def test_records_round_trip_whatever_their_first_byte():
    from imbalance_studio.core.inspect.features import Features, unpack, well_formed

    for first in (b"!", b"F", b"\x00"):  # a digest may start with the marker bytes
        f = Features(first + bytes(15), 2**64 - 1, 3, 4, 0.5, 0.125, 6.0, float("inf"), 0.25)
        assert unpack(f.pack()) == f
    assert not well_formed(b"F" + bytes(3)) and not well_formed(b"junk")


def test_our_perceptual_hash_is_imagehash_phash():
    import imagehash
    from photo_corpus import photo_tiles

    from imbalance_studio.core.inspect.features import perceptual_hash

    tiles = photo_tiles(96)[:40]
    images = [Image.fromarray(t) for t in tiles] + [Image.fromarray(tiles[0]).convert("L")]
    for img in images:
        assert perceptual_hash(img) == int(str(imagehash.phash(img)), 16)


def test_a_crowd_of_identical_hashes_stays_linear():
    from imbalance_studio.core.inspect.near import components

    hashes = np.zeros(5000, dtype=np.uint64)  # five thousand blank frames
    hashes[-1] = np.uint64(0b111)  # and one a few bits away
    i, j = near_pairs(hashes, 4)
    assert len(i) < 10_000  # not 12.5 million
    assert components(len(hashes), i, j) == [list(range(5000))]


def test_duplicate_groups_are_the_connected_components_scipy_finds():
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from imbalance_studio.core.inspect.near import components

    rng = np.random.default_rng(7)
    for n, edges in ((2, 1), (10, 4), (300, 250), (2000, 1900), (2000, 6000)):
        # Chains, stars and long paths as well as random pairs (in both directions).
        i = rng.integers(0, n, edges)
        j = rng.integers(0, n, edges)
        path = rng.permutation(n)[: n // 3]
        i = np.concatenate([i, path[:-1]])
        j = np.concatenate([j, path[1:]])
        graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
        _, labels = connected_components(graph, directed=False)
        involved = sorted(set(i.tolist()) | set(j.tolist()))
        expected: dict[int, list[int]] = {}
        for k in involved:
            expected.setdefault(int(labels[k]), []).append(k)
        want = sorted((g for g in expected.values() if len(g) > 1), key=lambda g: g[0])
        assert components(n, i, j) == want


def test_grayscale_digits_are_not_all_flagged_grayscale(digits_root):
    """Handwritten digits are grey strokes on black: grayscale and low information are what
    the folder is, not flaws of 85-100% of its images."""
    result = inspect(scan(digits_root), workers=1, use_cache=False)
    n = len(result.paths)
    common = result.traits()
    assert common["grayscale"] == n
    assert "grayscale" in common and "low_information" in common
    assert not any({"grayscale", "low_information"} & set(f.issues) for f in result.quality())
    assert result.to_json()["traits"] == common
    # 8 x 8 digits (at 32 px) look alike to a 64-bit perceptual hash: "near duplicates"
    # of distinct digits, in groups large and small, and the report says to look first.
    note = result.loose_groups_note()
    assert note.startswith("near-duplicate groups hold ") and "pictures are small" in note
    assert "lower the near-duplicate threshold" in note


def test_chains_of_alike_pictures_are_said_even_when_they_are_not_small(tmp_path):
    from datasets import write_digits

    write_digits(tmp_path / "d", side=64)
    note = inspect(scan(tmp_path / "d"), workers=1, use_cache=False).loose_groups_note()
    assert " near-duplicate groups of 10 or more images hold " in note, note
    assert "pictures are small" not in note


def test_a_photo_folder_with_real_copies_gets_no_loose_groups_warning(report):
    assert report.groups and report.loose_groups_note() == ""


def test_traits_need_a_real_majority_and_an_issue_asked_for_is_always_flagged():
    import numpy as np

    from imbalance_studio.core.inspect.quality import ISSUES, flags, traits

    def table(n: int, dark: int) -> dict:
        scores = {name: np.ones(n) for name in ISSUES}
        scores["dark"][:dark] = 0.1  # under the default 0.32
        return scores

    paths = [f"p{i}" for i in range(40)]
    few = table(3, 2)  # 2 of 3 dark: too few images for "most" to mean a trait
    assert traits(few, {}) == {} and len(flags(paths[:3], few, {})) == 2
    many = table(40, 30)  # 30 of 40: a trait, flagged only when asked for by name
    assert traits(many, {}) == {"dark": 30}
    assert flags(paths, many, {}) == []
    assert len(flags(paths, many, {}, keep=("dark",))) == 30


@pytest.mark.parametrize("n", [1, 2, 3, 4, 9, 10, 1001])
def test_helpers_that_spare_numpy_ma_match_numpy(n):
    from imbalance_studio.core.arrays import median, sorted_unique

    values = np.random.default_rng(n).integers(8, 4000, n).astype(np.float64)
    assert median(values) == float(np.median(values))
    assert np.array_equal(sorted_unique(values.astype(np.int64)), np.unique(values))


def test_all_but_one_keeps_one_image_per_class_of_a_label_conflict(report):
    """Which label is right is the user's to say; copies within one class still go."""
    from dataclasses import replace

    from imbalance_studio.core.inspect.choices import _best, all_but_one

    group = next(g for g in report.groups if g.conflict)
    label = dict(zip(report.paths, (report.classes[i] for i in report.labels), strict=True))
    cls = group.classes[0]
    extra = next(p for p in report.paths if label[p] == cls and p not in group.paths)
    wider = replace(group, paths=(*group.paths, extra), classes=(*group.classes, cls))
    gone = all_but_one(report, [wider])
    same = [p for p, c in zip(wider.paths, wider.classes, strict=True) if c == cls]
    assert gone == [p for p in wider.paths if p in same and p != _best(report, same)]
    kept = {c for p, c in zip(wider.paths, wider.classes, strict=True) if p not in gone}
    assert kept == set(wider.classes)
    # A group without a conflict keeps exactly one.
    plain = next(g for g in report.groups if not g.conflict)
    assert len(all_but_one(report, [plain])) == len(plain.paths) - 1
