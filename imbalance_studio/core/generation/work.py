"""Making one image: decode the source, augment (or CutMix), encode, write image and record.

This runs in worker processes (and in-process for one worker), so everything a worker needs
travels in a small picklable `WorkItem`: paths, seeds and the stack dict, never pixels.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..imageio import ImageDecodeError, classify, normalize_mode, open_image
from .badsources import signature
from .records import (
    GeneratedImage,
    discard_temp,
    finish_temp,
    open_temp,
    record_dict,
    record_path,
    write_record,
)

# PNG with zlib level 1: lossless (no compression artefacts a model could learn to spot in
# the synthetic images) and about 3x faster to write than Pillow's default level 6, for
# files ~10% larger. Encoded with OpenCV's libpng and zlib's run-length strategy, which
# writes a 512-px photo in ~15 ms where Pillow at level 1 takes ~23 ms (and its files came
# out no larger). Measured in benchmarks/bench_generate.py.
PNG_COMPRESS_LEVEL = 1

# Built pipelines by stack fingerprint: building one costs ~100 ms, reseeding it nothing, and
# a reseeded pipeline draws exactly what a freshly built one with that seed would. One cache
# per thread: a Dask worker runs several tasks at once in threads, and two of them reseeding
# one shared pipeline would draw each other's parameters (other pixels than the local run).
_THREAD = threading.local()
_COMPOSE_CACHE_SIZE = 32


@dataclass(frozen=True)
class WorkItem:
    id: str
    class_name: str
    ordinal: int
    seed: int
    generator: str  # "augment" | "cutmix" | "diffusion-img2img"
    fingerprint: str
    source: str  # rel path
    planned_source: str
    root: str  # dataset root
    staging: str
    stack: dict | None = None  # augment: the stack dict
    donors: tuple[str, ...] = ()  # cutmix: other training images of the class, in try order
    diffusion: Any = None  # diffusion: its `DiffusionSpec`


@dataclass(frozen=True)
class Outcome:
    """What a worker reports: `kind` is "done", "bad_source", "no_donor" or "error"."""

    item: WorkItem
    kind: str
    image: GeneratedImage | None = None
    message: str = ""
    bad: dict[str, str] = field(default_factory=dict)  # rel path -> reason (sources, donors)
    disk_full: bool = False


def warm_up() -> None:
    """Pool initializer: load albumentations/cv2 before the first item arrives and keep each
    worker to one OpenCV thread (the processes already use every core). Ctrl+C is left to the
    parent by `core.processes.worker_pool`: it stops handing out work and a worker finishes
    its batch cleanly."""
    from ..augment._albu import albumentations

    albumentations()
    import cv2

    cv2.setNumThreads(1)


def _compose(fingerprint: str, stack: dict | None) -> Any:
    composes: dict[str, Any] = _THREAD.__dict__.setdefault("composes", {})
    compose = composes.get(fingerprint)
    if compose is None:
        from ..augment import build_compose

        compose = build_compose(stack, 0, save_applied_params=True)
        if len(composes) >= _COMPOSE_CACHE_SIZE:
            composes.pop(next(iter(composes)))
        composes[fingerprint] = compose
    return compose


def augment(item: WorkItem, image: np.ndarray) -> tuple[np.ndarray, dict]:
    """The class stack applied with the item's seed: the same pixels as
    `core.augment.apply_stack(stack, image, seed)`."""
    from ..augment.apply import make_new_view

    return make_new_view(_compose(item.fingerprint, item.stack), image, item.seed)


def decode(path: Path) -> np.ndarray:
    """A source as a uint8 array, through the product's safe decoder (bombs, corrupt and
    truncated files, EXIF orientation, odd modes) without the facts `load_image` gathers."""
    from PIL import ImageOps

    img = open_image(path)
    try:
        with img:
            img.load()
            out = normalize_mode(ImageOps.exif_transpose(img) or img)
            return np.asarray(out)
    except ImageDecodeError:
        raise
    except Exception as exc:
        raise classify(exc) from exc


@dataclass
class Staged:
    """An image encoded into its temp file: not yet fsync'ed, renamed or recorded."""

    item: WorkItem
    image: GeneratedImage
    file: IO[bytes]
    tmp: str
    bad: dict[str, str]


def make_one(item: WorkItem, **kw: Any) -> Outcome:
    """Make and write one image. Never raises for bad inputs or a full disk: the outcome
    says what went wrong, and nothing half-written is left behind. `kw`: see `render`."""
    staged = render(item, **kw)
    return staged if isinstance(staged, Outcome) else commit(staged)


_COMMITTER: Any = None


def make_batch(items: list[WorkItem]) -> list[Outcome]:
    """Make a few images in a pool worker: each image's fsync and rename run in a thread
    while the next image is made, and every outcome is final (committed) on return."""
    global _COMMITTER
    unseen = _unseen_folder(items)
    if unseen:  # not one "bad source" per image: the worker, not the dataset, is at fault
        return [Outcome(item, "error", message=unseen) for item in items]
    if _COMMITTER is None:
        from concurrent.futures import ThreadPoolExecutor

        _COMMITTER = ThreadPoolExecutor(1, thread_name_prefix="generate-commit")
    pending: list[Any] = []
    for item in items:
        staged = render(item)
        pending.append(_COMMITTER.submit(commit, staged) if isinstance(staged, Staged) else staged)
    return [p if isinstance(p, Outcome) else p.result() for p in pending]


def _unseen_folder(items: list[WorkItem]) -> str:
    """Why this worker cannot do the items (a Dask worker without the shared folders), or ""."""
    for item in items[:1]:
        for what, folder in (("dataset", item.root), ("staging", item.staging)):
            if not os.path.isdir(folder):
                return (
                    f"the {what} folder {folder} is not there on {socket.gethostname()}; "
                    "every worker needs the dataset and staging folders at the same path"
                )
    return ""


def render(item: WorkItem, *, on_step: Any = None, cancel: Any = None) -> Outcome | Staged:
    """Decode, augment (or CutMix, or diffuse) and encode into a temp file beside the final
    name. A diffusion item reports each step to `on_step(done, total)` and raises
    `diffusion.Cancelled` once `cancel` (a threading.Event) is set: nothing is written."""
    root = Path(item.root)
    # Stat before decoding: a file that changes meanwhile no longer matches its record.
    stats = [signature(root, item.source)]
    try:
        image = decode(root / item.source)
    except ImageDecodeError as exc:
        return Outcome(item, "bad_source", message=str(exc), bad={item.source: str(exc)})
    bad: dict[str, str] = {}
    sources: tuple[str, ...] = (item.source,)
    if item.diffusion is not None:
        from .diffusion import DiffusionError, img2img

        try:
            out, params = img2img(item.diffusion, image, item.seed, on_step=on_step, cancel=cancel)
        except DiffusionError as exc:  # the model, not the source: stop the run
            return Outcome(item, "error", message=f"{exc}; the finished images are kept")
        return _encode(item, out, params, sources, bad, tuple(stats))
    try:
        if item.generator == "cutmix":
            from .cutmix import cutmix

            donor = None
            for rel in item.donors:
                donor_stat = signature(root, rel)
                try:
                    donor = decode(root / rel)
                except ImageDecodeError as exc:
                    bad[rel] = str(exc)
                    continue
                sources = (item.source, rel)
                stats.append(donor_stat)
                break
            if donor is None:
                return Outcome(item, "no_donor", message="no donor image decodes", bad=bad)
            out, params = cutmix(image, donor, item.seed)
        else:
            out, params = augment(item, image)
    except Exception as exc:  # a stack that fails on this image: systematic, stop the run
        what = "CutMix" if item.generator == "cutmix" else "the augmentation stack"
        return Outcome(item, "error", message=f"{what} failed on {item.source}: {exc}", bad=bad)
    return _encode(item, out, params, sources, bad, tuple(stats))


def _encode(
    item: WorkItem,
    out: np.ndarray,
    params: dict,
    sources: tuple[str, ...],
    bad: dict[str, str],
    stats: tuple[tuple[int, int] | None, ...] = (),
) -> Outcome | Staged:
    img_path = Path(item.staging) / item.class_name / f"{item.id}.png"
    # Diffusion images wait for a person's review before an export takes them unasked.
    status = "unreviewed" if item.diffusion is not None else "pending"
    gen = GeneratedImage(
        id=item.id,
        class_name=item.class_name,
        file=img_path.absolute(),
        sources=sources,
        generator=item.generator,
        seed=item.seed,
        params=params,
        ordinal=item.ordinal,
        fingerprint=item.fingerprint,
        planned_source=item.planned_source,
        source_stats=stats,
        status=status,
    )
    try:
        data = encode_png(out)
    except ValueError as exc:
        return Outcome(item, "error", message=f"{item.id}: {exc}")
    try:
        img_path.parent.mkdir(parents=True, exist_ok=True)
        f, tmp = open_temp(img_path)
    except OSError as exc:
        return _write_error(item, exc)
    try:
        f.write(data)
    except OSError as exc:
        discard_temp(f, tmp)
        return _write_error(item, exc)
    return Staged(item, gen, f, tmp, bad)


def encode_png(image: np.ndarray) -> memoryview:
    """Lossless PNG bytes of a uint8 HxW, HxWx1, HxWx3 (RGB) or HxWx4 (RGBA) image."""
    import cv2

    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 3:
        code = cv2.COLOR_RGB2BGR if image.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
        image = cv2.cvtColor(image, code)
    params = [
        cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESS_LEVEL,
        cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE,
    ]  # fmt: skip
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(image), params)
    if not ok:
        raise ValueError(f"PNG encoding failed for an image of shape {image.shape}")
    return memoryview(buf)


def commit(staged: Staged) -> Outcome:
    """fsync and rename the image, then write its record. Mostly waiting on the disk: the
    in-process path runs it in a thread while the next image is made."""
    item, gen = staged.item, staged.image
    staging = Path(item.staging)
    try:
        size = finish_temp(staged.file, staged.tmp, gen.file)
        # The record goes last: a record that parses means the image is complete on disk.
        write_record(
            record_dict(gen, size, staging), record_path(staging, item.class_name, item.id)
        )
    except OSError as exc:
        with contextlib.suppress(OSError):
            gen.file.unlink(missing_ok=True)  # an image without its record is never trusted
        return _write_error(item, exc)
    return Outcome(item, "done", image=gen, bad=staged.bad)


def _write_error(item: WorkItem, exc: OSError) -> Outcome:
    reason = exc.strerror or str(exc)
    return Outcome(
        item,
        "error",
        message=f"cannot write to the staging folder {item.staging}: {reason}",
        disk_full=exc.errno in (errno.ENOSPC, errno.EDQUOT),
    )
