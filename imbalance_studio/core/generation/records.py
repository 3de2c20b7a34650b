"""The staging folder: one image and one provenance record per generated image.

Layout (the folder belongs to the project, never to the dataset)::

    <staging>/<class>/<id>.png    the image (PNG, lossless)
    <staging>/<class>/<id>.json   its record: sources (and their size and mtime then),
                                  generator, parameters, seed, status
    <staging>/bad_sources.json    originals found not to decode (see badsources.py)

Both are written atomically (temp file in the same folder, then `os.replace`). The image is
fsync'ed before its rename, and the record is written only after that, so a record that
parses always describes an image that is on disk in full. A crash can leave a missing,
empty or truncated record (it is not fsync'ed: that would double the cost of every image),
which `read_record` rejects, so the image is made again. Leftover temp files are removed by
`clean_temp_files` at the start of a run.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..names import json_text
from ..safe_read import RECORD_MAX_BYTES, load_json_bounded

RECORD_FORMAT = 1
IMAGE_SUFFIX = ".png"
RECORD_SUFFIX = ".json"
# "unreviewed": a diffusion image no one has accepted or rejected yet (the export asks first).
STATUSES = ("pending", "accepted", "rejected", "unreviewed")
TEMP_SUFFIX = ".tmp"
# A temp file younger than this may be a write in progress: a QA decision saved in a worker
# thread while a replacement run starts, or another process on the same staging folder. Only
# older ones are a killed run's leftovers (a write takes well under a second).
TEMP_GRACE_S = 600.0


@dataclass(frozen=True)
class GeneratedImage:
    """One staged image and its provenance."""

    id: str
    class_name: str
    file: Path  # absolute path of the staged image
    sources: tuple[str, ...]  # rel paths in the dataset root (CutMix: source, donor)
    generator: str  # "augment", "cutmix" or "diffusion-img2img"
    seed: int
    params: dict = field(default_factory=dict, compare=False)
    status: str = "pending"  # "pending" | "accepted" | "rejected" | "unreviewed"
    ordinal: int = -1  # the plan task (slot) it fills
    fingerprint: str = ""  # stack / generator fingerprint it was made with
    planned_source: str = ""  # the plan's source (differs from sources[0] if that failed)
    reject_mode: str | None = None  # "replace" | "reduce" once rejected
    # (size, mtime_ns) of each source when it was read: a source changed since then (e.g. now
    # corrupt) means the image is made again rather than reused.
    source_stats: tuple[tuple[int, int] | None, ...] = field(default=(), compare=False)

    @property
    def record_file(self) -> Path:
        return self.file.with_suffix(RECORD_SUFFIX)


def class_dir(staging: Path, class_name: str) -> Path:
    return staging / class_name


def image_path(staging: Path, class_name: str, image_id: str) -> Path:
    return staging / class_name / f"{image_id}{IMAGE_SUFFIX}"


def record_path(staging: Path, class_name: str, image_id: str) -> Path:
    return staging / class_name / f"{image_id}{RECORD_SUFFIX}"


def open_temp(path: Path) -> tuple[IO[bytes], str]:
    """A temp file beside `path` (hidden, removed by `clean_temp_files` if abandoned)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    return os.fdopen(fd, "wb"), tmp


def finish_temp(f: IO[bytes], tmp: str, path: Path, *, sync: bool = True) -> int:
    """Flush (and with `sync`, fsync) a temp file from `open_temp`, close it and rename it
    over `path`; returns its size. On failure the temp file is removed."""
    try:
        with f:
            f.flush()
            size = f.tell()
            if sync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        discard_temp(f, tmp)
        raise
    return size


def discard_temp(f: IO[bytes], tmp: str) -> None:
    with contextlib.suppress(OSError):
        f.close()
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def atomic_write(path: Path, write: Callable[[IO[bytes]], None], *, sync: bool = True) -> int:
    """Write a file atomically through `write(fileobj)`; returns its size in bytes.

    A temp file in the same folder is written (and with `sync`, fsync'ed) and renamed over
    `path`; on any failure the temp file is removed and the exception propagates.
    """
    f, tmp = open_temp(path)
    try:
        write(f)
    except BaseException:
        discard_temp(f, tmp)
        raise
    return finish_temp(f, tmp, path, sync=sync)


def record_dict(image: GeneratedImage, size: int, staging: Path) -> dict[str, Any]:
    return {
        "format": RECORD_FORMAT,
        "id": image.id,
        "class": image.class_name,
        "ordinal": image.ordinal,
        "image": image.file.name,
        "bytes": size,
        "sources": list(image.sources),
        "planned_source": image.planned_source or image.sources[0],
        "generator": image.generator,
        "fingerprint": image.fingerprint,
        "seed": image.seed,
        "params": image.params,
        "status": image.status,
        "reject_mode": image.reject_mode,
        "source_stats": [list(s) if s else None for s in image.source_stats],
    }


def write_record(record: dict[str, Any], path: Path) -> None:
    # Compact: json only uses its C encoder without indent (records hold long parameter lists).
    # Undecodable bytes of a class name or source path as \udcNN escapes (core/names.py):
    # valid UTF-8, and json.loads gives back the same str.
    data = json_text(record, indent=None, default=str).encode("utf-8")
    atomic_write(path, lambda f: f.write(data), sync=False)


def read_record(path: Path, *, check_image: bool = True) -> dict[str, Any] | None:
    """The record at `path`, or None when it (or, with `check_image`, its image) is missing,
    unreadable, truncated or inconsistent: such an item is made again."""
    try:
        # Regular, bounded and shallow only: a FIFO or a link to /dev/zero in the staging
        # folder must not hang or exhaust a resumed run (InputFileError is a ValueError).
        rec = load_json_bounded(path, RECORD_MAX_BYTES, "a generation record")
    except (OSError, ValueError):
        return None
    if not isinstance(rec, dict) or rec.get("format") != RECORD_FORMAT:
        return None
    if rec.get("id") != path.stem or rec.get("status") not in STATUSES:
        return None
    # The image sits beside its record under the record's name: a record never points
    # elsewhere (an edited "../../x" would otherwise be exported as a generated image).
    if rec.get("image") != f"{path.stem}{IMAGE_SUFFIX}":
        return None
    if check_image:
        try:
            st = (path.parent / rec["image"]).stat()
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode) or st.st_size != rec.get("bytes") or st.st_size == 0:
            return None
    return rec


def image_from_record(rec: dict[str, Any], folder: Path) -> GeneratedImage:
    return GeneratedImage(
        id=rec["id"],
        class_name=rec["class"],
        file=(folder / rec["image"]).absolute(),
        sources=tuple(rec.get("sources", ())),
        generator=rec.get("generator", "augment"),
        seed=int(rec.get("seed", 0)),
        params=rec.get("params") or {},
        status=rec.get("status", "pending"),
        ordinal=int(rec.get("ordinal", -1)),
        fingerprint=rec.get("fingerprint", ""),
        planned_source=rec.get("planned_source", ""),
        reject_mode=rec.get("reject_mode"),
        source_stats=_stats(rec.get("source_stats")),
    )


def _stats(value: Any) -> tuple[tuple[int, int] | None, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        (v[0], v[1])
        if isinstance(v, list) and len(v) == 2 and all(type(x) is int for x in v)
        else None
        for v in value
    )


def read_class_records(folder: Path) -> dict[str, dict[str, Any]]:
    """Every valid record in one class folder, by id (invalid ones are left out)."""
    out: dict[str, dict[str, Any]] = {}
    try:
        names = os.listdir(folder)
    except OSError:
        return out
    for name in names:
        if name.endswith(RECORD_SUFFIX) and not name.startswith("."):
            rec = read_record(folder / name)
            if rec is not None:
                out[rec["id"]] = rec
    return out


def load_staging(staging_dir: Path | str) -> list[GeneratedImage]:
    """Every complete image in a staging folder (any status), by class then id."""
    staging = Path(staging_dir)
    out: list[GeneratedImage] = []
    try:
        classes = sorted(e.name for e in os.scandir(staging) if e.is_dir())
    except OSError:
        return out
    for name in classes:
        folder = staging / name
        records = read_class_records(folder)
        out.extend(image_from_record(records[i], folder) for i in sorted(records))
    return out


def clean_temp_files(staging: Path) -> int:
    """Remove temp files a killed run left behind (older than `TEMP_GRACE_S`: a younger one
    may be a write in progress); returns how many."""
    removed = 0
    try:
        folders = [e.path for e in os.scandir(staging) if e.is_dir()]
    except OSError:
        return 0
    old = time.time() - TEMP_GRACE_S
    for folder in folders:
        for entry in os.scandir(folder):
            if entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX):
                try:
                    if entry.stat(follow_symlinks=False).st_mtime > old:
                        continue
                    os.unlink(entry.path)
                    removed += 1
                except OSError:
                    pass
    return removed


def set_status(
    staging_dir: Path | str,
    image: GeneratedImage,
    status: str,
    reject_mode: str | None = None,
) -> GeneratedImage:
    """Rewrite an image's record with a new status; returns the updated image."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    path = record_path(Path(staging_dir), image.class_name, image.id)
    rec = read_record(path, check_image=False)
    if rec is None:
        raise FileNotFoundError(f"{path}: no record for generated image {image.id}")
    rec["status"] = status
    rec["reject_mode"] = reject_mode if status == "rejected" else None
    write_record(rec, path)
    return image_from_record(rec, path.parent)
