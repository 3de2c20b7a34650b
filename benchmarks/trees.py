"""Benchmark folders, built once and kept in /tmp between runs (building 100,000 files takes
longer than measuring them). A folder is reused only when its completion marker exists."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

CACHE_ROOT = Path(tempfile.gettempdir()) / "imbalance-studio-bench"


def _jpeg_variants(n: int, side: int, seed: int = 0) -> list[bytes]:
    """`n` distinct small photo-like JPEGs (gradient plus noise), encoded once."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side]
    out = []
    for i in range(n):
        base = np.stack([(xx * (i % 5 + 1)) % 256, (yy * 3 + i) % 256, (xx + yy + 7 * i) % 256], -1)
        arr = np.clip(base + rng.normal(0, 10, base.shape), 0, 255).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, "JPEG", quality=88)
        out.append(buf.getvalue())
    return out


def image_tree(name: str, n_files: int, n_classes: int, side: int) -> Path:
    """A class tree of `n_files` small JPEGs (`side` px square) in `n_classes` folders, made
    once under /tmp and reused while its marker stands."""
    root = CACHE_ROOT / f"{name}-{n_files}-{n_classes}-{side}"
    marker = root.with_name(root.name + ".done")
    if marker.exists() and root.is_dir():
        return root
    shutil.rmtree(root, ignore_errors=True)
    variants = _jpeg_variants(64, side)
    per_class = n_files // n_classes
    for c in range(n_classes):
        folder = root / f"class_{c:02d}"
        folder.mkdir(parents=True)
        for i in range(per_class):
            (folder / f"img_{i:06d}.jpg").write_bytes(variants[(i * 7 + c) % len(variants)])
    marker.touch()
    return root


def drop_cache_for(root: Path) -> None:
    """Forget nothing but the benchmark's own user-cache folder (see `bench_env`)."""
    shutil.rmtree(CACHE_ROOT / "user-cache" / root.name, ignore_errors=True)


def bench_env(root: Path) -> dict[str, str]:
    """Environment for a product process: its user cache in /tmp, one per benchmark folder."""
    return dict(os.environ, XDG_CACHE_HOME=str(CACHE_ROOT / "user-cache" / root.name))
