"""Featurize every kept original of every split of a plan, in a process pool.

`iter_featurize` is a generator of `FeatureProgress` returning a `FeatureSet`. Work goes out
in chunks of paths to `core.processes.worker_pool` workers (every core), a bounded number at
a time, and comes back in order, so the rows are deterministic whatever the scheduling.
Closing the generator (Cancel, Ctrl+C) drops the queued chunks and waits only for the running
ones.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field

import numpy as np

from ..plan import SPLITS
from .hog import FeatureSettings, featurize_files, warm_up

# Paths per task: big enough that a task's IPC is small next to its HOG work, small enough
# that progress moves and Cancel is quick.
CHUNK = 32
# Below this many images a pool's start-up (spawn, imports: ~1 s) costs more than it saves.
POOL_THRESHOLD = 128
# Chunks in flight per worker: keeps every worker busy without queueing the whole dataset.
IN_FLIGHT = 4


@dataclass(frozen=True, slots=True)
class FeatureProgress:
    phase: str
    done: int
    total: int | None
    message: str = ""


@dataclass
class SplitVectors:
    """One split's rows: vectors, class indices and source paths (relative to the root)."""

    X: np.ndarray  # float32, n x d
    y: np.ndarray  # int64
    paths: list[str]

    def counts(self, n_classes: int) -> list[int]:
        return np.bincount(self.y, minlength=n_classes).astype(int).tolist()


@dataclass
class FeatureSet:
    classes: tuple[str, ...]
    settings: FeatureSettings
    splits: dict[str, SplitVectors]
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, reason) left out


def plan_rows(plan) -> list[tuple[str, str, int]]:
    """(split, path, class index) of every kept original, split by split, class by class."""
    return [
        (split, path, cp.class_index)
        for split in SPLITS
        for cp in plan.splits[split]
        for path in cp.kept
    ]


def iter_featurize(
    dataset, plan, settings: FeatureSettings | None = None, workers: int | None = None
) -> Generator[FeatureProgress, None, FeatureSet]:
    """HOG vectors of every kept original of `plan` over `dataset` (see the module doc).
    `workers` processes (None: every core); a file that no longer decodes is left out and
    listed in `FeatureSet.problems`, after the scan's problem files."""
    settings = settings or FeatureSettings()
    rows = plan_rows(plan)
    total = len(rows)
    prefix = str(dataset.root) + os.sep
    X = np.zeros((total, settings.dimensions), np.float32)
    bad: list[tuple[int, str]] = []
    yield FeatureProgress("featurizing", 0, total, f"computing HOG vectors of {total} images")
    chunks = [
        (start, [prefix + path for _split, path, _ci in rows[start : start + CHUNK]])
        for start in range(0, total, CHUNK)
    ]
    n = (os.cpu_count() or 1) if workers is None else max(1, workers)
    args = (settings.size, settings.hog)
    done = 0
    if n == 1 or total < POOL_THRESHOLD:
        for start, paths in chunks:
            block, errors = featurize_files(paths, *args)
            X[start : start + len(paths)] = block
            bad += [(start + i, why) for i, why in errors]
            done += len(paths)
            yield FeatureProgress("featurizing", done, total, f"featurized {done} of {total}")
    else:
        from ..processes import worker_pool

        pool = worker_pool(n, initializer=warm_up)
        try:
            pending: deque = deque()
            todo = iter(chunks)
            for start, paths in todo:
                pending.append((start, pool.submit(featurize_files, paths, *args)))
                if len(pending) < n * IN_FLIGHT:
                    continue
                done = yield from _collect(pending.popleft(), X, bad, done, total)
            while pending:
                done = yield from _collect(pending.popleft(), X, bad, done, total)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    from ..export.summary import scan_problems

    # The scan's problem files (corrupt, too small, ...) first, as the export lists them,
    # then those that stopped decoding since.
    problems = scan_problems(dataset)
    listed = {path for path, _ in problems}
    problems += [(rows[i][1], why) for i, why in bad if rows[i][1] not in listed]
    keep = np.ones(total, bool)
    keep[[i for i, _ in bad]] = False
    splits = {}
    for split in SPLITS:
        idx = [i for i, r in enumerate(rows) if r[0] == split and keep[i]]
        splits[split] = SplitVectors(
            X[idx] if len(idx) != total else X,
            np.array([rows[i][2] for i in idx], np.int64),
            [rows[i][1] for i in idx],
        )
    return FeatureSet(tuple(plan.classes), settings, splits, problems)


def _collect(item, X, bad, done, total) -> Generator[FeatureProgress, None, int]:
    start, future = item
    block, errors = future.result()
    X[start : start + len(block)] = block
    bad += [(start + i, why) for i, why in errors]
    done += len(block)
    yield FeatureProgress("featurizing", done, total, f"featurized {done} of {total}")
    return done
