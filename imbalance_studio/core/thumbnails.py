"""Thumbnail decode (JPEG draft mode, EXIF orientation) and the cache around it.

Worker processes run `thumbnail_job`: decode, shrink and encode, nothing else. Whoever
collects their results stores the encoded thumbnails (`store_thumbnails`) in the dataset's
pack (`thumbnail_pack`), in batches, and serves hits from it (`read_cached`); a single
process uses `ThumbnailCache`, which does both.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .imageio import ImageDecodeError, load_image
from .thumbnail_pack import PackEntry, Thumbnail, ThumbnailPack, default_cache_dir

THUMB_SIZE = 128

__all__ = [
    "THUMB_SIZE",
    "Thumbnail",
    "ThumbnailCache",
    "ThumbnailResult",
    "default_cache_dir",
    "make_thumbnail_image",
    "read_cached",
    "store_thumbnails",
    "thumbnail_job",
    "thumbnail_jobs",
]


def make_thumbnail_image(path: str | os.PathLike[str], size: int = THUMB_SIZE) -> Image.Image:
    img, _ = load_image(path, max_side=size)
    if img.mode == "L":
        img = img.convert("RGB")
    return img


@dataclass(frozen=True, slots=True)
class ThumbnailResult:
    """What a worker process sends back: a thumbnail or the reason there is none, and the
    encoded thumbnail for the cache (None when there is nothing to keep)."""

    path: str
    thumbnail: Thumbnail | None
    reason: str = ""
    detail: str = ""
    entry: PackEntry | None = None


def thumbnail_job(args: tuple[str, int]) -> ThumbnailResult:
    """Process-pool entry point: (absolute path, size) -> ThumbnailResult."""
    path, size = args
    try:
        # Stat before decoding: a file changed in between is then stored under its old
        # version and misses next time, never the other way round.
        st = os.stat(path)
    except OSError:
        st = None  # the decode below says why
    try:
        img = make_thumbnail_image(path, size)
    except ImageDecodeError as exc:
        return ThumbnailResult(path, None, exc.reason, exc.detail)
    entry = None if st is None else PackEntry.encode(path, st, img)
    return ThumbnailResult(path, Thumbnail.from_image(img), entry=entry)


def thumbnail_jobs(args: tuple[Sequence[str], int]) -> list[ThumbnailResult]:
    """Process-pool entry point for several thumbnails: sending a job and its result costs
    about as much CPU as 5% of a photo's thumbnail, so a batch pays it once."""
    paths, size = args
    return [thumbnail_job((path, size)) for path in paths]


class ThumbnailCache:
    """Thumbnails of one dataset (`root`; None: images outside any) kept in its pack under
    `directory` (default: the user cache folder). Images outside `root` go to the pack of
    images outside any dataset."""

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        size: int = THUMB_SIZE,
        root: str | os.PathLike[str] | None = None,
    ) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.size = size
        self.root = None if root is None else os.path.abspath(root)
        self._prefix = None if root is None else os.path.join(self.root, "")
        self._packs: dict[str | None, ThumbnailPack] = {}
        self._lock = threading.Lock()

    def pack_for(self, path: str) -> ThumbnailPack:
        key = self.root if self._prefix and path.startswith(self._prefix) else None
        pack = self._packs.get(key)
        if pack is None:
            with self._lock:
                pack = self._packs.setdefault(key, ThumbnailPack(key, self.size, self.directory))
        return pack

    def get(self, path: str | os.PathLike[str]) -> Thumbnail | None:
        path = os.path.abspath(path)
        return self.get_many([path]).get(path)

    def get_many(self, paths: Sequence[str]) -> dict[str, Thumbnail]:
        """Cached thumbnails of those of `paths` (absolute) whose file is unchanged."""
        groups: dict[ThumbnailPack, list[str]] = {}
        for path in paths:
            groups.setdefault(self.pack_for(path), []).append(path)
        found: dict[str, Thumbnail] = {}
        for pack, group in groups.items():
            found.update(pack.get_many(group))
        return found

    def put_many(self, entries: Iterable[PackEntry]) -> int:
        groups: dict[ThumbnailPack, list[PackEntry]] = {}
        for entry in entries:
            groups.setdefault(self.pack_for(entry.path), []).append(entry)
        return sum(pack.put_many(group) for pack, group in groups.items())

    def load(self, path: str | os.PathLike[str]) -> Thumbnail:
        """Cached thumbnail of `path`, decoding and caching it on a miss.

        Raises `ImageDecodeError` when the file is not a usable image.
        """
        path = os.path.abspath(path)
        cached = self.get(path)
        if cached is not None:
            return cached
        result = thumbnail_job((path, self.size))
        if result.thumbnail is None:
            raise ImageDecodeError(result.reason, result.detail)
        if result.entry is not None:
            self.put_many([result.entry])
        return result.thumbnail

    def close(self) -> None:
        for pack in self._packs.values():
            pack.close()


# The caches of the process that collects thumbnails (the GUI's cache thread), by
# (cache folder, size, dataset root): each keeps its pack open between calls.
_caches: dict[tuple[str, int, str | None], ThumbnailCache] = {}
_caches_lock = threading.Lock()


def _cache(cache_dir: str, size: int, root: str | None) -> ThumbnailCache:
    key = (cache_dir, size, root)
    cache = _caches.get(key)
    if cache is None:
        with _caches_lock:
            cache = _caches.setdefault(key, ThumbnailCache(cache_dir, size, root))
    return cache


def read_cached(
    paths: Sequence[str], cache_dir: str, size: int = THUMB_SIZE, root: str | None = None
) -> dict[str, Thumbnail]:
    """The cached thumbnails of `paths` (files changed since, or never cached, are left out):
    what the GUI's cache thread serves without waking the process pool."""
    return _cache(cache_dir, size, root).get_many(paths)


def store_thumbnails(
    entries: Iterable[PackEntry], cache_dir: str, size: int = THUMB_SIZE, root: str | None = None
) -> int:
    """Write encoded thumbnails made by workers, in one transaction per pack."""
    return _cache(cache_dir, size, root).put_many(entries)


def close_caches() -> None:
    """Close every pack this process opened (the GUI's cache thread, when the window closes)."""
    with _caches_lock:
        for cache in _caches.values():
            cache.close()
        _caches.clear()
