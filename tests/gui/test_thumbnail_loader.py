"""The thumbnail loader: results arrive by callback, without polling, newest request first."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from datasets import write_digits

import imbalance_studio.core.thumbnails as thumbnails_mod
from imbalance_studio.gui.thumbnail_loader import ThumbnailLoader


def loader_on_threads(tmp_path, monkeypatch, delay: float, workers: int = 1):
    """A loader whose pool is a thread pool (so the slowed job below is the one it runs)."""
    real = thumbnails_mod.thumbnail_job

    def slow(job):
        time.sleep(delay)
        return real(job)

    monkeypatch.setattr(thumbnails_mod, "thumbnail_job", slow)
    loader = ThumbnailLoader(workers=workers, cache_dir=str(tmp_path / "cache"))
    loader._starter = threading.Thread(target=lambda: None)
    loader._starter.start()
    loader._executor = ThreadPoolExecutor(workers)
    loader._pool_ready.set()
    return loader


def test_thumbnails_arrive_by_callback_not_by_polling(qtbot, tmp_path, monkeypatch):
    write_digits(tmp_path / "d", [3])
    paths = sorted(str(p) for p in (tmp_path / "d").rglob("*.png"))
    loader = loader_on_threads(tmp_path, monkeypatch, delay=0.3, workers=1)
    pumps: list[float] = []
    real_collect = loader._collect

    def counting():
        pumps.append(time.monotonic())
        return real_collect()

    monkeypatch.setattr(loader, "_collect", counting)
    arrived: list[str] = []
    loader.thumbnailsReady.connect(arrived.extend)
    try:
        for p in paths:  # one paint asks for every tile: the last one asked is served first
            assert loader.pixmap(p) is None
        qtbot.waitUntil(lambda: len(arrived) == len(paths), timeout=10_000)
        assert arrived[0] == paths[-1], "the newest request is served first"
        assert all(loader.pixmap(p) is not None for p in paths)
        # ~0.9 s of decoding: a 10 ms poll would have looked ~90 times; callbacks wake it
        # once for the requests and once per arrival.
        assert len(pumps) <= 2 * len(paths) + 2, len(pumps)
        assert loader.is_idle()
    finally:
        loader.shutdown()


def test_shutdown_with_jobs_in_flight_leaves_nothing_pending(qtbot, tmp_path, monkeypatch):
    write_digits(tmp_path / "d", [4])
    paths = sorted(str(p) for p in (tmp_path / "d").rglob("*.png"))
    loader = loader_on_threads(tmp_path, monkeypatch, delay=0.2, workers=1)
    for p in paths:
        loader.request(p)
    qtbot.waitUntil(lambda: loader.requested > 0, timeout=5_000)
    loader.shutdown()
    qtbot.wait(300)  # late callbacks of cancelled jobs are harmless
    assert loader.is_idle()


def test_cached_thumbnails_are_served_without_starting_the_process_pool(qtbot, tmp_path):
    """A reopened folder: every thumbnail is in the disk cache, read by one thread; the
    worker processes (~0.25 s of CPU each to start) are not started at all."""
    from imbalance_studio.core.thumbnails import ThumbnailCache

    root = tmp_path / "d"
    write_digits(root, [4])
    paths = sorted(str(p) for p in root.rglob("*.png"))
    cache_dir = str(tmp_path / "cache")
    cache = ThumbnailCache(cache_dir, root=root)
    for p in paths[:3]:
        cache.load(p)  # cached by an earlier session
    cache.close()
    loader = ThumbnailLoader(workers=1, cache_dir=cache_dir)
    arrived: list[str] = []
    loader.thumbnailsReady.connect(arrived.extend)
    try:
        loader.warm_up(root)
        for p in paths[:3]:
            assert loader.pixmap(p) is None
        qtbot.waitUntil(lambda: len(arrived) == 3, timeout=10_000)
        assert all(loader.pixmap(p) is not None for p in paths[:3])
        assert loader._starter is None and loader.requested == 0  # no process started
        assert loader.pixmap(paths[3]) is None  # not cached: decoded by the pool
        qtbot.waitUntil(lambda: loader.pixmap(paths[3]) is not None, timeout=60_000)
        assert loader.requested == 1 and loader.is_idle()
    finally:
        loader.shutdown()
    # What the pool made was written to the dataset's pack by the loader's cache threads.
    assert set(ThumbnailCache(cache_dir, root=root).get_many(paths)) == set(paths)
    assert ThumbnailCache(cache_dir).get_many(paths) == {}  # not to the other images' pack


def test_a_sticky_request_survives_a_gallery_scroll(qtbot, tmp_path, monkeypatch):
    """The Inspect tab paints its group tiles once and waits; a gallery scroll in between
    (a new generation) dropped those requests and left the tiles grey for good."""
    write_digits(tmp_path / "d", [2])
    first, second = sorted(str(p) for p in (tmp_path / "d").rglob("*.png"))
    loader = loader_on_threads(tmp_path, monkeypatch, delay=0.0, workers=1)
    try:
        assert loader.pixmap(first, sticky=True) is None
        assert loader.pixmap(second) is None
        loader.new_generation()  # the gallery scrolled before either was pumped
        qtbot.waitUntil(lambda: loader.pixmap(first) is not None, timeout=30_000)
        qtbot.wait(200)
        assert loader._pixmaps.get(second) is None  # an ordinary request went stale, as before
    finally:
        loader.shutdown()
