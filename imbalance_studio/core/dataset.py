"""Value objects describing a scanned ImageFolder-style dataset."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple, overload

# torchvision.datasets.folder.IMG_EXTENSIONS, matched case-insensitively as ImageFolder does.
IMG_EXTENSIONS: tuple[str, ...] = (
    ".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp",
)  # fmt: skip

# Up to this many samples, classes are counted without numpy (see `Dataset.counts`).
_SMALL = 100_000

# A class is flagged as a minority when it holds less than this share of the largest class.
MINORITY_FRACTION = 0.5


class ProblemReason:
    """The reasons a file or folder can be left out (string constants, stable in JSON)."""

    CORRUPT = "corrupt"
    TRUNCATED = "truncated"
    NOT_AN_IMAGE = "not an image"
    EMPTY_FILE = "empty file"
    NOT_REGULAR = "not a regular file"  # FIFO, device, socket, folder: never opened
    UNSUPPORTED_EXTENSION = "unsupported extension"
    UNREADABLE = "unreadable"
    TOO_LARGE = "too large (decompression bomb)"
    EMPTY_CLASS = "empty class folder"
    LOOSE_FILE = "loose file in the root"
    HIDDEN = "hidden file skipped"
    SYMLINK_LOOP = "symlink loop"
    EXTENSION_MISMATCH = "extension does not match content"
    TOO_SMALL = "too small"  # below the scan's minimum side: no training sample


# Reasons that are only notes: the file is still used (or was never a candidate).
NOTE_REASONS = frozenset({ProblemReason.HIDDEN, ProblemReason.EXTENSION_MISMATCH})


class Sample(NamedTuple):
    """One image file. `path` is POSIX-style and relative to the dataset root.

    Deliberately tiny (a tuple, no stat data): listing must stay close to a bare directory
    walk and a million samples must fit in memory; size and mtime are read where needed.
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


class SampleView(Sequence[Sample]):
    """A read-only list of `Sample`s over parallel path / label tuples.

    The dataset keeps plain strings and ints (compact, and fast to build while listing a
    million files); a `Sample` tuple is made only when one is looked at.
    """

    __slots__ = ("_labels", "_paths")

    def __init__(self, paths: Sequence[str], labels: Sequence[int]) -> None:
        self._paths = paths
        self._labels = labels

    def __len__(self) -> int:
        return len(self._paths)

    @overload
    def __getitem__(self, i: int) -> Sample: ...
    @overload
    def __getitem__(self, i: slice) -> list[Sample]: ...
    def __getitem__(self, i: int | slice) -> Sample | list[Sample]:
        if isinstance(i, slice):
            return list(map(Sample, self._paths[i], self._labels[i]))
        return Sample(self._paths[i], self._labels[i])

    def __iter__(self) -> Iterator[Sample]:
        return map(Sample, self._paths, self._labels)

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    def __repr__(self) -> str:
        return f"SampleView({len(self)} samples)"


_UNSET: Any = object()
# Arrays over every sample are filled this many at a time: one numpy call holds the GIL
# throughout, and filling a million paths in one took 24 ms (up to ~55 ms on a busy machine),
# which the window's every call into Python waited for (benchmarks/bench_gallery.py).
_GIL_CHUNK = 65_536


class PathIndex:
    """path -> sample index, in SHARDS dicts chosen by the path's hash rather than one dict.

    A dict grows by rehashing every entry in one C call that holds the GIL: at a million
    paths its last growths took 13-27 ms each, and the window's every call into Python waited
    behind them (the index is built in a worker while a listing is shown). A shard grows at
    1/SHARDS of that size. Look many paths up with `lookup` (one call, a C-speed loop inside):
    a Python call per path made marking 10,000 images ~15 ms slower."""

    SHARDS = 64  # a power of two

    __slots__ = ("_shards",)

    def __init__(self, paths: Iterable[str]) -> None:
        shards: list[dict[str, int]] = [{} for _ in range(self.SHARDS)]
        mask = self.SHARDS - 1
        for i, path in enumerate(paths):
            shards[hash(path) & mask][path] = i
        self._shards = shards

    def lookup(self, paths: Iterable[str]) -> list[int | None]:
        """The sample index of each path (None where it is not in the dataset)."""
        shards, mask = self._shards, self.SHARDS - 1
        return [shards[hash(p) & mask].get(p) for p in paths]

    def get(self, path: str, default: int | None = None) -> int | None:
        return self._shards[hash(path) & (self.SHARDS - 1)].get(path, default)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and path in self._shards[hash(path) & (self.SHARDS - 1)]

    def __len__(self) -> int:
        return sum(map(len, self._shards))


class Dataset:
    """An ImageFolder-style dataset: classes in `sorted()` order, samples, problems.

    An immutable value: `paths`, `labels`, `problems` and `real_dirs` are tuples and nothing
    changes them after construction, so the GUI thread can show a dataset while a worker
    derives the next one from it. `samples` holds only usable files, grouped by class in
    listing order; a file found unusable later (by decoding, by generation) makes a *new*
    dataset (`with_problems`, `without`). `real_dirs` holds the real path of every folder
    the scan read (the root, class folders, folders reached through symlinks): all of them
    are read-only to us, wherever they live.

    `orientations` maps the files whose EXIF orientation tag is not 1 (they display rotated
    or mirrored) to that tag; it is None until the images were decode-checked (a listing, a
    `--quick` scan): then nothing is known about them.
    """

    __slots__ = ("_classes", "_counts", "_index", "_label_array", "_labels", "_orientations",
                 "_path_array", "_paths", "_problems", "_real_dirs", "_root")  # fmt: skip

    def __init__(
        self,
        root: Path | str,
        classes: Iterable[str],
        samples: Iterable[Sample] = (),
        problems: Iterable[Problem] | None = None,
        *,
        paths: Iterable[str] | None = None,
        labels: Iterable[int] | None = None,
        real_dirs: Iterable[str] = (),
        orientations: Mapping[str, int] | None = None,
    ) -> None:
        if paths is None:
            pairs = list(samples)
            paths = [p for p, _ in pairs]
            labels = [c for _, c in pairs]
        # tuple() of a tuple is the same object: deriving a dataset copies nothing it keeps.
        self._root = Path(root)
        self._classes = tuple(classes)
        self._paths: tuple[str, ...] = tuple(paths)
        self._labels: tuple[int, ...] = tuple(labels) if labels is not None else ()
        if len(self._paths) != len(self._labels):
            raise ValueError("paths and labels differ in length")
        self._problems: tuple[Problem, ...] = tuple(problems) if problems is not None else ()
        self._real_dirs: tuple[str, ...] = tuple(real_dirs)
        # A plain dict (a mappingproxy would not pickle), handed out read-only.
        self._orientations: dict[str, int] | None = (
            None if orientations is None else dict(orientations)
        )
        self._label_array: Any = None
        self._path_array: Any = None
        self._index: PathIndex | None = None
        self._counts: tuple[int, ...] | None = None

    @property
    def root(self) -> Path:
        return self._root

    @property
    def classes(self) -> tuple[str, ...]:
        return self._classes

    @property
    def paths(self) -> tuple[str, ...]:
        """POSIX paths relative to `root`, grouped by class in listing order."""
        return self._paths

    @property
    def labels(self) -> tuple[int, ...]:
        """The class index of each path."""
        return self._labels

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Files and folders left out (and notes on files still used)."""
        return self._problems

    @property
    def real_dirs(self) -> tuple[str, ...]:
        return self._real_dirs

    @property
    def orientations(self) -> Mapping[str, int] | None:
        """{path: EXIF orientation tag} of the files not stored upright; None when unknown."""
        return None if self._orientations is None else MappingProxyType(self._orientations)

    def replace(self, **changes: Any) -> Dataset:
        """A new dataset with some of the constructor's fields changed; this one is unchanged."""
        fields = {
            "root": self._root,
            "classes": self._classes,
            "problems": self._problems,
            "paths": self._paths,
            "labels": self._labels,
            "real_dirs": self._real_dirs,
            "orientations": self._orientations,
        }
        unknown = set(changes) - set(fields)
        if unknown:
            raise TypeError(f"Dataset has no field {sorted(unknown)[0]!r}")
        fields.update(changes)
        return Dataset(**fields)

    def with_problems(self, problems: Iterable[Problem]) -> Dataset:
        """A new dataset with these problems listed and the samples of the excluding ones
        left out (notes keep their file); this one is unchanged."""
        found = tuple(problems)
        if not found:
            return self
        drop = {p.path for p in found if p.excludes}
        if not drop.intersection(self._paths):
            return self.replace(problems=self._problems + found)
        keep = [i for i, p in enumerate(self._paths) if p not in drop]
        paths, labels = self._paths, self._labels
        return self.replace(
            problems=self._problems + found,
            paths=[paths[i] for i in keep],
            labels=[labels[i] for i in keep],
        )

    def without(self, problems: Iterable[Problem]) -> Dataset:
        """`with_problems` for files found unusable after the scan (e.g. by generation):
        a file already left out is not listed twice. Returns this dataset itself when every
        such file is already listed."""
        listed = {p.path for p in self._problems if p.excludes}
        new = {p.path: p for p in problems if p.path not in listed}
        return self.with_problems(new.values()) if new else self

    def label_array(self) -> Any:
        """The class index of every sample as a read-only numpy int32 array, made once (a
        million samples take ~50 ms: call it first in a worker thread)."""
        if self._label_array is None:
            import numpy as np

            array = np.empty(len(self._labels), np.int32)
            for start in range(0, len(array), _GIL_CHUNK):
                array[start : start + _GIL_CHUNK] = self._labels[start : start + _GIL_CHUNK]
            array.flags.writeable = False
            self._label_array = array
        return self._label_array

    def path_array(self) -> Any:
        """`paths` as a read-only numpy object array (the same str objects), made once: a
        plan picks a million paths by index in one C call instead of a Python loop."""
        if self._path_array is None:
            import numpy as np

            array = np.empty(len(self._paths), dtype=object)
            for start in range(0, len(array), _GIL_CHUNK):
                array[start : start + _GIL_CHUNK] = self._paths[start : start + _GIL_CHUNK]
            array.flags.writeable = False
            self._path_array = array
        return self._path_array

    def path_index(self) -> PathIndex:
        """The sample index of every path, made once (~0.5 s at a million samples: call it
        first in a worker thread)."""
        if self._index is None:
            self._index = PathIndex(self._paths)
        return self._index

    @property
    def samples(self) -> SampleView:
        return SampleView(self._paths, self._labels)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self._classes)}

    def counts(self) -> list[int]:
        """Samples per class, counted once (the dataset never changes; at a million samples a
        Python count takes ~160 ms, so the scan worker counts before the window asks)."""
        if self._counts is None:
            if self._labels and len(self._labels) < _SMALL and "numpy" not in sys.modules:
                # Small: a C-level Counter is as quick, and a scan need not import numpy.
                found = Counter(self._labels)
                self._counts = tuple(found.get(i, 0) for i in range(len(self._classes)))
            elif self._labels:
                import numpy as np

                found = np.bincount(self.label_array(), minlength=len(self._classes))
                self._counts = tuple(int(c) for c in found[: len(self._classes)])
            else:
                self._counts = (0,) * len(self._classes)
        return list(self._counts)

    def class_infos(self) -> list[ClassInfo]:
        return class_infos(self._classes, self.counts())

    @property
    def imbalance_ratio(self) -> float:
        return imbalance_ratio(self.counts())

    @property
    def majority_baseline(self) -> float:
        return majority_baseline(self.counts())

    def samples_of(self, class_index: int) -> Iterator[Sample]:
        return (s for s in self.samples if s.class_index == class_index)

    def abspath(self, sample: Sample | str) -> Path:
        rel = sample if isinstance(sample, str) else sample.path
        return self._root / rel

    def __repr__(self) -> str:
        return (
            f"Dataset({str(self._root)!r}, {len(self._classes)} classes, "
            f"{len(self._paths)} samples)"
        )


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
