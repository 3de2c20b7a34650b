"""The machine-readable files of an export: manifest, HF metadata, weights, stacks, mixing.

Each split's Hugging Face metadata is Parquet (see core/export/parquet.py for why).

Every file is a pure function of the export's content (no timestamps, no absolute OUT path),
so the same project and seed give the same bytes; only the marker carries a `created` time.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from .. import weights as W
from ..names import ERRORS, escape_all, json_text
from .destination import ExportError
from .layout import SPLITS, Layout
from .naming import FolderNames, safe_name
from .parquet import parquet_bytes
from .previous import MANIFEST_NAME, MARKER_FORMAT, manifest_digest

MANIFEST_COLUMNS = (
    "path", "split", "class", "class_index", "origin", "sources", "generator", "seed", "params",
)  # fmt: skip
MIXING_FORMAT = "imbalance-studio-mixing"
AUGMENT_CLASSES_DIR = "augment_classes"
# 2: the marker names the export's identity (manifest digest, its metadata files and folders).
EXPORT_VERSION = 2


def write_file(path: Path, data: str | bytes) -> None:
    """Write a new file. Not fsynced, like the images (and like cp): the export is atomic
    against cancel and crashes by its final rename; durability is the file system's.

    Text is always valid UTF-8: an undecodable byte of a name that reached it unescaped is
    written in the text form `\\xNN` (core/names.py), never as the raw byte."""
    raw = data.encode("utf-8", ERRORS) if isinstance(data, str) else data
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def dump_json(obj: object) -> str:
    # Undecodable bytes of names as \udcNN escapes: json.load gives back the str that
    # os.listdir and ImageFolder give (weights.json's class_to_idx compares equal).
    return json_text(obj, indent=2) + "\n"


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def _quoted(values: list[str]) -> list[str]:
    """A CSV column, quoted as csv.writer's QUOTE_MINIMAL would (checked in one pass)."""
    joined = "\x00".join(values)
    if not any(ch in joined for ch in ',"\r\n'):
        return values
    return ['"' + v.replace('"', '""') + '"' if _NEEDS_QUOTES.search(v) else v for v in values]


def _csv(
    header: tuple[str, ...],
    columns: list[list[str]],
    safe: tuple[int, ...] = (),
    as_is: tuple[int, ...] = (),
) -> str:
    """CSV text built column by column (no per-row Python work; csv.reader reads it back).
    Columns whose index is in `safe` hold values we made that never need quotes. Names and
    paths are written in the text form of core/names.py (undecodable bytes as `\\xNN`), except
    the `as_is` columns, which hold JSON that is valid UTF-8 already."""
    cols = [
        c if i in safe else _quoted(c if i in as_is else escape_all(c))
        for i, c in enumerate(columns)
    ]
    lines = map(",".join, zip(*cols, strict=True))
    return "\n".join([",".join(header), *lines]) + "\n"


def manifest_csv(lay: Layout) -> str:
    classes = lay.classes
    columns = [
        lay.path, lay.split, [classes[c] for c in lay.class_index],
        list(map(str, lay.class_index)), lay.origin, lay.sources, lay.generator, lay.seed,
        lay.params,
    ]  # fmt: skip
    # split, class_index, origin, generator and seed are ours: words and digits only.
    return _csv(MANIFEST_COLUMNS, columns, safe=(1, 3, 4, 6, 7), as_is=(8,))


LEFT_OUT_COLUMNS = ("path", "split", "class", "reason")
# The reasons the plan gives; a problem file's reason says what is wrong with it.
MARKED = "marked for removal"
UNDERSAMPLED = "undersampled to the class target"


def left_out_csv(rows: Sequence[tuple[str, str, str, str]]) -> str:
    """left_out.csv: every original of the dataset that is not in the export, and why."""
    columns = [[r[i] for r in rows] for i in range(len(LEFT_OUT_COLUMNS))]
    return _csv(LEFT_OUT_COLUMNS, columns, safe=(1,))


HF_METADATA = "metadata.parquet"
# Columns of a split's metadata file besides file_name and label: where each image came from.
HF_PROVENANCE = ("origin", "sources", "generator", "seed", "params")


def hf_features(classes: tuple[str, ...]) -> dict:
    """The `datasets` features of the split metadata files: `label` a ClassLabel whose names
    are the classes in ImageFolder order (so label i is class_to_idx's i), the rest strings."""
    string = {"dtype": "string", "_type": "Value"}
    features: dict = {"file_name": string, "label": {"names": escape_all(list(classes)),
                                                     "_type": "ClassLabel"}}  # fmt: skip
    features.update((name, string) for name in HF_PROVENANCE)
    return features


def split_metadata_parquet(lay: Layout, split: str) -> bytes | None:
    """Hugging Face `imagefolder` metadata of one split (None for a split without images,
    which `datasets` cannot load): file_name relative to the split folder, label (an integer,
    a ClassLabel through the file's schema), and the manifest's provenance columns."""
    start, stop = lay.span(split)
    if start == stop:
        return None
    cut = len(split) + 1
    columns = [
        ("file_name", escape_all([p[cut:] for p in lay.path[start:stop]])),
        ("label", lay.class_index[start:stop]),
        ("origin", lay.origin[start:stop]),
        ("sources", escape_all(lay.sources[start:stop])),
        ("generator", lay.generator[start:stop]),
        ("seed", lay.seed[start:stop]),
        ("params", lay.params[start:stop]),
    ]
    schema = {"info": {"features": hf_features(lay.classes)}}
    return parquet_bytes(columns, {"huggingface": json.dumps(schema)}, frozenset({"label"}))


def sampler_weights_csv(lay: Layout, counts: list[int]) -> str:
    """path,class_index,weight for every train file, in ImageFolder(OUT/train) order."""
    per_class = [repr(w) for w in W.sampler_weight_per_class(counts)]
    start, stop = lay.span("train")
    index = lay.class_index[start:stop]
    columns = [lay.path[start:stop], list(map(str, index)), [per_class[c] for c in index]]
    return _csv(("path", "class_index", "weight"), columns, safe=(1, 2))


def _stack_text(stack: dict) -> str:
    from ..augment.stack import StackError, entries_from_stack, jsonable

    data = jsonable(stack)
    try:
        entries_from_stack(data)  # refuses what albumentations.load could not read
    except StackError as exc:
        raise ExportError(
            f"the augmentation stack cannot be saved for albumentations: {exc}"
        ) from exc
    return json.dumps(data, indent=4) + "\n"


def augment_files(default_stack: dict | None, class_stacks: dict[str, dict]) -> dict[str, str]:
    """{relative path: text}: augment.json (the default stack, or an empty pipeline, in
    albumentations.save format) and, for per-class overrides, one albumentations.load-able file
    per class under augment_classes/ plus augment_classes/index.json mapping class -> file."""
    from ..augment.stack import empty_stack

    files = {"augment.json": _stack_text(default_stack or empty_stack())}
    if class_stacks:
        index = {}
        # Names that differ only in unsafe characters (bad\xff, bad\xfe) or in case would
        # share a safe file name; each class gets its own file.
        taken = FolderNames({"index.json"})
        for name in sorted(class_stacks):
            rel = f"{AUGMENT_CLASSES_DIR}/{taken.claim(safe_name(name) + '.json')}"
            files[rel] = _stack_text(class_stacks[name])
            index[name] = rel
        files[f"{AUGMENT_CLASSES_DIR}/index.json"] = dump_json(
            {
                "note": "per-class training-time stacks overriding augment.json; each file "
                "loads with albumentations.load(path)",
                "classes": index,
            }
        )
    return files


def mixing_json(classes: tuple[str, ...], cutmix_classes: list[str]) -> str:
    k = len(classes)
    return dump_json(
        {
            "format": MIXING_FORMAT,
            "version": 1,
            "num_classes": k,
            "cutmix": {"num_classes": k, "alpha": 1.0},
            "mixup": {"num_classes": k, "alpha": 0.2},
            "cutmix_classes_in_generation": sorted(cutmix_classes),
            "usage": "torchvision.transforms.v2: mix = v2.RandomChoice([v2.CutMix(**cfg['cutmix']), "
            "v2.MixUp(**cfg['mixup'])]); apply to each batch after the DataLoader: "
            "images, labels = mix(images, labels). Labels become soft (probabilities); "
            "CrossEntropyLoss accepts them. Mixing is applied at training time to all classes "
            "of a batch; the exported cutmix images are already in train/.",
        }
    )


def marker_json(
    dataset_root: str,
    seed: int,
    n_files: int,
    files: dict[str, str | bytes],
    folders: list[str],
) -> str:
    """The marker: what the export is, and exactly what it wrote besides the manifest's files
    (`files` are the metadata written, `folders` every folder made), so replacing it later
    deletes only those. `manifest_sha256` ties the marker to this export's manifest."""
    manifest = files[MANIFEST_NAME]
    raw = manifest.encode("utf-8", "surrogateescape") if isinstance(manifest, str) else manifest
    return dump_json(
        {
            "format": MARKER_FORMAT,
            "version": EXPORT_VERSION,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "dataset_root": dataset_root,
            "seed": seed,
            "files": n_files,
            "manifest_sha256": manifest_digest(raw),
            "metadata": sorted(files),
            "folders": sorted(folders),
        }
    )


def metadata_files(
    lay: Layout,
    weights: dict,
    default_stack: dict | None,
    class_stacks: dict[str, dict],
    cutmix_classes: list[str],
) -> dict[str, str | bytes]:
    """{path relative to OUT: contents} of the machine-readable files."""
    files: dict[str, str | bytes] = {"manifest.csv": manifest_csv(lay)}
    for split in SPLITS:
        hf = split_metadata_parquet(lay, split)
        if hf is not None:
            files[f"{split}/{HF_METADATA}"] = hf
    files["weights.json"] = dump_json(weights)
    files["sampler_weights.csv"] = sampler_weights_csv(lay, weights["counts"]["train"]["after"])
    files.update(augment_files(default_stack, class_stacks))
    files["mixing.json"] = mixing_json(lay.classes, cutmix_classes)
    return files
