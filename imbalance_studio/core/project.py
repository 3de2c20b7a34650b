"""The project file (`*.isproj.json`): what the user decided about a dataset.

A `Project` is a pydantic model: dataset root, marks on samples (by path relative to the
root), split settings and seed, per-class targets, augmentation stacks and generation
settings. It is versioned, validated strictly on load (`Project.load` raises `ProjectError`
with a one-line message and never returns a half-read project) and saved atomically.

Autosave helpers live in `core.autosave`, and `reconcile` (a project against a fresh scan of
its folder) in `core.reconcile`; the checks on marks' relative paths in `core.rel_paths`, the
diffusion settings in `core.diffusion_settings`, the shared base model in `core.project_fields`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import platformdirs
from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from .. import APP_NAME
from .diffusion_settings import DiffusionSettings
from .fileio import atomic_write_text, dataset_folder_of, where_in_dataset
from .project_fields import Name, StrictModel
from .rel_paths import check_rel_paths
from .safe_read import PROJECT_MAX_BYTES, InputFileError, loads_bounded, read_bounded_text

if TYPE_CHECKING:
    from .dataset import Dataset

PROJECT_VERSION = 1
PROJECT_SUFFIX = ".isproj.json"
# Tolerance on split fractions summing to 1 (they are typed by hand as 0.7,0.15,0.15).
_SPLIT_TOLERANCE = 1e-6
MAX_DUPLICATE = 1000
# The most training images a class target may ask for. The product is built for datasets of
# about a million images; a bigger target is a typo (an extra zero) that would run for hours.
MAX_TARGET = 1_000_000


class ProjectError(Exception):
    """A project file that cannot be used; the message is one line, fit for the user."""


class Method(StrEnum):
    """How a class's training count is brought to its target."""

    AUGMENT = "augment"  # new images from the class's augmentation stack
    DIFFUSION = "diffusion"  # new images by diffusion img2img from a local model (an extra)
    DUPLICATE = "duplicate"  # exact copies of kept training originals
    UNDERSAMPLE = "undersample"  # drop kept originals (seeded)
    KEEP = "keep"  # leave the class as it is, whatever the target


class Mark(StrictModel):
    """A user's decision about one sample. `remove` wins over `duplicate` (never both)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    remove: bool = False
    duplicate: int = Field(0, ge=0, le=MAX_DUPLICATE)

    @model_validator(mode="after")
    def _remove_wins(self) -> Mark:
        if self.remove and self.duplicate:
            self.__dict__["duplicate"] = 0  # frozen model: normalise in place while validating
        return self

    @property
    def empty(self) -> bool:
        return not self.remove and not self.duplicate


class SplitSettings(StrictModel):
    train: float = Field(0.7, gt=0, le=1)
    val: float = Field(0.15, ge=0, lt=1)
    test: float = Field(0.15, ge=0, lt=1)

    @model_validator(mode="after")
    def _sums_to_one(self) -> SplitSettings:
        total = self.train + self.val + self.test
        if abs(total - 1) > _SPLIT_TOLERANCE:
            raise ValueError(f"split fractions must add up to 1 (they add up to {total:g})")
        return self

    @classmethod
    def parse(cls, text: str) -> SplitSettings:
        """Parse `"0.7,0.15,0.15"` (train,val,test); raises ValueError with a clear message."""
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 3:
            raise ValueError(f"split {text!r}: expected three fractions TRAIN,VAL,TEST")
        try:
            train, val, test = (float(p) for p in parts)
        except ValueError:
            raise ValueError(f"split {text!r}: fractions must be numbers") from None
        if not all(0 <= f <= 1 for f in (train, val, test)):
            # "70,15,15" is the usual slip: say what is meant rather than three field errors.
            raise ValueError(
                f"split {text!r}: each fraction must be between 0 and 1, e.g. 0.7,0.15,0.15"
            )
        try:
            return cls(train=train, val=val, test=test)
        except ValidationError as exc:
            raise ValueError(f"split {text!r}: {_first_error(exc)}") from None


class ClassTarget(StrictModel):
    """Target count of a class in the TRAINING split (after removals); None = no target."""

    target: int | None = Field(None, ge=0)
    method: Method = Method.AUGMENT

    @field_validator("target")
    @classmethod
    def _sane_target(cls, target: int | None) -> int | None:
        if target is not None and target > MAX_TARGET:
            raise ValueError(target_limit_message(target))
        return target


def target_limit_message(target: int) -> str:
    return (
        f"target {target:,} is above the limit of {MAX_TARGET:,} images per class (each one "
        "is made and written in turn: a target that large runs for hours); set a smaller one"
    )


class AugmentSettings(StrictModel):
    default_stack: dict | None = None  # an albumentations `A.to_dict` dict
    class_stacks: dict[Name, dict] = Field(default_factory=dict)  # class name -> `A.to_dict` dict
    preview_seed: int = 0


class GenerationSettings(StrictModel):
    cutmix_classes: list[Name] = Field(default_factory=list)
    rejected: list[str] = Field(default_factory=list)  # ids of rejected generated images
    on_reject: Literal["replace", "reduce"] = "replace"
    extra_seeds: dict[Name, int] = Field(default_factory=dict)
    diffusion: DiffusionSettings = Field(default_factory=DiffusionSettings)


class InspectSettings(StrictModel):
    """Duplicate and quality settings (see core/inspect). `group_duplicates` keeps every
    exact or near-duplicate group in one split; off, the export counts the pairs that cross."""

    group_duplicates: bool = True
    near_threshold: int = Field(10, ge=0, le=16)  # Hamming distance of 64-bit hashes
    quality_thresholds: dict[str, float] = Field(
        default_factory=dict
    )  # issue -> threshold; the defaults otherwise


class ClassSnapshot(StrictModel):
    """What a class folder held when the project was saved (for `reconcile`)."""

    count: int = Field(ge=0)
    digest: str  # blake2b of the sorted relative paths


class Project(StrictModel):
    version: int = PROJECT_VERSION
    dataset_root: Name
    seed: int = 0
    split: SplitSettings = Field(default_factory=SplitSettings)
    marks: dict[Name, Mark] = Field(
        default_factory=dict
    )  # rel path -> mark; empty marks are not stored
    policy: str | None = None  # the policy that last filled `targets` (informational)
    targets: dict[Name, ClassTarget] = Field(
        default_factory=dict
    )  # class name -> target; what the plan uses
    augment: AugmentSettings = Field(default_factory=AugmentSettings)
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    inspect: InspectSettings = Field(default_factory=InspectSettings)
    staging_dir: Name | None = None
    snapshot: dict[Name, ClassSnapshot] | None = None  # class name -> contents at last save

    @field_validator("marks")
    @classmethod
    def _marks_inside_root(cls, marks: dict[str, Mark]) -> dict[str, Mark]:
        check_rel_paths(marks)
        return marks

    @field_validator("version")
    @classmethod
    def _known_version(cls, version: int) -> int:
        if version > PROJECT_VERSION:
            raise ValueError(_newer_message(version))
        if version < 1:
            raise ValueError(f"unknown project format version {version}")
        return version

    # -- editing -----------------------------------------------------------------------

    def set_mark(self, path: str, mark: Mark | None) -> None:
        """Set (or with None / an empty mark, clear) the mark on one sample."""
        self.update_marks({path: mark})

    def update_marks(self, changes: Mapping[str, Mark | None]) -> None:
        """Set (or with None / an empty mark, clear) the marks of these samples.

        Only the changed marks are checked (path inside the root, a `Mark`): assigning the
        whole dict would re-validate every mark, 49 ms per key press at 10,000 marks. The
        dict is replaced, never mutated, so a snapshot a worker reads stays as it was. Raises
        ValueError (a path) or TypeError (not a Mark) and then changes nothing."""
        check_rel_paths(changes)
        # An edit of 10,000 images shares a handful of Mark objects: judge each once.
        distinct = {id(mark): mark for mark in changes.values()}
        for mark in distinct.values():
            if mark is not None and not isinstance(mark, Mark):
                path = next(p for p, m in changes.items() if m is mark)
                raise TypeError(f"{path!r}: a mark must be a Mark or None, not {mark!r}")
        kept = {key for key, mark in distinct.items() if mark is not None and not mark.empty}
        marks = dict(self.marks)
        for path, mark in changes.items():
            if id(mark) in kept:
                marks[path] = mark
            else:
                marks.pop(path, None)
        # Every entry is valid (the old ones were validated when they came in): store the
        # new dict as pydantic would after validating it, without walking it again.
        self.__dict__["marks"] = marks
        self.__pydantic_fields_set__.add("marks")

    def root_path(self) -> Path:
        return Path(self.dataset_root)

    # -- files -------------------------------------------------------------------------

    def staging_path(self, project_file: Path | None, dataset: Dataset | None = None) -> Path:
        """The generation staging folder: `staging_dir` if set (relative to the project file),
        else `<name>.staging/` next to the project file, else under the user cache folder.
        Never inside the dataset, its class folders' real paths included (raises
        ProjectError); pass the scanned `dataset` so folders linked deeper count too."""
        if self.staging_dir:
            path = Path(self.staging_dir).expanduser()
            if not path.is_absolute() and project_file is not None:
                path = Path(project_file).parent / path
        elif project_file is not None:
            project_file = Path(project_file)
            path = project_file.parent / f"{_stem(project_file)}.staging"
        else:
            base = Path(platformdirs.user_cache_dir(APP_NAME)) / "staging"
            path = base / _key(self.dataset_root)
        path = path.absolute()
        where = self._where_in_dataset(path, dataset)
        if where:
            raise ProjectError(
                f"staging folder {path} is {where}; the dataset is read-only, "
                "choose a staging folder outside it"
            )
        return path

    def _where_in_dataset(self, path: Path, dataset: Dataset | None) -> str:
        """Empty when `path` is outside the dataset, else where in it (for the message)."""
        real_dirs = dataset.real_dirs if dataset is not None else ()
        folder = dataset_folder_of(path, self.root_path(), real_dirs)
        return "" if folder is None else where_in_dataset(folder, self.root_path())

    def to_json_text(self) -> str:
        return self.model_dump_json(indent=2, exclude_none=False) + "\n"

    def save(self, path: str | os.PathLike[str], dataset: Dataset | None = None) -> None:
        """Write the project atomically (temp file in the same folder, fsync, rename).
        Never inside the dataset (see `staging_path` for `dataset`)."""
        path = Path(path)
        where = self._where_in_dataset(path.absolute(), dataset)
        if where:
            raise ProjectError(
                f"{path}: will not write {where} (the dataset is read-only); "
                "save the project elsewhere"
            )
        text = self.to_json_text()
        # Never write a file `load` would refuse (bytes counted only when it could matter).
        size = len(text.encode("utf-8", "replace")) if len(text) > PROJECT_MAX_BYTES // 4 else 0
        if size > PROJECT_MAX_BYTES:
            raise ProjectError(
                f"{path}: not saved: the project is {size / 2**20:.0f} MB, above the "
                f"{PROJECT_MAX_BYTES // 2**20} MB a project file may hold (clear some marks)"
            )
        try:
            atomic_write_text(path, text)
        except OSError as exc:
            raise ProjectError(f"{path}: cannot save project ({exc.strerror or exc})") from exc

    @classmethod
    def from_json_text(cls, text: str, source: str = "project") -> Project:
        """Validate a project from JSON text; ProjectError with one line on any problem."""
        try:
            data = loads_bounded(text, f"{source}: not a valid project file")
        except json.JSONDecodeError as exc:
            raise ProjectError(
                f"{source}: not a valid project file (broken or truncated JSON at line "
                f"{exc.lineno}, column {exc.colno})"
            ) from None
        except InputFileError as exc:  # nested too deeply
            raise ProjectError(str(exc)) from None
        if not isinstance(data, dict):
            raise ProjectError(f"{source}: not a valid project file (expected a JSON object)")
        version = data.get("version")
        if isinstance(version, int) and not isinstance(version, bool) and version > PROJECT_VERSION:
            raise ProjectError(f"{source}: {_newer_message(version)}")
        try:
            # Strict: a hand-edited "seed": "3" or "remove": 1 is an error, not a guess.
            return cls.model_validate_json(text, strict=True)
        except ValidationError as exc:
            raise ProjectError(f"{source}: not a valid project file: {_first_error(exc)}") from None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Project:
        """Read and validate a project file. A relative `dataset_root` is taken relative to
        the file's folder and made absolute. Raises ProjectError with a one-line message."""
        path = Path(path)
        try:
            # A regular file below the limit only: a FIFO must not hang us, /dev/zero must
            # not fill memory.
            text = read_bounded_text(path, PROJECT_MAX_BYTES, "a project file")
        except FileNotFoundError:
            raise ProjectError(f"{path}: no such project file") from None
        except UnicodeDecodeError:
            raise ProjectError(f"{path}: not a valid project file (not UTF-8 text)") from None
        except InputFileError as exc:
            raise ProjectError(str(exc)) from None
        except OSError as exc:
            raise ProjectError(f"{path}: cannot read project ({exc.strerror or exc})") from None
        project = cls.from_json_text(text, str(path))
        root = Path(project.dataset_root).expanduser()
        if not root.is_absolute():
            project.dataset_root = str((path.parent / root).absolute())
        return project


def _newer_message(version: int) -> str:
    return (
        f"written by a newer Imbalance Studio (project format {version}; this version reads "
        f"up to {PROJECT_VERSION}); please upgrade"
    )


def _first_error(exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0]
    loc = ".".join(str(p) for p in first["loc"])
    msg = first["msg"].removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"{loc}: {msg}{more}" if loc else f"{msg}{more}"  # a whole-object rule: no field


def _stem(project_file: Path) -> str:
    name = project_file.name
    return name[: -len(PROJECT_SUFFIX)] if name.endswith(PROJECT_SUFFIX) else project_file.stem


def _key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=8).hexdigest()
