"""Recognising a previous export of ours, and telling its files from the ones the user added.

A finished export holds a marker file naming its own identity: the SHA-256 of its
manifest.csv and the list of metadata files and folders it wrote. A folder is a previous
export only when its marker's digest matches its manifest, so a marker copied into another
folder does not make that folder ours. What is ours is exactly the manifest's files, the
metadata the marker lists and the marker itself; anything else (a trained `model.pt`, notes)
is the user's, and replacing the export refuses to delete it unless told to.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

MARKER_NAME = ".imbalance-studio-export.json"
MARKER_FORMAT = "imbalance-studio-export"
MANIFEST_NAME = "manifest.csv"
# Files a later step writes into a finished export (`evaluate` adds its results).
LATER_FILES = ("evaluation.json", "evaluation.png")
# Reading bounds: a marker is a few KiB; a manifest is a few hundred bytes a file.
MARKER_MAX_BYTES = 16 * 2**20
MANIFEST_MAX_BYTES = 4 * 2**30
# Foreign names quoted in a refusal.
NAMED_FOREIGN = 5


@dataclass(frozen=True, slots=True)
class PreviousExport:
    """The files and folders (relative to the export, POSIX) a previous export of ours wrote."""

    files: frozenset[str]
    folders: frozenset[str]


def _read_regular(path: Path, limit: int) -> bytes | None:
    """The bytes of `path` when it is a regular file (not a link, FIFO or device) of at most
    `limit` bytes; None otherwise or when it cannot be read."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 2**24))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        return None if len(data) > limit else data
    except OSError:
        return None
    finally:
        os.close(fd)


def manifest_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_previous(folder: Path) -> PreviousExport | None:
    """The previous export in `folder`, or None when `folder` is not one: no marker, a marker
    of another format or version, or one whose digest does not match the manifest beside it
    (a copied or hand-made marker)."""
    raw = _read_regular(folder / MARKER_NAME, MARKER_MAX_BYTES)
    if raw is None:
        return None
    try:
        marker = json.loads(raw.decode("utf-8"))
        digest = marker["manifest_sha256"]
        metadata, folders = marker["metadata"], marker["folders"]
        ok = (
            marker.get("format") == MARKER_FORMAT
            and isinstance(digest, str)
            and all(isinstance(p, str) for p in [*metadata, *folders])
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if not ok:
        return None
    data = _read_regular(folder / MANIFEST_NAME, MANIFEST_MAX_BYTES)
    if data is None or manifest_digest(data) != digest:
        return None
    try:
        rows = csv.reader(io.StringIO(data.decode("utf-8", "surrogateescape"), newline=""))
        header = next(rows)
        column = header.index("path")
        files = {row[column] for row in rows if len(row) > column}
    except (csv.Error, StopIteration, ValueError):
        return None
    files.update(metadata)
    files.update((MARKER_NAME, MANIFEST_NAME, *LATER_FILES))
    return PreviousExport(frozenset(files), frozenset(folders))


def unrecognised_marker(folder: Path) -> str:
    """Why `folder`'s marker did not make it a previous export (for a one-line refusal), or
    "" when it holds no marker at all."""
    if not os.path.lexists(folder / MARKER_NAME):
        return ""
    raw = _read_regular(folder / MARKER_NAME, MARKER_MAX_BYTES)
    try:
        marker = json.loads(raw.decode("utf-8")) if raw is not None else None
    except ValueError:
        marker = None
    ours = isinstance(marker, dict) and marker.get("format") == MARKER_FORMAT
    if ours and "manifest_sha256" not in marker:
        return (
            "holds an export from an older Imbalance Studio that does not record what it "
            "wrote, so it is not replaced; delete it yourself or choose another folder"
        )
    return (
        "holds an export marker that does not match the manifest.csv beside it (copied or "
        "edited?), so it is not treated as an export; choose an empty or new folder"
    )


def foreign_entries(folder: Path, previous: PreviousExport, limit: int | None = None) -> list[str]:
    """Entries under `folder` that the previous export did not write, as relative paths (a
    foreign folder is named once, with a trailing '/', not walked). Symlinks are never
    followed and count as foreign unless listed; a listed name that is not a plain file (the
    user put a folder there) is foreign too. Stops after `limit` entries when given."""
    found: list[str] = []
    stack = [("", str(folder))]
    while stack and (limit is None or len(found) < limit):
        prefix, path = stack.pop()
        try:
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            found.append(prefix or "./")  # unreadable: we cannot say it holds only ours
            continue
        subdirs = []
        for entry in entries:
            rel = prefix + entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = entry.is_file(follow_symlinks=False)
            except OSError:
                is_dir = is_file = False
            if is_dir:
                if rel in previous.folders:
                    subdirs.append((rel + "/", entry.path))
                else:
                    found.append(rel + "/")
            elif not (is_file and rel in previous.files):
                found.append(rel)
        stack.extend(reversed(subdirs))
    return found if limit is None else found[:limit]


def foreign_message(out: Path, foreign: list[str]) -> str:
    shown = ", ".join(foreign[:NAMED_FOREIGN])
    more = ", …" if len(foreign) > NAMED_FOREIGN else ""
    return (
        f"{out}: the previous export there also holds files it did not write ({shown}{more}); "
        "move them out first, or replace everything in the folder (--overwrite-all)"
    )


def remove_previous(old: Path, previous: PreviousExport) -> list[str]:
    """Delete the previous export's own files and folders from `old`, bottom-up; return what
    is left (entries that appeared meanwhile), or [] once `old` itself is gone.

    Works through folder descriptors opened without following symlinks, so a folder swapped
    for a link meanwhile is never deleted through."""
    try:
        fd = os.open(old, _DIR_FLAGS)
    except OSError:
        return foreign_entries(old, previous)
    try:
        _remove_ours(fd, "", previous)
    finally:
        os.close(fd)
    try:
        old.rmdir()
    except OSError:
        return foreign_entries(old, previous) or ["./"]
    return []


_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)


def _remove_ours(dir_fd: int, prefix: str, previous: PreviousExport) -> None:
    with os.scandir(dir_fd) as it:
        entries = list(it)
    for entry in entries:
        rel = prefix + entry.name
        try:
            if entry.is_dir(follow_symlinks=False):
                if rel not in previous.folders:
                    continue
                fd = os.open(entry.name, _DIR_FLAGS, dir_fd=dir_fd)
                try:
                    _remove_ours(fd, rel + "/", previous)
                finally:
                    os.close(fd)
                os.rmdir(entry.name, dir_fd=dir_fd)
            elif entry.is_file(follow_symlinks=False) and rel in previous.files:
                os.unlink(entry.name, dir_fd=dir_fd)
        except OSError:
            pass  # gone already, or a folder still holding something foreign: left as is
