"""Atomic file writes shared by the project file, stack files and autosaves, and the one
test of whether a path lies inside the (read-only) dataset: its root or any folder it reads
through a symlink."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` atomically: temp file in the same folder, fsync, os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes 0600 files; a project or stack file is meant to be shared like any
        # file the user saves, so it gets the usual permissions (0666 less the umask).
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable; not possible on every platform
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def class_real_dirs(root: str | os.PathLike[str]) -> tuple[str, ...]:
    """The real paths of the dataset root and of its class folders, found without a scan.

    A cheap stand-in for `Dataset.real_dirs` when only the root is known: one scandir of the
    root's top level and a realpath of each symlinked class entry (a class folder that is a
    symlink makes its target part of the dataset). Sub-folders linked deeper inside a class
    are only known to a full scan."""
    real_root = os.path.realpath(root)
    dirs = [real_root]
    try:
        with os.scandir(real_root) as entries:
            for entry in entries:
                # The scan skips hidden entries and reads only folders (symlinks followed).
                if entry.name.startswith(".") or not entry.is_symlink():
                    continue
                real = os.path.realpath(entry.path)
                if os.path.isdir(real):
                    dirs.append(real)
    except OSError:
        pass  # an unreadable root holds no class folders we could read either
    return tuple(dirs)


def dataset_folder_of(
    path: str | os.PathLike[str],
    root: str | os.PathLike[str],
    real_dirs: Iterable[str] = (),
) -> str | None:
    """The dataset folder that holds `path` after resolving symlinks (the real root, or a real
    folder in `real_dirs`, a scanned `Dataset.real_dirs`), or None when it lies outside all of
    them. Without `real_dirs` the class folders are resolved now (`class_real_dirs`), so the
    rule holds without a scan."""
    dirs = set(real_dirs) or set(class_real_dirs(root))
    real_root = os.path.realpath(root)
    dirs.add(real_root)
    try:
        real = Path(os.path.realpath(os.path.abspath(path)))
    except (OSError, ValueError):
        return None  # e.g. a NUL in the name: no file can be written there either
    # Walking up the path's ancestors costs its depth, not the number of folders read; the
    # root is preferred so a plain path inside the dataset is named as such.
    candidates = [str(real), *map(str, real.parents)]
    if real_root in candidates:
        return real_root
    return next((c for c in candidates if c in dirs), None)


def is_inside_dataset(
    path: str | os.PathLike[str],
    root: str | os.PathLike[str],
    real_dirs: Iterable[str] = (),
) -> bool:
    """True when `path` is or lies under the dataset root or a folder it reads through a
    symlink (see `dataset_folder_of`)."""
    return dataset_folder_of(path, root, real_dirs) is not None


def where_in_dataset(folder: str, root: str | os.PathLike[str]) -> str:
    """Names the dataset folder `folder` (from `dataset_folder_of`) for a one-line refusal:
    "inside the dataset folder" or "inside X, which a class folder of the dataset links to"
    (the user may not know that X belongs to the dataset)."""
    if folder == os.path.realpath(root):
        return "inside the dataset folder"
    return f"inside {folder}, which a class folder of the dataset links to"


def dataset_dirs_inside(
    folder: str | os.PathLike[str],
    root: str | os.PathLike[str],
    real_dirs: Iterable[str] = (),
) -> list[str]:
    """The dataset's real folders (root, class folders, followed links) that lie inside
    `folder` after resolving symlinks: deleting or replacing `folder` would touch them."""
    dirs = set(real_dirs) or set(class_real_dirs(root))
    dirs.add(os.path.realpath(root))
    real = os.path.realpath(os.path.abspath(folder))
    prefix = real.rstrip("/") + "/"
    return sorted(d for d in dirs if d == real or d.startswith(prefix))


def _umask() -> int:
    # Reading the umask means setting it; do it once, at import, not from worker threads.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()
