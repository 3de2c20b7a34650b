"""Listing an ImageFolder-style tree (the first, cheap phase of a scan): class folders in
torchvision's order, image files by extension, without decoding or a stat per file; what is
not a sample (hidden entries, loose files, other extensions, symlink loops, unreadable
folders) is listed as a problem. `core.scanning` checks the images afterwards.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Generator
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

from .dataset import IMG_EXTENSIONS, Dataset, Problem, ProblemReason
from .text import plural


class ScanError(Exception):
    """The folder cannot be scanned at all (missing, not a folder, no class folders)."""


@dataclass(frozen=True, slots=True)
class ScanProgress:
    phase: str  # "listing" or "checking" ("preparing": the demo dataset is made first)
    done: int
    total: int | None  # None while the total is not known yet
    message: str = ""


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def iter_list(root: str | os.PathLike[str]) -> Generator[ScanProgress, None, Dataset]:
    """List the tree without decoding anything; yields progress, returns the `Dataset`."""
    root = Path(root).expanduser()
    if not root.exists():
        raise ScanError(f"{root}: no such folder")
    if not root.is_dir():
        raise ScanError(f"{root}: not a folder")
    try:
        top = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        raise ScanError(f"{root}: cannot read folder ({exc.strerror or exc})") from exc

    problems: list[Problem] = []
    class_dirs: list[os.DirEntry[str]] = []
    for entry in top:
        if _is_hidden(entry.name):
            problems.append(Problem(entry.name, ProblemReason.HIDDEN, "hidden entries are skipped"))
        elif _is_dir(entry):
            class_dirs.append(entry)
        else:
            problems.append(
                Problem(
                    entry.name,
                    ProblemReason.LOOSE_FILE,
                    "files directly in the root belong to no class",
                )
            )
    if not class_dirs:
        hint = ""
        loose = sum(p.reason == ProblemReason.LOOSE_FILE for p in problems)
        if loose:
            # Images straight in the folder: most often one class folder was opened instead
            # of the dataset folder that holds them all.
            parent = os.path.dirname(os.path.abspath(root)) or str(root)
            hint = (
                f"; its {plural(loose, 'file')} would be one class: open the folder that "
                f"holds the class folders (perhaps {parent})"
            )
        raise ScanError(f"{root}: no class folders (expected one sub-folder per class){hint}")

    # sorted() of the names, exactly as torchvision's find_classes does.
    classes = tuple(sorted(e.name for e in class_dirs))
    paths: list[str] = []
    labels: list[int] = []
    real_dirs: set[str] = {os.path.realpath(root)}
    for index, name in enumerate(classes):
        before = len(paths)
        real_dirs |= _walk_class(root, name, paths, problems)
        labels.extend([index] * (len(paths) - before))
        if len(paths) == before:
            problems.append(Problem(name, ProblemReason.EMPTY_CLASS, "no usable image files"))
        yield ScanProgress("listing", index + 1, len(classes), f"listed {name}")
    return Dataset(
        root, classes, problems=problems, paths=paths, labels=labels, real_dirs=sorted(real_dirs)
    )


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows symlinks, as ImageFolder does
    except OSError:
        return False


def _walk_class(root: Path, name: str, paths: list[str], problems: list[Problem]) -> set[str]:
    # Iterative depth-first walk that follows symlinks like os.walk(followlinks=True), but
    # remembers real directories so a symlink loop is reported instead of recursing forever.
    # Returns those real directories: every one is part of the (read-only) dataset.
    # This loop is the hot path of listing (benchmarks/bench_scan.py): keep per-file work to
    # one is_dir() (d_type, no stat), one endswith and one string.
    start = os.path.join(root, name)
    real_root = os.path.realpath(root)
    seen: set[str] = {os.path.realpath(start)}
    stack = [(start, name)]
    exts = IMG_EXTENSIONS
    while stack:
        path, rel = stack.pop()
        prefix = rel + "/"
        try:
            # listdir + sort is most of the cost; DirEntry objects would cost more than
            # they save, because image-named entries are taken to be files without a stat
            # (a folder named like an image is caught, and reported, by the check phase).
            names = os.listdir(path)
        except OSError as exc:
            problems.append(Problem(rel, ProblemReason.UNREADABLE, exc.strerror or str(exc)))
            continue
        names.sort()
        n_ok = sum(map(str.endswith, names, repeat(exts)))
        # Hidden names (".x.png", macOS "._x.jpg") sort together from "."; one bisect finds
        # whether there are any, so the all-images fast path never takes them in.
        first_dot = bisect_left(names, ".")
        hidden = first_dot < len(names) and names[first_dot][0] == "."
        if n_ok == len(names) and not hidden:
            paths.extend(map(prefix.__add__, names))
            continue
        subdirs: list[tuple[str, str]] = []
        for f in names:
            if f[0] == ".":
                problems.append(
                    Problem(prefix + f, ProblemReason.HIDDEN, "hidden entries are skipped")
                )
            elif f.endswith(exts) or f.lower().endswith(exts):
                paths.append(prefix + f)
            elif os.path.isdir(os.path.join(path, f)):
                subdirs.append((os.path.join(path, f), prefix + f))
            else:
                ext = os.path.splitext(f)[1] or "no extension"
                problems.append(
                    Problem(
                        prefix + f,
                        ProblemReason.UNSUPPORTED_EXTENSION,
                        f"'{ext}' is not an ImageFolder image extension",
                    )
                )
        subdirs.sort()
        for sub_path, sub_rel in reversed(subdirs):
            real = os.path.realpath(sub_path)
            # A link back to the root or above it would pull other classes in: a loop too.
            if real in seen or os.path.commonpath([real, real_root]) == real:
                problems.append(
                    Problem(
                        sub_rel, ProblemReason.SYMLINK_LOOP, "folder already visited; not followed"
                    )
                )
                continue
            seen.add(real)
            stack.append((sub_path, sub_rel))
    return seen
