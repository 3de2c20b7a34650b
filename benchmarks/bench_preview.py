"""Preview latency: a parameter change to an updated grid of 8 variants at 256 px.

App path: `render_previews` on the sample's cached 256-px copy (what the editor's worker runs
after the debounce; the decode happens once per sample, not per change), including building
the Compose from the stack dict. Baseline: the same Compose, built once, applied 8 times in a
bare loop, in the same run.
Bars (issue 4): median < 100 ms, and at most 1.3x the bare loop.
Run: .venv/bin/python benchmarks/bench_preview.py [REPEATS]
"""

from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

import numpy as np

from imbalance_studio.core.augment import build_compose, render_previews, six_transform_stack
from imbalance_studio.core.augment.preview import downscale
from imbalance_studio.core.augment.stack import entries_from_stack, set_param, stack_from_entries

N_TILES = 8


def sample_image() -> np.ndarray:
    from skimage import data

    return downscale(data.astronaut(), 256)  # a 512x512 photo, as the editor holds it: 256 px


def interleaved_medians(fns, repeats: int) -> list[float]:
    """Median ms of each function, run in turn so that both see the same machine load."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, bucket in zip(fns, times, strict=True):
            t0 = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - t0)
    return [statistics.median(b) * 1000 for b in times]


def main() -> int:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    image = sample_image()
    base = six_transform_stack()
    entries = entries_from_stack(base)
    # Each app-path run sees a freshly edited stack, as after moving a slider.
    stacks = []
    for i in range(repeats + 3):
        edited = list(entries)
        edited[1] = set_param(entries[1], "rotate", [-10 - i % 20, 10 + i % 20])
        stacks.append(stack_from_entries(edited))
    it = iter(stacks)

    def app_path() -> None:
        tiles = render_previews(image, next(it), n=N_TILES, seed=1)
        assert all(t.error is None for t in tiles), tiles[0].error

    compose = build_compose(base, seed=1)

    def bare_loop() -> None:
        for _ in range(N_TILES):
            compose(image=image)

    for fn in (app_path, bare_loop):  # warm-up: imports, OpenCV buffers
        fn()
    t_bare, t_app = interleaved_medians([bare_loop, app_path], repeats)
    ratio = t_app / t_bare
    print(f"image {image.shape}, {N_TILES} tiles, six-transform stack, {repeats} repeats")
    print(f"bare loop (Compose x{N_TILES}):      median {t_bare:7.1f} ms")
    print(f"render_previews (app path):    median {t_app:7.1f} ms")
    print(f"ratio app / bare: {ratio:.2f}  (bar: <= 1.30);  app median bar: < 100 ms")
    ok = t_app < 100 and ratio <= 1.3
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
