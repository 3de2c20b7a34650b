"""The link/copy engine: one tight loop of syscalls per file, nothing else.

Originals are written byte for byte: a hard link when allowed and possible, else a kernel-side
copy (copy_file_range, which may also reflink), never a decode/re-encode. This loop is the hot
path of an export (benchmarks/bench_export.py compares it with `cp -al` and `cp -r`).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator, Sequence

# Errors after which a hard link is impossible for this file but a copy will do.
_LINK_FALLBACK = frozenset(
    {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EACCES, errno.ENOTSUP, errno.EOPNOTSUPP}
)
_CHUNK = 1 << 30
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)

_use_copy_file_range = hasattr(os, "copy_file_range")


def copy_file(src: str, dst: str) -> None:
    """Copy the bytes of `src` to a new file `dst` (which must not exist)."""
    global _use_copy_file_range
    fin = os.open(src, _READ)
    try:
        fout = os.open(dst, _CREATE, 0o644)
        try:
            if _use_copy_file_range:
                try:
                    while os.copy_file_range(fin, fout, _CHUNK):
                        pass
                    return
                except OSError as exc:
                    if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                        raise
                    _use_copy_file_range = False  # this kernel / file system cannot; stop trying
                    os.lseek(fin, 0, os.SEEK_SET)
                    os.lseek(fout, 0, os.SEEK_SET)
                    os.ftruncate(fout, 0)
            while data := os.read(fin, 1 << 20):
                os.write(fout, data)
        finally:
            os.close(fout)
    finally:
        os.close(fin)


class FileWriter:
    """Writes (src, dst) pairs, counting links and copies and remembering missing sources."""

    def __init__(self, link: bool) -> None:
        self.link = link
        self.linked = 0
        self.copied = 0
        self.missing: list[int] = []  # indices whose source vanished
        self.link_failure: str | None = None  # why links fell back to copies, if they did

    def write(
        self, srcs: Sequence[str], dsts: Sequence[str], start: int, stop: int, link: bool
    ) -> None:
        """Write items start..stop-1; `link` False forces copies (generated images)."""
        link = link and self.link
        linked = copied = 0
        missing = self.missing
        if link:
            os_link = os.link
            for i in range(start, stop):
                try:
                    os_link(srcs[i], dsts[i])
                    linked += 1
                except FileNotFoundError:
                    missing.append(i)
                except OSError as exc:
                    if exc.errno not in _LINK_FALLBACK:
                        raise
                    self.link_failure = self.link_failure or (exc.strerror or str(exc))
                    copy_file(srcs[i], dsts[i])
                    copied += 1
        else:
            for i in range(start, stop):
                try:
                    copy_file(srcs[i], dsts[i])
                    copied += 1
                except FileNotFoundError:
                    if os.path.exists(srcs[i]):
                        raise
                    missing.append(i)
        self.linked += linked
        self.copied += copied


def write_all(
    writer: FileWriter,
    srcs: Sequence[str],
    dsts: Sequence[str],
    links: Sequence[bool],
    step: int = 512,
) -> Iterator[int]:
    """Write every pair in steps, yielding the number done after each step (for progress)."""
    n = len(srcs)
    start = 0
    while start < n:
        stop = min(start + step, n)
        # Split the step where the link/copy choice changes (originals vs generated images).
        i = start
        while i < stop:
            j = i + 1
            while j < stop and links[j] == links[i]:
                j += 1
            writer.write(srcs, dsts, i, j, links[i])
            i = j
        start = stop
        yield stop
