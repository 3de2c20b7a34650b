"""Thumbnails for the gallery: decoded in a process pool, kept in a small in-memory LRU.

Views ask for a path whenever they paint a tile; only what is painted is ever requested. A
request made before the latest scroll and not repeated since is stale (its tile scrolled
away) and is dropped before it reaches the pool; the newest requests are served first.
Results come back as raw RGB bytes, which are cheap to wrap in a QImage on the GUI thread.

Nothing polls: requests made while a frame paints are sent in one go once control returns to
the event loop, and each finished job's `Future` callback (in the pool's thread) queues the
arrival to the GUI thread through a signal, many arrivals at once in one delivery.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict, deque
from concurrent.futures import Executor, Future

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QPixmap

from .qimage import pixmap_from_raw

THUMB_SIZE = 128  # same as core.thumbnails.THUMB_SIZE, which is imported lazily (Pillow)


class ThumbnailLoader(QObject):
    """Asynchronous thumbnail source keyed by absolute path."""

    thumbnailsReady = Signal(list)  # absolute paths whose thumbnail (or failure) just arrived
    idle = Signal()  # nothing pending and nothing in flight
    # Emitted from other threads (a finished job, the pool up): queued to the GUI thread.
    _wake = Signal()

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        workers: int | None = None,
        capacity: int = 1500,
        cache_dir: str | None = None,
        size: int = THUMB_SIZE,
    ) -> None:
        super().__init__(parent)
        self.size = size
        self.capacity = capacity
        self._workers = workers or os.cpu_count() or 1
        self._cache_dir = cache_dir
        self._pixmaps: OrderedDict[str, QPixmap] = OrderedDict()
        self._failed: dict[str, str] = {}
        self._pending: OrderedDict[str, int] = OrderedDict()  # path -> generation, newest last
        self._inflight: dict[Future, str] = {}
        self._inflight_paths: set[str] = set()
        self._generation = 0
        self._executor: Executor | None = None
        self._starter: threading.Thread | None = None
        self._pool_ready = threading.Event()
        self.requested = 0  # jobs sent to the pool (benchmarks check it stays small)
        self._idle_said = True
        self._arrived: deque[Future] = deque()  # finished jobs, appended in the pool's thread
        self._wake_lock = threading.Lock()
        self._wake_sent = False  # one queued wake-up at a time carries every arrival
        self._wake.connect(self._on_wake, Qt.ConnectionType.QueuedConnection)
        # Zero-interval single shot: the requests of one paint go out together, newest first.
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self._pump)

    # -- what views call -------------------------------------------------------------
    def pixmap(self, path: str) -> QPixmap | None:
        """The thumbnail if it is here; otherwise it is requested and None returned."""
        pm = self._pixmaps.get(path)
        if pm is not None:
            self._pixmaps.move_to_end(path)
            return pm
        if path not in self._failed:
            self.request(path)
        return None

    def failure(self, path: str) -> str | None:
        """Why no thumbnail can be made for `path` (None while unknown or fine)."""
        return self._failed.get(path)

    def request(self, path: str) -> None:
        if path in self._inflight_paths:
            return
        self._pending.pop(path, None)
        self._pending[path] = self._generation
        self._idle_said = False
        if not self._timer.isActive():
            self._timer.start()

    def new_generation(self) -> None:
        """Mark every pending request as stale unless it is requested again (e.g. on scroll)."""
        self._generation += 1

    def clear_pending(self) -> None:
        self._pending.clear()

    def is_idle(self) -> bool:
        return not self._pending and not self._inflight

    def forget_failures(self) -> None:
        self._failed.clear()

    def shutdown(self) -> None:
        self._timer.stop()
        self._pending.clear()
        self._inflight.clear()
        self._inflight_paths.clear()
        if self._starter is not None:
            self._starter.join()
        if self._executor is not None:
            # Waiting is short (queued jobs are cancelled) and leaves no process behind.
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def warm_up(self) -> None:
        """Start the worker processes now, in a background thread.

        Spawning them costs ~0.25 s of CPU in the calling thread; done on the GUI thread at
        the first paint, that is a visible freeze.
        """
        if self._starter is None:
            self._starter = threading.Thread(
                target=self._start_pool, name="thumbnail-pool-start", daemon=True
            )
            self._starter.start()

    # -- internals -------------------------------------------------------------------
    def _start_pool(self) -> None:
        from .workers import process_pool

        pool = process_pool(self._workers)
        # A pool that cannot start shows up as failed thumbnails later.
        with contextlib.suppress(Exception):
            pool.submit(os.getpid).result()  # returns once a worker process is up
        self._executor = pool
        self._pool_ready.set()
        self._send_wake()  # the requests made meanwhile can go now

    def _pool(self) -> Executor | None:
        """The pool once it is running; None (requests stay queued) while it starts."""
        if self._pool_ready.is_set():
            return self._executor
        self.warm_up()
        return None

    def _send_wake(self) -> None:
        """Any thread: ask the GUI thread to collect arrivals and pump (once per batch)."""
        with self._wake_lock:
            if self._wake_sent:
                return
            self._wake_sent = True
        # The loader may be gone (the window closed) when a late job ends.
        with contextlib.suppress(RuntimeError):
            self._wake.emit()

    def _job_done(self, future: Future) -> None:
        """The pool's thread, once per finished job."""
        self._arrived.append(future)
        self._send_wake()

    def _on_wake(self) -> None:
        with self._wake_lock:
            self._wake_sent = False
        self._pump()

    def _pump(self) -> None:
        ready = self._collect()
        # Keep each worker busy with one job and one queued, no more: a deeper queue would
        # hold stale requests that can no longer be dropped.
        limit = 2 * self._workers
        current = self._generation
        pool = self._pool() if self._pending else None
        while pool is not None and self._pending and len(self._inflight) < limit:
            path, generation = self._pending.popitem(last=True)
            if generation < current:
                continue
            self._submit(pool, path)
        if self._pending and next(iter(self._pending.values())) < current:
            # Oldest first: drop the stale requests that the pool never got to.
            self._pending = OrderedDict((p, g) for p, g in self._pending.items() if g >= current)
        if ready:
            self.thumbnailsReady.emit(ready)
        if self.is_idle() and not self._idle_said:
            self._idle_said = True  # once per busy spell, as when a poll stopped
            self.idle.emit()

    def _submit(self, pool: Executor, path: str) -> None:
        from ..core.thumbnails import load_thumbnail_job

        cache_dir = self._cache_dir
        if cache_dir is None:
            from ..core.thumbnails import default_cache_dir

            cache_dir = self._cache_dir = str(default_cache_dir())
        try:
            future = pool.submit(load_thumbnail_job, (path, cache_dir, self.size))
        except RuntimeError as exc:  # pool broken or shut down: remember, do not retry
            self._failed[path] = str(exc)
            return
        self.requested += 1
        self._inflight[future] = path
        self._inflight_paths.add(path)
        future.add_done_callback(self._job_done)  # runs at once if it is already done

    def _collect(self) -> list[str]:
        ready = []
        while self._arrived:
            future = self._arrived.popleft()
            path = self._inflight.pop(future, None)
            if path is None:
                continue  # dropped by shutdown
            self._inflight_paths.discard(path)
            ready.append(path)
            try:
                result = future.result()
            except Exception as exc:  # a crashed worker process, e.g. killed for memory
                self._failed[path] = f"thumbnail worker failed: {exc}"
                continue
            thumb = result.thumbnail
            if thumb is None:
                self._failed[path] = result.reason
                continue
            self._store(path, pixmap_from_raw(thumb.data, thumb.width, thumb.height, thumb.mode))
        return ready

    def _store(self, path: str, pixmap: QPixmap) -> None:
        self._pixmaps[path] = pixmap
        self._pixmaps.move_to_end(path)
        while len(self._pixmaps) > self.capacity:
            self._pixmaps.popitem(last=False)
