"""What the window's background jobs run besides core's own generators: the full-image
decode of the viewers, and the process pool of the thumbnail loader.

Every job starts on the one job runner (`gui.jobs.start_job`); the scan is core's
`iter_scan` (see `gui.session`). Pools come from `core.processes.worker_pool` ("spawn":
forking a process that runs Qt threads can deadlock; its workers exit with the window's
process however that ends).
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from ..core.imageio import ImageDecodeError, ImageInfo, load_image
from ..core.processes import worker_pool

# The viewer shows at most this many pixels per side; bigger images are shrunk in the worker.
VIEWER_MAX_SIDE = 2048


def process_pool(workers: int | None = None) -> ProcessPoolExecutor:
    return worker_pool(workers or os.cpu_count() or 1)


@dataclass(frozen=True)
class DecodedImage:
    """A full image decoded for the viewer, as raw bytes ready to wrap in a QImage."""

    request: int  # the caller's tag, returned as given (the runner's `key` replaces requests)
    path: str
    width: int
    height: int
    mode: str  # "RGB" or "RGBA"
    data: bytes
    info: ImageInfo | None
    error: str = ""


def decode_for_viewer(request: int, path: str) -> DecodedImage:
    """Decode `path` (shrunk to VIEWER_MAX_SIDE) for display: a plain function for a job."""
    try:
        img, info = load_image(path, max_side=VIEWER_MAX_SIDE)
    except ImageDecodeError as exc:
        msg = f"{exc.reason}: {exc.detail}" if exc.detail else exc.reason
        return DecodedImage(request, path, 0, 0, "", b"", None, msg)
    if img.mode not in ("RGB", "RGBA"):
        img = img.convert("RGB")
    return DecodedImage(request, path, img.width, img.height, img.mode, img.tobytes(), info)
