"""Exact-duplicate files (same bytes), so the plan keeps each group in one split.

Cheap first: files are grouped by size (one stat each) and only files sharing a size are
hashed. A file's digest is kept in the dataset's file cache by path + size + mtime
(`core.file_cache`), so a reopened folder reads only the files that are new or changed.
`iter_content_groups` is a generator of progress events for a worker; its result is passed
to `plan.make_plan(..., groups=...)`.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Callable, Generator
from contextlib import suppress
from dataclasses import dataclass

from .dataset import Dataset
from .file_cache import FileCache, open_optional
from .progress import drive
from .safe_read import InputFileError, open_regular

#: The file cache's table of whole-file digests (blake2b, 20 bytes); bump if that changes.
DIGEST_KIND = "content.v1"
_DIGEST_BYTES = 20
# A stat costs a few microseconds, a hash a whole file read: sizing takes eight files for
# every one hashed in a step, so that neither kind of step is tiny.
_SIZING_PER_HASHING = 8
_STORE_EVERY = 4096  # digests written to the cache at a time
_SETTLED_NS = 2_000_000_000


@dataclass(frozen=True, slots=True)
class GroupProgress:
    phase: str  # "sizing" or "hashing"
    done: int
    total: int | None
    message: str = ""


def _file_digest(path: str) -> bytes:
    h = hashlib.blake2b(digest_size=_DIGEST_BYTES)
    fd, _ = open_regular(path)  # the file may have become a FIFO since it was sized
    with open(fd, "rb", closefd=True) as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.digest()


def iter_content_groups(
    dataset: Dataset, chunk: int = 512, use_cache: bool = True
) -> Generator[GroupProgress, None, dict[str, str]]:
    """Find files with identical bytes; yields progress, returns {rel path: group key} for
    files that have at least one exact twin (files with unique content are absent).

    Cheap first: only files sharing a size are hashed, and a digest the file cache holds for
    the file's path, size and mtime is not computed again (`use_cache=False`: always hash).
    Unreadable files are skipped, and so is anything that is not a regular file (a FIFO
    would block the read, /dev/zero never ends): the scan reports those. Run it in a worker;
    pass the result to `make_plan(..., groups=...)`.
    """
    paths = dataset.paths  # not a Sample per file: 0.3 s at a million, in one step
    total = len(paths)
    base = os.fspath(dataset.root)
    by_size: dict[int, list[tuple[str, int]]] = {}  # size -> [(rel path, mtime_ns)]
    for i, rel in enumerate(paths, 1):
        try:
            st = os.stat(os.path.join(base, rel))
        except OSError:
            st = None
        if st is not None and stat.S_ISREG(st.st_mode):
            by_size.setdefault(st.st_size, []).append((rel, st.st_mtime_ns))
        if i % (chunk * _SIZING_PER_HASHING) == 0 or i == total:
            yield GroupProgress("sizing", i, total, f"sized {i} of {total} files")
    candidates = [
        (rel, size, mtime) for size, same in by_size.items() if len(same) > 1 for rel, mtime in same
    ]
    cache = open_optional(dataset.root, DIGEST_KIND) if use_cache and candidates else None
    known = _cached_digests(cache, candidates)
    by_digest: dict[str, list[str]] = {}
    fresh: list[tuple[str, int, int, bytes]] = []
    try:
        for i, (rel, size, mtime) in enumerate(candidates, 1):
            digest = known.get(rel)
            if digest is None or len(digest) != _DIGEST_BYTES:
                digest = _hash_unchanged(os.path.join(base, rel), rel, size, mtime, fresh)
            if digest:
                by_digest.setdefault(f"{size}:{digest.hex()}", []).append(rel)
            if i % chunk == 0 or i == len(candidates):
                if len(fresh) >= _STORE_EVERY:
                    _store(cache, fresh)
                yield GroupProgress(
                    "hashing", i, len(candidates), f"hashed {i} of {len(candidates)}"
                )
    finally:
        _store(cache, fresh)  # what was hashed before a cancel is kept too
        if cache is not None:
            with suppress(Exception):
                cache.close()
    return {rel: key for key, same in by_digest.items() if len(same) > 1 for rel in same}


def _cached_digests(cache: FileCache | None, keys: list[tuple[str, int, int]]) -> dict[str, bytes]:
    if cache is None:
        return {}
    try:
        return cache.lookup(keys)
    except Exception:  # an unusable cache (say, a folder that cannot be made) is an empty one
        return {}


def _store(cache: FileCache | None, fresh: list[tuple[str, int, int, bytes]]) -> None:
    """Record `fresh` digests (and empty it); a cache that cannot be written stays as it is."""
    if cache is not None and fresh:
        with suppress(Exception):
            cache.store(fresh)
    fresh.clear()


def _hash_unchanged(
    path: str, rel: str, size: int, mtime: int, fresh: list[tuple[str, int, int, bytes]]
) -> bytes | None:
    """The digest of the file as it was sized; None when it cannot be read or has changed
    since (its size would no longer be the one it was grouped by). A digest read from an
    unchanged file is added to `fresh`, for the cache."""
    try:
        digest = _file_digest(path)
        st = os.stat(path)
    except (OSError, InputFileError):
        return None
    if (st.st_size, st.st_mtime_ns) != (size, mtime):
        return None
    # A file written in the last moments could be rewritten again, to the same size, within
    # the file system's time resolution: its digest is used now but not kept.
    if time.time_ns() - mtime > _SETTLED_NS:
        fresh.append((rel, size, mtime, digest))
    return digest


def content_groups(
    dataset: Dataset, progress: Callable[[GroupProgress], None] | None = None
) -> dict[str, str]:
    """Plain-call form of `iter_content_groups`."""
    return drive(iter_content_groups(dataset), progress)
