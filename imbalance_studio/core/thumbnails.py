"""Thumbnail decode (JPEG draft mode, EXIF orientation) and an on-disk cache.

The cache key is (absolute path, file size, mtime, thumbnail size), so an edited file gets a
new thumbnail and a moved dataset simply misses. Thumbnails are plain small image files under
the user cache folder; writes are atomic so a killed process never leaves half a thumbnail.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from PIL import Image

from .. import APP_NAME
from .imageio import ImageDecodeError, load_image, open_image

THUMB_SIZE = 128
CACHE_VERSION = "v2"


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """Decoded thumbnail pixels, ready to wrap in a QImage (rows tightly packed)."""

    width: int
    height: int
    mode: str  # "RGB" or "RGBA"
    data: bytes

    @classmethod
    def from_image(cls, img: Image.Image) -> Thumbnail:
        if img.mode not in ("RGB", "RGBA"):
            img = img.convert("RGB")
        return cls(img.width, img.height, img.mode, img.tobytes())


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME)) / "thumbnails" / CACHE_VERSION


class ThumbnailCache:
    """Disk cache of encoded thumbnails (JPEG for opaque images, PNG with alpha)."""

    def __init__(
        self, directory: str | os.PathLike[str] | None = None, size: int = THUMB_SIZE
    ) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.size = size
        self._made_dirs: set[Path] = set()

    def key(self, path: str | os.PathLike[str]) -> str | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        raw = f"{os.path.abspath(path)}\0{st.st_size}\0{st.st_mtime_ns}\0{self.size}"
        return hashlib.sha1(raw.encode("utf-8", "surrogateescape")).hexdigest()

    def _file(self, key: str) -> Path:
        # 16 shards: few enough that a cold cache does not pay hundreds of mkdirs, enough
        # that a million thumbnails make folders of ~60,000 entries, which ext4/APFS/NTFS
        # index well.
        return self.directory / key[0] / key

    def get(self, path: str | os.PathLike[str]) -> Thumbnail | None:
        key = self.key(path)
        return None if key is None else self._get(key)

    def _get(self, key: str) -> Thumbnail | None:
        try:
            # Through the safe opener: a FIFO planted in the cache must not hang a worker.
            with open_image(self._file(key)) as img:
                img.load()
                return Thumbnail.from_image(img)
        except (OSError, ValueError, ImageDecodeError):
            return None  # missing or damaged cache entry: rebuild it

    def put(self, path: str | os.PathLike[str], img: Image.Image) -> None:
        key = self.key(path)
        if key is not None:
            self._put(key, img)

    def _put(self, key: str, img: Image.Image) -> None:
        buf = io.BytesIO()
        if img.mode == "RGBA":
            img.save(buf, "PNG", compress_level=1)
        else:  # small thumbnails: quality 85 is visually lossless at this size and cheaper
            (img if img.mode == "RGB" else img.convert("RGB")).save(buf, "JPEG", quality=85)
        target = self._file(key)
        # A plain per-process temp name (not mkstemp) and a remembered mkdir: on some file
        # systems those two syscalls cost as much as the decode itself.
        tmp = target.parent / f".tmp-{os.getpid()}-{key}"
        try:
            if target.parent not in self._made_dirs:
                target.parent.mkdir(parents=True, exist_ok=True)
                self._made_dirs.add(target.parent)
            with open(tmp, "wb") as fh:
                fh.write(buf.getvalue())
            os.replace(tmp, target)
        except OSError:
            # A read-only or full cache only costs speed, never correctness.
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def load(self, path: str | os.PathLike[str]) -> Thumbnail:
        """Cached thumbnail of `path`, decoding and caching it on a miss.

        Raises `ImageDecodeError` when the file is not a usable image.
        """
        key = self.key(path)
        cached = None if key is None else self._get(key)
        if cached is not None:
            return cached
        img = make_thumbnail_image(path, self.size)
        if key is not None:
            self._put(key, img)
        return Thumbnail.from_image(img)


def make_thumbnail_image(path: str | os.PathLike[str], size: int = THUMB_SIZE) -> Image.Image:
    img, _ = load_image(path, max_side=size)
    if img.mode == "L":
        img = img.convert("RGB")
    return img


@dataclass(frozen=True, slots=True)
class ThumbnailResult:
    """What a worker process sends back: a thumbnail or the reason there is none."""

    path: str
    thumbnail: Thumbnail | None
    reason: str = ""
    detail: str = ""


_worker_caches: dict[tuple[str, int], ThumbnailCache] = {}


def cached_thumbnail(path: str, cache_dir: str, size: int = THUMB_SIZE) -> Thumbnail | None:
    """The cached thumbnail of `path`, or None (not cached, or the file changed since): what
    the GUI's reader thread serves without waking the process pool."""
    cache = _worker_caches.get((cache_dir, size))
    if cache is None:
        cache = _worker_caches[(cache_dir, size)] = ThumbnailCache(cache_dir, size)
    return cache.get(path)


def load_thumbnail_job(args: tuple[str, str, int]) -> ThumbnailResult:
    """Process-pool entry point: (absolute path, cache dir, size) -> ThumbnailResult."""
    path, cache_dir, size = args
    cache = _worker_caches.get((cache_dir, size))
    if cache is None:
        cache = _worker_caches[(cache_dir, size)] = ThumbnailCache(cache_dir, size)
    try:
        return ThumbnailResult(path, cache.load(path))
    except ImageDecodeError as exc:
        return ThumbnailResult(path, None, exc.reason, exc.detail)
