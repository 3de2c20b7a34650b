"""Featurizing throughput vs a plain one-process `skimage.feature.hog` loop (same run, files).

Bar (issue 11): HOG vectors per second per core at least 0.8x the plain loop, both cores used.
Ours is `iter_featurize` end to end (safe decode, EXIF orientation, grayscale, bilinear
resize, hog, float32 rows in plan order), pool start-up included; the plain loop does
`Image.open → convert("L") → resize → hog` with the same arguments. Also printed: the plain
loop on the same number of processes (two busy cores run slower than one alone) and the
rate without the pool's start-up, and images per CPU-second (ours: the workers' CPU time,
start-up included), which a machine shared with other work does not distort.
Run: .venv/bin/python benchmarks/bench_features.py [N_IMAGES]
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from imbalance_studio.core.features.featurize import iter_featurize
from imbalance_studio.core.features.hog import FeatureSettings, warm_up
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.processes import worker_pool
from imbalance_studio.core.progress import drive
from imbalance_studio.core.project import Project
from imbalance_studio.core.scanning import scan

SETTINGS = FeatureSettings()  # the default: 64 px, 1,764 values


def make_images(root: Path, n: int) -> None:
    """Photo-like 256 x 256 JPEGs in three unequal classes."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:256, 0:256]
    for i in range(n):
        folder = root / ("a" if i % 10 < 7 else "b" if i % 10 < 9 else "c")
        folder.mkdir(exist_ok=True)
        base = np.stack([(xx * (i % 5 + 1)) % 256, (yy * 3 + i) % 256, (xx + yy) % 256], -1)
        arr = np.clip(base + rng.normal(0, 14, base.shape), 0, 255).astype(np.uint8)
        Image.fromarray(arr).save(folder / f"img_{i:05d}.jpg", quality=90)


def plain_loop(paths: list[str]) -> int:
    from skimage.feature import hog

    size, kw = tuple(SETTINGS.preprocess["size"]), SETTINGS.hog
    for p in paths:
        with Image.open(p) as img:
            small = img.convert("L").resize(size, Image.Resampling.BILINEAR)
        hog(np.asarray(small, np.float64) / 255, **kw)
    return len(paths)


def plain_pool(paths: list[str], workers: int) -> float:
    ctx = mp.get_context("spawn")
    shares = [paths[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=warm_up) as pool:
        list(pool.map(int, range(workers * 2)))  # workers started outside the timing
        t0 = time.perf_counter()
        list(pool.map(plain_loop, shares))
        return time.perf_counter() - t0


def pool_start(workers: int) -> float:
    """What starting our pool costs (spawn, imports): measured alone, the same way."""
    t0 = time.perf_counter()
    pool = worker_pool(workers, initializer=warm_up)
    list(pool.map(int, range(workers * 2)))
    elapsed = time.perf_counter() - t0
    pool.shutdown()
    return elapsed


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    workers = min(2, os.cpu_count() or 1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        root.mkdir()
        make_images(root, n)
        dataset = scan(root)
        plan = make_plan(dataset, Project(dataset_root=str(root)))
        paths = [str(dataset.abspath(p)) for p in dataset.paths]
        plain_loop(paths[:50])  # warm the page cache and the imports
        t0, c0 = time.perf_counter(), time.process_time()
        plain_loop(paths)
        t_plain, cpu_plain = time.perf_counter() - t0, time.process_time() - c0
        t_plain_pool = plain_pool(paths, workers)
        t_start = pool_start(workers)
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        fs = drive(iter_featurize(dataset, plan, SETTINGS, workers))
        t_ours = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the pool's workers have exited
        cpu_ours = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    rows = sum(len(v.y) for v in fs.splits.values())
    assert rows == n and not fs.problems

    plain_rate = n / t_plain
    per_core = n / t_ours / workers
    steady = n / max(t_ours - t_start, 1e-9) / workers
    plain_pool_core = n / t_plain_pool / workers
    print(
        f"{n} JPEGs 256x256 -> HOG of {SETTINGS.size}x{SETTINGS.size} ({SETTINGS.dimensions} values)"
    )
    print(f"plain skimage hog loop (1 process): {plain_rate:.0f} images/s")
    print(
        f"imbalance-studio iter_featurize ({workers} processes, pool start included): "
        f"{n / t_ours:.0f}/s = {per_core:.0f}/s per core, per-core ratio "
        f"{per_core / plain_rate:.2f}x (bar >= 0.8x), total {plain_rate and n / t_ours / plain_rate:.2f}x"
    )
    print(
        f"  without the pool's start-up ({t_start:.2f} s): {steady:.0f}/s per core, "
        f"{steady / plain_rate:.2f}x"
    )
    print(
        f"plain loop on {workers} processes: {plain_pool_core:.0f}/s per core "
        f"({plain_pool_core / plain_rate:.2f}x of one process alone); ours per core vs it: "
        f"{per_core / plain_pool_core:.2f}x"
    )
    print(
        f"per CPU-second: plain {n / cpu_plain:.0f} images, ours {n / cpu_ours:.0f} "
        f"({cpu_plain / cpu_ours:.2f}x)"
    )
    return 0 if per_core / plain_rate >= 0.8 else 1


if __name__ == "__main__":
    sys.exit(main())
