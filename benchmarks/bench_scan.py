"""Scan of a 100,000-file class tree vs a bare os.scandir walk of the same tree (same run).

Bar (issue 2): our listing takes at most 1.5x the bare walk.
Run: .venv/bin/python benchmarks/bench_scan.py [N_FILES]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from imbalance_studio.core.scanning import scan


def make_tree(root: Path, n_files: int, n_classes: int = 10) -> None:
    per_class = n_files // n_classes
    for c in range(n_classes):
        folder = root / f"class_{c:02d}"
        folder.mkdir()
        for i in range(per_class):
            # Empty files: listing never opens them, so content does not matter here.
            (folder / f"img_{i:06d}.jpg").touch()


def bare_walk(root: str) -> int:
    """The baseline: the least a listing can do, walk the tree and collect the file paths."""
    files = []
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                if entry.is_dir():
                    stack.append(entry.path)
                else:
                    files.append(entry.path)
    return len(files)


def interleaved_times(fns, repeats: int = 9) -> list[list[float]]:
    """Times of each function, runs interleaved so background load hits both alike."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - t0)
    return times


def interleaved_medians(fns, repeats: int = 9) -> list[float]:
    """Median time of each function, runs interleaved so background load hits both alike."""
    return [statistics.median(t) for t in interleaved_times(fns, repeats)]


def main() -> int:
    n_files = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_tree(root, n_files)
        assert bare_walk(str(root)) == n_files
        assert len(scan(root).samples) == n_files
        bare, ours = interleaved_times([lambda: bare_walk(str(root)), lambda: scan(root)])
    t_bare, t_ours = statistics.median(bare), statistics.median(ours)
    ratio = t_ours / t_bare
    rounds = sorted(o / b for o, b in zip(ours, bare, strict=True))
    print(
        f"scan of {n_files:,} files: bare os.scandir walk {t_bare * 1000:.0f} ms, "
        f"imbalance-studio scan {t_ours * 1000:.0f} ms (medians of {len(bare)}), "
        f"ratio {ratio:.2f}x (bar <= 1.5x); per round min {rounds[0]:.2f}x, "
        f"median {statistics.median(rounds):.2f}x, max {rounds[-1]:.2f}x"
    )
    return 0 if ratio <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
