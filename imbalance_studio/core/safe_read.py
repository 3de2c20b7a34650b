"""Reading input files without hanging, filling memory or crashing on their shape.

Every file the product reads back (project, autosave, stack, generation record, image) may
be something other than what its name says: a FIFO (opening it blocks until a writer comes),
a link to /dev/zero (endless bytes), a socket, a device (opening some has side effects), a
/proc-like file that reports size 0 and yields more, or JSON nested 100,000 levels deep
(the parser recurses). So a file is stat'ed and refused unless it is a regular file, opened
with O_NONBLOCK (a FIFO swapped in after the stat cannot block the open), checked again on the
open descriptor, and read only up to its limit; JSON is parsed with its depth bounded.
"""

from __future__ import annotations

import json
import os
import stat
from typing import Any

# Limits. A project holds one entry per marked sample (~80 bytes each), so its limit is the
# largest: ~800,000 marks. Everything else is small by nature.
PROJECT_MAX_BYTES = 64 * 1024 * 1024
STACK_MAX_BYTES = 4 * 1024 * 1024
RECORD_MAX_BYTES = 4 * 1024 * 1024
# Our own files nest about 10 levels; albumentations pipelines (OneOf inside Compose ...) a
# few more. 100 leaves room and stays far below Python's recursion limit, so no code that
# walks a parsed document recursively can crash on it.
MAX_JSON_DEPTH = 100

_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)

NOT_REGULAR = "not a regular file"


class InputFileError(ValueError):
    """A file refused before or while reading it; the message is one line, fit for the user."""


class NotRegularFileError(InputFileError):
    """The path is a FIFO, device, socket or folder, not a regular file."""

    def __init__(self, path: str | os.PathLike[str], kind: str, what: str = "") -> None:
        self.path = os.fspath(path)
        self.kind = kind  # "a FIFO", "a character device", ...
        need = f"; {what} must be a regular file" if what else ""
        super().__init__(f"{self.path}: {NOT_REGULAR} ({kind}){need}")


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words ("a FIFO", "a socket", ...)."""
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a special file"


def open_regular(path: str | os.PathLike[str], what: str = "") -> tuple[int, os.stat_result]:
    """Open a regular file for reading: (descriptor, its fstat). The caller closes it.

    Raises NotRegularFileError for anything else (symlinks are followed, to what they point
    at) and OSError when the file cannot be opened. The path is stat'ed before it is opened,
    because merely opening some devices does something (a watchdog starts, a tape rewinds),
    and the descriptor is checked again because the path may have changed in between.
    """
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFileError(path, file_kind(st.st_mode), what)
    fd = os.open(path, _OPEN_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFileError(path, file_kind(st.st_mode), what)
        # O_NONBLOCK means nothing for a regular file's reads, so it may stay set.
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def is_regular_file(path: str | os.PathLike[str]) -> bool:
    """True for a regular file (or a link to one); False for anything else or no file."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def read_bounded_bytes(path: str | os.PathLike[str], limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; InputFileError otherwise.

    `what` names the file for the message ("a project file", "an augmentation stack").
    """
    fd, st = open_regular(path, what)
    with open(fd, "rb", closefd=True) as fh:
        if st.st_size > limit:
            raise InputFileError(_too_large(path, what, st.st_size, limit))
        # The size a file reports can lie (/proc, FUSE, a file still growing): read up to one
        # byte past the limit to know without reading everything. Read what the file says it
        # holds first, then in small pieces: read(limit + 1) would allocate the whole limit
        # at once, which fails under an address-space cap once torch is loaded.
        chunks, got, want = [], 0, min(limit, st.st_size) + 1
        while got <= limit:
            chunk = fh.read(min(want, limit + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
            want = 1 << 20
        data = b"".join(chunks)
    if len(data) > limit:
        raise InputFileError(_too_large(path, what, None, limit))
    return data


def read_bounded_text(path: str | os.PathLike[str], limit: int, what: str) -> str:
    """`read_bounded_bytes` decoded as UTF-8 (UnicodeDecodeError propagates)."""
    return read_bounded_bytes(path, limit, what).decode("utf-8")


def loads_bounded(text: str | bytes, source: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`json.loads` that refuses documents nested more than `max_depth` levels with a
    one-line InputFileError ("`source`: nested too deeply ...") instead of a RecursionError
    (json's parser recurses). JSONDecodeError propagates for the caller to word."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise InputFileError(_too_deep(source, max_depth)) from None
    check_depth(data, source, max_depth)
    return data


def load_json_bounded(
    path: str | os.PathLike[str], limit: int, what: str, max_depth: int = MAX_JSON_DEPTH
) -> Any:
    """A regular JSON file below `limit` bytes and `max_depth` levels, parsed."""
    return loads_bounded(read_bounded_text(path, limit, what), os.fspath(path), max_depth)


def check_depth(data: Any, source: str, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise InputFileError when lists/dicts in parsed JSON/YAML nest deeper than `max_depth`.

    Iterative (level by level), so it cannot itself run out of stack, and it only ever
    holds containers: a million marks cost one quick pass over a million small dicts. (A
    structure with cycles counts as too deep: its depth grows on every lap.)
    """
    level = [data] if type(data) in _CONTAINERS else []
    depth = 1
    while level:
        if depth > max_depth:
            raise InputFileError(_too_deep(source, max_depth))
        below: list[Any] = []
        add = below.extend
        for node in level:
            # Parsers make plain dicts and lists, so exact type tests (fast) are enough.
            add(
                [
                    c
                    for c in (node.values() if type(node) is dict else node)
                    if type(c) in _CONTAINERS
                ]
            )
        level = below
        depth += 1


_CONTAINERS = frozenset({dict, list, tuple})


def _too_deep(source: str, max_depth: int) -> str:
    return f"{source}: nested too deeply (more than {max_depth} levels of lists or objects)"


def _too_large(path: str | os.PathLike[str], what: str, size: int | None, limit: int) -> str:
    got, cap = (_mb(size) if size is not None else ""), _mb(limit)
    if got == cap:  # limit + 1 byte must not read "64.0 MB; the limit is 64.0 MB"
        got, cap = f"{size:,} bytes", f"{limit:,} bytes"
    got = f"{got}; " if got else ""
    where = f"{os.fspath(path)}: too large for {what}"
    return f"{where} ({got}the limit is {cap}); is it the right file?"


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"
