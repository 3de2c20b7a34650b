"""Scan an ImageFolder-style tree: list files first (cheap), then check images (decode).

`iter_scan` is THE scan, for the GUI and the CLI alike: list, hand the listing over (a
`Listed` item, so a window shows the dataset before its images are checked), then check
every file in a process pool and return the checked dataset. It is a generator of progress
events whose return value is the result: the GUI's job runner turns it into a progress bar
with Cancel, the CLI drives it with a tqdm bar. `iter_list` / `iter_check` are its two
phases, `scan()` and `check()` their plain-call forms. A check never changes the dataset it
is given (datasets are immutable): it returns a new one.
"""

from __future__ import annotations

import os
import stat
from bisect import bisect_left
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial
from itertools import repeat
from pathlib import Path

from .dataset import IMG_EXTENSIONS, Dataset, Problem, ProblemReason
from .imageio import ImageDecodeError, load_image
from .processes import worker_pool
from .progress import drive
from .safe_read import file_kind

# Below this many images a process pool costs more to start than it saves.
POOL_THRESHOLD = 200
# Images smaller than this many pixels on a side are not training samples (a 1x1 PNG, an
# icon left in a class folder): the scan lists them as problems. A setting of every scan.
MIN_SIDE = 8


class ScanError(Exception):
    """The folder cannot be scanned at all (missing, not a folder, no class folders)."""


@dataclass(frozen=True, slots=True)
class ScanProgress:
    phase: str  # "listing" or "checking"
    done: int
    total: int | None  # None while the total is not known yet
    message: str = ""


@dataclass(frozen=True, slots=True)
class Listed:
    """Yielded by `iter_scan` when listing is done: the dataset can be shown (its images are
    not checked yet; the checked dataset is the scan's return value)."""

    dataset: Dataset


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
        raise ScanError(f"{root}: no class folders (expected one sub-folder per class)")

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


def inspect_file(path: str, min_side: int = MIN_SIDE) -> tuple[Problem | None, int]:
    """Decode one file (JPEG in draft mode): (a `Problem` if it is not usable, its EXIF
    orientation tag). The orientation is 1 for a file that is stored upright (or unusable).

    An image smaller than `min_side` pixels on a side is "too small". A file whose extension
    does not match its content is still usable (ImageFolder's PIL loader opens it) and gets a
    note instead.
    """
    try:
        _, info = load_image(path, max_side=64)
    except ImageDecodeError as exc:
        return Problem(path, exc.reason, exc.detail), 1
    if info.width < min_side or info.height < min_side:
        detail = f"{info.width}×{info.height} px, minimum {min_side} px per side"
        return Problem(path, ProblemReason.TOO_SMALL, detail), 1
    if not info.extension_ok:
        problem = Problem(path, ProblemReason.EXTENSION_MISMATCH, f"content is {info.format}")
        return problem, info.orientation
    return None, info.orientation


def check_file(path: str, min_side: int = MIN_SIDE) -> Problem | None:
    """`inspect_file` without the orientation: the `Problem` of a file, if any."""
    return inspect_file(path, min_side)[0]


def stat_file(path: str) -> Problem | None:
    """The checks one stat can make, without opening the file: a FIFO, device, socket or
    folder with an image name ("not a regular file") and an empty file. What `--quick` does
    instead of decoding, so that no later stage ever opens such a file."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return Problem(path, ProblemReason.UNREADABLE, exc.strerror or str(exc))
    if not stat.S_ISREG(st.st_mode):
        return Problem(path, ProblemReason.NOT_REGULAR, file_kind(st.st_mode))
    if st.st_size == 0:
        return Problem(path, ProblemReason.EMPTY_FILE, "0 bytes")
    return None


def iter_check(
    dataset: Dataset,
    executor: Executor | None = None,
    chunk: int = 64,
    *,
    decode: bool = True,
    min_side: int = MIN_SIDE,
) -> Generator[ScanProgress, None, Dataset]:
    """Decode every sample (with `decode=False`, only stat it: see `stat_file`); yields
    progress, returns a NEW dataset: the samples with an excluding problem left out, every
    problem found listed (with its reason), and (when decoded) the EXIF orientation of every
    file not stored upright. `dataset` itself is unchanged. Pass a process pool as
    `executor` to use every core. Images below `min_side` pixels on a side are "too small".
    """
    rel_paths = dataset.paths
    prefix = str(dataset.root) + os.sep
    abs_paths = [prefix + p for p in rel_paths]
    total = len(abs_paths)
    found: list[Problem] = []
    orientations: dict[str, int] = {}
    one: Callable[[str], tuple[Problem | None, int] | Problem | None]
    one = partial(inspect_file, min_side=min_side) if decode else stat_file
    what = "images" if decode else "files"
    results: Iterable
    results = executor.map(one, abs_paths, chunksize=chunk) if executor else map(one, abs_paths)
    for i, (rel, result) in enumerate(zip(rel_paths, results, strict=True), 1):
        problem, orientation = result if decode else (result, 1)
        if problem is not None:
            found.append(Problem(rel, problem.reason, problem.detail))
        if orientation != 1:
            orientations[rel] = orientation
        if i % chunk == 0 or i == total:
            yield ScanProgress("checking", i, total, f"checked {i} of {total} {what}")
    checked = dataset.with_problems(found)
    return checked.replace(orientations=orientations) if decode else checked


def iter_scan(
    root: str | os.PathLike[str],
    check: bool = True,
    workers: int | None = None,
    *,
    decode: bool = True,
    min_side: int = MIN_SIDE,
) -> Generator[ScanProgress | Listed, None, Dataset]:
    """List `root`, yield `Listed`, then (unless `check` is False) check every file and
    return the checked dataset (`check=False`: the listed one).

    `decode=False` only stats each file (`stat_file`, the CLI's `--quick`); images smaller
    than `min_side` pixels on a side are problems ("too small"). Decoding uses
    a process pool of `workers` processes (None: every core) when there are enough images
    for one to pay off. Closing the generator (a cancelled job, Ctrl+C) cancels the queued
    decodes and waits only for the ones running.
    """
    dataset = yield from iter_list(root)
    yield Listed(dataset)
    if not check:
        return dataset
    n = (os.cpu_count() or 1) if workers is None else workers
    use_pool = decode and n > 1 and len(dataset.paths) > POOL_THRESHOLD
    pool = worker_pool(n) if use_pool else None
    try:
        return (yield from iter_check(dataset, pool, decode=decode, min_side=min_side))
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def scan(
    root: str | os.PathLike[str], progress: Callable[[ScanProgress], None] | None = None
) -> Dataset:
    """List a dataset (no decoding)."""
    return drive(iter_list(root), progress)  # type: ignore[return-value]


def check(
    dataset: Dataset,
    executor: Executor | None = None,
    progress: Callable[[ScanProgress], None] | None = None,
    *,
    decode: bool = True,
    min_side: int = MIN_SIDE,
) -> Dataset:
    """Decode (or with `decode=False` only stat) every sample; returns the new dataset with
    the unusable ones moved to its problems (`dataset` is unchanged)."""
    steps = iter_check(dataset, executor, decode=decode, min_side=min_side)
    return drive(steps, progress)  # type: ignore[return-value]
