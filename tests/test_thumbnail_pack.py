"""The thumbnail pack: one file per dataset, a changed file misses, damage is never trusted,
several writing processes leave it whole."""

from __future__ import annotations

import io
import multiprocessing as mp
import os
import sqlite3
import threading
import time

import numpy as np
from datasets import write_digits
from PIL import Image

from imbalance_studio.core.thumbnail_pack import ThumbnailPack
from imbalance_studio.core.thumbnails import (
    ThumbnailCache,
    read_cached,
    store_thumbnails,
    thumbnail_job,
)

SIZE = 32


def digit_paths(root, counts=(6, 4)) -> list[str]:
    write_digits(root, list(counts), ext=".jpg")
    return sorted(str(p) for p in root.rglob("*.jpg"))


def made(paths: list[str]) -> dict:
    """What worker processes send back: thumbnails with their encoded form."""
    return {p: thumbnail_job((p, SIZE)) for p in paths}


def pixels(thumb) -> np.ndarray:
    return np.frombuffer(thumb.data, np.uint8).reshape(thumb.height, thumb.width, -1)


def test_workers_results_stored_by_one_writer_are_served_until_the_file_changes(tmp_path):
    root = tmp_path / "data"
    paths = digit_paths(root)
    cache_dir = str(tmp_path / "cache")
    results = made(paths)
    assert read_cached(paths, cache_dir, SIZE, str(root)) == {}
    assert store_thumbnails((r.entry for r in results.values()), cache_dir, SIZE, str(root)) == 10
    hits = read_cached(paths, cache_dir, SIZE, str(root))
    assert set(hits) == set(paths)
    for p in paths:  # what comes back is what the worker made (JPEG at quality 85)
        got, want = pixels(hits[p]), pixels(results[p].thumbnail)
        assert got.shape == want.shape
        assert np.abs(got.astype(int) - want).mean() < 6
    # A changed file (new bytes and mtime, or only a new mtime) misses, then gets a new row.
    Image.new("RGB", (64, 16), (250, 0, 0)).save(paths[0], "JPEG")
    os.utime(paths[1], ns=(5, 5))
    hits = read_cached(paths, cache_dir, SIZE, str(root))
    assert set(hits) == set(paths[2:])
    store_thumbnails([thumbnail_job((paths[0], SIZE)).entry], cache_dir, SIZE, str(root))
    red = read_cached(paths[:1], cache_dir, SIZE, str(root))[paths[0]]
    assert (red.width, red.height) == (32, 8) and pixels(red)[4, 16, 0] > 200


def filled_pack(tmp_path) -> tuple[list[str], dict, ThumbnailPack]:
    """A pack holding the thumbnails of a small digits folder: (paths, results, pack)."""
    root = tmp_path / "data"
    paths = digit_paths(root)
    results = made(paths)
    pack = ThumbnailPack(str(root), SIZE, tmp_path / "cache")
    pack.put_many(r.entry for r in results.values())
    return paths, results, pack


def test_a_warm_hit_has_exactly_the_pixels_pillow_decodes_from_the_stored_jpeg(tmp_path):
    paths, results, pack = filled_pack(tmp_path)
    hits = pack.get_many(paths)
    for p in paths:
        with Image.open(io.BytesIO(results[p].entry.data)) as img:
            want = np.asarray(img.convert("RGB"))
        assert np.array_equal(pixels(hits[p]), want)
    pack.close()


def test_one_pack_per_dataset_in_the_cache_folder(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    pa, pb = digit_paths(a, (2,)), digit_paths(b, (3,))
    loose = tmp_path / "loose.png"
    Image.new("RGB", (40, 40), (0, 0, 200)).save(loose)
    cache_dir = tmp_path / "cache"
    for root, paths in ((a, pa), (b, pb)):
        cache = ThumbnailCache(cache_dir, SIZE, root=root)
        for p in [*paths, str(loose)]:
            cache.load(p)
        cache.close()
    packs = sorted(p.name for p in cache_dir.iterdir() if p.name.endswith(".sqlite"))
    assert len(packs) == 3, packs  # a's, b's, and the one for images outside any dataset
    # Another dataset's pack does not serve a's images; a's does.
    assert ThumbnailCache(cache_dir, SIZE, root=b).get_many(pa) == {}
    assert set(ThumbnailCache(cache_dir, SIZE, root=a).get_many(pa)) == set(pa)
    # Deleting the cache folder loses nothing but time.
    for p in cache_dir.iterdir():
        p.unlink()
    assert ThumbnailCache(cache_dir, SIZE, root=a).load(pa[0]).width == SIZE


def test_a_pack_overwritten_with_garbage_is_set_aside_and_rebuilt(tmp_path):
    root = tmp_path / "data"
    paths = digit_paths(root)
    cache = ThumbnailCache(tmp_path / "cache", SIZE, root=root)
    for p in paths:
        cache.load(p)
    pack_file = cache.pack_for(paths[0]).path
    cache.close()
    pack_file.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 40)
    for suffix in ("-wal", "-shm"):
        pack_file.with_name(pack_file.name + suffix).unlink(missing_ok=True)
    cache = ThumbnailCache(tmp_path / "cache", SIZE, root=root)
    assert cache.get_many(paths) == {}
    assert cache.load(paths[0]).width == SIZE
    assert set(cache.get_many(paths)) == {paths[0]}
    cache.close()
    with sqlite3.connect(pack_file) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_pack_whose_table_is_not_ours_is_rebuilt(tmp_path):
    root = tmp_path / "data"
    paths = digit_paths(root, (3,))
    pack = ThumbnailPack(str(root), SIZE, tmp_path / "cache")
    pack.put_many([thumbnail_job((paths[0], SIZE)).entry])
    pack.close()
    with sqlite3.connect(pack.path) as db:  # our file's id, another table layout
        db.execute("DROP TABLE thumbs")
        db.execute("CREATE TABLE thumbs (path BLOB PRIMARY KEY, data BLOB)")
    pack = ThumbnailPack(str(root), SIZE, tmp_path / "cache")
    assert pack.get_many(paths) == {}
    assert pack.put_many([thumbnail_job((p, SIZE)).entry for p in paths]) == 3
    assert set(pack.get_many(paths)) == set(paths)


def test_a_damaged_thumbnail_inside_the_pack_is_a_miss_never_served(tmp_path):
    paths, results, pack = filled_pack(tmp_path)
    pack.close()  # the last connection folds the write-ahead log into the file
    raw = bytearray(pack.path.read_bytes())
    victim = results[paths[3]].entry.data
    middle = victim[-40:-14]  # entropy-coded pixels, not the tables every JPEG shares
    at = raw.find(middle)
    assert at > 0 and raw.count(middle) == 1
    raw[at + 8] ^= 0x55  # one byte of one stored JPEG
    pack.path.write_bytes(bytes(raw))
    damaged = bytearray(victim)
    damaged[len(victim) - 40 + 8] ^= 0x55
    with Image.open(io.BytesIO(bytes(damaged))) as img:
        img.load()  # it still decodes (to wrong pixels): only the row's checksum tells
    pack = ThumbnailPack(str(tmp_path / "data"), SIZE, tmp_path / "cache")
    hits = pack.get_many(paths)
    assert set(hits) == set(paths) - {paths[3]}
    pack.put_many([thumbnail_job((paths[3], SIZE)).entry])  # made again, replaced
    assert paths[3] in pack.get_many(paths)


def test_damaged_pages_never_raise_nor_serve_wrong_pixels(tmp_path):
    root = tmp_path / "data"
    paths = digit_paths(root, (30, 30))
    results = made(paths)
    pack = ThumbnailPack(str(root), SIZE, tmp_path / "cache")
    pack.put_many(r.entry for r in results.values())
    pack.close()
    raw = bytearray(pack.path.read_bytes())
    page = 4096
    assert len(raw) >= 6 * page
    rng = np.random.default_rng(1)
    for start in range(2 * page, len(raw), 3 * page):  # every third page from the third
        raw[start + 100 : start + 900] = rng.integers(0, 256, 800, dtype=np.uint8).tobytes()
    pack.path.write_bytes(bytes(raw))
    cache = ThumbnailCache(tmp_path / "cache", SIZE, root=root)
    hits = cache.get_many(paths)
    assert len(hits) < len(paths)
    for p, thumb in hits.items():
        assert np.array_equal(pixels(thumb), pixels(cache.get(p))), p
        assert thumb.width == results[p].thumbnail.width
    for p in paths:  # whatever was lost is made again
        cache.load(p)
    assert set(cache.get_many(paths)) == set(paths)


def test_a_fifo_at_the_packs_name_does_not_hang(tmp_path):
    root = tmp_path / "data"
    paths = digit_paths(root, (2,))
    pack = ThumbnailPack(str(root), SIZE, tmp_path / "cache")
    pack.path.parent.mkdir(parents=True)
    os.mkfifo(pack.path)
    done: list = []
    thread = threading.Thread(
        target=lambda: done.append(pack.put_many([thumbnail_job((paths[0], SIZE)).entry])),
        daemon=True,
    )
    thread.start()
    thread.join(10)
    assert done == [1]
    assert set(pack.get_many(paths)) == {paths[0]}
    assert pack.path.is_file() and not pack.path.is_fifo()


def _writer(args: tuple[str, str, list[str], int]) -> int:
    """One process storing thumbnails in small batches, as fast as it can."""
    root, cache_dir, paths, seed = args
    order = np.random.default_rng(seed).permutation(len(paths))
    entries = [thumbnail_job((paths[i], SIZE)).entry for i in order]
    written = 0
    for start in range(0, len(entries), 3):
        for _ in range(200):  # a batch the pack was too busy for is tried again here
            n = store_thumbnails(entries[start : start + 3], cache_dir, SIZE, root)
            if n:
                written += n
                break
            time.sleep(0.01)
    return written


def test_several_processes_writing_one_pack_leave_it_whole(tmp_path):
    root = tmp_path / "data"
    paths = digit_paths(root, (20, 20))
    cache_dir = str(tmp_path / "cache")
    jobs = [(str(root), cache_dir, paths, seed) for seed in range(3)]  # every path 3 times
    with mp.get_context("spawn").Pool(3) as pool:
        written = pool.map(_writer, jobs)
    assert written == [len(paths)] * 3
    pack = ThumbnailPack(str(root), SIZE, cache_dir)
    with sqlite3.connect(pack.path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM thumbs").fetchone() == (len(paths),)
    hits = pack.get_many(paths)
    assert set(hits) == set(paths)
    for p in paths:
        assert hits[p].width == SIZE
