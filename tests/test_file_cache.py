"""The per-dataset file cache: keyed by path + size + mtime, never trusted when damaged."""

from __future__ import annotations

import os

from imbalance_studio.core.file_cache import FileCache, cache_path_for, stat_keys


def _write(path, data: bytes, mtime_ns: int) -> None:
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_values_come_back_only_for_unchanged_files(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    _write(root / "a.png", b"aaaa", 1_000_000_000)
    _write(root / "b.png", b"bbbb", 1_000_000_000)
    cache = FileCache(root, "check.v1", path=tmp_path / "c.sqlite")
    cache.store(
        (rel, size, mtime, rel.encode()) for rel, size, mtime in stat_keys(root, ["a.png", "b.png"])
    )
    assert cache.lookup(stat_keys(root, ["a.png", "b.png"])) == {
        "a.png": b"a.png",
        "b.png": b"b.png",
    }
    _write(root / "a.png", b"aaaa", 2_000_000_000)  # same size, new mtime
    _write(root / "b.png", b"bbbbb", 1_000_000_000)  # same mtime, new size
    assert cache.lookup(stat_keys(root, ["a.png", "b.png"])) == {}
    cache.close()


def test_kinds_are_separate_and_survive_reopening(tmp_path):
    db = tmp_path / "c.sqlite"
    with FileCache(tmp_path, "check.v1", path=db) as check:
        check.store([("x.png", 1, 2, b"ok")])
    with FileCache(tmp_path, "phash.v1", path=db) as phash:
        assert phash.lookup([("x.png", 1, 2)]) == {}
    with FileCache(tmp_path, "check.v1", path=db) as check:
        assert check.lookup([("x.png", 1, 2)]) == {"x.png": b"ok"}


def test_a_damaged_cache_file_is_rebuilt_not_trusted(tmp_path):
    db = tmp_path / "c.sqlite"
    with FileCache(tmp_path, "check.v1", path=db) as cache:
        cache.store([("x.png", 1, 2, b"ok")])
    db.write_bytes(b"this is not a database" * 100)
    for name in ("c.sqlite-wal", "c.sqlite-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    with FileCache(tmp_path, "check.v1", path=db) as cache:
        assert cache.lookup([("x.png", 1, 2)]) == {}
        assert cache.store([("x.png", 1, 2, b"again")]) == 1
        assert cache.lookup([("x.png", 1, 2)]) == {"x.png": b"again"}


def test_one_cache_file_per_dataset_in_the_user_cache(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    assert cache_path_for(a) != cache_path_for(b)
    assert cache_path_for(a) == cache_path_for(tmp_path / "a" / ".." / "a")
    assert not cache_path_for(a).is_relative_to(tmp_path)


def test_a_name_that_is_not_utf8_is_kept(tmp_path):
    name = b"bytes-\xff/x\xfe.png".decode("utf-8", "surrogateescape")  # as os.listdir gives it
    with FileCache(tmp_path, "check.v1", path=tmp_path / "c.sqlite") as cache:
        assert cache.store([(name, 3, 4, b"v")]) == 1
        assert cache.lookup([(name, 3, 4)]) == {name: b"v"}
        cache.forget([name])
        assert cache.lookup([(name, 3, 4)]) == {}
