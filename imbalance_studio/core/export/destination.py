"""Where an export may go, and how it gets there atomically.

The export is written into a hidden, clearly temporary sibling of OUT and renamed into place
only once complete, so a cancelled or crashed export never leaves an OUT that looks finished.
A previous export (recognised by a marker that matches its manifest, see `previous`) is
replaced by renaming it aside, renaming the new one in, then deleting only the files the old
one wrote; a folder holding anything else is refused unless the user asked to replace all.

OUT may not be, lie inside or contain any folder of the dataset: its root, and the real
paths of the class folders and of every folder the scan followed through a symlink.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..fileio import class_real_dirs, dataset_dirs_inside, dataset_folder_of
from .previous import (
    MARKER_FORMAT,
    MARKER_NAME,
    NAMED_FOREIGN,
    foreign_entries,
    foreign_message,
    read_previous,
    remove_previous,
    unrecognised_marker,
)

__all__ = [
    "MARKER_FORMAT",
    "MARKER_NAME",
    "Destination",
    "ExportError",
    "check_destination",
    "is_previous_export",
    "move_into_place",
]

PARTIAL_TAG = ".imbalance-studio-partial-"
OLD_TAG = ".imbalance-studio-old-"
KEPT_TAG = "-kept-files-"
# Room kept free beyond the estimate, as a share of it (directory blocks, allocation slack
# on the file system), and at least this much.
SPACE_MARGIN_SHARE = 0.05
SPACE_MARGIN_MIN = 256 * 1024


class ExportError(Exception):
    """An export that cannot be done (or was stopped); the message is for the user."""


@dataclass(frozen=True, slots=True)
class Destination:
    out: Path  # absolute; its parent exists
    replaces_previous: bool  # OUT is a previous export of ours that will be replaced
    exists_empty: bool  # OUT is an empty folder
    replace_all: bool = False  # also delete what the user added to the previous export


def is_previous_export(folder: Path) -> bool:
    """True when `folder` is a finished export of this program: its marker matches its
    manifest (a marker copied elsewhere does not)."""
    return read_previous(folder) is not None


def _refuse_dataset_overlap(out: Path, real_out: str, root: Path, real_dirs: Iterable[str]) -> None:
    real_dirs = tuple(real_dirs) or class_real_dirs(root)  # resolved once for both checks
    real_root = os.path.realpath(root)
    if real_out == real_root:
        raise ExportError(f"{out}: is the dataset folder itself; choose another folder")
    holder = dataset_folder_of(real_out, root, real_dirs)
    if holder == real_root:
        raise ExportError(
            f"{out}: is inside the dataset folder {real_root}; the dataset is never written to, "
            "choose a folder outside it"
        )
    if holder is not None:
        raise ExportError(
            f"{out}: is inside {holder}, which a class folder of the dataset links to; the "
            "dataset is never written to, choose a folder outside it"
        )
    inside = dataset_dirs_inside(real_out, root, real_dirs)
    if real_root in inside:
        raise ExportError(f"{out}: contains the dataset folder {real_root}; choose another folder")
    if inside:
        raise ExportError(
            f"{out}: contains {inside[0]}, which a class folder of the dataset links to; "
            "choose another folder"
        )


def check_destination(
    dataset_root: Path,
    out: str | os.PathLike[str],
    overwrite: bool,
    *,
    overwrite_all: bool = False,
    real_dirs: Iterable[str] = (),
) -> Destination:
    """Refuse (ExportError) an OUT that would harm the dataset or someone else's files.

    `overwrite` replaces a previous export holding only its own files; `overwrite_all` also
    deletes what the user added to it. `real_dirs` are the scanned `Dataset.real_dirs`
    (without them the class folders' real paths are resolved here)."""
    # "" as typed (an unset variable in a script) would be the working directory: never what
    # was meant. The CLI passes what was typed; Path("") is "." and would pass unseen.
    if not str(out).strip():
        raise ExportError("no folder to export into was given (an empty path)")
    out = Path(os.path.abspath(os.path.expanduser(out)))
    parent = out.parent
    if not parent.is_dir():
        why = "is not a folder" if parent.exists() else "does not exist"
        raise ExportError(f"{parent}: {why}, so {out.name} cannot be made in it")
    real_out = os.path.join(os.path.realpath(parent), out.name)
    _refuse_dataset_overlap(out, real_out, Path(dataset_root), real_dirs)
    if out.is_symlink():
        raise ExportError(f"{out}: is a symbolic link; give the real folder")
    if not out.exists():
        return Destination(out, False, False)
    if not out.is_dir():
        raise ExportError(f"{out}: exists and is not a folder")
    try:
        with os.scandir(out) as entries:  # closed now, not whenever the GC gets to it
            empty = next(entries, None) is None
    except OSError as exc:
        raise ExportError(f"{out}: cannot read folder ({exc.strerror or exc})") from exc
    if empty:
        return Destination(out, False, True)
    previous = read_previous(out)
    if previous is None:
        why = unrecognised_marker(out)
        if why:
            raise ExportError(f"{out}: {why}")
        raise ExportError(
            f"{out}: folder is not empty and is not an export of Imbalance Studio; "
            "choose an empty or new folder"
        )
    if not (overwrite or overwrite_all):
        raise ExportError(
            f"{out}: holds a previous export; choose to replace it (--overwrite) or pick another folder"
        )
    if not overwrite_all:
        foreign = foreign_entries(out, previous, limit=NAMED_FOREIGN + 1)
        if foreign:
            raise ExportError(foreign_message(out, foreign))
    return Destination(out, True, False, overwrite_all)


def same_file_system(a: Path, b: Path) -> bool:
    try:
        return os.stat(a).st_dev == os.stat(b).st_dev
    except OSError:
        return False


def space_needed(estimate: int) -> int:
    """The estimate plus a proportional margin: a small export fits a small volume."""
    return estimate + max(int(estimate * SPACE_MARGIN_SHARE), SPACE_MARGIN_MIN)


def check_free_space(folder: Path, estimate: int) -> None:
    """Refuse when `folder`'s file system has less room than `space_needed(estimate)`
    (`free` counts only what an ordinary user may use, the root reserve left out)."""
    free = shutil.disk_usage(folder).free
    needed = space_needed(estimate)
    if needed > free:
        raise ExportError(
            f"{folder}: not enough free disk space: the export needs about "
            f"{_mib(needed)}, {_mib(free)} is free; free some space or export elsewhere"
        )


def _mib(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB"


def make_partial_dir(out: Path) -> Path:
    """Create the hidden temporary sibling the export is built in."""
    tmp = out.parent / f".{out.name}{PARTIAL_TAG}{secrets.token_hex(4)}"
    tmp.mkdir()
    return tmp


def move_into_place(tmp: Path, dest: Destination) -> Path | None:
    """Rename the finished export to OUT, replacing a previous export of ours if asked.

    Returns None, or the folder beside OUT that keeps what appeared in the replaced export
    while this one was written (never deleted: it is not ours); the caller names it."""
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
        return None
    old = _aside(out, OLD_TAG)
    try:
        os.rename(out, old)
    except FileNotFoundError as exc:
        raise ExportError(f"{out}: the previous export vanished during the export") from exc
    # Checked again once set aside, where nothing can be added to it unseen any more.
    previous = read_previous(old)
    problem = "" if previous is not None else f"{out}: is no longer a previous export; not replaced"
    if previous is not None and not dest.replace_all:
        foreign = foreign_entries(old, previous, limit=NAMED_FOREIGN + 1)
        problem = foreign_message(out, foreign) if foreign else ""
    if previous is None or problem:
        os.rename(old, out)
        raise ExportError(problem)
    try:
        os.rename(tmp, out)
    except OSError:
        os.rename(old, out)
        raise
    if dest.replace_all:
        shutil.rmtree(old, ignore_errors=True)  # never follows symlinks
        return None
    if not remove_previous(old, previous):
        return None
    kept = _aside(out, KEPT_TAG)
    try:
        os.rename(old, kept)  # visible, so the user finds their files
    except OSError:
        return old
    return kept


def _aside(out: Path, tag: str) -> Path:
    return out.parent / f"{'.' if tag.startswith('.') else ''}{out.name}{tag}{secrets.token_hex(4)}"


def remove_partial(tmp: Path) -> None:
    shutil.rmtree(tmp, ignore_errors=True)


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
