"""The split: every sample to train, val or test, stratified by class and seeded, before any
balancing (`make_split`); the plan (`core.plan`) takes it as given.

- Every sample has a *unit*: its content group (exact-duplicate files share one, see
  `iter_content_groups`) or else its own path. Within a class, units are ranked by a keyed
  hash of (seed, class name, unit) and cut in rank order: the first `round(test × n)` images
  go to test, the next `round(val × n)` to val, the rest to train (a unit that would overfill
  a held-out split goes to train). A sample's split therefore depends only on the seed, its
  unit, its class, the fractions and the class size: marks never move it.
- Small-class rule: a class is split only when rounding gives every held-out split with a
  non-zero fraction at least one image and still leaves one for train (with 70/15/15: at
  least 4 images). Smaller classes go wholly to train, with a warning.
- An exact-duplicate group spread over several classes follows the split chosen for it in
  its first class (ImageFolder order), so identical bytes never straddle train and test.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Generator
from dataclasses import dataclass, field

from .dataset import Dataset
from .progress import StepProgress, drive
from .project import SplitSettings
from .text import plural, summarize

__all__ = [
    "SplitAssignment",
    "held_out_counts",
    "iter_split",
    "keyed_hash",
    "make_split",
    "min_splittable",
]

_TRAIN, _VAL, _TEST = 0, 1, 2
# Samples per step of `iter_split`: ~5-10 ms of Python, so that a window's job runner can
# pause it for the window's own turns (each needs the GIL) or drop it when a newer one starts.
STEP = 16_384


def keyed_hash(*parts: object, size: int = 8) -> int:
    """A stable integer from `parts`: the only source of "randomness" in a split or plan."""
    text = "\x1f".join(str(p) for p in parts)
    h = hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=size)
    return int.from_bytes(h.digest(), "big")


def _ranked(keys: list[str], prefix: str) -> Generator[StepProgress, None, list[str]]:
    """`keys` sorted by (keyed_hash(seed, class name, key), key), `prefix` holding the first
    two parts. The hashes go into numpy and are argsorted there, without the GIL: `list.sort`
    of (hash, key) tuples compares in one C call that held the GIL, and so the window, for
    seconds at a million samples. Equal hashes (never seen in 64 bits) fall back to it."""
    import numpy as np

    hashes = np.empty(len(keys), np.uint64)
    for start in range(0, len(keys), STEP):
        part = keys[start : start + STEP]
        hashes[start : start + len(part)] = np.fromiter(
            (_hash8(prefix + k) for k in part), np.uint64, count=len(part)
        )
        yield StepProgress("ranking", start + len(part), len(keys))
    order = np.argsort(hashes, kind="stable")
    ranked = hashes[order]
    if len(ranked) > 1 and bool((ranked[1:] == ranked[:-1]).any()):
        return sorted(keys, key=lambda k: (_hash8(prefix + k), k))
    return [keys[i] for i in order.tolist()]


def _hash8(text: str) -> int:
    digest = hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def held_out_counts(n: int, split: SplitSettings) -> tuple[int, int] | None:
    """(val, test) image counts for a class of `n`, or None when the class is too small to
    split (see the module docstring)."""
    n_val = math.floor(split.val * n + 0.5)
    n_test = math.floor(split.test * n + 0.5)
    if (split.val > 0 and n_val == 0) or (split.test > 0 and n_test == 0):
        return None
    if n - n_val - n_test < 1:
        return None
    return n_val, n_test


def min_splittable(split: SplitSettings) -> int:
    """The smallest class size that gets split."""
    return next(n for n in range(1, 100_000) if held_out_counts(n, split) is not None)


@dataclass(frozen=True)
class SplitAssignment:
    """The split of every sample, parallel to `dataset.samples` (0 train, 1 val, 2 test).

    Depends only on the dataset, seed, fractions and content groups: a GUI may compute it
    once and pass it to `make_plan` while the user edits marks and targets.
    """

    seed: int
    fractions: tuple[float, float, float]
    splits: bytes
    warnings: tuple[str, ...] = field(default=())


def make_split(
    dataset: Dataset,
    seed: int,
    split: SplitSettings,
    groups: dict[str, str] | None = None,
) -> SplitAssignment:
    """The split of `dataset` (see the module docstring); `iter_split` in steps."""
    return drive(iter_split(dataset, seed, split, groups))


def iter_split(
    dataset: Dataset,
    seed: int,
    split: SplitSettings,
    groups: dict[str, str] | None = None,
) -> Generator[StepProgress, None, SplitAssignment]:
    """`make_split` as a generator of short steps (about a second at a million samples)."""
    groups = groups or {}
    total = len(dataset.paths)
    names = dataset.classes
    # Per class, unit key -> the sample index of a file of its own, or -1 for a content
    # group (its members in `grouped`). No list per sample: a million young lists would make
    # every cycle collection on the GUI thread walk them while this runs in a worker.
    units: list[dict[str, int]] = [{} for _ in names]
    grouped: list[dict[str, list[int]]] = [{} for _ in names]
    for i, (path, ci) in enumerate(zip(dataset.paths, dataset.labels, strict=True)):
        key = groups.get(path) if groups else None
        if key is None:
            units[ci][path] = i
        elif key in grouped[ci]:
            grouped[ci][key].append(i)
        else:
            units[ci][key], grouped[ci][key] = -1, [i]
        if i % STEP == STEP - 1:
            yield StepProgress("grouping", i + 1, total)
    out = bytearray(len(dataset.paths))
    forced: dict[str, int] = {}  # group key -> split, for groups seen in an earlier class
    small: list[str] = []
    straddling: set[str] = set()
    for ci, class_units in enumerate(units):
        members = grouped[ci]
        n = len(class_units) - len(members) + sum(len(v) for v in members.values())
        quotas = held_out_counts(n, split)
        if quotas is None and n:
            small.append(f"{names[ci]} ({n})")
        val_q, test_q = quotas or (0, 0)
        free: list[str] = []
        decided: dict[str, int] = {}
        for key in members:
            if key in forced:
                decided[key] = forced[key]
                straddling.add(key)
                if forced[key] == _VAL:
                    val_q -= len(members[key])
                elif forced[key] == _TEST:
                    test_q -= len(members[key])
        free = [key for key in class_units if key not in decided]
        free = yield from _ranked(free, f"{seed}\x1f{names[ci]}\x1f")
        for j, key in enumerate(free):
            size = len(members[key]) if key in members else 1
            if size <= test_q:
                decided[key], test_q = _TEST, test_q - size
            elif size <= val_q:
                decided[key], val_q = _VAL, val_q - size
            else:
                decided[key] = _TRAIN
            if j % STEP == STEP - 1:
                yield StepProgress(f"splitting {names[ci]}", j + 1, len(free))
        for j, (key, i) in enumerate(class_units.items()):
            if i >= 0:
                out[i] = decided[key]
            if j % STEP == STEP - 1:
                yield StepProgress(f"splitting {names[ci]}", j + 1, len(class_units))
        for key, group in members.items():
            for i in group:
                out[i] = decided[key]
            forced.setdefault(key, decided[key])
    warnings = []
    if small:
        warnings.append(
            f"too few images to split {_pct(split)} (a class needs at least "
            f"{min_splittable(split)}); all to train: {summarize(small)}"
        )
    if straddling:
        warnings.append(
            f"{plural(len(straddling), 'group')} of identical or near-duplicate images "
            f"{'appears' if len(straddling) == 1 else 'appear'} in more than one class "
            "(label conflicts); each group was kept in one split"
        )
    return SplitAssignment(seed, (split.train, split.val, split.test), bytes(out), tuple(warnings))


def _pct(split: SplitSettings) -> str:
    return "/".join(f"{round(f * 100, 1):g}" for f in (split.train, split.val, split.test))
