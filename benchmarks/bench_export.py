"""Export of 10,000 small originals vs `cp -al` (hard links) and `cp -r` (copies), same run.

Bars (issue 6): with hard links at least 0.8x the speed of `cp -al` of the same files, with
copies at least 0.8x the speed of `cp -r`. "Speed" is files per second, so the ratio printed
is cp's time over ours (>= 0.8 passes). Our time covers the whole export: destination checks,
file names, every file, manifest, metadata, weights, stacks, charts, README, the final rename.
The plan is made once beforehand (it is the same for every run) and timed separately. The
dataset is decode-checked first, as every CLI export's is (the check records which originals
are stored rotated); a third line, without a bar, times an export of a dataset that was only
listed, where the export reads each original's EXIF orientation itself.

Run: .venv/bin/python benchmarks/bench_export.py [N_FILES]
"""

from __future__ import annotations

import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from imbalance_studio.core.export.run import export
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.project import Project
from imbalance_studio.core.scanning import check, scan

BAR = 0.8


def make_tree(root: Path, n_files: int, n_classes: int = 10) -> None:
    rng = np.random.default_rng(0)
    blobs = []
    for _ in range(16):  # a few distinct small PNGs (~1 KB), reused
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, (24, 24), np.uint8), "L").save(buf, "PNG")
        blobs.append(buf.getvalue())
    # Imbalanced, as a real dataset would be: class c holds a share decreasing with c.
    shares = np.array([1.0 / (c + 1) for c in range(n_classes)])
    counts = np.floor(shares / shares.sum() * n_files).astype(int)
    counts[0] += n_files - counts.sum()
    for c, n in enumerate(counts):
        folder = root / f"class_{c:02d}"
        folder.mkdir(parents=True)
        for i in range(n):
            (folder / f"img_{i:06d}.png").write_bytes(blobs[i % len(blobs)])


def timed(fn, reset, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        reset()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    reset()
    return statistics.median(times)


def main() -> int:
    n_files = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    repeats = 11
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        src = base / "dataset"
        make_tree(src, n_files)
        listed = scan(src)
        dataset = check(listed)
        project = Project(dataset_root=str(src))
        t0 = time.perf_counter()
        plan = make_plan(dataset, project)
        t_plan = time.perf_counter() - t0
        out = base / "out"

        def reset() -> None:
            shutil.rmtree(out, ignore_errors=True)

        def ours(link: bool, ds=dataset):
            return lambda: export(ds, project, plan, [], out, link=link)

        def cp(*flags: str):
            return lambda: subprocess.run(["cp", *flags, str(src), str(out)], check=True)

        ours(True)()  # warm the page cache and imports alike for every contender
        reset()
        results = []
        for name, fn_ours, fn_cp in (
            ("hard links vs cp -al", ours(True), cp("-al")),
            ("copies vs cp -r", ours(False), cp("-r")),
            ("copies of a listed-only dataset vs cp -r (no bar)", ours(False, listed), cp("-r")),
        ):
            # Interleave the contenders so background load hits both alike.
            t_ours, t_cp = [], []
            for _ in range(repeats):
                t_ours.append(timed(fn_ours, reset, 1))
                t_cp.append(timed(fn_cp, reset, 1))
            mo, mc = statistics.median(t_ours), statistics.median(t_cp)
            ratio = mc / mo
            if "no bar" not in name:
                results.append(ratio)
            print(
                f"{name}: {n_files:,} files, ours {mo * 1000:.0f} ms, cp {mc * 1000:.0f} ms, "
                f"speed ratio {ratio:.2f}x (bar >= {BAR}x)"
            )
        print(
            f"plan of {n_files:,} files (made once, not in the export times): {t_plan * 1000:.0f} ms"
        )
        print(f"file system: {os.statvfs(base).f_bsize} byte blocks at {base}")
    return 0 if all(r >= BAR for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
