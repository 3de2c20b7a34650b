"""A reopened folder shows the verdicts of its last complete check at once (`Known`), before
its files are verified; the scan's result is still the verified one, so a file changed since
is checked again and a damaged or stale record of the verdicts is never shown."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest
from datasets import write_digits
from PIL import Image

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
    assert again is shown  # verified unchanged: the very dataset shown, so a window knows


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
    handed, _ = scan(root, min_side=40)  # digits are 32 px wide: verdicts of another minimum
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


def test_a_link_at_the_cache_path_is_not_followed(tmp_path):
    root = digits(tmp_path)
    _, listed = scan(root, use_cache=False, check=False)
    scan(root)
    path = cache_path_for(root)
    assert check_cache.last_verdicts(listed, 8) is not None
    elsewhere = tmp_path / "elsewhere.sqlite"
    path.rename(elsewhere)  # a valid cache, reached through a link planted at our name
    path.symlink_to(elsewhere)
    assert check_cache.last_verdicts(listed, 8) is None


def _rewrite(root, change):
    """Change the stored verdicts and sign them again (what another version, or someone
    else, could write: the digest guards against damage, not against that)."""
    path = cache_path_for(root)
    with sqlite3.connect(path) as db:
        (blob,) = db.execute("SELECT value FROM summaries").fetchone()
        found = json.loads(bytes(blob).partition(b"\n")[2])
        change(found)
        text = json.dumps(found).encode()
        signed = hashlib.sha256(text).hexdigest().encode() + b"\n" + text
        db.execute("UPDATE summaries SET value = ?", (signed,))


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f.pop("listing"),
        lambda f: f.update(problems=[[10_000, ProblemReason.CORRUPT, ""]]),  # no such file
        lambda f: f.update(problems=[[0, "eaten by a grue", ""]]),
        lambda f: f.update(orientations={"6": [-1]}),
        lambda f: f.update(orientations={"6": check_cache._pack([10_000])}),  # no such file
        lambda f: f.update(orientations={"6": "not base64!"}),
        lambda f: f.update(orientations={"9": [0]}),
        lambda f: f.update(min_side="8"),
        lambda f: f.update(kind="check.v1"),
    ],
)
def test_verdicts_that_do_not_make_sense_are_not_shown(tmp_path, change):
    root = digits(tmp_path)
    scan(root)
    _rewrite(root, change)
    handed, result = scan(root)
    assert [type(h) for h in handed] == [Listed]
    assert reasons(result) == {BAD: ProblemReason.CORRUPT}


def test_a_file_turned_on_its_side_is_announced_after_verifying(tmp_path):
    root = digits(tmp_path)
    _, first = scan(root)
    assert first.orientations == {}
    turned = root / "digit_0" / "digit_0_004.png"
    image = Image.open(turned).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees to display
    turned.unlink()
    image.save(turned, "PNG", exif=exif)
    handed, result = scan(root)
    assert [type(h) for h in handed] == [Known] and handed[0].dataset.orientations == {}
    assert result is not handed[0].dataset
    assert result.orientations == {"digit_0/digit_0_004.png": 6}
    handed, again = scan(root)
    assert handed[0].dataset.orientations == {"digit_0/digit_0_004.png": 6}
    assert again is handed[0].dataset  # verified unchanged: the very dataset shown


def test_a_check_cancelled_half_way_leaves_no_verdicts(tmp_path):
    root = tmp_path / "digits"
    write_digits(root, [150, 60])
    steps = iter_scan(root, workers=1)
    for item in steps:
        if getattr(item, "phase", "") == "checking" and 0 < item.done < item.total:
            break
    else:
        raise AssertionError("the check ended before it could be cancelled")
    steps.close()
    handed, _ = scan(root)
    assert [type(h) for h in handed] == [Listed]


def test_without_the_cache_no_verdicts_are_kept_or_shown(tmp_path):
    root = digits(tmp_path)
    scan(root, use_cache=False)
    assert not cache_path_for(root).exists()
    handed, _ = scan(root, use_cache=False)
    assert [type(h) for h in handed] == [Listed]
