"""The identical-file search keeps each file's digest in the dataset's file cache: a reopened
folder reads no file again, a changed file is read again, a damaged cache is rebuilt."""

from __future__ import annotations

import os
import shutil

import pytest
from datasets import write_digits

from imbalance_studio.core import duplicates
from imbalance_studio.core.duplicates import content_groups
from imbalance_studio.core.file_cache import cache_path_for
from imbalance_studio.core.scanning import scan


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "d"
    write_digits(root, [12, 6])
    # two exact copies inside a class and one across classes; every other PNG of the same
    # size is read too (same size, other bytes)
    shutil.copy(root / "digit_0/digit_0_000.png", root / "digit_0/copy_a.png")
    shutil.copy(root / "digit_0/digit_0_003.png", root / "digit_1/copy_b.png")
    age(root, 3600)
    return root


def age(root, seconds: int) -> None:
    """Date every file `seconds` back: digests of files written moments ago are not kept."""
    for path in root.rglob("*.png"):
        st = os.stat(path)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - seconds * 1_000_000_000))


def counting_digests(monkeypatch) -> list[str]:
    read: list[str] = []
    real = duplicates._file_digest

    def digest(path: str) -> bytes:
        read.append(path)
        return real(path)

    monkeypatch.setattr(duplicates, "_file_digest", digest)
    return read


def test_a_reopened_folder_reads_no_file_again(folder, monkeypatch):
    ds = scan(folder)
    read = counting_digests(monkeypatch)
    first = content_groups(ds)
    assert first["digit_0/digit_0_000.png"] == first["digit_0/copy_a.png"]
    assert first["digit_0/digit_0_003.png"] == first["digit_1/copy_b.png"]
    assert len(first) == 4 and read  # candidates were read once
    read.clear()
    assert content_groups(scan(folder)) == first
    assert read == []
    # without the cache every candidate is read again, with the same result
    assert duplicates.drive(duplicates.iter_content_groups(ds, use_cache=False)) == first
    assert len(read) >= 4


def test_a_changed_file_is_read_again(folder, monkeypatch):
    content_groups(scan(folder))
    copy = folder / "digit_0/copy_a.png"
    data = bytearray(copy.read_bytes())
    data[-20] ^= 0xFF  # same size, other bytes: no longer a twin of digit_0_000
    copy.write_bytes(bytes(data))
    st = os.stat(copy)
    os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    read = counting_digests(monkeypatch)
    groups = content_groups(scan(folder))
    assert str(copy) in read and len(read) == 1  # only the changed file
    assert "digit_0/copy_a.png" not in groups and "digit_0/digit_0_000.png" not in groups
    assert groups["digit_0/digit_0_003.png"] == groups["digit_1/copy_b.png"]


def test_a_damaged_cache_is_rebuilt_not_trusted(folder, monkeypatch):
    expected = content_groups(scan(folder))
    cache_file = cache_path_for(folder)
    assert cache_file.is_file()
    cache_file.write_bytes(b"this is not a database" * 100)
    read = counting_digests(monkeypatch)
    assert content_groups(scan(folder)) == expected
    assert read  # read again, since nothing in the damaged file counts
    read.clear()
    assert content_groups(scan(folder)) == expected
    assert read == []  # and the rebuilt cache serves the next open


def test_a_file_written_moments_ago_is_grouped_but_its_digest_not_kept(folder, monkeypatch):
    """Rewritten again within the file system's time resolution, at the same size, it would
    keep its size and mtime: so its digest is used now and read again next time."""
    fresh = folder / "digit_0/copy_c.png"
    shutil.copy(folder / "digit_0/digit_0_001.png", fresh)  # mtime: now
    read = counting_digests(monkeypatch)
    groups = content_groups(scan(folder))
    assert groups["digit_0/copy_c.png"] == groups["digit_0/digit_0_001.png"]
    read.clear()
    assert content_groups(scan(folder)) == groups
    assert read == [str(fresh)]


def test_a_file_changed_while_it_is_hashed_is_neither_grouped_nor_kept(folder, monkeypatch):
    target = folder / "digit_0/copy_a.png"
    real = duplicates._file_digest

    def digest_then_touch(path: str) -> bytes:
        out = real(path)
        if path == str(target):  # rewritten just after it was read
            st = os.stat(path)
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        return out

    monkeypatch.setattr(duplicates, "_file_digest", digest_then_touch)
    groups = content_groups(scan(folder))
    assert "digit_0/copy_a.png" not in groups
    monkeypatch.setattr(duplicates, "_file_digest", real)
    read = counting_digests(monkeypatch)
    assert "digit_0/copy_a.png" in content_groups(scan(folder))  # read again, grouped now
    assert read == [str(target)]


def test_an_unusable_cache_folder_does_not_stop_the_search(folder, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    groups = content_groups(scan(folder))
    assert groups["digit_0/digit_0_000.png"] == groups["digit_0/copy_a.png"]
