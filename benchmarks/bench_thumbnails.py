"""Thumbnail throughput vs a plain Pillow draft()+thumbnail loop (same run, same files).

Bars (issue 2): JPEG thumbnails per second per core at least 0.9x the plain loop, using both
cores; a reopened folder (warm disk cache) serves at least 2,000 thumbnails per second.
Run: .venv/bin/python benchmarks/bench_thumbnails.py [N_IMAGES]
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from imbalance_studio.core.thumbnails import THUMB_SIZE, ThumbnailCache, load_thumbnail_job


def make_photos(folder: Path, n: int) -> list[str]:
    """Photo-like 1024x768 JPEGs (smooth gradients plus noise, like camera output)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:768, 0:1024]
    paths = []
    for i in range(n):
        base = np.stack([(xx * (i % 7 + 1)) % 256, (yy * 3) % 256, (xx + yy + i) % 256], -1)
        arr = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
        p = folder / f"photo_{i:04d}.jpg"
        Image.fromarray(arr).save(p, quality=90)
        paths.append(str(p))
    return paths


def plain_loop(paths: list[str]) -> None:
    for p in paths:
        with Image.open(p) as img:
            img.draft("RGB", (THUMB_SIZE, THUMB_SIZE))
            img.thumbnail((THUMB_SIZE, THUMB_SIZE))


def plain_pool(paths: list[str], workers: int) -> float:
    """The plain loop on every core (each process a share of the files): the like-for-like
    baseline for "per core, using both cores", since two busy cores run slower than one."""
    ctx = mp.get_context("spawn")
    shares = [paths[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        list(pool.map(int, range(workers * 2)))
        t0 = time.perf_counter()
        list(pool.map(plain_loop, shares))
        return time.perf_counter() - t0


def ours_pool(paths: list[str], cache_dir: str, workers: int) -> float:
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        list(pool.map(int, range(workers * 2)))  # start the workers outside the timing
        t0 = time.perf_counter()
        results = list(
            pool.map(load_thumbnail_job, [(p, cache_dir, THUMB_SIZE) for p in paths], chunksize=8)
        )
        elapsed = time.perf_counter() - t0
    assert all(r.thumbnail is not None for r in results)
    return elapsed


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    workers = min(2, os.cpu_count() or 1)
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_photos(Path(tmp), n)
        plain_loop(paths[:20])  # warm the page cache
        t0 = time.perf_counter()
        plain_loop(paths)
        t_plain = time.perf_counter() - t0
        single_cache = str(Path(tmp) / "cache-single")
        t0 = time.perf_counter()
        for p in paths:
            load_thumbnail_job((p, single_cache, THUMB_SIZE))
        t_single = time.perf_counter() - t0
        cold_cache = str(Path(tmp) / "cache-cold")
        t_plain_pool = plain_pool(paths, workers)
        t_ours = ours_pool(paths, cold_cache, workers)
        t0 = time.perf_counter()
        cache = ThumbnailCache(cold_cache)
        hits = [cache.get(p) for p in paths]
        t_warm = time.perf_counter() - t0
        assert all(h is not None for h in hits)

    plain_rate = n / t_plain
    ours_rate = n / t_ours
    per_core = ours_rate / workers
    warm_rate = n / t_warm
    print(f"plain Pillow draft+thumbnail loop (1 core): {plain_rate:.0f} thumbnails/s")
    print(
        f"imbalance-studio, one process (decode + cache write): {n / t_single:.0f}/s, "
        f"ratio {t_plain / t_single:.2f}x"
    )
    print(
        f"imbalance-studio ({workers} worker processes, decode + cache write): "
        f"{ours_rate:.0f}/s = {per_core:.0f}/s per core, "
        f"per-core ratio {per_core / plain_rate:.2f}x (bar >= 0.9x), "
        f"total {ours_rate / plain_rate:.2f}x"
    )
    plain_pool_per_core = n / t_plain_pool / workers
    print(f"plain loop on {workers} processes: {plain_pool_per_core:.0f}/s per core "
          f"({plain_pool_per_core / plain_rate:.2f}x of one process alone); ours per core vs it: "
          f"{per_core / plain_pool_per_core:.2f}x")
    print(f"warm disk cache, one process: {warm_rate:.0f} thumbnails/s (bar >= 2000/s)")
    ok = per_core / plain_rate >= 0.9 and warm_rate >= 2000
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
