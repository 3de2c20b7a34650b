"""Background jobs for the window: scanning, demo data, full-image decode.

Each job is a plain function or generator run by a superqt worker in Qt's thread pool; the
GUI only ever receives finished Python objects through queued signals. Images are checked
in a `core.processes.worker_pool` ("spawn": forking a process that runs Qt threads can
deadlock; its workers exit with the window's process however that ends).
"""

from __future__ import annotations

import os
from collections.abc import Generator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from superqt.utils import FunctionWorker, GeneratorWorker, create_worker

from ..core.dataset import Dataset
from ..core.imageio import ImageDecodeError, ImageInfo, load_image
from ..core.processes import worker_pool
from ..core.scanning import ScanProgress, iter_check, iter_list
from .models.gallery import class_index_array

# Below this many images a pool costs more to start than it saves.
POOL_THRESHOLD = 200
# The viewer shows at most this many pixels per side; bigger images are shrunk in the worker.
VIEWER_MAX_SIDE = 2048


@dataclass(frozen=True)
class Listed:
    """Yielded when listing is done: the dataset can be shown (its images are not checked)."""

    dataset: Dataset
    class_array: np.ndarray  # class index per sample, for the gallery's row filter


@dataclass(frozen=True)
class Checked:
    """Returned when the check phase is done: unusable files moved to the problems."""

    dataset: Dataset
    class_array: np.ndarray


def process_pool(workers: int | None = None) -> ProcessPoolExecutor:
    return worker_pool(workers or os.cpu_count() or 1)


def scan_steps(
    root: str | os.PathLike[str], check: bool = True
) -> Generator[ScanProgress | Listed, None, Checked | None]:
    """List `root`, hand the listing over, then decode-check every image."""
    dataset = yield from iter_list(root)
    # One pass over a million samples takes ~0.1 s: here, not on the GUI thread.
    yield Listed(dataset, class_index_array(dataset.samples))
    if not check:
        return None
    cores = os.cpu_count() or 1
    pool = process_pool() if cores > 1 and len(dataset.samples) > POOL_THRESHOLD else None
    try:
        yield from iter_check(dataset, pool)
    finally:
        if pool is not None:
            # Cancelled scans must not wait for the queued decodes.
            pool.shutdown(wait=False, cancel_futures=True)
    return Checked(dataset, class_index_array(dataset.samples))


def start_scan(root: str | os.PathLike[str], check: bool = True) -> GeneratorWorker:
    return create_worker(scan_steps, root, check, _start_thread=False, _ignore_errors=True)


def start_demo() -> FunctionWorker:
    from ..core.demo import ensure_demo_dataset

    return create_worker(ensure_demo_dataset, _start_thread=False, _ignore_errors=True)


@dataclass(frozen=True)
class DecodedImage:
    """A full image decoded for the viewer, as raw bytes ready to wrap in a QImage."""

    request: int
    path: str
    width: int
    height: int
    mode: str  # "RGB" or "RGBA"
    data: bytes
    info: ImageInfo | None
    error: str = ""


def decode_for_viewer(request: int, path: str) -> DecodedImage:
    try:
        img, info = load_image(path, max_side=VIEWER_MAX_SIDE)
    except ImageDecodeError as exc:
        msg = f"{exc.reason}: {exc.detail}" if exc.detail else exc.reason
        return DecodedImage(request, path, 0, 0, "", b"", None, msg)
    if img.mode not in ("RGB", "RGBA"):
        img = img.convert("RGB")
    return DecodedImage(request, path, img.width, img.height, img.mode, img.tobytes(), info)


def start_decode(request: int, path: str | Path) -> FunctionWorker:
    return create_worker(
        decode_for_viewer, request, str(path), _start_thread=False, _ignore_errors=True
    )
