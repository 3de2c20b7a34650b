"""Paths relative to the dataset root, as marks hold them: checked so none points outside it."""

from __future__ import annotations

import re
from collections.abc import Collection


def check_rel_path(path: str) -> str:
    """Return `path` if it is a clean POSIX path inside the dataset root, else raise ValueError.

    Rejects absolute paths, drive letters, backslashes (a Windows `..\\..` trick), empty, `.`
    and `..` components: a mark must never point outside the root.
    """
    if not isinstance(path, str) or not path:
        raise ValueError("empty path")
    if "\\" in path or "\x00" in path:
        raise ValueError(f"{path!r}: backslashes and NUL are not allowed in paths")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise ValueError(
            f"{path!r}: absolute paths are not allowed (paths are relative to the root)"
        )
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise ValueError(f"{path!r}: escapes the dataset root or is not a clean relative path")
    return path


# What `check_rel_path` rejects, as text in the "\n"-joined paths (each path between two
# newlines): a backslash or NUL, a leading "/", an empty path, an empty, "." or ".." component;
# and a drive letter ("C:"), by a pattern run only when a colon occurs at all.
_BAD_IN_JOINED = (
    *("\\", "\x00", "\n/", "\n\n", "//", "/\n"),
    *(a + dots + b for dots in (".", "..") for a in "\n/" for b in "\n/"),
)
_DRIVE_IN_JOINED = re.compile(r"\n[^\n]:")


def check_rel_paths(paths: Collection[str]) -> None:
    """`check_rel_path` for many paths at once: a few substring searches over the joined
    paths, in C (marking 10,000 images checked each path in Python, ~20 ms on the GUI thread).
    When anything looks wrong, or a path holds a newline, each path is checked on its own, so
    the error names the path as `check_rel_path` does."""
    try:
        joined = "\n" + "\n".join(paths) + "\n"
    except TypeError:
        joined = None  # not all strings
    if (
        joined is None
        or joined.count("\n") != len(paths) + 1
        or any(bad in joined for bad in _BAD_IN_JOINED)
        or (":" in joined and _DRIVE_IN_JOINED.search(joined))
    ):
        for path in paths:
            check_rel_path(path)
