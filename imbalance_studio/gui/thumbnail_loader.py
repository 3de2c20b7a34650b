"""Thumbnails for the gallery: read from the dataset's thumbnail pack by cache threads, decoded
in a process pool on a miss, kept in a small in-memory LRU.

A cached thumbnail (a reopened folder) costs a stat, a row of the pack and a 128-px decode:
the cache threads serve thousands a second, in batches, so the process pool, whose start
costs ~0.25 s of CPU per worker, is started only when a thumbnail is missing from the cache.
The workers only decode and encode; the encoded thumbnails they send back are written to
the pack by the cache threads, a batch per delivery, so one process writes the pack and the
GUI thread never touches it.

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
import sys
import threading
from collections import OrderedDict, deque
from concurrent.futures import Executor, Future

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QPixmap

from .qimage import pixmap_from_raw

THUMB_SIZE = 128  # same as core.thumbnails.THUMB_SIZE, which is imported lazily (Pillow)
# Cache reads queued in the cache threads at most (each takes well under a millisecond).
READER_QUEUE = 32
# Cache threads: decoding a cached JPEG releases the GIL, so two serve nearly twice as many.
READERS = 2
READ_SPLIT = 8  # paths below which a read is not split between the cache threads
# Thumbnails per pool job at most. A job costs ~0.2 ms of CPU to send and return, 5% of a
# photo's thumbnail; 8 to a job cut that to a few per cent, and 2 jobs per worker in flight
# hold ~60 ms of work, short enough that stale requests are dropped soon after a scroll.
# The generation of a request no `new_generation` makes stale.
STICKY = sys.maxsize
POOL_BATCH = 8


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
        self._root: str | None = None  # the dataset's folder: its thumbnails share a pack
        self._inflight: dict[Future, tuple[str, ...]] = {}  # pool jobs, a batch each
        self._reads: dict[Future, tuple[str, ...]] = {}  # cache reads, a batch each
        self._reading = 0  # paths in those batches
        self._inflight_paths: set[str] = set()
        self._to_store: list = []  # encoded thumbnails from the pool, for the cache threads
        self._reader: Executor | None = None  # the cache threads: reads and writes
        self._misses: set[str] = set()  # not in the disk cache: for the pool to decode
        # Cache reads in flight: the generation of their request (a miss goes on with it).
        self._read_generation: dict[str, int] = {}
        self._generation = 0
        self._executor: Executor | None = None
        self._starter: threading.Thread | None = None
        self._pool_ready = threading.Event()
        self.requested = 0  # thumbnails sent to the pool (benchmarks check it stays small)
        self._idle_said = True
        self._arrived: deque[Future] = deque()  # finished jobs, appended in the pool's thread
        self._wake_lock = threading.Lock()
        self._wake_sent = False  # one queued wake-up at a time carries every arrival
        self._wake.connect(self._on_wake, Qt.ConnectionType.QueuedConnection)
        # Zero-interval single shot: the requests of one paint go out together, newest first.
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self._pump)

    # -- what views call -------------------------------------------------------------
    def pixmap(self, path: str, *, sticky: bool = False) -> QPixmap | None:
        """The thumbnail if it is here; otherwise it is requested and None returned.
        `sticky`: the request outlives `new_generation` (see `request`)."""
        pm = self._pixmaps.get(path)
        if pm is not None:
            self._pixmaps.move_to_end(path)
            return pm
        if path not in self._failed:
            self.request(path, sticky=sticky)
        return None

    def failure(self, path: str) -> str | None:
        """Why no thumbnail can be made for `path` (None while unknown or fine)."""
        return self._failed.get(path)

    def request(self, path: str, *, sticky: bool = False) -> None:
        """Ask for `path`'s thumbnail. The gallery makes its requests stale on every scroll
        (`new_generation`) and asks again for what is still on screen; other views (the
        Inspect tab's groups and flags) paint once and wait, so their requests are `sticky`:
        a scroll of the gallery in between must not drop them and leave grey tiles."""
        if path in self._inflight_paths:
            return
        before = self._pending.pop(path, None)
        self._pending[path] = STICKY if sticky or before == STICKY else self._generation
        self._idle_said = False
        if not self._timer.isActive():
            self._timer.start()

    def new_generation(self) -> None:
        """Mark every pending request as stale unless it is requested again (e.g. on scroll)."""
        self._generation += 1

    def clear_pending(self) -> None:
        self._pending.clear()

    def is_idle(self) -> bool:
        return not self._pending and not self._inflight and not self._reads

    def forget_failures(self) -> None:
        self._failed.clear()

    def shutdown(self) -> None:
        self._timer.stop()
        self._pending.clear()
        for future in self._reads:
            future.cancel()  # queued reads go; queued writes are kept (a few ms)
        self._inflight.clear()
        self._reads.clear()
        self._reading = 0
        self._inflight_paths.clear()
        self._read_generation.clear()
        if self._reader is not None:
            from ..core.thumbnails import close_caches

            self._flush_stores()
            self._reader.submit(close_caches)
            self._reader.shutdown(wait=True)
            self._reader = None
        if self._starter is not None:
            self._starter.join()
        if self._executor is not None:
            # Waiting is short (queued jobs are cancelled) and leaves no process behind.
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def warm_up(self, root: str | os.PathLike[str] | None = None) -> None:
        """Get ready for the first requests (called when a scan of `root` starts): the
        thumbnails of images under `root` are kept in its pack. Only the cache threads are
        made here: the worker processes start on the first cache miss (`_start_pool`), so a
        folder whose thumbnails are all cached never pays for them."""
        reader = self._reader_executor()
        if root is not None and os.path.abspath(root) != self._root:
            from ..core.thumbnails import close_caches

            self._flush_stores()  # (into the previous dataset's pack)
            reader.submit(close_caches)  # the previous dataset's pack is not kept open
            self._root = os.path.abspath(root)

    def _start_pool_soon(self) -> None:
        """Start the worker processes in a background thread: spawning them costs ~0.25 s
        of CPU in the calling thread, a visible freeze on the GUI thread."""
        if self._starter is None:
            self._starter = threading.Thread(
                target=self._start_pool, name="thumbnail-pool-start", daemon=True
            )
            self._starter.start()

    # -- internals -------------------------------------------------------------------
    def _start_pool(self) -> None:
        from .workers import process_pool

        pool = process_pool(self._workers)
        # One task per worker, so every worker process is spawned here: a pool spawns one
        # on each submit that finds none idle, and the later submits come from the GUI
        # thread. A pool that cannot start shows up as failed thumbnails later.
        with contextlib.suppress(Exception):
            for started in [pool.submit(os.getpid) for _ in range(self._workers)]:
                started.result()
        self._executor = pool
        self._pool_ready.set()
        self._send_wake()  # the requests made meanwhile can go now

    def _pool(self) -> Executor | None:
        """The pool once it is running; None (requests stay queued) while it starts."""
        if self._pool_ready.is_set():
            return self._executor
        self._start_pool_soon()
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
        current = self._generation
        # Newest first: a cache read for a path not known to be missing, else the pool. Keep
        # each worker busy with one job and one queued, no more: a deeper queue would hold
        # stale requests that can no longer be dropped.
        slots = 2 * self._workers - len(self._inflight)
        pool_full, reader_full = slots <= 0, False
        reads: list[str] = []  # newest first
        misses: list[str] = []
        for path in reversed(list(self._pending)):
            if self._pending[path] < current:
                continue
            if path in self._misses:
                if pool_full:
                    continue
                misses.append(path)
                pool_full = len(misses) >= slots * POOL_BATCH
            else:
                if self._reading + len(reads) >= READER_QUEUE:
                    reader_full = True
                    continue
                self._read_generation[path] = self._pending.pop(path)
                reads.append(path)
            if pool_full and reader_full:
                break
        if reads:
            self._read(reads)
        if misses:
            pool = self._pool()  # None while it starts: the misses stay pending
            if pool is not None:
                for path in misses:
                    del self._pending[path]
                self._submit(pool, misses, slots)
        self._flush_stores()
        if any(g < current for g in self._pending.values()):
            # Drop the stale requests that the pool never got to.
            self._pending = OrderedDict((p, g) for p, g in self._pending.items() if g >= current)
        if ready:
            self.thumbnailsReady.emit(ready)
        if self.is_idle() and not self._idle_said:
            self._idle_said = True  # once per busy spell, as when a poll stopped
            self.idle.emit()

    def _read(self, paths: list[str]) -> None:
        """Ask the cache threads for the cached thumbnails of `paths` (newest first), a batch
        per thread; what is not in the cache comes back missing."""
        from ..core.thumbnails import read_cached

        executor = self._reader_executor()
        # A few paths go as one batch: splitting them gains nothing, and one batch answers
        # its misses in the order asked (newest first).
        n = min(READERS, -(-len(paths) // READ_SPLIT))
        for i in range(n):
            batch = tuple(paths[i::n])  # each thread starts with the newest requests
            future = executor.submit(read_cached, batch, self._cache(), self.size, self._root)
            self._reads[future] = batch
            self._reading += len(batch)
            self._inflight_paths.update(batch)
            future.add_done_callback(self._job_done)

    def _flush_stores(self) -> None:
        """Hand the encoded thumbnails the pool sent to a cache thread, one batch."""
        if not self._to_store:
            return
        from ..core.thumbnails import store_thumbnails

        entries, self._to_store = self._to_store, []
        self._reader_executor().submit(
            store_thumbnails, entries, self._cache(), self.size, self._root
        )

    def _reader_executor(self) -> Executor:
        if self._reader is None:
            from concurrent.futures import ThreadPoolExecutor

            self._reader = ThreadPoolExecutor(READERS, thread_name_prefix="thumbnail-cache")
        return self._reader

    def _cache(self) -> str:
        if self._cache_dir is None:
            from ..core.thumbnails import default_cache_dir

            self._cache_dir = str(default_cache_dir())
        return self._cache_dir

    def _submit(self, pool: Executor, paths: list[str], slots: int) -> None:
        """Send `paths` (newest first) to the pool in at most `slots` jobs: one path each
        while few are missing (every worker busy at once), up to POOL_BATCH when many are."""
        from ..core.thumbnails import thumbnail_jobs

        n = max(1, min(slots, len(paths)))
        for i in range(n):
            batch = tuple(paths[i::n])  # each job starts with the newest requests
            try:
                future = pool.submit(thumbnail_jobs, (batch, self.size))
            except RuntimeError as exc:  # pool broken or shut down: remember, do not retry
                for path in batch:
                    self._failed[path] = str(exc)
                continue
            self.requested += len(batch)
            self._inflight[future] = batch
            self._inflight_paths.update(batch)
            future.add_done_callback(self._job_done)  # runs at once if it is already done

    def _collect(self) -> list[str]:
        ready = []
        missed = []
        while self._arrived:
            future = self._arrived.popleft()
            batch = self._reads.pop(future, None)
            if batch is not None:
                self._collect_read(future, batch, ready, missed)
                continue
            batch = self._inflight.pop(future, None)
            if batch is None:
                continue  # dropped by shutdown
            self._inflight_paths.difference_update(batch)
            self._misses.difference_update(batch)
            ready.extend(batch)
            try:
                results = future.result()
            except Exception as exc:  # a crashed worker process, e.g. killed for memory
                for path in batch:
                    self._failed[path] = f"thumbnail worker failed: {exc}"
                continue
            for result in results:
                if result.entry is not None:
                    self._to_store.append(result.entry)
                thumb = result.thumbnail
                if thumb is None:
                    self._failed[result.path] = result.reason
                    continue
                self._store(
                    result.path,
                    pixmap_from_raw(thumb.data, thumb.width, thumb.height, thumb.mode),
                )
        for path, generation in reversed(missed):  # the newest request stays first served
            self._pending.pop(path, None)
            self._pending[path] = generation  # a tile scrolled away since stays stale
        return ready

    def _collect_read(
        self, future: Future, batch: tuple[str, ...], ready: list, missed: list
    ) -> None:
        self._reading -= len(batch)
        self._inflight_paths.difference_update(batch)
        try:
            found = future.result()
        except Exception:  # an unusable cache: the pool makes them
            found = {}
        for path in batch:
            generation = self._read_generation.pop(path, self._generation)
            thumb = found.get(path)
            if thumb is None:  # not in the cache (or the file changed): the pool decodes it
                self._misses.add(path)
                missed.append((path, generation))
                continue
            self._misses.discard(path)
            ready.append(path)
            self._store(path, pixmap_from_raw(thumb.data, thumb.width, thumb.height, thumb.mode))

    def _store(self, path: str, pixmap: QPixmap) -> None:
        self._pixmaps[path] = pixmap
        self._pixmaps.move_to_end(path)
        while len(self._pixmaps) > self.capacity:
            self._pixmaps.popitem(last=False)
