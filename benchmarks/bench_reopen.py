"""Reopening a checked folder of 100,000 images vs listing it (same run, interleaved rounds).

Bar (issue 14): a reopened, already checked folder is ready (listed, with the verdicts of its
last complete check: the scan's `Known` hand-over, what the window shows) within 2x the bare
listing time. Verified (every file stat'ed against its cached check, as the scan's result
is) is timed too. Both baselines are printed: a bare `os.scandir` walk (the least any
listing does) and our own listing without the check. The folder (tiny JPEGs) and its check cache are built once
and kept under /tmp between runs (`benchmarks/trees.py`).
Run: .venv/bin/python benchmarks/bench_reopen.py [N_FILES] [ROUNDS]
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from trees import bench_env, image_tree

BAR = 2.0


def main() -> int:
    n_files = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    root = image_tree("reopen", n_files, 10, 8)
    os.environ.update(bench_env(root))  # the check cache of this folder, kept in /tmp
    from bench_scan import bare_walk

    import imbalance_studio.core.scanning as scanning
    from imbalance_studio.core.progress import drive

    t0 = time.perf_counter()
    first = drive(scanning.iter_scan(root))  # checks what the cache does not know yet
    print(f"first open (fills the cache where needed): {time.perf_counter() - t0:.1f} s")
    assert len(first.paths) == n_files and not first.problems

    def no_decode(path: str):
        raise AssertionError(f"{path} decoded again on reopening")

    scanning.check_file = no_decode  # a reopen must not decode anything

    ready_t: list[float] = []

    def reopen() -> None:
        t = time.perf_counter()
        steps = scanning.iter_scan(root, workers=1)
        while True:
            try:
                item = next(steps)
            except StopIteration as stop:
                verified = stop.value
                break
            if isinstance(item, scanning.Listed):
                ready_t.append(time.perf_counter() - t)
                assert isinstance(item, scanning.Known), "no verdicts shown on reopening"
                assert len(item.dataset.paths) == n_files
        assert len(verified.paths) == n_files

    fns = {
        "bare os.scandir walk": lambda: bare_walk(str(root)),
        "our listing (no check)": lambda: scanning.scan(root),
        "reopen, verified (every file stat'ed)": reopen,
    }
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    times["reopen, ready (last verdicts shown)"] = ready_t
    for name, ts in times.items():
        print(
            f"{name:40s} min {min(ts) * 1000:6.0f}  median {statistics.median(ts) * 1000:6.0f}"
            f"  max {max(ts) * 1000:6.0f} ms"
        )
    bare = times["bare os.scandir walk"]
    for name in ("reopen, ready (last verdicts shown)", "reopen, verified (every file stat'ed)"):
        for base in ("bare os.scandir walk", "our listing (no check)"):
            ts = times[name]
            ratios = [r / b for r, b in zip(ts, times[base], strict=True)]
            print(
                f"{name} / {base}: median "
                f"{statistics.median(ts) / statistics.median(times[base]):.2f}x"
                f"  (per round min {min(ratios):.2f}x, max {max(ratios):.2f}x)"
            )
    groups_on_reopen(first)
    ready = times["reopen, ready (last verdicts shown)"]
    ratio = statistics.median(ready) / statistics.median(bare)
    print(f"{'PASS' if ratio <= BAR else 'FAIL'} (bar {BAR}x the bare walk)")
    return 0 if ratio <= BAR else 1


def groups_on_reopen(dataset) -> None:
    """The identical-file search a window runs on every open (no bar of its own): every file
    of this tree has twins of its size, so without its cache it reads them all."""
    from imbalance_studio.core.duplicates import iter_content_groups
    from imbalance_studio.core.progress import drive

    t = time.perf_counter()
    groups = drive(iter_content_groups(dataset, use_cache=False))
    cold = time.perf_counter() - t
    drive(iter_content_groups(dataset))  # fills the cache where needed
    cached = []
    for _ in range(3):
        t = time.perf_counter()
        assert drive(iter_content_groups(dataset)) == groups
        cached.append(time.perf_counter() - t)
    print(
        f"identical-file search: reading every file {cold * 1000:.0f} ms, on reopen (digests "
        f"from the cache) median {statistics.median(cached) * 1000:.0f} ms -> "
        f"{statistics.median(cached) / cold:.2f}x"
    )


if __name__ == "__main__":
    sys.exit(main())
