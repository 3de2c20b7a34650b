"""The thumbnail cache: one pack file per dataset (SQLite, WAL) of encoded thumbnails.

A file per thumbnail cost a create and a rename each (~0.27 ms of CPU, 7% of making the
thumbnail of a 1024x768 photo); a pack takes a batch of thumbnails in one transaction
(~0.03 ms each). Worker processes only decode and encode; the one process that collects their
results writes the pack (the GUI's cache threads, a benchmark's parent), so workers never
contend for it. Several processes may still
open one pack (two windows on one dataset): SQLite's locking keeps it whole, and a write that
cannot get the lock is dropped, since the cache only ever saves time.

Each row is keyed by the image's absolute path and holds the file's size and mtime (ns) it
was made from, so a changed file misses and is made again (its row replaced). Rows carry a
CRC-32 of everything in them and are checked on every read: a damaged row is a miss; a pack
SQLite calls damaged, or a file that is not our pack, is set aside and started again.
Deleting the folder loses nothing but time.
"""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import stat
import struct
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from PIL import Image

from .. import APP_NAME
from .file_cache import discard_database

#: Marks a SQLite file as a thumbnail pack ("ISTP"); any other file at its name is discarded.
APPLICATION_ID = 0x49535450
#: Bump when the table's layout or the encoding of a thumbnail changes.
FORMAT_VERSION = 1
_COLUMNS = ["path", "size", "mtime", "width", "height", "mode", "crc", "data"]
# Rows asked for in one query (SQLite allows 32,766 parameters; this keeps a query short).
_QUERY_ROWS = 256
# How long a writer waits for another process's write before dropping its batch.
_BUSY_SECONDS = 0.5


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME)) / "thumbnails" / f"pack-v{FORMAT_VERSION}"


def pack_name(root: str | os.PathLike[str] | None, size: int) -> str:
    """File name of the pack of the dataset at `root` (by its real path); None: the pack for
    images outside any dataset (generated images, a viewer's odd file)."""
    if root is None:
        return f"other-{size}.sqlite"
    real = os.path.realpath(os.fspath(root))
    return f"{hashlib.sha256(os.fsencode(real)).hexdigest()[:24]}-{size}.sqlite"


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """Decoded thumbnail pixels, ready to wrap in a QImage (rows tightly packed)."""

    width: int
    height: int
    mode: str  # "RGB" or "RGBA"
    # The packed pixels: bytes, or (served from the pack) a flat memoryview of the decoded
    # array, which spares a copy of every warm thumbnail.
    data: bytes | memoryview

    @classmethod
    def from_image(cls, img: Image.Image) -> Thumbnail:
        if img.mode not in ("RGB", "RGBA"):
            img = img.convert("RGB")
        return cls(img.width, img.height, img.mode, img.tobytes())


@dataclass(frozen=True, slots=True)
class PackEntry:
    """An encoded thumbnail with the file version it was made from: what a worker returns
    for the writer to store."""

    path: str  # absolute
    file_size: int
    mtime_ns: int
    width: int
    height: int
    mode: str  # "RGB" (JPEG) or "RGBA" (PNG)
    data: bytes

    @classmethod
    def encode(cls, path: str, st: os.stat_result, img: Image.Image) -> PackEntry:
        buf = io.BytesIO()
        if img.mode == "RGBA":
            img.save(buf, "PNG", compress_level=1)
        else:
            # Quality 85 is visually lossless at 128 px. Optimised Huffman tables make the
            # file a fifth smaller for the same pixels and its decode (what a warm cache
            # costs) ~10% cheaper, for ~40 us more encoding (1% of making the thumbnail).
            img = img if img.mode == "RGB" else img.convert("RGB")
            img.save(buf, "JPEG", quality=85, optimize=True)
        return cls(
            path, st.st_size, st.st_mtime_ns, img.width, img.height, img.mode, buf.getvalue()
        )


def _crc(path: bytes, size: int, mtime: int, width: int, height: int, mode: str, data) -> int:
    head = struct.pack("<qqii", size, mtime, width, height) + mode.encode("ascii") + path
    return zlib.crc32(data, zlib.crc32(head))


def _decode(width: int, height: int, mode: str, data: bytes) -> Thumbnail | None:
    """Pixels of a stored thumbnail; None when they do not decode to what the row says."""
    try:
        if mode == "RGB":
            # Straight into libjpeg-turbo (simplejpeg's build; the same pixels as Pillow's,
            # tested, and it releases the GIL): the row already says the size and mode, so
            # Pillow's header parsing and image set-up, 30% of a warm hit at this size, are
            # skipped. Strict: a stored thumbnail that decodes only with warnings is
            # damaged, and made again.
            import simplejpeg

            # The size from the header first: never allocate what the row does not say.
            if simplejpeg.decode_jpeg_header(data)[:2] != (height, width):
                return None
            pixels = simplejpeg.decode_jpeg(data, colorspace="RGB", strict=True)
            return Thumbnail(width, height, mode, pixels.reshape(-1).data.toreadonly())
        if mode == "RGBA":
            with Image.open(io.BytesIO(data), formats=["PNG"]) as img:
                img.load()
                if img.mode != "RGBA":
                    return None
        else:
            return None
    except (OSError, ValueError, SyntaxError, RuntimeError, Image.DecompressionBombError):
        return None
    if img.size != (width, height):
        return None
    return Thumbnail(width, height, mode, img.tobytes())


class ThumbnailPack:
    """The encoded thumbnails of one dataset in one SQLite file.

    Thread-safe: SQL runs under a lock; decoding (which releases the GIL) runs outside it.
    """

    def __init__(
        self,
        root: str | os.PathLike[str] | None,
        size: int,
        directory: str | os.PathLike[str] | None = None,
    ) -> None:
        folder = Path(directory) if directory is not None else default_cache_dir()
        self.path = folder / pack_name(root, size)
        self.size = size
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._broken = False  # the folder cannot hold a pack: serve misses, write nothing

    # -- connection -------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection | None:
        if self._db is not None or self._broken:
            return self._db
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._db = self._open()
            except sqlite3.OperationalError:
                raise  # busy or cannot open: not a sign of damage
            except sqlite3.DatabaseError:
                self._discard()  # damaged or not ours: never trusted, started again
                self._db = self._open()
        except sqlite3.OperationalError:
            return None  # another process holds it, or the folder is read-only: try later
        except (OSError, sqlite3.Error):
            self._broken = True  # a cache folder that cannot be made only costs speed
        return self._db

    def _open(self) -> sqlite3.Connection:
        with suppress(FileNotFoundError):
            if not stat.S_ISREG(os.lstat(self.path).st_mode):
                # A FIFO or link planted at our name: SQLite would block on or follow it.
                raise sqlite3.DatabaseError("not a regular file")
        db = sqlite3.connect(self.path, timeout=_BUSY_SECONDS, check_same_thread=False)
        try:
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            columns = [row[1] for row in db.execute("PRAGMA table_info(thumbs)")]
            if app_id != APPLICATION_ID:
                tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if tables:
                    raise sqlite3.DatabaseError("not a thumbnail pack")
            elif columns != _COLUMNS:
                # Ours, but its table is not the one we read: not to be trusted either.
                raise sqlite3.DatabaseError(f"thumbnail pack with columns {columns}")
            db.execute("PRAGMA journal_mode=WAL")
            # A crash may lose the last batches (time, not correctness); no fsync per batch.
            db.execute("PRAGMA synchronous=NORMAL")
            if app_id != APPLICATION_ID:
                db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS thumbs (path BLOB PRIMARY KEY, "
                    "size INTEGER NOT NULL, mtime INTEGER NOT NULL, width INTEGER NOT NULL, "
                    "height INTEGER NOT NULL, mode TEXT NOT NULL, crc INTEGER NOT NULL, "
                    "data BLOB NOT NULL)"
                )
                db.commit()
        except Exception:
            db.close()
            raise
        return db

    def _discard(self) -> None:
        if self._db is not None:
            with suppress(sqlite3.Error):
                self._db.close()
            self._db = None
        discard_database(self.path)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # -- reading ----------------------------------------------------------------------------
    def get(self, path: str) -> Thumbnail | None:
        return self.get_many([path]).get(path)

    def get_many(self, paths: Sequence[str]) -> dict[str, Thumbnail]:
        """The stored thumbnails of those of `paths` whose file is unchanged since."""
        wanted: dict[bytes, tuple[str, int, int]] = {}
        for path in paths:
            try:
                st = os.stat(path)
            except OSError:
                continue
            wanted[os.fsencode(path)] = (path, st.st_size, st.st_mtime_ns)
        found: dict[str, Thumbnail] = {}
        for row in self._rows(list(wanted)):
            key, size, mtime, width, height, mode, crc, data = row
            path, want_size, want_mtime = wanted.get(key, ("", -1, -1))
            if (size, mtime) != (want_size, want_mtime):
                continue  # the file changed since: made again on request
            if crc != _crc(key, size, mtime, width, height, mode, data):
                continue  # a damaged row: a miss, replaced when made again
            thumb = _decode(width, height, mode, data)
            if thumb is not None:
                found[path] = thumb
        return found

    def _rows(self, keys: list[bytes]) -> Iterator[tuple]:
        for start in range(0, len(keys), _QUERY_ROWS):
            chunk = keys[start : start + _QUERY_ROWS]
            with self._lock:
                try:
                    db = self._connect()
                    if db is None:
                        return
                    rows = db.execute(
                        "SELECT path, size, mtime, width, height, mode, crc, data FROM thumbs "
                        f"WHERE path IN ({','.join('?' * len(chunk))})",
                        chunk,
                    ).fetchall()
                except sqlite3.OperationalError:
                    return  # busy (another process recovering it): misses this time
                except sqlite3.DatabaseError:
                    self._discard()
                    return
            yield from rows

    # -- writing ----------------------------------------------------------------------------
    def put_many(self, entries: Iterable[PackEntry]) -> int:
        """Store thumbnails in one transaction; how many were written (0 when the pack was
        busy with another process's write, or cannot be written at all)."""
        rows = []
        for e in entries:
            key = os.fsencode(e.path)
            crc = _crc(key, e.file_size, e.mtime_ns, e.width, e.height, e.mode, e.data)
            rows.append((key, e.file_size, e.mtime_ns, e.width, e.height, e.mode, crc, e.data))
        if not rows:
            return 0
        with self._lock:
            try:
                db = self._connect()
                if db is None:
                    return 0
                with db:  # one transaction: committed, or rolled back on an error
                    db.executemany(
                        "INSERT OR REPLACE INTO thumbs "
                        "(path, size, mtime, width, height, mode, crc, data) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        rows,
                    )
            except sqlite3.OperationalError:
                return 0  # locked by another process, or the disk is full: dropped
            except sqlite3.DatabaseError:
                self._discard()
                return 0
        return len(rows)
