"""Decode checks are kept across opens (by path + size + mtime in the dataset's file cache): a
reopened folder decodes only new or changed files, and a damaged cache is rebuilt, never trusted."""

from __future__ import annotations

import os
import sqlite3

import pytest
from datasets import tree_hash, write_digits

from imbalance_studio.core import check_cache
from imbalance_studio.core.dataset import ProblemReason
from imbalance_studio.core.file_cache import cache_path_for
from imbalance_studio.core.progress import drive
from imbalance_studio.core.scanning import iter_scan

CORRUPT = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


@pytest.fixture
def counted(monkeypatch):
    """Every file the scan decodes in this process, by absolute path."""
    import imbalance_studio.core.scanning as scanning

    decoded: list[str] = []
    real = scanning.check_file
    monkeypatch.setattr(scanning, "check_file", lambda p: decoded.append(p) or real(p))
    return decoded


def digits_with_a_corrupt_file(tmp_path):
    root = tmp_path / "digits"
    write_digits(root, [14, 6])
    bad = "digit_1/digit_1_000.png"
    (root / bad).write_bytes(CORRUPT)
    return root, bad


def reasons(dataset):
    return {p.path: p.reason for p in dataset.problems}


def scan_once(root, **kw):
    return drive(iter_scan(root, workers=1, **kw))


def test_a_reopened_folder_is_not_decoded_again_and_finds_the_same(tmp_path, counted):
    root, bad = digits_with_a_corrupt_file(tmp_path)
    first = scan_once(root)
    assert len(counted) == 20 and reasons(first) == {bad: ProblemReason.CORRUPT}
    counted.clear()
    again = scan_once(root)
    assert counted == []  # every result came from the cache
    assert reasons(again) == reasons(first) and again.paths == first.paths
    assert [p.detail for p in again.problems] == [p.detail for p in first.problems]


def test_a_changed_file_is_checked_again(tmp_path, counted):
    root, bad = digits_with_a_corrupt_file(tmp_path)
    scan_once(root)
    good = root / "digit_0" / "digit_0_003.png"
    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 2])  # now truncated (new size)
    fixed = root / bad
    fixed.write_bytes((root / "digit_1" / "digit_1_001.png").read_bytes())
    st = fixed.stat()
    os.utime(fixed, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # new mtime
    counted.clear()
    result = scan_once(root)
    assert sorted(counted) == sorted([str(good), str(fixed)])
    assert reasons(result) == {"digit_0/digit_0_003.png": ProblemReason.TRUNCATED}
    assert bad in result.paths
    counted.clear()
    assert reasons(scan_once(root)) == reasons(result) and counted == []


def test_same_size_new_mtime_is_enough_to_check_again(tmp_path, counted):
    root, bad = digits_with_a_corrupt_file(tmp_path)
    scan_once(root)
    st = (root / bad).stat()
    os.utime(root / bad, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    counted.clear()
    assert reasons(scan_once(root)) == {bad: ProblemReason.CORRUPT}
    assert counted == [str(root / bad)]


def test_a_damaged_cache_file_is_ignored_and_rebuilt(tmp_path, counted):
    root, bad = digits_with_a_corrupt_file(tmp_path)
    scan_once(root)
    db = cache_path_for(root)
    assert db.exists()
    for suffix in ("-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    db.write_bytes(b"SQLite format 3\x00" + os.urandom(3000))  # looks like one, is not
    counted.clear()
    assert reasons(scan_once(root)) == {bad: ProblemReason.CORRUPT}
    assert len(counted) == 20  # nothing trusted
    counted.clear()
    assert reasons(scan_once(root)) == {bad: ProblemReason.CORRUPT}
    assert counted == []  # rebuilt by that scan


def test_a_record_this_version_did_not_write_is_not_trusted(tmp_path, counted):
    root, bad = digits_with_a_corrupt_file(tmp_path)
    scan_once(root)
    db = sqlite3.connect(cache_path_for(root))
    with db:  # a well-formed database with a value no check writes
        db.execute(
            f'UPDATE "{check_cache.KIND}" SET value = ? WHERE path = ?', (b"fine\0", bad.encode())
        )
    db.close()
    counted.clear()
    assert reasons(scan_once(root)) == {bad: ProblemReason.CORRUPT}
    assert counted == [str(root / bad)]


def test_an_unusable_cache_folder_does_not_stop_the_scan(tmp_path, counted, monkeypatch):
    root, bad = digits_with_a_corrupt_file(tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # the cache folder cannot be made
    assert reasons(scan_once(root)) == {bad: ProblemReason.CORRUPT}
    counted.clear()
    assert reasons(scan_once(root)) == {bad: ProblemReason.CORRUPT} and len(counted) == 20


def test_without_the_cache_nothing_is_read_or_written(tmp_path, counted):
    root, _ = digits_with_a_corrupt_file(tmp_path)
    scan_once(root, use_cache=False)
    assert not cache_path_for(root).exists()
    scan_once(root)
    counted.clear()
    scan_once(root, use_cache=False)
    assert len(counted) == 20


def test_the_cache_lives_outside_the_dataset_which_stays_untouched(tmp_path):
    root, _ = digits_with_a_corrupt_file(tmp_path)
    before = tree_hash(root)
    scan_once(root)
    scan_once(root)
    assert tree_hash(root) == before
    assert not cache_path_for(root).is_relative_to(root)


def test_results_from_worker_processes_are_kept_too(tmp_path, counted):
    root = tmp_path / "digits"
    write_digits(root, [150, 80])  # over the pool threshold: checked in two processes
    bad = "digit_0/digit_0_010.png"
    (root / bad).write_bytes(CORRUPT)
    first = drive(iter_scan(root, workers=2))
    assert reasons(first) == {bad: ProblemReason.CORRUPT} and counted == []  # not decoded here
    assert reasons(scan_once(root)) == {bad: ProblemReason.CORRUPT}
    assert counted == []  # the pool's results came back with their keys and were stored


def test_a_scan_cancelled_half_way_keeps_what_it_checked(tmp_path, counted):
    root = tmp_path / "digits"
    write_digits(root, [100, 50])
    steps = iter_scan(root, workers=1)
    for event in steps:
        if getattr(event, "phase", "") == "checking" and event.done >= 64:
            break
    steps.close()
    done = len(counted)
    assert 64 <= done < 150
    counted.clear()
    scan_once(root)
    assert len(counted) == 150 - done


def test_a_cached_check_serves_another_minimum_size_and_keeps_orientations(tmp_path, counted):
    root, bad = digits_with_a_corrupt_file(tmp_path)
    scan_once(root)  # digits are written 32 px wide
    counted.clear()
    strict = scan_once(root, min_side=40)
    assert counted == []  # the sizes came from the cache, nothing was decoded again
    too_small = {p.path for p in strict.problems if p.reason == ProblemReason.TOO_SMALL}
    assert len(too_small) == 19 and bad not in too_small
    assert reasons(scan_once(root, min_side=8)) == {bad: ProblemReason.CORRUPT}
