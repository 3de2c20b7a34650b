"""Atomic file writes shared by the project file, stack files and autosaves, and the one
test of whether a path lies inside the (read-only) dataset folder."""

from __future__ import annotations

import os
import tempfile
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


def is_inside(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """True when `path` is `root` or lies under it, after resolving symlinks."""
    try:
        real, real_root = Path(os.path.realpath(path)), Path(os.path.realpath(root))
    except OSError:
        return False
    return real == real_root or real_root in real.parents


def _umask() -> int:
    # Reading the umask means setting it; do it once, at import, not from worker threads.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()
