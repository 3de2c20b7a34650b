"""Value objects describing a scanned ImageFolder-style dataset."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# torchvision.datasets.folder.IMG_EXTENSIONS, matched case-insensitively as ImageFolder does.
IMG_EXTENSIONS: tuple[str, ...] = (
    ".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp",
)  # fmt: skip

# A class is flagged as a minority when it holds less than this share of the largest class.
MINORITY_FRACTION = 0.5


class ProblemReason:
    """The reasons a file or folder can be left out (string constants, stable in JSON)."""

    CORRUPT = "corrupt"
    TRUNCATED = "truncated"
    NOT_AN_IMAGE = "not an image"
    EMPTY_FILE = "empty file"
    UNSUPPORTED_EXTENSION = "unsupported extension"
    UNREADABLE = "unreadable"
    TOO_LARGE = "too large (decompression bomb)"
    EMPTY_CLASS = "empty class folder"
    LOOSE_FILE = "loose file in the root"
    HIDDEN = "hidden file skipped"
    SYMLINK_LOOP = "symlink loop"
    EXTENSION_MISMATCH = "extension does not match content"


# Reasons that are only notes: the file is still used (or was never a candidate).
NOTE_REASONS = frozenset({ProblemReason.HIDDEN, ProblemReason.EXTENSION_MISMATCH})


@dataclass(frozen=True, slots=True)
class Sample:
    """One image file. `path` is POSIX-style and relative to the dataset root.

    Deliberately tiny (no stat data): listing must stay close to a bare directory walk and a
    million samples must fit in memory; size and mtime are read where they are needed.
    """

    path: str
    class_index: int


@dataclass(frozen=True, slots=True)
class Problem:
    """A file or folder that could not be used (or deserves a note), with the reason."""

    path: str
    reason: str
    detail: str = ""

    @property
    def excludes(self) -> bool:
        """True when the file is left out of the dataset because of this problem."""
        return self.reason not in NOTE_REASONS


@dataclass(frozen=True, slots=True)
class ClassInfo:
    name: str
    index: int
    count: int
    share: float
    is_minority: bool


@dataclass
class Dataset:
    """An ImageFolder-style dataset: classes in `sorted()` order, samples, problems.

    `samples` holds only usable files; a file found unusable later (by decoding) is moved to
    `problems` with `exclude()`.
    """

    root: Path
    classes: tuple[str, ...]
    samples: list[Sample] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def counts(self) -> list[int]:
        counts = [0] * len(self.classes)
        for s in self.samples:
            counts[s.class_index] += 1
        return counts

    def class_infos(self) -> list[ClassInfo]:
        return class_infos(self.classes, self.counts())

    @property
    def imbalance_ratio(self) -> float:
        return imbalance_ratio(self.counts())

    @property
    def majority_baseline(self) -> float:
        return majority_baseline(self.counts())

    def samples_of(self, class_index: int) -> Iterator[Sample]:
        return (s for s in self.samples if s.class_index == class_index)

    def abspath(self, sample: Sample | str) -> Path:
        rel = sample.path if isinstance(sample, Sample) else sample
        return self.root / rel

    def exclude(self, paths: dict[str, Problem]) -> None:
        """Move samples whose path is a key of `paths` into the problems list."""
        if not paths:
            return
        self.samples = [s for s in self.samples if s.path not in paths]
        self.problems.extend(paths.values())


def class_infos(classes: tuple[str, ...] | list[str], counts: list[int]) -> list[ClassInfo]:
    total = sum(counts)
    largest = max(counts, default=0)
    return [
        ClassInfo(
            name=name,
            index=i,
            count=n,
            share=(n / total) if total else 0.0,
            is_minority=largest > 0 and n < MINORITY_FRACTION * largest,
        )
        for i, (name, n) in enumerate(zip(classes, counts, strict=True))
    ]


def imbalance_ratio(counts: list[int]) -> float:
    """Largest class over smallest class; infinite when a class is empty."""
    if not counts or max(counts) == 0:
        return 0.0
    smallest = min(counts)
    return float("inf") if smallest == 0 else max(counts) / smallest


def majority_baseline(counts: list[int]) -> float:
    """Accuracy of a model that always predicts the largest class."""
    total = sum(counts)
    return max(counts) / total if total else 0.0
