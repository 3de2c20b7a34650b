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

import array
import base64
import hashlib
import json
import os
import stat
import struct
import sys
from collections.abc import Generator, Iterable, Sequence
from contextlib import suppress
from itertools import islice
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
_COMPARE_STEP = 20_000  # orientations compared per step (`same_verdicts`)
_TAGS = frozenset(str(tag) for tag in range(2, 9))  # EXIF orientations other than upright


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
    """A digest of a listing's relative paths, in order (~5 ms for 100,000). Any str encodes
    (`surrogatepass`: a name with a lone surrogate, possible on Windows, too)."""
    text = "\0".join(paths).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def last_verdicts(listed: Dataset, min_side: int) -> Dataset | None:
    """`listed` with the verdicts of the last complete check of the same listing (same
    paths, same minimum size), or None when there are none or they do not read back whole.
    What a reopened window shows while the files are verified; never a scan's result."""
    try:
        blob = read_summary(listed.root, KIND)
        if blob is None:
            return None
        found = _parse_verdicts(blob, len(listed.paths))
        if found["listing"] != listing_digest(listed.paths) or found["min_side"] != min_side:
            return None
        paths = listed.paths
        problems = [Problem(paths[i], reason, detail) for i, reason, detail in found["problems"]]
        orientations = {
            paths[i]: int(tag)
            for tag, packed in found["orientations"].items()
            for i in _unpack(packed, len(paths))
        }
    except Exception:  # damaged, of another version or forged: as if there were none
        return None
    return listed.with_problems(problems).replace(orientations=orientations)


def _parse_verdicts(blob: bytes, n_paths: int) -> dict[str, Any]:
    """The verdicts in `blob`, checked whole: its digest, its kind, every index within the
    listing (ValueError, KeyError or TypeError otherwise)."""
    digest, _, text = blob.partition(b"\n")
    if hashlib.sha256(text).hexdigest().encode() != digest:
        raise ValueError("verdicts do not match their digest")
    found = json.loads(text)
    if found["kind"] != KIND or type(found["min_side"]) is not int:
        raise ValueError("verdicts of another check")
    if not isinstance(found["listing"], str):
        raise TypeError("no listing digest")
    for i, reason, detail in found["problems"]:
        if type(i) is not int or not 0 <= i < n_paths:
            raise ValueError(f"problem of file {i!r} out of the listing")
        if reason not in _REASONS or not isinstance(detail, str):
            raise ValueError(f"unknown problem {reason!r}")
    for tag, packed in found["orientations"].items():
        if tag not in _TAGS:
            raise ValueError(f"orientation {tag!r} out of range")
        _unpack(packed, n_paths)
    return found


def _pack(indices: list[int]) -> str:
    """Listing positions as base64 of little-endian uint32: a million tagged photos (phone
    pictures mostly are) read back in a few ms, where a JSON list held the GIL ~80 ms."""
    return base64.b64encode(struct.pack(f"<{len(indices)}I", *indices)).decode("ascii")


def _unpack(packed: str, n_paths: int) -> array.array:
    raw = base64.b64decode(packed, validate=True)
    indices = array.array("I")
    if indices.itemsize != 4 or len(raw) % 4:
        raise ValueError("not a list of positions")
    indices.frombytes(raw)
    if sys.byteorder != "little":
        indices.byteswap()
    if indices and max(indices) >= n_paths:
        raise ValueError("a position out of the listing")
    return indices


def same_verdicts(a: Dataset, b: Dataset) -> bool:
    """Whether two checks of one listing found the same (samples, problems, orientations).
    Compared a share at a time: one `==` of a million-entry dict holds the GIL ~100 ms, a
    stall of the window's thread while a worker compares."""
    if a.paths != b.paths or a.problems != b.problems:
        return False
    oa, ob = a.orientations, b.orientations
    if oa is None or ob is None or len(oa) != len(ob):
        return oa is ob
    items = iter(oa.items())
    while chunk := list(islice(items, _COMPARE_STEP)):
        if any(ob.get(path) != tag for path, tag in chunk):
            return False
    return True


def store_verdicts(
    cache: FileCache | None, listed: Dataset, checked: Dataset, min_side: int
) -> None:
    """Keep the verdicts of a complete check of `listed` (`checked`, its result) for the next
    open, by position in the listing (a reopen shows them without a lookup by path)."""
    if cache is None:
        return
    with suppress(Exception):  # the cache is optional, the scan's result is not
        cache.put_summary(_verdicts_blob(listed, checked, min_side))


def _verdicts_blob(listed: Dataset, checked: Dataset, min_side: int) -> bytes:
    problems = checked.problems[len(listed.problems) :]  # the check's own, after the listing's
    orientations = checked.orientations or {}
    index = {p: i for i, p in enumerate(listed.paths)} if problems or orientations else {}
    by_tag: dict[str, list[int]] = {}
    for path, tag in orientations.items():
        by_tag.setdefault(str(tag), []).append(index[path])
    packed = {tag: _pack(indices) for tag, indices in by_tag.items()}
    text = json.dumps(
        {
            "kind": KIND,
            "listing": listing_digest(listed.paths),
            "min_side": min_side,
            "problems": [(index[p.path], p.reason, p.detail) for p in problems],
            "orientations": packed,
        },
        separators=(",", ":"),
    ).encode()
    return hashlib.sha256(text).hexdigest().encode() + b"\n" + text
