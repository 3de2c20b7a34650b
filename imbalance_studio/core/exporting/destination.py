"""Where an export may go, and how it gets there atomically.

The export is written into a hidden, clearly temporary sibling of OUT and renamed into place
only once complete, so a cancelled or crashed export never leaves an OUT that looks finished.
A previous export (recognised by its marker file) is replaced by renaming it aside, renaming
the new one in, then deleting the old one.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

MARKER_NAME = ".imbalance-studio-export.json"
MARKER_FORMAT = "imbalance-studio-export"
PARTIAL_TAG = ".imbalance-studio-partial-"
OLD_TAG = ".imbalance-studio-old-"
# Room kept free beyond the estimate: metadata files, directory blocks, file-system reserve.
SPACE_MARGIN = 16 * 1024 * 1024


class ExportError(Exception):
    """An export that cannot be done (or was stopped); the message is for the user."""


@dataclass(frozen=True, slots=True)
class Destination:
    out: Path  # absolute; its parent exists
    replaces_previous: bool  # OUT is a previous export of ours that will be replaced
    exists_empty: bool  # OUT is an empty folder


def is_previous_export(folder: Path) -> bool:
    """True when `folder` holds our marker file (a finished export of this program)."""
    try:
        with open(folder / MARKER_NAME, encoding="utf-8") as fh:
            return json.load(fh).get("format") == MARKER_FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _inside(child: str, parent: str) -> bool:
    return os.path.commonpath([child, parent]) == parent


def check_destination(dataset_root: Path, out: Path, overwrite: bool) -> Destination:
    """Refuse (ExportError) an OUT that would harm the dataset or someone else's files."""
    out = Path(os.path.abspath(os.path.expanduser(out)))
    root = os.path.realpath(dataset_root)
    parent = out.parent
    if not parent.is_dir():
        raise ExportError(f"{parent}: the folder to export into does not exist")
    real_out = os.path.join(os.path.realpath(parent), out.name)
    if real_out == root:
        raise ExportError(f"{out}: is the dataset folder itself; choose another folder")
    if _inside(real_out, root):
        raise ExportError(
            f"{out}: is inside the dataset folder {root}; the dataset is never written to, "
            "choose a folder outside it"
        )
    if _inside(root, real_out):
        raise ExportError(f"{out}: contains the dataset folder {root}; choose another folder")
    if out.is_symlink():
        raise ExportError(f"{out}: is a symbolic link; give the real folder")
    if not out.exists():
        return Destination(out, False, False)
    if not out.is_dir():
        raise ExportError(f"{out}: exists and is not a folder")
    try:
        empty = next(os.scandir(out), None) is None
    except OSError as exc:
        raise ExportError(f"{out}: cannot read folder ({exc.strerror or exc})") from exc
    if empty:
        return Destination(out, False, True)
    if not is_previous_export(out):
        raise ExportError(
            f"{out}: folder is not empty and is not an export of Imbalance Studio; "
            "choose an empty or new folder"
        )
    if not overwrite:
        raise ExportError(
            f"{out}: holds a previous export; choose to replace it (--overwrite) or pick another folder"
        )
    return Destination(out, True, False)


def same_file_system(a: Path, b: Path) -> bool:
    try:
        return os.stat(a).st_dev == os.stat(b).st_dev
    except OSError:
        return False


def check_free_space(folder: Path, needed: int) -> None:
    free = shutil.disk_usage(folder).free
    if needed + SPACE_MARGIN > free:
        raise ExportError(
            f"{folder}: not enough free disk space: the export needs about "
            f"{_mib(needed + SPACE_MARGIN)}, {_mib(free)} is free"
        )


def _mib(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB"


def make_partial_dir(out: Path) -> Path:
    """Create the hidden temporary sibling the export is built in."""
    tmp = out.parent / f".{out.name}{PARTIAL_TAG}{secrets.token_hex(4)}"
    tmp.mkdir()
    return tmp


def move_into_place(tmp: Path, dest: Destination) -> None:
    """Rename the finished export to OUT, replacing a previous export of ours if asked."""
    out = dest.out
    if not dest.replaces_previous:
        try:
            # rename(2) replaces an empty folder atomically and fails on a non-empty one, so a
            # folder that filled up since the check is never clobbered.
            os.rename(tmp, out)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                raise ExportError(f"{out}: appeared or filled up during the export") from exc
            raise
        return
    if not is_previous_export(out):
        raise ExportError(f"{out}: is no longer a previous export; not replaced")
    old = out.parent / f".{out.name}{OLD_TAG}{secrets.token_hex(4)}"
    os.rename(out, old)
    try:
        os.rename(tmp, out)
    except OSError:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def remove_partial(tmp: Path) -> None:
    shutil.rmtree(tmp, ignore_errors=True)


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
