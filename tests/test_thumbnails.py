import os

import numpy as np
import pytest
from PIL import Image

from imbalance_studio.core.thumbnails import ThumbnailCache, thumbnail_job


def test_thumbnail_is_cached_keyed_by_mtime_and_size(tmp_path, monkeypatch):
    src = tmp_path / "a.jpg"
    Image.new("RGB", (400, 200), (200, 10, 10)).save(src)
    cache = ThumbnailCache(tmp_path / "cache", size=64)
    assert cache.get(src) is None
    thumb = cache.load(src)
    assert (thumb.width, thumb.height, thumb.mode) == (64, 32, "RGB")
    assert len(thumb.data) == 64 * 32 * 3
    hit = cache.get(src)
    assert hit is not None and hit.width == 64
    monkeypatch.chdir(tmp_path)
    assert cache.get("a.jpg") == hit  # a relative path is the same file
    # Editing the file (new content, new mtime) misses the old entry.
    Image.new("RGB", (100, 300), (10, 200, 10)).save(src)
    os.utime(src, ns=(1, 1))
    assert cache.get(src) is None
    assert (cache.load(src).width, cache.load(src).height) == (21, 64)
    assert cache.get(src).height == 64  # the new version replaced the old one
    # One pack file (plus SQLite's write-ahead log), not a file per thumbnail.
    names = sorted(p.name for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert [n for n in names if n.endswith(".sqlite")] == [names[0]], names
    assert all(n.startswith(names[0]) for n in names), names


def test_thumbnail_applies_exif_orientation_and_keeps_alpha(bad_corpus, tmp_path):
    root, _ = bad_corpus
    cache = ThumbnailCache(tmp_path / "cache", size=32)
    rotated = cache.load(root / "good/exif_rotated.jpg")
    assert rotated.height > rotated.width  # stored landscape, displayed portrait
    alpha = cache.load(root / "good/palette_transparent.png")
    assert alpha.mode == "RGBA"
    arr = np.frombuffer(alpha.data, np.uint8).reshape(alpha.height, alpha.width, 4)
    assert (arr[..., 3] < 255).any()


@pytest.mark.parametrize(
    "name, reason",
    [
        ("bad/truncated.jpg", "truncated"),
        ("bad/zero.jpg", "empty file"),
        ("bad/bomb.png", "too large (decompression bomb)"),
        ("bad/text.jpg", "not an image"),
    ],
)
def test_thumbnail_job_reports_reason_for_bad_files(bad_corpus, tmp_path, name, reason):
    root, _ = bad_corpus
    result = thumbnail_job((str(root / name), 64))
    assert result.thumbnail is None and result.entry is None
    assert result.reason == reason


def test_unwritable_cache_still_serves_thumbnails(tmp_path):
    src = tmp_path / "a.png"
    Image.new("RGB", (50, 50)).save(src)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    cache = ThumbnailCache(blocker / "cache", size=16)
    assert cache.load(src).width == 16
