"""The link/copy engine: one tight loop of syscalls per file, nothing else.

Originals are written byte for byte: a hard link when allowed and possible, else a kernel-side
copy (copy_file_range, which may also reflink), never a decode/re-encode. The one exception
is an original stored rotated (an EXIF orientation tag), written turned upright by
`upright.write_upright` (its kind is UPRIGHT). This loop is the hot path of an export
(benchmarks/bench_export.py compares it with `cp -al` and `cp -r`).
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import suppress

from ..safe_read import NotRegularFileError, file_kind, open_regular

# Errors after which a hard link is impossible for this file but a copy will do.
_LINK_FALLBACK = frozenset(
    {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EACCES, errno.ENOTSUP, errno.EOPNOTSUPP}
)
_CHUNK = 1 << 30
_SWITCH_INTERVAL = 0.0002  # seconds
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)

_use_copy_file_range = hasattr(os, "copy_file_range")

# The kind of an item that is written turned upright (others are True: may be hard-linked,
# False: copied).
UPRIGHT = "upright"


def copy_file(src: str, dst: str) -> None:
    """Copy the bytes of `src` to a new file `dst` (which must not exist).

    Raises NotRegularFileError (nothing written) when `src` is not a regular file: a FIFO
    would block the copy, a link to /dev/zero would fill the disk."""
    global _use_copy_file_range
    fin, _ = open_regular(src)
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


Result = tuple[int, int, list[int], str | None, dict[int, str], int, dict[int, str]]


def _write_upright(srcs: Sequence[str], dsts: Sequence[str], start: int, stop: int) -> Result:
    # Decoding is for the few originals stored rotated: this module stays syscalls only.
    from ..dataset import ProblemReason
    from ..imageio import ImageDecodeError
    from .upright import write_upright

    missing: list[int] = []
    refused: dict[int, str] = {}
    failed: dict[int, str] = {}
    for i in range(start, stop):
        try:
            write_upright(srcs[i], dsts[i])
        except ImageDecodeError as exc:
            if exc.reason == ProblemReason.NOT_REGULAR:
                refused[i] = exc.detail
            elif not os.path.lexists(srcs[i]):
                missing.append(i)
            else:
                failed[i] = exc.reason
        except (OSError, ValueError) as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise  # the disk (full, read-only): the export stops and says so
            failed[i] = str(exc) or type(exc).__name__  # Pillow cannot write this image
    done = stop - start - len(missing) - len(refused) - len(failed)
    return 0, 0, missing, None, refused, done, failed


def _write_range(
    srcs: Sequence[str], dsts: Sequence[str], start: int, stop: int, link: bool | str
) -> Result:
    """Write items start..stop-1 -> (linked, copied, missing indices, link failure,
    {index: what it is} of sources that are not regular files, which are not written,
    turned upright, {index: reason} of sources that no longer decode). `link` is True
    (hard-link), False (copy) or UPRIGHT."""
    if link == UPRIGHT:
        return _write_upright(srcs, dsts, start, stop)
    copied = 0
    missing: list[int] = []
    refused: dict[int, str] = {}
    failure: str | None = None
    if link:
        os_link = os.link
        # No per-file bookkeeping on the happy path: counts are worked out afterwards. What
        # was linked is checked once the writing is done (`take_back_special_links`).
        for i in range(start, stop):
            try:
                os_link(srcs[i], dsts[i])
            except FileNotFoundError:
                missing.append(i)
            except OSError as exc:
                if exc.errno not in _LINK_FALLBACK:
                    raise
                failure = failure or (exc.strerror or str(exc))
                try:
                    copy_file(srcs[i], dsts[i])
                    copied += 1
                except NotRegularFileError as bad:
                    refused[i] = bad.kind
        linked = stop - start - copied - len(missing) - len(refused)
    else:
        linked = 0
        for i in range(start, stop):
            try:
                copy_file(srcs[i], dsts[i])
            except NotRegularFileError as bad:
                refused[i] = bad.kind
            except FileNotFoundError:
                if os.path.exists(srcs[i]):
                    raise
                missing.append(i)
        copied = stop - start - len(missing) - len(refused)
    return linked, copied, missing, failure, refused, 0, {}


def take_back_special_links(
    writer: FileWriter, dsts: Sequence[str], folders: Iterable[str] | None = None
) -> None:
    """A source replaced by a FIFO or a device since the scan was hard-linked as one: take
    each such name back out and count it refused. What a name was linked to is what it holds
    (no race: the inode's type cannot change), so one directory listing per output folder
    tells it (the entry's type comes with the listing: no syscall per file, where a `lstat`
    after every link cost a tenth of an export by links). `folders`: those holding `dsts`
    (None: worked out from them)."""
    if not writer.link or not writer.linked:
        return
    if folders is None:
        folders = {d.rpartition("/")[0] for d in dsts}
    special: list[str] = []
    for folder in folders:
        with os.scandir(folder) as entries:
            special += [e.path for e in entries if not e.is_file(follow_symlinks=False)]
    if not special:
        return
    index = {d: i for i, d in enumerate(dsts)}
    found = {index[p] for p in special if p in index}
    unnamed = {p.rpartition("/")[0] for p in special if p not in index}
    if unnamed:
        # A listing that spells a name otherwise than we did (HFS+ stores names decomposed):
        # those folders' files are looked at one by one, as before.
        for i, d in enumerate(dsts):
            if d.rpartition("/")[0] in unnamed:
                with suppress(FileNotFoundError):
                    if not stat.S_ISREG(os.lstat(d).st_mode):
                        found.add(i)
    for i in sorted(found - writer.refused.keys()):
        kind = file_kind(os.lstat(dsts[i]).st_mode)
        os.unlink(dsts[i])
        writer.refused[i] = kind
        writer.linked -= 1


class FileWriter:
    """Writes (src, dst) pairs, counting links and copies and remembering missing sources.

    Counters are updated only from the thread that drives `write_all`."""

    def __init__(self, link: bool) -> None:
        self.link = link
        self.linked = 0
        self.copied = 0
        self.missing: list[int] = []  # indices whose source vanished
        self.refused: dict[int, str] = {}  # index -> kind, of sources not regular files
        self.link_failure: str | None = None  # why links fell back to copies, if they did
        self.upright = 0  # originals written turned upright (EXIF orientation)
        self.undecodable: dict[int, str] = {}  # index -> reason, of those that did not decode

    def jobs(
        self, links: Sequence[bool | str], start: int, stop: int
    ) -> list[tuple[int, int, bool | str]]:
        """(start, stop, link) runs of one step, split where the link/copy choice changes
        (originals may be linked, generated images are always copied, originals stored
        rotated are written UPRIGHT)."""
        out: list[tuple[int, int, bool | str]] = []
        i = start
        while i < stop:
            j = i + 1
            while j < stop and links[j] == links[i]:
                j += 1
            kind = links[i]
            out.append((i, j, kind if kind == UPRIGHT else bool(kind) and self.link))
            i = j
        return out

    def add(self, result: Result) -> None:
        linked, copied, missing, failure, refused, upright, undecodable = result
        self.linked += linked
        self.copied += copied
        self.missing.extend(missing)
        self.refused.update(refused)
        self.link_failure = self.link_failure or failure
        self.upright += upright
        self.undecodable.update(undecodable)


def write_all(
    writer: FileWriter,
    srcs: Sequence[str],
    dsts: Sequence[str],
    links: Sequence[bool | str],
    step: int = 512,
    pool: Executor | None = None,
    folders: Iterable[str] | None = None,
) -> Iterator[int]:
    """Write every pair in steps, yielding the number of files done (for progress); the
    first value, 0, comes once the writing has started (queued in the pool, if any).

    With a `pool` (of threads) the steps run in it (the syscalls release the GIL); steps
    are handed out alternately from the front and the back half of the list so threads
    mostly work in different class folders and do not queue on one directory's lock. Closing
    the generator cancels the steps not started and waits for the running ones, so nothing is
    written after it returns.
    """
    n = len(srcs)
    steps = [(a, min(a + step, n)) for a in range(0, n, step)]
    if pool is None or len(steps) < 2:
        yield 0
        for a, b in steps:
            for job in writer.jobs(links, a, b):
                writer.add(_write_range(srcs, dsts, *job))
            yield b
        take_back_special_links(writer, dsts, folders)
        return
    half = (len(steps) + 1) // 2
    order = []
    for k in range(half):
        order.append(steps[k])
        if half + k < len(steps):
            order.append(steps[half + k])
    # The writer threads spend their time in syscalls and need the GIL only for a moment
    # between two; with Python's default 5 ms switch interval they queue behind each other
    # (and behind the caller) far longer than the syscall takes. A short interval while the
    # pool writes measured ~20% faster (benchmarks/bench_export.py); restored afterwards.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, _SWITCH_INTERVAL))
    futures = [
        (
            b - a,
            [pool.submit(_write_range, srcs, dsts, *job) for job in writer.jobs(links, a, b)],
        )
        for a, b in order
    ]
    try:
        yield 0  # everything is queued: the caller may do other work while the pool writes
        done = 0
        for size, parts in futures:
            for f in parts:
                writer.add(f.result())
            done += size
            yield done
        take_back_special_links(writer, dsts, folders)
    finally:
        # Steps not started never start; the caller's pool shutdown waits for running ones.
        for _, parts in futures:
            for f in parts:
                f.cancel()
        for _, parts in futures:
            for f in parts:
                if not f.cancelled():
                    f.exception()  # wait: nothing may write once this generator is closed
        sys.setswitchinterval(interval)
