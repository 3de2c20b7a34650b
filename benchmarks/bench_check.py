"""The checked scan, whole process: `scan FOLDER --json` vs a one-process header-open loop.

Bar (issue 14): `imbalance-studio scan FOLDER --json` (listing and the decode check of every
image, cold check cache) within 1.5x a one-process loop that lists the same tree and opens
each file's header with Pillow (`Image.open(p).size`), on 20,000 small JPEGs in 40 class
folders. Whole processes, interleaved rounds, min/median/max. Then where the time goes:
imports, pool start-up, per-file cost of the check vs a header open, per-batch IPC.
The folder is built once and kept under /tmp (`benchmarks/trees.py`).
Run: .venv/bin/python benchmarks/bench_check.py [ROUNDS] [N_FILES]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from trees import image_tree

BAR = 1.5

HEADER_LOOP = """
import os, sys
from PIL import Image
root = sys.argv[1]
n = 0
stack = [root]
while stack:
    top = stack.pop()
    for name in sorted(os.listdir(top)):
        p = os.path.join(top, name)
        if os.path.isdir(p):
            stack.append(p)
            continue
        with Image.open(p) as im:
            im.size
        n += 1
print(n)
"""


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def spread(name: str, ts: list[float]) -> str:
    return (
        f"{name:44s} min {min(ts):6.2f}  median {statistics.median(ts):6.2f}  max {max(ts):6.2f} s"
    )


def breakdown(root: str, env: dict[str, str]) -> None:
    """Where the time goes (in this process and fresh ones; informative, no bar)."""
    py = sys.executable
    t_pil = statistics.median(run([py, "-c", "import PIL.Image"], env)[0] for _ in range(3))
    t_cli = statistics.median(
        run([py, "-c", "import imbalance_studio.cli.scan, imbalance_studio.core.check_cache"], env)[
            0
        ]
        for _ in range(3)
    )
    print(f"  import PIL.Image process {t_pil * 1000:.0f} ms; scan's imports {t_cli * 1000:.0f} ms")
    from PIL import Image

    from imbalance_studio.core.processes import worker_pool
    from imbalance_studio.core.scanning import check_batch, check_file

    top = sorted(os.listdir(root))[0]
    files = [os.path.join(root, top, n) for n in sorted(os.listdir(os.path.join(root, top)))]

    def per_file(fn) -> float:
        t = time.perf_counter()
        for p in files:
            fn(p)
        return (time.perf_counter() - t) / len(files)

    def header(p: str) -> tuple[int, int]:
        with Image.open(p) as im:
            return im.size

    h = statistics.median(per_file(header) for _ in range(3))
    c = statistics.median(per_file(check_file) for _ in range(3))
    print(f"  per file, one process: header open {h * 1e6:.0f} us, check {c * 1e6:.0f} us")
    t = time.perf_counter()
    pool = worker_pool(2)
    list(pool.map(check_batch, [files[:1], files[1:2]]))  # each worker has imported the check
    print(f"  pool of 2 started and ready to check: {(time.perf_counter() - t) * 1000:.0f} ms")
    batches = [files[i : i + 128] for i in range(0, len(files), 128)]
    t = time.perf_counter()
    list(pool.map(check_batch, batches))
    wall = time.perf_counter() - t
    print(
        f"  {len(files)} files in batches of 128 through the pool: {wall / len(files) * 1e6:.0f} us"
        f" per file wall ({len(batches)} round trips)"
    )
    pool.shutdown()


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    n_files = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    root = str(image_tree("scan", n_files, 40, 96))
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        base_env = dict(os.environ, XDG_CACHE_HOME=f"{tmp}/cache-warm")
        scan_cmd = [py, "-m", "imbalance_studio", "scan", root, "--json"]
        _, out = run(scan_cmd, base_env)  # also fills the warm cache
        report = json.loads(out)
        assert report["total"] == n_files and not report["problems"], "unexpected scan result"
        base, cold, warm = [], [], []
        for i in range(rounds):
            base.append(run([py, "-c", HEADER_LOOP, root], base_env)[0])
            cold_env = dict(base_env, XDG_CACHE_HOME=f"{tmp}/cache-cold-{i}")
            cold.append(run(scan_cmd, cold_env)[0])
            warm.append(run(scan_cmd, base_env)[0])
        print(f"{n_files:,} small JPEGs in 40 class folders, {rounds} interleaved rounds:")
        print(spread("header-open loop, one process (baseline)", base))
        print(spread("scan --json, cold check cache (both cores)", cold))
        print(spread("scan --json, warm check cache", warm))
        ratios = [c / b for c, b in zip(cold, base, strict=True)]
        ratio = statistics.median(cold) / statistics.median(base)
        print(
            f"cold scan / baseline: {ratio:.2f}x (medians; per round {min(ratios):.2f}x .. "
            f"{max(ratios):.2f}x); warm: {statistics.median(warm) / statistics.median(base):.2f}x"
        )
        print("where the time goes:")
        breakdown(root, base_env)
    print(f"{'PASS' if ratio <= BAR else 'FAIL'} (bar {BAR}x)")
    return 0 if ratio <= BAR else 1


if __name__ == "__main__":
    sys.exit(main())
