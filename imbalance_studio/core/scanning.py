"""Scan an ImageFolder-style tree: list files first (cheap), then check images (decode).

`iter_scan` is THE scan, for the GUI and the CLI alike: list, hand the listing over (a
`Listed` item, so a window shows the dataset before its images are checked), then check
every file in a process pool and return the checked dataset. It is a generator of progress
events whose return value is the result: the GUI's job runner turns it into a progress bar
with Cancel, the CLI drives it with a tqdm bar. `iter_list` / `iter_check` are its two
phases (`iter_list` in `core.listing`), `scan()` and `check()` their plain-call forms. A check never changes the dataset it
is given (datasets are immutable): it returns a new one.

Check results are kept in the dataset's file cache (`core.check_cache`): a reopened folder
decodes only the files that are new or changed since (by size and mtime).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .dataset import Dataset, Problem, ProblemReason
from .imageio import ImageDecodeError, extension_matches, verify_image
from .listing import ScanProgress, iter_list
from .processes import worker_pool
from .progress import drive
from .safe_read import file_kind

if TYPE_CHECKING:
    from .file_cache import FileCache

# Below this many images a process pool costs more to start than it saves.
POOL_THRESHOLD = 200
# Images smaller than this many pixels on a side are not training samples (a 1x1 PNG, an
# icon left in a class folder): the scan lists them as problems. A setting of every scan.
MIN_SIDE = 8
# Files per task sent to a worker: few enough that progress moves and a cancel waits little,
# enough that the per-task cost of the pool (pickling, queues, wake-ups) stays small.
MAX_BATCH = 128

# A checked file: (reason or None, detail, size, mtime_ns, width, height, EXIF orientation);
# size -1 when not to be cached. Facts, not the verdict: the minimum size is applied after
# (`verdict`), so a cached check serves any --min-size.
Checked = tuple[str | None, str, int, int, int, int, int]
# What the cache keeps of a check: (reason or None, detail, width, height, EXIF orientation).
Facts = tuple[str | None, str, int, int, int]


@dataclass(frozen=True, slots=True)
class Listed:
    """Yielded by `iter_scan` when listing is done: the dataset can be shown (its images are
    not checked yet; the checked dataset is the scan's return value)."""

    dataset: Dataset


@dataclass(frozen=True, slots=True)
class Known(Listed):
    """`Listed`, for a folder whose listing is unchanged since its last complete check: the
    dataset carries that check's verdicts (problems, orientations), so a window shows them at
    once. Still to be verified: the scan then stats every file against the cache, checks the
    changed ones again, and returns the verified dataset: this very dataset object when the
    verification changed nothing."""


def check_file(path: str) -> Checked:
    """Read one whole file (`imageio.verify_image`: a JPEG at its smallest DCT scale): the
    problem found (or None), with the size and mtime (fstat of the descriptor read) the
    result belongs to, and the image's displayed size and EXIF orientation. Size -1 for a
    verdict not to be cached (unreadable, not a regular file).

    A file whose extension does not match its content is still usable (ImageFolder's PIL
    loader opens it) and gets a note instead.
    """
    try:
        v = verify_image(path)
    except ImageDecodeError as exc:
        st = exc.file_stat
        if st is None or exc.reason == ProblemReason.UNREADABLE:
            return exc.reason, exc.detail, -1, -1, 0, 0, 1
        return exc.reason, exc.detail, st.st_size, st.st_mtime_ns, 0, 0, 1
    size, mtime = v.stat.st_size, v.stat.st_mtime_ns
    if not extension_matches(path, v.format):
        reason = ProblemReason.EXTENSION_MISMATCH
        return reason, f"content is {v.format}", size, mtime, v.width, v.height, v.orientation
    return None, "", size, mtime, v.width, v.height, v.orientation


def verdict(
    reason: str | None, detail: str, width: int, height: int, orientation: int, min_side: int
) -> tuple[str | None, str, int]:
    """(reason, detail, orientation) of a checked file under the minimum size: a usable image
    smaller than `min_side` on a side is "too small"; the orientation counts only for a file
    that is used (1 otherwise)."""
    usable = reason is None or reason == ProblemReason.EXTENSION_MISMATCH
    if usable and (width < min_side or height < min_side):
        return ProblemReason.TOO_SMALL, f"{width}×{height} px, minimum {min_side} px per side", 1
    return reason, detail, orientation if usable else 1


def inspect_file(path: str, min_side: int = MIN_SIDE) -> tuple[Problem | None, int]:
    """One file's verdict: (a `Problem` if it is not usable, its EXIF orientation tag)."""
    reason, detail, _, _, w, h, orientation = check_file(path)
    reason, detail, orientation = verdict(reason, detail, w, h, orientation, min_side)
    return (None if reason is None else Problem(path, reason, detail)), orientation


def check_batch(paths: list[str]) -> list[Checked]:
    """A worker's task: check a batch of files (one round trip through the pool per batch)."""
    return [check_file(p) for p in paths]


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
    known: dict[str, Facts] | None = None,
    cache: FileCache | None = None,
    help_here: bool = False,
    min_side: int = MIN_SIDE,
) -> Generator[ScanProgress, None, Dataset]:
    """Decode every sample (with `decode=False`, only stat it: see `stat_file`); yields
    progress, returns a NEW dataset: the samples with an excluding problem left out, every
    problem found listed (with its reason), and the EXIF orientation of every file not stored
    upright. `dataset` itself is unchanged. Pass a process pool as `executor` to use every
    core. Images below `min_side` pixels on a side are "too small".

    `known` holds results still valid from an earlier check (`check_cache.iter_known`):
    those files are not decoded again. Results of the files decoded here are recorded in
    `cache` (also when the check is closed half-way: what is done is kept). With
    `help_here`, this process checks files too while the pool works (see `iter_scan`).
    """
    if not decode:
        return (yield from _iter_stat(dataset, executor, chunk))
    from . import check_cache

    rel_paths = dataset.paths
    total = len(rel_paths)
    known = known or {}
    todo = [rel for rel in rel_paths if rel not in known] if known else list(rel_paths)
    found: dict[str, Problem] = {}
    orientations: dict[str, int] = {}

    def judge(rel: str, reason: str | None, detail: str, w: int, h: int, orient: int) -> None:
        reason, detail, orient = verdict(reason, detail, w, h, orient, min_side)
        if reason is not None:
            found[rel] = Problem(rel, reason, detail)
        if orient != 1:
            orientations[rel] = orient

    for rel, facts in known.items():
        judge(rel, *facts)
    done = total - len(todo)
    if done:
        yield ScanProgress("checking", done, total, f"{done} of {total} images known unchanged")
    prefix = str(dataset.root) + os.sep
    new_rows: list[tuple[str, int, int, bytes]] = []
    results = _checked(todo, prefix, executor, chunk, help_here)
    step = max(chunk, total // 200)  # progress events: at most ~200 per check
    next_report = done + step
    try:
        for start, batch in results:
            for rel, (reason, detail, size, mtime, w, h, orient) in zip(
                todo[start : start + len(batch)], batch, strict=True
            ):
                judge(rel, reason, detail, w, h, orient)
                if size >= 0:
                    value = check_cache.encode(reason, detail, w, h, orient)
                    new_rows.append((rel, size, mtime, value))
            done += len(batch)
            if done >= next_report or done == total:
                next_report = done + step
                yield ScanProgress("checking", done, total, f"checked {done} of {total} images")
    finally:
        results.close()  # queued tasks are dropped
        check_cache.store(cache, new_rows)
    checked = dataset.with_problems([found[p] for p in rel_paths if p in found] if found else ())
    return checked.replace(orientations=orientations)


def _checked(
    todo: list[str], prefix: str, executor: Executor | None, chunk: int, help_here: bool
) -> Generator[tuple[int, list[Checked]], None, None]:
    """(index in `todo` of a batch's first file, the batch's results), batches in any order:
    checked here one file at a time, or in `executor` in batches of up to MAX_BATCH files.
    With `help_here`, this process checks batches from the end of the queue while the
    workers start and work from its front."""
    if executor is None:
        for i, rel in enumerate(todo):
            yield i, [check_file(prefix + rel)]
        return
    size = max(chunk, min(MAX_BATCH, len(todo) // 64))
    starts = range(0, len(todo), size)
    batches = [[prefix + p for p in todo[i : i + size]] for i in starts]
    if not help_here:
        results = executor.map(check_batch, batches)
        try:
            yield from zip(starts, results, strict=True)
        finally:
            results.close()  # type: ignore[attr-defined]  # cancels what is queued
        return
    futures = [executor.submit(check_batch, b) for b in batches]
    head, tail = 0, len(futures)
    try:
        while head < tail:
            while head < tail and futures[head].done():
                yield starts[head], futures[head].result()
                head += 1
            if head < tail and futures[tail - 1].cancel():  # not taken by a worker yet
                tail -= 1
                yield starts[tail], check_batch(batches[tail])
            else:
                break  # the rest is with the workers
        for i in range(head, tail):
            yield starts[i], futures[i].result()
    finally:
        for future in futures:
            future.cancel()


def _iter_stat(
    dataset: Dataset, executor: Executor | None, chunk: int
) -> Generator[ScanProgress, None, Dataset]:
    """`iter_check(decode=False)`: one stat per file (no cache: a stat is what a lookup costs)."""
    rel_paths = dataset.paths
    prefix = str(dataset.root) + os.sep
    abs_paths = [prefix + p for p in rel_paths]
    total = len(abs_paths)
    found: list[Problem] = []
    results: Iterable[Problem | None]
    if executor:
        results = executor.map(stat_file, abs_paths, chunksize=chunk)
    else:
        results = map(stat_file, abs_paths)
    for i, (rel, problem) in enumerate(zip(rel_paths, results, strict=True), 1):
        if problem is not None:
            found.append(Problem(rel, problem.reason, problem.detail))
        if i % chunk == 0 or i == total:
            yield ScanProgress("checking", i, total, f"checked {i} of {total} files")
    return dataset.with_problems(found)


def iter_scan(
    root: str | os.PathLike[str],
    check: bool = True,
    workers: int | None = None,
    *,
    decode: bool = True,
    use_cache: bool = True,
    help_here: bool = False,
    min_side: int = MIN_SIDE,
) -> Generator[ScanProgress | Listed, None, Dataset]:
    """List `root`, yield `Listed` (or `Known`), then (unless `check` is False) check every
    file and return the checked dataset (`check=False`: the listed one).

    `decode=False` only stats each file (`stat_file`, the CLI's `--quick`); images smaller
    than `min_side` pixels on a side are problems ("too small"). Decoding uses
    a process pool of `workers` processes (None: every core) when there are enough images
    for one to pay off. Results are kept in the dataset's file cache (`use_cache=False`:
    neither read nor written), so unchanged files are not decoded again next time, and a
    folder listed as at its last complete check is handed over as `Known`, with that check's
    verdicts, before its files are verified. Closing the generator (a cancelled job, Ctrl+C)
    cancels the queued decodes and waits only for the ones running; what was checked is kept
    in the cache.

    `help_here=True` makes this process check files too while the pool's workers start and
    run (the CLI: its process would only wait); a window leaves it False, so the scan's
    thread does not take the interpreter from the GUI thread.
    """
    dataset = yield from iter_list(root)
    if not (check and decode and use_cache):
        yield Listed(dataset)
        if not check:
            return dataset
    if not decode:
        return (yield from iter_check(dataset, None, decode=False))
    from . import check_cache

    shown = check_cache.last_verdicts(dataset, min_side) if use_cache else None
    if use_cache:
        yield Listed(dataset) if shown is None else Known(shown)
    n = (os.cpu_count() or 1) if workers is None else workers
    cache = check_cache.open_cache(dataset.root) if use_cache else None
    try:
        known = yield from _iter_known(dataset, check_cache.cached_rows(cache))
        todo = len(dataset.paths) - len(known)
        # A helping process is one of the n: it does not wait idle for n workers.
        n_pool = n - 1 if help_here else n
        pool = worker_pool(n_pool) if n > 1 and n_pool and todo > POOL_THRESHOLD else None
        try:
            checks = iter_check(
                dataset, pool, known=known, cache=cache, help_here=help_here, min_side=min_side
            )
            checked = yield from checks
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        if shown is not None and check_cache.same_verdicts(shown, checked):
            return shown  # verified as shown: the same object, so a window knows at once
        # Complete: its verdicts are shown first next time.
        check_cache.store_verdicts(cache, dataset, checked, min_side)
        return checked
    finally:
        check_cache.close(cache)


def _iter_known(
    dataset: Dataset, rows: dict[str, tuple[int, int, bytes]]
) -> Generator[ScanProgress, None, dict[str, Facts]]:
    """The recorded checks still valid (`check_cache.iter_known`), with progress events."""
    from . import check_cache

    total = len(dataset.paths)
    steps = check_cache.iter_known(dataset.root, dataset.paths, rows)
    while True:
        try:
            done = next(steps)
        except StopIteration as stop:
            return stop.value
        yield ScanProgress("checking", 0, total, f"looking up earlier checks ({done} of {total})")


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
