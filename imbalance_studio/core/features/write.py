"""The files of a feature export, and writing them atomically.

    train.npz, val.npz, test.npz   X float32 (n x d), y int64, synthetic bool, path str
                                   (relative to the dataset root; "" for synthetic rows);
                                   train.npz also `sources` int64 (n x 2): the two train rows
                                   a synthetic row was made from (-1 for originals)
    train_synthetic_sources.csv    row,class_index,class,source_a,source_b,path_a,path_b,step
    features.json                  classes, preprocess, hog, sampler, counts, notes
    manifest.csv                   path,rows,sha256 of every file above
    README.md                      what the files hold, with a scikit-learn snippet

No pickles: every array loads with `np.load(..., allow_pickle=False)`. The .npz files are
written with fixed zip timestamps, so the same project and seed give the same bytes.

Built in a hidden sibling of OUT and renamed into place (the image export's destination
rules: OUT new, empty, or a previous export of ours with --overwrite / --overwrite-all). The
marker of the image export (`core/export/destination`) is reused as is: this export's
manifest lists its own files, so a later --overwrite deletes only those.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

from ..export.destination import (
    Destination,
    ExportError,
    is_disk_full,
    make_partial_dir,
    move_into_place,
    remove_partial,
)
from ..export.metadata import _csv, dump_json, marker_json, write_file
from ..export.previous import MANIFEST_NAME, MARKER_NAME
from ..names import escape_name
from ..plan import SPLITS

FEATURES_FORMAT = "imbalance-studio-features"
FEATURES_VERSION = 1
SOURCES_NAME = "train_synthetic_sources.csv"
_EPOCH = (1980, 1, 1, 0, 0, 0)  # zip's earliest date: no clock in the bytes


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz (as `np.savez` writes, uncompressed) with fixed timestamps."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_EPOCH)
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(array), allow_pickle=False)
    return buf.getvalue()


def split_arrays(X, y, synthetic, paths, sources=None) -> dict[str, np.ndarray]:
    arrays = {
        "X": np.ascontiguousarray(X, np.float32),
        "y": np.asarray(y, np.int64),
        "synthetic": np.asarray(synthetic, bool),
        "path": np.array(list(paths), dtype=str) if len(paths) else np.zeros(0, "<U1"),
    }
    if sources is not None:
        arrays["sources"] = np.asarray(sources, np.int64).reshape(-1, 2)
    return arrays


def sources_csv(res, classes: tuple[str, ...]) -> str:
    rows = np.flatnonzero(res.synthetic)
    a, b = res.sources[rows, 0], res.sources[rows, 1]
    cls = res.y[rows]
    cols = [
        [str(r) for r in rows.tolist()],
        [str(c) for c in cls.tolist()],
        [classes[c] for c in cls.tolist()],
        [str(v) for v in a.tolist()],
        [str(v) for v in b.tolist()],
        [res.source_paths[r][0] for r in rows.tolist()],
        [res.source_paths[r][1] for r in rows.tolist()],
        [f"{t:.6f}" for t in res.step[rows].tolist()],
    ]
    header = ("row", "class_index", "class", "source_a", "source_b", "path_a", "path_b", "step")
    return _csv(header, cols, safe=(0, 1, 3, 4, 7))


def manifest(files: dict[str, bytes], rows: dict[str, int]) -> str:
    lines = ["path,rows,sha256"]
    for name in sorted(files):
        lines.append(f"{name},{rows.get(name, '')},{hashlib.sha256(files[name]).hexdigest()}")
    return "\n".join(lines) + "\n"


def write_export(dest: Destination, files: dict[str, bytes], dataset_root: str, seed: int,
                 n_rows: int) -> Path | None:  # fmt: skip
    """Write `files` into a hidden sibling of `dest.out`, add the marker, rename into place.
    Returns the folder kept aside for files that appeared in a replaced export, or None."""
    tmp = make_partial_dir(dest.out)
    done = False
    try:
        for name, data in files.items():
            write_file(tmp / name, data)
        marker = marker_json(dataset_root, seed, n_rows, dict(files), [])
        write_file(tmp / MARKER_NAME, marker)
        kept = move_into_place(tmp, dest)
        done = True
        return kept
    except OSError as exc:
        if is_disk_full(exc):
            raise ExportError(
                f"{dest.out.parent}: the disk filled up during the export; nothing was written"
            ) from exc
        raise
    finally:
        if not done:
            remove_partial(tmp)


def readme(info: dict, n_dims: int) -> str:
    """README.md of a feature export: the files, the preprocessing, a scikit-learn snippet."""
    pre, hog = info["preprocess"], info["hog"]
    counts = info["counts"]
    classes = info["classes"]
    lines = [
        "# HOG feature vectors",
        "",
        "Exported by Imbalance Studio from `" + escape_name(info["dataset_root"]) + "`.",
        "",
        f"Every kept original image of every split became one HOG descriptor of {n_dims} "
        "values. Only the **training** split was resampled "
        f"(`{info['sampler']['name']}`, seed {info['sampler']['seed']}); validation and test "
        'hold original images only, so scores on them are honest. "Train kept" counts the '
        "training originals left after removal marks and any undersampling target (the image "
        'export\'s "train before" counts them before either); "train resampled" adds the '
        "sampler's rows.",
        "",
        "| class | train kept | train resampled | val | test |",
        "|---|---:|---:|---:|---:|",
    ]
    for i, name in enumerate(classes):
        cell = escape_name(name).replace("|", "\\|")
        lines.append(
            f"| {cell} | {counts['train']['before'][i]} | "
            f"{counts['train']['after'][i]} | {counts['val']['after'][i]} | "
            f"{counts['test']['after'][i]} |"
        )
    lines += [
        "",
        "## Files",
        "",
        "- `train.npz`, `val.npz`, `test.npz`: `X` (float32, n × d), `y` (int64 class index, "
        "ImageFolder order), `synthetic` (bool), `path` (source image relative to the dataset "
        "root; empty for synthetic rows). `train.npz` also has `sources` (n × 2: the two "
        "training rows a synthetic row was interpolated between; -1 for originals).",
        f"- `{SOURCES_NAME}`: the same sources with their image paths and the step t "
        "(row = a + t·(b − a)).",
        "- `features.json`: classes, the exact preprocessing and `skimage.feature.hog` "
        "arguments, the sampler with its parameters and seed, counts, notes.",
        "- `manifest.csv`: every file above with its rows and SHA-256, to check a copy.",
        "",
        "## Use with scikit-learn",
        "",
        "```python",
        "import numpy as np",
        "from sklearn.svm import SVC",
        "from sklearn.metrics import balanced_accuracy_score, f1_score",
        "",
        'train = np.load("train.npz", allow_pickle=False)',
        'val = np.load("val.npz", allow_pickle=False)',
        'model = SVC().fit(train["X"], train["y"])',
        'pred = model.predict(val["X"])',
        'print(balanced_accuracy_score(val["y"], pred), f1_score(val["y"], pred, average="macro"))',
        "```",
        "",
        "Judge with balanced accuracy, macro-F1 or per-class recall, never plain accuracy. "
        'Training on resampled vectors *and* `class_weight="balanced"` corrects twice.',
        "",
        "## Featurize a new image the same way",
        "",
        "```python",
        "import json, numpy as np",
        "from PIL import Image, ImageOps",
        "from skimage.feature import hog",
        "",
        'info = json.load(open("features.json"))',
        'pre = info["preprocess"]',
        "img = ImageOps.exif_transpose(Image.open(path))",
        'img = img.convert(pre["mode"]).resize(pre["size"], '
        'Image.Resampling[pre["resample"].upper()])',
        'x = hog(np.asarray(img, np.float64) / 255, **info["hog"]).astype(np.float32)',
        "```",
        "",
        f"Preprocessing: mode {pre['mode']}, {pre['size'][0]} × {pre['size'][1]} px, "
        f"{pre['resample']} resampling, values / 255. HOG: "
        + ", ".join(f"{k}={v}" for k, v in hog.items())
        + ".",
    ]
    if info["notes"]:
        lines += ["", "## Notes", ""] + [f"- {escape_name(n)}" for n in info["notes"]]
    if info["problems"]:
        lines += ["", "## Left out", ""] + [
            f"- `{escape_name(p['path'])}`: {p['reason']}" for p in info["problems"]
        ]
    return "\n".join(lines) + "\n"


def export_files(fs, res, info: dict) -> tuple[dict[str, bytes], dict[str, int]]:
    """{name: bytes} of every file of the export (but the marker), and rows per .npz."""
    files: dict[str, bytes] = {}
    rows: dict[str, int] = {}
    for split in SPLITS:
        if split == "train":
            arrays = split_arrays(res.X, res.y, res.synthetic, res.paths, res.sources)
        else:
            v = fs.splits[split]
            arrays = split_arrays(v.X, v.y, np.zeros(len(v.y), bool), v.paths)
        files[f"{split}.npz"] = npz_bytes(arrays)
        rows[f"{split}.npz"] = len(arrays["y"])
    files[SOURCES_NAME] = sources_csv(res, fs.classes).encode("utf-8", "surrogateescape")
    rows[SOURCES_NAME] = int(res.synthetic.sum())
    files["features.json"] = dump_json(info).encode("utf-8", "surrogateescape")
    files["README.md"] = readme(info, fs.settings.dimensions).encode("utf-8", "surrogateescape")
    files[MANIFEST_NAME] = manifest(files, rows).encode("utf-8")
    return files, rows
