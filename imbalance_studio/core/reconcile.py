"""Compare a project with a fresh scan of its folder: marks on files that are gone (kept and
flagged, never dropped), classes gone or new, classes whose files changed since saving.

`Project.snapshot` (per class: file count and a digest of the sorted paths) is what "since
saving" compares against; storing every path would make autosaves slow on big datasets.
These names are also importable from `core.project`.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import operator
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from .dataset import Dataset
from .project import ClassSnapshot, Project
from .text import SUMMARY_LIMIT, plural, printable, summarize

# Paths handled per step (one C call each): short enough that a job running reconcile or
# snapshot_of never holds the GIL (and so the GUI thread) for long.
_CHUNK = 20_000


def snapshot_of(dataset: Dataset) -> dict[str, ClassSnapshot]:
    """Per class: file count and a digest of the sorted paths. Built in steps of `_CHUNK`
    paths (numpy picks each class's paths; sorting and hashing go chunk by chunk), so a job
    running it at a million samples never holds the GIL, and so the window, for long."""
    out: dict[str, ClassSnapshot] = {}
    if not dataset.paths:
        return {name: ClassSnapshot(count=0, digest=_paths_digest([])) for name in dataset.classes}
    import numpy as np

    labels = dataset.label_array()
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(len(dataset.classes) + 1))
    paths = dataset.path_array()
    for k, name in enumerate(dataset.classes):
        own = paths[order[bounds[k] : bounds[k + 1]]].tolist()
        out[name] = ClassSnapshot(count=len(own), digest=_paths_digest(own))
    return out


def _paths_digest(paths: list[str]) -> str:
    """blake2b of the sorted paths, each followed by a NUL byte (the digest saved projects
    hold: it must not change)."""
    h = hashlib.blake2b(digest_size=16)
    for chunk in _sorted_chunks(paths):
        h.update(("\x00".join(chunk) + "\x00").encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _sorted_chunks(paths: list[str]) -> Iterator[list[str]]:
    """`sorted(paths)` in chunks of `_CHUNK`: a listing is usually sorted already (checked a
    chunk at a time); else chunks are sorted and merged, never one long sort of them all."""
    n = len(paths)
    if all(
        all(map(operator.le, paths[i : i + _CHUNK], paths[i + 1 : i + 1 + _CHUNK]))
        for i in range(0, n, _CHUNK)
    ):
        for i in range(0, n, _CHUNK):
            yield paths[i : i + _CHUNK]
        return
    merged = heapq.merge(*(sorted(paths[i : i + _CHUNK]) for i in range(0, n, _CHUNK)))
    while chunk := list(itertools.islice(merged, _CHUNK)):
        yield chunk


@dataclass(frozen=True)
class ClassChange:
    name: str
    before: int  # files in the class when the project was saved
    now: int


@dataclass(frozen=True)
class ReconcileReport:
    """How a project and the folder it points at disagree. Marks on missing files are kept
    in the project (and flagged here), never dropped."""

    missing_marks: tuple[str, ...]  # marked paths that are not in the dataset now
    missing_classes: tuple[str, ...]  # classes the project knows that the folder lacks
    new_classes: tuple[str, ...]  # classes in the folder the project did not know
    changed_classes: tuple[ClassChange, ...]  # classes whose file list changed since saving

    @property
    def ok(self) -> bool:
        return not (
            self.missing_marks or self.missing_classes or self.new_classes or self.changed_classes
        )

    def messages(self) -> list[str]:
        """The report in a few short lines (see `describe`)."""
        return describe(self)


def describe(report: ReconcileReport, limit: int = SUMMARY_LIMIT) -> list[str]:
    """How the folder differs from the project, in a few lines whatever the dataset's size:
    the one text the window and every command (plan, generate, export) show."""
    out: list[str] = []
    if report.missing_marks:
        n = len(report.missing_marks)
        # "Missing" from the dataset's samples: gone from the folder, or there but left out
        # as a problem (corrupt, too small, ...); the scan's problem list says which.
        out.append(
            f"{plural(n, 'marked file')} {'is' if n == 1 else 'are'} not in the dataset now "
            f"(gone, or left out as a problem; marks kept): {summarize(report.missing_marks, limit)}"
        )
    if report.missing_classes:
        out.append(
            f"{plural(len(report.missing_classes), 'class', 'classes')} missing from the folder: "
            f"{summarize(report.missing_classes, limit)}"
        )
    if report.new_classes:
        out.append(
            f"{plural(len(report.new_classes), 'new class', 'new classes')} in the folder: "
            f"{summarize(report.new_classes, limit)}"
        )
    changed = report.changed_classes
    if 0 < len(changed) <= limit:
        for c in changed:
            diff = c.now - c.before
            what = f"{diff:+d} files" if diff else "files replaced"
            out.append(
                f"class {printable(c.name)} changed since saving: {c.before} → {c.now} ({what})"
            )
    elif changed:
        before, now = sum(c.before for c in changed), sum(c.now for c in changed)
        names = summarize((f"{c.name} ({c.before} → {c.now})" for c in changed), limit)
        out.append(f"{len(changed)} classes changed since saving ({before} → {now} files): {names}")
    return out


def _missing(marked: Iterable[str], paths: Sequence[str]) -> set[str]:
    """The marked paths that are not among `paths`: one small set of the marks, struck
    off chunk by chunk (no set of a million paths, and no long single C call)."""
    left = set(marked)
    for start in range(0, len(paths), _CHUNK):
        if not left:
            break
        left.difference_update(paths[start : start + _CHUNK])
    return left


def reconcile(project: Project, dataset: Dataset) -> ReconcileReport:
    missing_marks = tuple(sorted(_missing(project.marks, dataset.paths)))
    classes = set(dataset.classes)
    known = set(project.targets) | set(project.augment.class_stacks)
    known |= set(project.generation.cutmix_classes)
    if project.snapshot is not None:
        known |= set(project.snapshot)
    missing_classes = tuple(sorted(known - classes))
    new_classes: tuple[str, ...] = ()
    changed: list[ClassChange] = []
    if project.snapshot is not None:
        new_classes = tuple(c for c in dataset.classes if c not in project.snapshot)
        now = snapshot_of(dataset)
        for name, snap in now.items():
            old = project.snapshot.get(name)
            if old is not None and old.digest != snap.digest:
                changed.append(ClassChange(name, old.count, snap.count))
    return ReconcileReport(missing_marks, missing_classes, new_classes, tuple(changed))
