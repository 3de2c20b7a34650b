"""`iter_inspect`: one decode of every image (in worker processes, answered from the cache for
files that have not changed), then duplicate groups and quality scores.

A generator of `InspectProgress` whose return value is the `InspectReport`: the GUI's job
runner runs it with a progress bar and Cancel, the CLI with `run_steps`. Closing it cancels
the queued decodes; what was measured so far is already in the cache.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass

from ..dataset import Dataset, Problem, ProblemReason
from ..file_cache import FileCache, stat_keys
from ..processes import worker_pool
from ..progress import drive
from .features import CACHE_KIND, Features, Unusable, measure_file, unpack, well_formed
from .report import DEFAULT_NEAR_THRESHOLD, InspectReport

# Below this many files to decode a process pool costs more to start than it saves.
POOL_THRESHOLD = 48
_CHUNK = 16  # files a worker takes at once
_STORE_EVERY = 512  # measured files written to the cache at a time


@dataclass(frozen=True, slots=True)
class InspectProgress:
    phase: str  # "reading cache", "inspecting", "grouping"
    done: int
    total: int | None
    message: str = ""


def iter_inspect(
    dataset: Dataset,
    *,
    near_threshold: int = DEFAULT_NEAR_THRESHOLD,
    workers: int | None = None,
    use_cache: bool = True,
) -> Generator[InspectProgress, None, InspectReport]:
    """Inspect every sample of `dataset`; yields progress, returns the `InspectReport`.

    Files whose path, size and mtime match a cached result are not decoded again. A file
    that does not decode is a `Problem` of the report (as the scan reports it), never an
    error. `workers` processes decode (None: every core).
    """
    root = dataset.root
    paths = list(dataset.paths)
    total = len(paths)
    yield InspectProgress("reading cache", 0, total, "looking for earlier results")
    keys = {rel: (size, mtime) for rel, size, mtime in stat_keys(root, paths)}
    cache = FileCache(root, CACHE_KIND) if use_cache else None
    try:
        found: dict[str, bytes] = {}
        if cache is not None:
            found = cache.lookup((rel, s, m) for rel, (s, m) in keys.items())
            found = {rel: blob for rel, blob in found.items() if well_formed(blob)}
        cached = len(found)
        todo = [rel for rel in paths if rel in keys and rel not in found]
        done = cached
        yield InspectProgress("inspecting", done, total, f"{cached} of {total} from the cache")
        pending: list[tuple[str, int, int, bytes]] = []
        for rel, blob in _measure(root, todo, workers):
            found[rel] = blob
            pending.append((rel, *keys[rel], blob))
            done += 1
            if len(pending) >= _STORE_EVERY:
                if cache is not None:
                    cache.store(pending)
                pending = []
            if done % _CHUNK == 0 or done == total:
                yield InspectProgress("inspecting", done, total, f"inspected {done} of {total}")
        if cache is not None and pending:
            cache.store(pending)
    finally:
        if cache is not None:
            cache.close()

    yield InspectProgress("grouping", 0, None, "grouping duplicates")
    labels = dataset.labels
    kept_paths, kept_labels, features, problems = [], [], [], []
    for rel, label in zip(paths, labels, strict=True):
        blob = found.get(rel)
        if blob is None:  # vanished since the scan
            problems.append(Problem(rel, ProblemReason.UNREADABLE, "no longer there"))
            continue
        value = unpack(blob)
        if isinstance(value, Unusable):
            problems.append(Problem(rel, value.reason, value.detail))
            continue
        kept_paths.append(rel)
        kept_labels.append(label)
        features.append(value)
    report = InspectReport.build(
        root, dataset.classes, kept_paths, kept_labels, features, problems,
        near_threshold, cached=cached,
    )  # fmt: skip
    yield InspectProgress("grouping", 1, 1, f"{len(report.groups)} duplicate groups")
    return report


def _measure(root, todo: list[str], workers: int | None) -> Iterator[tuple[str, bytes]]:
    prefix = str(root) + os.sep
    abs_paths = [prefix + rel for rel in todo]
    n = (os.cpu_count() or 1) if workers is None else max(1, workers)
    if n > 1 and len(todo) > POOL_THRESHOLD:
        pool = worker_pool(min(n, max(1, len(todo) // _CHUNK)))
        try:
            yield from zip(todo, pool.map(measure_file, abs_paths, chunksize=_CHUNK), strict=True)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        yield from zip(todo, map(measure_file, abs_paths), strict=True)


def inspect(
    dataset: Dataset,
    progress: Callable[[InspectProgress], None] | None = None,
    **options,
) -> InspectReport:
    """Plain-call form of `iter_inspect`."""
    return drive(iter_inspect(dataset, **options), progress)


__all__ = ["Features", "InspectProgress", "inspect", "iter_inspect"]
