"""Generation on a Dask cluster vs the local process pool: the overhead of the cluster path.

Same dataset, stack and image size as bench_generate.py (the six-transform stack at 512 px,
each image decoded from its source, augmented, written as PNG with fsync + rename + record).
App paths, both warmed before timing (start-up is printed apart):
- local: `iter_generate(workers=2)`, the 2-process pool the app keeps;
- cluster: `iter_generate(executor=ClusterExecutor)` on a `distributed.LocalCluster` of 2 worker
  processes of 1 thread each on the loopback address (the path `--dask local:2` takes).
Runs are interleaved, a new seed each round (every run makes new images), and the ratio is
the median of the per-round ratios. Bar (issue 13): cluster >= 0.8x the local pool.

Then the figures for the README's paper estimate: the per-image cost c of one worker
process (from the local pool's rate) and the per-task overhead o of the scheduler round trip (many empty tasks through the
same executor), and the estimate throughput(W) = min(W / c, B / o) for B images per task.
Run: .venv/bin/python benchmarks/bench_dask.py [IMAGES] [ROUNDS]
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import wait
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

from bench_generate import SIZE, app, make_project

from imbalance_studio.core.executors import ClusterExecutor
from imbalance_studio.core.generation import iter_generate, shutdown_pool
from imbalance_studio.core.generation.run import MAX_BATCH
from imbalance_studio.core.generation.work import warm_up
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.scanning import drive

BAR = 0.8


def on_cluster(dataset, project, plan, out: Path, executor: ClusterExecutor) -> float:
    t0 = time.perf_counter()
    gen = iter_generate(dataset, project, plan, out, executor.workers, executor=executor)
    result = drive(gen)
    assert result.made == len(result), "timed runs must make every image"
    return len(result) / (time.perf_counter() - t0)


def _nothing(x: int) -> int:
    return x


def task_overhead(executor: ClusterExecutor, n: int = 400) -> float:
    """Seconds per empty task: submit, schedule, run, return, as generation submits them."""
    t0 = time.perf_counter()
    wait([executor.submit(_nothing, i) for i in range(n)])
    return (time.perf_counter() - t0) / n


def main() -> int:
    import distributed

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    tmp = Path(tempfile.mkdtemp(prefix="bench-dask-"))
    try:
        root = tmp / "data"
        dataset, project = make_project(root, n)
        t0 = time.perf_counter()
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, silence_logs=logging.CRITICAL,
        )  # fmt: skip
        client = distributed.Client(cluster)
        executor = ClusterExecutor(client, prepare=warm_up)
        client.run(warm_up)
        print(f"cluster start-up (2 workers, imports warmed): {time.perf_counter() - t0:.1f} s")
        plan = make_plan(dataset, project)
        cold_local = app(dataset, project, plan, tmp / "cold-local", 2)
        cold_cluster = on_cluster(dataset, project, plan, tmp / "cold-cluster", executor)
        print(f"warm-up runs: local pool {cold_local:.1f}, cluster {cold_cluster:.1f} images/s")
        rates: dict[str, list[float]] = {"local": [], "cluster": []}
        for r in range(rounds):
            project.seed = r + 1
            plan = make_plan(dataset, project)
            rates["local"].append(app(dataset, project, plan, tmp / f"local{r}", 2))
            rates["cluster"].append(on_cluster(dataset, project, plan, tmp / f"dask{r}", executor))
        overhead = statistics.median(task_overhead(executor) for _ in range(3))
        client.close()
        cluster.close()

        print(f"{n} images of {SIZE}x{SIZE}, six-transform stack, {rounds} interleaved rounds "
              "(images/s):")  # fmt: skip
        for key, label in (("local", "local 2-process pool (baseline)"),
                           ("cluster", "LocalCluster, 2 worker processes")):  # fmt: skip
            runs = ", ".join(f"{x:.1f}" for x in rates[key])
            print(f"  {label:34s} median {statistics.median(rates[key]):5.1f}   rounds: {runs}")
        ratio = statistics.median(
            c / b for c, b in zip(rates["cluster"], rates["local"], strict=True)
        )
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"load average at the end (1, 5, 15 min): {load}")
        ok = ratio >= BAR
        print(f"cluster vs local pool: {ratio:.2f}x (bar >= {BAR}x) {'PASS' if ok else 'FAIL'}")

        # Per worker: the local pool's 2 processes share out the images (each is one core).
        cost = 2 / statistics.median(rates["local"])
        print(f"per-image cost c (one worker process, from the local pool): {cost * 1000:.1f} ms")
        print(f"per-task overhead o (scheduler round trip, empty task): {overhead * 1000:.2f} ms")
        print(f"paper estimate, B = {MAX_BATCH} images per task: throughput(W) = "
              "min(W / c, B / o) images/s")  # fmt: skip
        for w in (1, 2, 8, 32, 128, 512, 2048):
            est = min(w / cost, MAX_BATCH / overhead)
            bound = "workers" if w / cost < MAX_BATCH / overhead else "scheduler"
            print(f"  W = {w:5d}: {est:9.0f} images/s ({bound}-bound)")
        return 0 if ok else 1
    finally:
        shutdown_pool()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
