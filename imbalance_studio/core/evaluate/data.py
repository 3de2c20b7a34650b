"""What an evaluation reads from an export folder: the manifest's rows, the class weights, and
the training sets of the arms. Validation and test rows never become training rows: an arm's
files are chosen from `split == "train"` rows only."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from ..names import display_name, unescape_name
from ..safe_read import InputFileError, load_json_bounded, open_regular

MANIFEST_MAX_BYTES = 4 * 2**30
WEIGHTS_MAX_BYTES = 64 * 2**20
SAMPLER_MAX_BYTES = 4 * 2**30
# Below this many validation images a class's recall moves in big steps (1/n): warn.
FEW_VAL = 5

ARMS = ("raw", "balanced", "weighted", "sampler", "balanced+weights")
ARM_HELP = {
    "raw": "the original training images only, plain loss",
    "balanced": "the exported (balanced) training split, plain loss",
    "weighted": "the original training images, loss weighted by balanced_original_train",
    "sampler": "the original training images drawn by WeightedRandomSampler (1 / class count)",
    "balanced+weights": "the balanced split AND the weighted loss: the double correction "
    "weights.json warns about",
}


class EvaluateError(Exception):
    """An export that cannot be evaluated; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class Row:
    path: str  # relative to the export, as on disk (names unescaped)
    split: str
    label: int
    origin: str


@dataclass(frozen=True)
class Arm:
    """One way of training: which training files, which loss weights, which sampler."""

    name: str
    rows: tuple[Row, ...]
    loss_weights: tuple[float, ...] | None = None
    sample_weights: tuple[float, ...] | None = None

    @property
    def labels(self) -> np.ndarray:
        return np.array([r.label for r in self.rows], np.int64)


@dataclass
class ExportData:
    folder: Path
    classes: list[str]
    rows: list[Row]
    weights: dict
    sampler: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def split(self, name: str) -> list[Row]:
        return [r for r in self.rows if r.split == name]


def _read_text(path: Path, limit: int, what: str) -> str:
    """A regular UTF-8 file of at most `limit` bytes, read in chunks (one read of `limit`
    bytes would ask for the whole bound at once: gigabytes for a manifest's)."""
    fd, _ = open_regular(path, what)
    with open(fd, "rb", closefd=True) as fh:
        chunks, left = [], limit + 1
        while left > 0 and (chunk := fh.read(min(left, 2**24))):
            chunks.append(chunk)
            left -= len(chunk)
    if left <= 0:
        raise InputFileError(f"{path}: {what} larger than {limit // 2**20} MB")
    return b"".join(chunks).decode("utf-8")


def _safe_relative(text: str, folder: Path) -> str:
    path = unescape_name(text)
    parts = PurePosixPath(path).parts
    if not parts or PurePosixPath(path).is_absolute() or ".." in parts:
        raise EvaluateError(f"{folder / 'manifest.csv'}: path {text!r} leaves the export")
    return path


def read_export(folder: Path) -> ExportData:
    """The manifest, weights.json and sampler_weights.csv of an export folder."""
    folder = Path(folder)
    if not (folder / "manifest.csv").is_file():
        raise EvaluateError(f"{folder}: not an export folder (no manifest.csv)")
    try:
        weights = load_json_bounded(folder / "weights.json", WEIGHTS_MAX_BYTES, "weights.json")
        text = _read_text(folder / "manifest.csv", MANIFEST_MAX_BYTES, "manifest.csv")
    except (InputFileError, OSError, ValueError) as exc:
        raise EvaluateError(f"{folder}: {exc}") from exc
    if not isinstance(weights, dict) or not isinstance(weights.get("classes"), list):
        raise EvaluateError(f"{folder / 'weights.json'}: not an Imbalance Studio weights file")
    classes = [str(c) for c in weights["classes"]]
    rows: list[Row] = []
    try:
        for rec in csv.DictReader(io.StringIO(text)):
            label = int(rec["class_index"])
            if not 0 <= label < len(classes):
                raise ValueError(f"class_index {label} out of range")
            rows.append(
                Row(_safe_relative(rec["path"], folder), rec["split"], label, rec["origin"])
            )
    except (KeyError, ValueError, TypeError) as exc:
        raise EvaluateError(f"{folder / 'manifest.csv'}: unreadable ({exc})") from exc
    data = ExportData(folder, classes, rows, weights)
    data.sampler = _read_sampler(folder)
    return data


def _read_sampler(folder: Path) -> dict[str, float]:
    path = folder / "sampler_weights.csv"
    if not path.is_file():
        return {}
    try:
        text = _read_text(path, SAMPLER_MAX_BYTES, "sampler_weights.csv")
        return {
            unescape_name(r["path"]): float(r["weight"]) for r in csv.DictReader(io.StringIO(text))
        }
    except (InputFileError, OSError, KeyError, ValueError) as exc:
        raise EvaluateError(f"{path}: unreadable ({exc})") from exc


def build_arms(
    data: ExportData, only: tuple[str, ...] | None = None
) -> tuple[list[Arm], list[str]]:
    """The arms that apply to this export, and notes on those left out or how they were made.

    Only `train` rows are ever used: `raw` = its originals, `balanced` = all of it."""
    train = data.split("train")
    originals = tuple(r for r in train if r.origin == "original")
    k = len(data.classes)
    notes: list[str] = []
    if not originals:
        raise EvaluateError(f"{data.folder}: the export's train split holds no original image")
    counts = np.bincount([r.label for r in originals], minlength=k)
    cw = data.weights.get("class_weight", {}).get("balanced_original_train")
    if not (isinstance(cw, list) and len(cw) == k):
        # The formula weights.json documents (compute_class_weight('balanced')).
        cw = [len(originals) / (k * c) if c else 0.0 for c in counts]
        notes.append("weights.json has no balanced_original_train: computed from the manifest")
    cw_t = tuple(float(w) for w in cw)
    # WeightedRandomSampler over the originals: sampler_weights.csv's formula (1 / count of
    # the class in the training set drawn from). Its own rows are for the exported split,
    # which is already balanced when images were added; they fit only a split of originals.
    if len(originals) == len(train) and all(r.path in data.sampler for r in originals):
        sample_w = tuple(data.sampler[r.path] for r in originals)
    else:
        sample_w = tuple(1.0 / counts[r.label] for r in originals)
    arms = [
        Arm("raw", originals),
        Arm("balanced", tuple(train)),
        Arm("weighted", originals, loss_weights=cw_t),
        Arm("sampler", originals, sample_weights=sample_w),
        Arm("balanced+weights", tuple(train), loss_weights=cw_t),
    ]
    if len(originals) == len(train):
        arms = [a for a in arms if a.name not in ("balanced", "balanced+weights")]
        notes.append(
            "the export adds no image to train: `balanced` would be `raw`, so it is left out"
        )
    if only:
        unknown = set(only) - set(ARMS)
        if unknown:
            raise EvaluateError(f"unknown arm {sorted(unknown)[0]!r} (arms: {', '.join(ARMS)})")
        arms = [a for a in arms if a.name in only]
    return arms, notes


def validation_warnings(data: ExportData, val: list[Row]) -> list[str]:
    k = len(data.classes)
    counts = np.bincount([r.label for r in val], minlength=k)
    out = []
    missing = [display_name(data.classes[i]) for i in range(k) if counts[i] == 0]
    if missing:
        out.append(
            f"no validation image of {', '.join(missing[:5])}"
            + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            + ": left out of balanced accuracy and macro-F1"
        )
    few = [(display_name(data.classes[i]), int(c)) for i, c in enumerate(counts) if 0 < c < FEW_VAL]
    if few:
        listed = ", ".join(f"{n} ({c})" for n, c in few[:5])
        out.append(
            f"few validation images for {listed}"
            + (f" and {len(few) - 5} more" if len(few) > 5 else "")
            + f": under {FEW_VAL} a class's recall moves in steps of 1/n, so per-class changes "
            "there are noise, not a verdict"
        )
    return out
