"""Preview latency: a parameter change to an updated grid of 8 variants at 256 px.

App path: `render_previews` on the sample's cached preview source, a 256-px image here (what
the editor's worker runs after the debounce; the decode happens once per sample, not per
change), including building the Compose from the stack dict. Each variant is made as
generation makes an image: its own seed, reseeded streams, the "always a new view" redraw
rule. Baseline: the same Compose, built once, applied 8 times in a bare loop, in the same run.
"Before" is the preview as it was (one seeded stream for the grid, no redraw rule), timed in
the same run so the cost of showing what generation makes is measured, not guessed: each
variant is reseeded as generation reseeds each image (about 0.1 ms a variant, ~0.1x here).
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
from imbalance_studio.core.augment.apply import run_compose
from imbalance_studio.core.augment.preview import _cached, downscale, preview_source
from imbalance_studio.core.augment.stack import (
    entries_from_stack,
    reseed,
    set_param,
    stack_from_entries,
)

N_TILES = 8


def sample_image() -> np.ndarray:
    try:
        from skimage import data

        photo = data.astronaut()  # a 512x512 photo
    except ImportError:  # scikit-image is optional: a 512x512 picture with edges and noise
        yy, xx = np.mgrid[0:512, 0:512]
        rng = np.random.default_rng(0)
        planes = [xx // 2, yy // 2, (xx + yy) % 256, ((xx // 32 + yy // 32) % 2) * 255]
        photo = np.dstack([planes[0], planes[1], (planes[2] + planes[3]) // 2])
        photo = (photo * 0.8 + rng.integers(0, 50, photo.shape)).astype(np.uint8)
    return downscale(photo, 256)  # as the editor holds a photo: 256 px


def before_previews(image: np.ndarray, stack: dict, n: int, seed: int) -> list:
    """The preview as it was: one Compose reseeded once, run n times in one stream, no
    redraw when nothing applied (so some tiles showed the untouched image); tiles kept."""
    compose = build_compose(stack, save_applied_params=True, make_transform=_cached)
    reseed(compose, seed)
    return [run_compose(compose, image, seed) for _ in range(n)]


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
    # A new grid seed each run too: the cost of a grid depends on what its variants drew (how
    # many holes, whether the flip fired), so one fixed seed would time one particular draw;
    # the bare loop's single stream draws anew each run as well.
    it = iter(enumerate(stacks))

    source = preview_source(image)  # what the editor keeps per sample
    assert not source.scaled

    def app_path() -> None:
        seed, stack = next(it)
        tiles = render_previews(source, stack, n=N_TILES, seed=seed)
        assert all(t.error is None for t in tiles), tiles[0].error

    before_it = iter(enumerate(stacks))

    def before_path() -> None:
        seed, stack = next(before_it)
        before_previews(image, stack, N_TILES, seed)

    compose = build_compose(base, seed=1)

    def bare_loop() -> None:
        for _ in range(N_TILES):
            compose(image=image)

    for fn in (app_path, before_path, bare_loop):  # warm-up: imports, OpenCV buffers
        fn()
    t_bare, t_app, t_before = interleaved_medians([bare_loop, app_path, before_path], repeats)
    ratio, ratio_before = t_app / t_bare, t_before / t_bare
    print(f"image {image.shape}, {N_TILES} tiles, six-transform stack, {repeats} repeats")
    print(f"bare loop (Compose x{N_TILES}):      median {t_bare:7.1f} ms")
    print(f"before (one stream, no redraw): median {t_before:7.1f} ms  ratio {ratio_before:.2f}")
    print(f"render_previews (app path):    median {t_app:7.1f} ms  ratio {ratio:.2f}")
    print(f"ratio app / bare: {ratio:.2f}  (bar: <= 1.30);  app median bar: < 100 ms")
    big = preview_source(np.ascontiguousarray(np.tile(image, (8, 8, 1))))  # 2048 x 2048
    t_big = interleaved_medians([lambda: render_previews(big, base, n=N_TILES, seed=1)], 5)[0]
    print(f"a 2048x2048 source, scaled view on {big.image.shape[1]}x{big.image.shape[0]}: "
          f"median {t_big:7.1f} ms (not a bar)")  # fmt: skip
    ok = t_app < 100 and ratio <= 1.3
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
