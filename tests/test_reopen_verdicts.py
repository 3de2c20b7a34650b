"""A reopened folder shows the verdicts of its last complete check at once (`Known`), before
its files are verified; the scan's result is still the verified one, so a file changed since
is checked again and a damaged or stale record of the verdicts is never shown."""

from __future__ import annotations

import os
import sqlite3

from datasets import write_digits

from imbalance_studio.core import check_cache
from imbalance_studio.core.dataset import ProblemReason
from imbalance_studio.core.file_cache import cache_path_for
from imbalance_studio.core.scanning import Known, Listed, iter_scan

CORRUPT = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
BAD = "digit_1/digit_1_000.png"


def digits(tmp_path):
    root = tmp_path / "digits"
    write_digits(root, [14, 6])
    (root / BAD).write_bytes(CORRUPT)
    return root


def scan(root, **kw):
    """(the hand-over items the scan yielded, its result)."""
    steps = iter_scan(root, workers=1, **kw)
    handed = []
    while True:
        try:
            item = next(steps)
        except StopIteration as stop:
            return handed, stop.value
        if isinstance(item, Listed):
            handed.append(item)


def reasons(dataset):
    return {p.path: p.reason for p in dataset.problems}


def test_a_reopened_folder_shows_its_last_verdicts_before_verifying(tmp_path):
    root = digits(tmp_path)
    handed, first = scan(root)
    assert [type(h) for h in handed] == [Listed]  # never checked: nothing to show yet
    assert reasons(handed[0].dataset) == {}
    handed, again = scan(root)
    assert [type(h) for h in handed] == [Known]
    shown = handed[0].dataset
    assert reasons(shown) == reasons(first) == {BAD: ProblemReason.CORRUPT}
    assert shown.paths == first.paths == again.paths and BAD not in shown.paths
    assert shown.problems == again.problems and shown.orientations == again.orientations


def test_a_file_changed_since_is_shown_as_it_was_then_checked_again(tmp_path):
    root = digits(tmp_path)
    scan(root)
    good = root / "digit_0" / "digit_0_003.png"
    good.write_bytes(good.read_bytes()[:60])  # truncated: same path, the listing is unchanged
    handed, result = scan(root)
    assert [type(h) for h in handed] == [Known]
    assert "digit_0/digit_0_003.png" in handed[0].dataset.paths  # the last check's verdict
    assert reasons(result) == {
        BAD: ProblemReason.CORRUPT,
        "digit_0/digit_0_003.png": ProblemReason.TRUNCATED,
    }
    handed, _ = scan(root)  # the verified verdicts are the ones shown next time
    assert reasons(handed[0].dataset) == reasons(result)


def test_a_changed_listing_or_minimum_size_shows_no_verdicts(tmp_path):
    root = digits(tmp_path)
    scan(root)
    (root / "digit_0" / "digit_0_003.png").unlink()
    handed, result = scan(root)
    assert [type(h) for h in handed] == [Listed]
    assert reasons(result) == {BAD: ProblemReason.CORRUPT}
    handed, _ = scan(root, min_side=9)  # 8 x 8 digits: all too small now, not as last time
    assert [type(h) for h in handed] == [Listed]


def test_damaged_verdicts_are_not_shown_and_are_written_again(tmp_path):
    root = digits(tmp_path)
    scan(root)
    path = cache_path_for(root)
    with sqlite3.connect(path) as db:
        (blob,) = db.execute("SELECT value FROM summaries").fetchone()
        damaged = bytearray(blob)
        damaged[-5] ^= 0x20  # one flipped bit inside the verdicts
        db.execute("UPDATE summaries SET value = ?", (bytes(damaged),))
    handed, result = scan(root)
    assert [type(h) for h in handed] == [Listed]
    assert reasons(result) == {BAD: ProblemReason.CORRUPT}
    handed, _ = scan(root)
    assert [type(h) for h in handed] == [Known]


def test_a_foreign_file_at_the_cache_path_is_not_read(tmp_path):
    root = digits(tmp_path)
    path = cache_path_for(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)  # would block a reader that opened it
    try:
        assert check_cache.last_verdicts(scan(root, use_cache=False)[1], 8) is None
    finally:
        path.unlink()


def test_a_cancelled_check_leaves_no_verdicts(tmp_path):
    root = digits(tmp_path)
    steps = iter_scan(root, workers=1)
    for item in steps:
        if getattr(item, "phase", "") == "checking":
            break
    steps.close()
    handed, _ = scan(root)
    assert [type(h) for h in handed] == [Listed]


def test_without_the_cache_no_verdicts_are_kept_or_shown(tmp_path):
    root = digits(tmp_path)
    scan(root, use_cache=False)
    assert not cache_path_for(root).exists()
    handed, _ = scan(root, use_cache=False)
    assert [type(h) for h in handed] == [Listed]
