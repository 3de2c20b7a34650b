"""Originals found unusable while generating, remembered with the staging folder.

A source that fails to decode is skipped by generation, and must also stay out of every
later export, including exports after a resumed run that never decodes it again (its slots
are filled from other images). So every such file is recorded in
`<staging>/bad_sources.json`, written atomically::

    {"format": 1, "sources": {"<rel path>": {"reason": "...", "size": n, "mtime_ns": t}}}

Each entry keeps the file's size and mtime when it failed: a file changed since then (the
user repaired or replaced it) is no longer trusted to be bad and is checked again. The
record is read under a size bound, and only as a regular file (never through a symlink).
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..dataset import NOTE_REASONS, Problem, ProblemReason
from .records import atomic_write

BAD_SOURCES_NAME = "bad_sources.json"
BAD_SOURCES_FORMAT = 1
# ~200 bytes an entry: room for tens of thousands of bad files, and never a huge read.
MAX_RECORD_BYTES = 8 << 20

Signature = tuple[int, int]  # (size, mtime_ns)

_REASONS = frozenset(v for k, v in vars(ProblemReason).items() if k.isupper())


@dataclass
class KnownBad:
    """What the record says: sources still bad, and sources changed since they failed."""

    bad: dict[str, str] = field(default_factory=dict)  # rel path -> reason
    changed: set[str] = field(default_factory=set)  # repaired, replaced or gone: check again
    problem: str | None = None  # the record itself could not be read (one line)


def signature(root: Path | str, rel: str) -> Signature | None:
    """(size, mtime_ns) of a dataset file, or None when it cannot be looked at."""
    try:
        st = os.stat(os.path.join(root, rel))
    except (OSError, ValueError):
        return None
    return (st.st_size, st.st_mtime_ns)


def _read_bounded(path: Path, limit: int) -> bytes | None:
    """The bytes of a regular file of at most `limit` bytes; None when there is none.
    Raises ValueError (with the reason) for anything else at that name."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ValueError("it is a symbolic link") from exc
        raise ValueError(exc.strerror or str(exc)) from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("it is not a regular file")
        if st.st_size > limit:
            raise ValueError(f"larger than {limit >> 20} MiB")
        chunks, left = [], limit + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise ValueError(f"larger than {limit >> 20} MiB")
        return data
    finally:
        os.close(fd)


def _entries(staging: Path) -> tuple[dict[str, dict], str | None]:
    path = staging / BAD_SOURCES_NAME
    try:
        data = _read_bounded(path, MAX_RECORD_BYTES)
        if data is None:
            return {}, None
        doc = json.loads(data.decode("utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != BAD_SOURCES_FORMAT:
            raise ValueError("not a bad-sources record of a known format")
        sources = doc.get("sources")
        if not isinstance(sources, dict):
            raise ValueError("no 'sources' table")
    except (ValueError, UnicodeDecodeError) as exc:
        return {}, (
            f"{path}: unreadable ({exc}); originals that failed in earlier runs are "
            "checked again when they are used"
        )
    out = {}
    for rel, entry in sources.items():
        if _relative(rel) and isinstance(entry, dict) and isinstance(entry.get("reason"), str):
            out[rel] = entry
    return out, None


def _relative(rel: object) -> bool:
    """A path inside the dataset as the scan writes it (an edited record may hold others)."""
    if not isinstance(rel, str) or not rel or "\x00" in rel or rel.startswith("/"):
        return False
    return all(part not in ("", ".", "..") for part in rel.split("/"))


def read_bad_sources(staging_dir: Path | str, root: Path | str) -> KnownBad:
    """The sources recorded as unusable that are unchanged since (nothing if no record)."""
    entries, problem = _entries(Path(staging_dir))
    known = KnownBad(problem=problem)
    for rel, entry in entries.items():
        if signature(root, rel) == (entry.get("size"), entry.get("mtime_ns")):
            known.bad[rel] = entry["reason"]
        else:
            known.changed.add(rel)
    return known


def record_bad_sources(staging_dir: Path | str, root: Path | str, new: Mapping[str, str]) -> None:
    """Add `new` (rel path -> reason) to the record, atomically; drops entries whose file
    has changed since it failed. Raises OSError when the staging folder is not writable."""
    if not new:
        return
    staging = Path(staging_dir)
    entries, _problem = _entries(staging)  # an unreadable record is replaced
    merged: dict[str, dict] = {}
    for rel, entry in entries.items():
        if rel not in new and signature(root, rel) == (entry.get("size"), entry.get("mtime_ns")):
            merged[rel] = entry
    for rel, reason in new.items():
        sig = signature(root, rel)
        if sig is not None:  # a vanished file needs no record: nothing can export it
            merged[rel] = {"reason": reason, "size": sig[0], "mtime_ns": sig[1]}
    doc = {"format": BAD_SOURCES_FORMAT, "sources": dict(sorted(merged.items()))}
    data = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
    atomic_write(staging / BAD_SOURCES_NAME, lambda f: f.write(data))


def as_problem(rel: str, why: str) -> Problem:
    """A dataset `Problem` for a source that failed to decode (`why` as the decoder said it:
    "<reason>: <detail>")."""
    reason, _, detail = why.partition(": ")
    if reason in _REASONS and reason not in NOTE_REASONS:
        return Problem(rel, reason, detail)
    return Problem(rel, ProblemReason.CORRUPT, why)
