"""Compare a project with a fresh scan of its folder: marks on files that are gone (kept and
flagged, never dropped), classes gone or new, classes whose files changed since saving.

`Project.snapshot` (per class: file count and a digest of the sorted paths) is what "since
saving" compares against; storing every path would make autosaves slow on big datasets.
These names are also importable from `core.project`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .dataset import Dataset
from .project import ClassSnapshot, Project
from .text import SUMMARY_LIMIT, plural, printable, summarize


def snapshot_of(dataset: Dataset) -> dict[str, ClassSnapshot]:
    per_class: list[list[str]] = [[] for _ in dataset.classes]
    for path, label in zip(dataset.paths, dataset.labels, strict=True):
        per_class[label].append(path)
    return {
        name: ClassSnapshot(count=len(paths), digest=_paths_digest(paths))
        for name, paths in zip(dataset.classes, per_class, strict=True)
    }


def _paths_digest(paths: list[str]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for p in sorted(paths):
        h.update(p.encode("utf-8", "surrogateescape") + b"\x00")
    return h.hexdigest()


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
        out.append(
            f"{len(report.missing_marks)} marked files are missing (marks kept): "
            f"{summarize(report.missing_marks, limit)}"
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


# Paths looked at per step of `_missing`: one C call each, short enough that a job running
# it never holds the GIL (and so the GUI thread) for long.
_CHUNK = 20_000


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
