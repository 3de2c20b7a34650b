"""File names inside an export folder: the original base name kept, unique and safe.

Files that sat in sub-folders of a class folder are flattened into the class folder (their
sub-folder names become a prefix joined with `SUBDIR_SEP`), because ImageFolder and Keras both
read a class folder recursively but a flat folder is what every other tool expects.
"""

from __future__ import annotations

import hashlib
import os
import re

SUBDIR_SEP = "__"
# Control characters, characters Windows refuses in names (the export is often copied to other
# machines), and lone surrogates (undecodable bytes in the source name).
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"\\|?*\ud800-\udfff]')
# The same, plus '/', for a check over many names joined by NUL (which no name contains).
_UNSAFE_OR_SLASH = re.compile(r'[\x01-\x1f\x7f<>:"\\|?*/\ud800-\udfff]')
NAME_MAX = 255  # bytes, on every file system we care about


def safe_name(name: str) -> str:
    """`name` with unsafe characters replaced by '_' and cut to NAME_MAX bytes."""
    if _UNSAFE.search(name):
        name = _UNSAFE.sub("_", name)
    if name.startswith("."):
        name = "_" + name[1:]  # hidden files are skipped by most loaders
    if len(name) > NAME_MAX // 4 and len(name.encode("utf-8")) > NAME_MAX:
        stem, ext = os.path.splitext(name)
        digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:10]
        room = NAME_MAX - len(ext.encode("utf-8")) - len(digest) - 1
        stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore")
        name = f"{stem}-{digest}{ext}"
    return name


def flat_name(class_relative: str) -> str:
    """'sub/dir/a.png' -> 'sub__dir__a.png' (made safe)."""
    if "/" in class_relative:
        class_relative = class_relative.replace("/", SUBDIR_SEP)
    return safe_name(class_relative)


def duplicate_name(name: str, copy: int) -> str:
    stem, ext = os.path.splitext(name)
    return f"{stem}__dup{copy}{ext}"


class FolderNames:
    """Hands out names unique within one folder, case-insensitively (so the export survives a
    copy to macOS or Windows); a collision gets '_1', '_2', ... before the extension."""

    __slots__ = ("_taken",)

    def __init__(self, taken: set[str] | None = None) -> None:
        self._taken: set[str] = taken if taken is not None else set()

    def __len__(self) -> int:
        return len(self._taken)

    def claim(self, name: str) -> str:
        key = name.casefold()
        if key not in self._taken:
            self._taken.add(key)
            return name
        stem, ext = os.path.splitext(name)
        n = 1
        while True:
            candidate = f"{stem}_{n}{ext}"
            key = candidate.casefold()
            if key not in self._taken:
                self._taken.add(key)
                return candidate
            n += 1


def original_names(class_relative: list[str]) -> tuple[list[str], FolderNames]:
    """Export names of a class's originals (paths relative to the class folder), and the
    folder's name register for what gets added after them.

    The usual case, flat folders of plain unique names, is checked in one pass over all names
    and costs no per-file Python work; anything else goes name by name.
    """
    joined = "\x00".join(class_relative)
    if (
        not _UNSAFE_OR_SLASH.search(joined)
        and not joined.startswith(".")
        and "\x00." not in joined
        and max(map(len, class_relative), default=0) <= NAME_MAX // 4
    ):
        taken = FolderNames(set(joined.casefold().split("\x00")) if joined else set())
        if len(taken) == len(class_relative):
            return list(class_relative), taken
    taken = FolderNames()
    return [taken.claim(flat_name(n)) for n in class_relative], taken
