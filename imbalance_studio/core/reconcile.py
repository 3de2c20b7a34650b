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
        out: list[str] = []
        if self.missing_marks:
            shown = ", ".join(self.missing_marks[:3])
            more = f" and {len(self.missing_marks) - 3} more" if len(self.missing_marks) > 3 else ""
            out.append(
                f"{len(self.missing_marks)} marked files are missing (marks kept): {shown}{more}"
            )
        if self.missing_classes:
            out.append(f"classes missing from the folder: {', '.join(self.missing_classes)}")
        if self.new_classes:
            out.append(f"new classes in the folder: {', '.join(self.new_classes)}")
        for c in self.changed_classes:
            diff = c.now - c.before
            what = f"{diff:+d} files" if diff else "files replaced"
            out.append(f"class {c.name} changed since saving: {c.before} → {c.now} ({what})")
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
