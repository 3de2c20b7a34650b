"""One cache file per dataset for per-file results (decode checks, hashes, quality scores).

Results are keyed by the file's path relative to the dataset root plus its size and mtime
(nanoseconds): a lookup never returns a value recorded for a file whose size or mtime has changed
since. Each kind of result ("check", "phash", "quality", ...) is a table of its own inside the one
SQLite file, so one kind can change its format (bump its version) without throwing the others away.

The cache lives in the user cache folder only and is never trusted: a damaged, foreign or locked
file is set aside and rebuilt, so deleting it loses nothing but time.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import suppress
from pathlib import Path

import platformdirs

from .. import APP_NAME  # not from .project: that would import pydantic into every scan

#: Bump when the file's layout (not one kind's values) changes.
LAYOUT_VERSION = 2  # 2: paths stored as bytes
#: Rows written per transaction: large enough to be fast, small enough to keep memory flat.
_BATCH = 5000
#: The table of per-dataset blobs, one per kind (`FileCache.put_summary`).
_SUMMARIES = "summaries"


def cache_folder() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME)) / "files"


def cache_path_for(dataset_root: Path | str) -> Path:
    """The one cache file of the dataset at ``dataset_root`` (by its resolved path)."""
    real = os.path.realpath(os.fspath(dataset_root))
    digest = hashlib.sha256(os.fsencode(real)).hexdigest()[:24]
    return cache_folder() / f"{digest}.v{LAYOUT_VERSION}.sqlite"


Key = tuple[str, int, int]  # (path relative to the root, size in bytes, mtime in ns)


class FileCache:
    """Per-file results of one dataset; ``kind`` names the table (e.g. ``"check.v2"``).

    Thread-safe for one process: every call opens its own short transaction under a lock.
    Several processes may share the file (SQLite's locking); a write that cannot get the lock
    is dropped rather than waited on — the cache is an optimisation, never a requirement.
    """

    def __init__(self, dataset_root: Path | str, kind: str, path: Path | None = None) -> None:
        if not kind.replace(".", "_").replace("-", "_").isidentifier():
            raise ValueError(f"cache kind must be a simple name, not {kind!r}")
        self.kind = kind
        self.path = Path(path) if path is not None else cache_path_for(dataset_root)
        self._table = '"' + kind.replace('"', "") + '"'
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    # -- connection -------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = self._open()
        except sqlite3.DatabaseError:
            # Damaged or not ours: set it aside (never trust it) and start again.
            self._discard()
            db = self._open()
        self._db = db
        return db

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=0.5, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            row = db.execute("PRAGMA quick_check").fetchone()
            if row is None or row[0] != "ok":
                raise sqlite3.DatabaseError(f"cache check failed: {row}")
            db.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table} ("
                "path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime INTEGER NOT NULL, "
                "value BLOB NOT NULL) WITHOUT ROWID"
            )
            db.execute(
                f"CREATE TABLE IF NOT EXISTS {_SUMMARIES} "
                "(kind TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID"
            )
            db.commit()
        except Exception:
            db.close()
            raise
        return db

    def _discard(self) -> None:
        discard_database(self.path)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> FileCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading and writing ----------------------------------------------------------------
    def lookup(self, keys: Iterable[Key]) -> dict[str, bytes]:
        """Values recorded for exactly these (path, size, mtime) keys; stale rows are ignored."""
        wanted = {_encode(path): (size, mtime) for path, size, mtime in keys}
        if not wanted:
            return {}
        found: dict[str, bytes] = {}
        with self._lock:
            try:
                rows = self._connect().execute(
                    f"SELECT path, size, mtime, value FROM {self._table}"
                )
                for path, size, mtime, value in rows:
                    if wanted.get(path) == (size, mtime):
                        found[_decode(path)] = bytes(value)
            except sqlite3.DatabaseError:
                self._reset()
                return {}
        return found

    def entries(self) -> dict[str, tuple[int, int, bytes]]:
        """Every row of this kind: path -> (size, mtime_ns, value), for a caller that stats
        each file itself and compares (a scan reopening a folder). Empty when the cache is
        damaged (it is then set aside) or new."""
        with self._lock:
            try:
                rows = self._connect().execute(
                    f"SELECT path, size, mtime, value FROM {self._table}"
                )
                return {_decode(path): (size, mtime, value) for path, size, mtime, value in rows}
            except sqlite3.DatabaseError:
                self._reset()
                return {}

    def store(self, items: Iterable[tuple[str, int, int, bytes]]) -> int:
        """Record values; returns how many rows were written (0 when the cache was busy)."""
        written = 0
        with self._lock:
            try:
                db = self._connect()
                rows = ((_encode(p), size, mtime, value) for p, size, mtime, value in items)
                for batch in _batches(rows, _BATCH):
                    db.executemany(
                        f"INSERT OR REPLACE INTO {self._table} (path, size, mtime, value) "
                        "VALUES (?, ?, ?, ?)",
                        batch,
                    )
                    db.commit()
                    written += len(batch)
            except sqlite3.OperationalError:
                return written  # locked by another process: drop it, the cache is optional
            except sqlite3.DatabaseError:
                self._reset()
        return written

    def put_summary(self, value: bytes) -> None:
        """Keep one blob of this kind for the whole dataset (what `read_summary` returns,
        e.g. the verdicts of the last complete check), replacing the one before."""
        with self._lock:
            try:
                db = self._connect()
                db.execute(
                    f"INSERT OR REPLACE INTO {_SUMMARIES} (kind, value) VALUES (?, ?)",
                    (self.kind, value),
                )
                db.commit()
            except sqlite3.OperationalError:
                return  # locked by another process: the cache is optional
            except sqlite3.DatabaseError:
                self._reset()

    def forget(self, paths: Iterable[str]) -> None:
        with self._lock:
            try:
                db = self._connect()
                db.executemany(
                    f"DELETE FROM {self._table} WHERE path = ?", ((_encode(p),) for p in paths)
                )
                db.commit()
            except sqlite3.DatabaseError:
                self._reset()

    def _reset(self) -> None:
        if self._db is not None:
            with suppress(sqlite3.Error):
                self._db.close()
            self._db = None
        self._discard()


def read_summary(dataset_root: Path | str, kind: str) -> bytes | None:
    """The blob last kept with `FileCache.put_summary`, read the quickest way: no cache file
    is made, and the file is not checked as a whole (`FileCache` does that on opening, ~17 ms
    for 100,000 rows); the caller must check the blob itself (a digest inside it). None when
    there is none or the file cannot be read."""
    path = cache_path_for(dataset_root)
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None  # a FIFO or link planted at our name is never opened
        db = sqlite3.connect(path, timeout=0.1)
        try:
            row = db.execute(f"SELECT value FROM {_SUMMARIES} WHERE kind = ?", (kind,)).fetchone()
        finally:
            db.close()
    except (OSError, sqlite3.Error):
        return None
    return None if row is None else bytes(row[0])


def open_optional(dataset_root: Path | str, kind: str) -> FileCache | None:
    """The dataset's cache of `kind`, or None when it cannot be used here (the callers then
    work without it: the cache is an optimisation, never a requirement)."""
    try:
        return FileCache(dataset_root, kind)
    except (OSError, ValueError):
        return None


def _encode(path: str) -> bytes:
    # Paths are stored as their file-system bytes: a name that is not valid UTF-8 (surrogate
    # escapes, as os.listdir gives it) cannot be SQLite text.
    return path.encode("utf-8", "surrogateescape")


def _decode(path: bytes | str) -> str:
    return path if isinstance(path, str) else bytes(path).decode("utf-8", "surrogateescape")


def stat_keys(root: Path | str, relpaths: Iterable[str]) -> Iterator[Key]:
    """(path, size, mtime_ns) for each existing file; missing ones are left out."""
    base = os.fspath(root)
    for rel in relpaths:
        try:
            st = os.stat(os.path.join(base, rel))
        except OSError:
            continue
        yield rel, st.st_size, st.st_mtime_ns


def keys_from(stats: Mapping[str, os.stat_result]) -> Iterator[Key]:
    for rel, st in stats.items():
        yield rel, st.st_size, st.st_mtime_ns


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def discard_database(path: str | os.PathLike[str]) -> None:
    """Set a damaged (or foreign) SQLite cache file aside and delete it, with its -wal and
    -shm files. Renamed first: another process that has it open keeps its (now unlinked)
    copy and never writes into the new one."""
    for suffix in ("", "-wal", "-shm"):
        with suppress(OSError):
            os.replace(f"{path}{suffix}", f"{path}{suffix}.damaged")
    for suffix in ("", "-wal", "-shm"):
        with suppress(OSError):
            os.unlink(f"{path}{suffix}.damaged")
