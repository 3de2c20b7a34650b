"""The scan's decode-check results, kept across opens in the dataset's file cache.

A reopened folder decodes only the files that are new or changed: every other file's result
(usable, or the problem found) comes back from `core.file_cache` by path + size + mtime. The
cache is an optimisation, never a requirement: any failure to open, read or write it counts
as an empty cache, and a damaged file is set aside and rebuilt by `FileCache` itself.

Values are compact: "reason\\0detail\\0width\\0height\\0orientation", the reason empty for a
usable file. The facts are kept rather than the verdict, so a cached check serves any minimum
image size (`scanning.verdict` applies it).

Next to the rows, the cache keeps the verdicts of the dataset's last complete check (its
problems and orientations, with a digest of the listing they belong to): a reopened folder
whose listing is unchanged shows them at once (`last_verdicts`), before every file is
stat'ed, since one stat per file costs 5-6x the listing itself. They are only shown, never
trusted: the scan then verifies every file as above and replaces them where a file changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Generator, Iterable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from .dataset import Dataset, Problem, ProblemReason
from .file_cache import FileCache, open_optional, read_summary

#: The cache table of check results; bump the version when the check finds things differently
#: (new reasons, other limits), so older results are not trusted.
KIND = "check.v2"
# How many files are stat'ed between two progress events while reading the cache.
_STAT_STEP = 5000
_REASONS = frozenset(v for k, v in vars(ProblemReason).items() if k.isupper())


def open_cache(root: str | os.PathLike[str]) -> FileCache | None:
    """The dataset's check cache, or None when it cannot be used here."""
    return open_optional(Path(root), KIND)


def encode(
    reason: str | None, detail: str = "", width: int = 0, height: int = 0, orientation: int = 1
) -> bytes:
    text = f"{reason or ''}\0{detail}\0{width}\0{height}\0{orientation}"
    return text.encode("utf-8", "surrogatepass")


def decode(value: bytes) -> tuple[str | None, str, int, int, int]:
    """(reason or None, detail, width, height, orientation) of a recorded check; ValueError
    for a value this version did not write."""
    parts = bytes(value).decode("utf-8", "surrogatepass").split("\0")
    if len(parts) != 5:
        raise ValueError("not a check record of this version")
    reason, detail, width, height, orientation = parts
    if reason and reason not in _REASONS:
        raise ValueError(f"unknown problem reason {reason!r}")
    w, h, o = int(width), int(height), int(orientation)
    if w < 0 or h < 0 or not 1 <= o <= 8:
        raise ValueError("size or orientation out of range")
    return reason or None, detail, w, h, o


def cached_rows(cache: FileCache | None) -> dict[str, tuple[int, int, bytes]]:
    """Every recorded check of the dataset (empty when there is none or the cache fails)."""
    if cache is None:
        return {}
    try:
        return cache.entries()
    except Exception:  # an unusable cache is an empty one
        return {}


_UNSEEN: Any = object()  # not decoded yet (None: decoded, and not a record of this version)


def iter_known(
    root: str | os.PathLike[str],
    rel_paths: Sequence[str],
    rows: dict[str, tuple[int, int, bytes]],
) -> Generator[int, None, dict[str, tuple[str | None, str, int, int, int]]]:
    """Stat every listed file that has a recorded check and keep the records whose size and
    mtime still match: path -> (reason or None, detail, width, height, orientation).
    A record that does not parse is left out (checked again). Yields how many files were
    looked at so far."""
    known: dict[str, tuple[str | None, str, int, int, int]] = {}
    if not rows:
        return known
    prefix = os.fspath(root) + os.sep
    get, stat_, is_reg = rows.get, os.stat, stat.S_ISREG
    # Most records are alike ("usable, W x H, upright"): each distinct value is decoded once
    # (decoding every one was about a sixth of a profiled reopen of 100,000 files).
    decoded: dict[bytes, tuple[str | None, str, int, int, int] | None] = {}
    total = len(rel_paths)
    for start in range(0, total, _STAT_STEP):
        for rel in rel_paths[start : start + _STAT_STEP]:
            row = get(rel)
            if row is None:
                continue
            try:
                st = stat_(prefix + rel)
            except OSError:
                continue
            if st.st_mtime_ns == row[1] and st.st_size == row[0] and is_reg(st.st_mode):
                value = bytes(row[2])
                facts = decoded.get(value, _UNSEEN)
                if facts is _UNSEEN:
                    try:
                        facts = decode(value)
                    except ValueError:
                        facts = None
                    decoded[value] = facts
                if facts is not None:
                    known[rel] = facts
        yield min(start + _STAT_STEP, total)
    return known


def store(cache: FileCache | None, rows: Iterable[tuple[str, int, int, bytes]]) -> None:
    """Record new results; a cache that cannot be written is left as it is."""
    if cache is None:
        return
    with suppress(Exception):  # the cache is optional, the scan's result is not
        cache.store(rows)


def close(cache: FileCache | None) -> None:
    if cache is not None:
        with suppress(Exception):
            cache.close()


def listing_digest(paths: Sequence[str]) -> str:
    """A digest of a listing's relative paths, in order (~5 ms for 100,000)."""
    text = "\0".join(paths).encode("utf-8", "surrogateescape")
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def last_verdicts(listed: Dataset, min_side: int) -> Dataset | None:
    """`listed` with the verdicts of the last complete check of the same listing (same
    paths, same minimum size), or None when there are none or they do not read back whole.
    What a reopened window shows while the files are verified; never a scan's result."""
    blob = read_summary(listed.root, KIND)
    if blob is None:
        return None
    try:
        found = _parse_verdicts(blob)
    except (ValueError, TypeError, KeyError):
        return None  # damaged or of another version: the scan checks as if it were not there
    if found["listing"] != listing_digest(listed.paths) or found["min_side"] != min_side:
        return None
    problems = [Problem(path, reason, detail) for path, reason, detail in found["problems"]]
    orientations = dict(found["orientations"])
    return listed.with_problems(problems).replace(orientations=orientations)


def _parse_verdicts(blob: bytes) -> dict[str, Any]:
    digest, _, text = blob.partition(b"\n")
    if hashlib.sha256(text).hexdigest().encode() != digest:
        raise ValueError("verdicts do not match their digest")
    found = json.loads(text)
    if found["kind"] != KIND or not isinstance(found["min_side"], int):
        raise ValueError("verdicts of another check")
    for path, reason, detail in found["problems"]:
        if reason not in _REASONS or not isinstance(path, str) or not isinstance(detail, str):
            raise ValueError(f"unknown problem {reason!r}")
    for path, orientation in found["orientations"]:
        if not isinstance(path, str) or orientation not in range(2, 9):
            raise ValueError(f"orientation {orientation!r} out of range")
    return found


def verdicts_blob(listed: Dataset, checked: Dataset, min_side: int) -> bytes:
    """The verdicts of a complete check of `listed` (`checked`, its result) as kept."""
    problems = checked.problems[len(listed.problems) :]  # the check's own, after the listing's
    text = json.dumps(
        {
            "kind": KIND,
            "listing": listing_digest(listed.paths),
            "min_side": min_side,
            "problems": [(p.path, p.reason, p.detail) for p in problems],
            "orientations": sorted((checked.orientations or {}).items()),
        },
        separators=(",", ":"),
    ).encode()
    return hashlib.sha256(text).hexdigest().encode() + b"\n" + text


def store_verdicts(cache: FileCache | None, blob: bytes) -> None:
    """Keep the verdicts of a complete check (`verdicts_blob`) for the next open."""
    if cache is not None:
        with suppress(Exception):  # the cache is optional, the scan's result is not
            cache.put_summary(blob)
