"""`iter_generate`: make every image the plan asks for, as a cancellable progress generator.

With `workers > 1` the items go to a process pool ("spawn": never fork a process that may
run Qt threads) where each worker decodes, augments, encodes and writes by itself; only
paths, seeds and stack dicts travel. Results come back in submission order with a bounded
number in flight, so closing the generator stops within about one item's time and every
finished file stays (and is reused by the next run).

Diffusion items (see `diffusion.py`) run in one thread of this process instead, whatever
the pool: one model in memory, on the GPU when there is one. Each denoising step is a
progress event, and closing the generator stops the image in progress within one step
(that image is thrown away; finished ones stay).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Generator, Iterable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from ..fileio import dataset_folder_of, where_in_dataset
from .badsources import read_bad_sources
from .class_jobs import (
    class_jobs,
    class_order,
    drop_class,
    no_source,
    note_bad,
    report_known,
    slots_to_fill,
)
from .diffusion import GENERATOR as DIFFUSION
from .diffusion import Cancelled
from .diffusion_thread import DiffusionThread, step_text
from .records import GeneratedImage, atomic_write, clean_temp_files
from .results import GenerateError, GenerateProgress, GenerateResult
from .slots import Slot
from .work import Outcome, Staged, commit, make_batch, render, warm_up

# While waiting on a worker the generator yields a heartbeat this often, so a GUI can stop
# it (a superqt GeneratorWorker only checks for abort between yields).
HEARTBEAT_S = 0.2
# Images per job sent to a pool worker (fewer when little is left).
MAX_BATCH = 4


# One pool kept for the life of the process: starting "spawn" workers (and importing
# albumentations in them) costs seconds, a second Generate should not pay it again.
_POOL: ProcessPoolExecutor | None = None
_POOL_WORKERS = 0
_LETTING_GO: list[threading.Thread] = []  # pools shutting down (see shutdown_pool)


def shared_pool(workers: int) -> ProcessPoolExecutor:
    global _POOL, _POOL_WORKERS
    if _POOL is None or workers != _POOL_WORKERS:
        shutdown_pool()
        from ..processes import worker_pool

        _POOL = worker_pool(workers, initializer=warm_up)
        _POOL_WORKERS = workers
    return _POOL


def shutdown_pool(wait: bool = False) -> None:
    """Cancel the shared pool's queued batches and let it go; the running ones finish.

    Without `wait` (the window: its GUI thread must not block) a thread of its own waits
    for them, and `join_pool` joins that thread before the process exits. An exit while a
    pool is still shutting down races its clean-up on Python 3.11:
    `concurrent.futures.process._python_exit` writes to a wake-up pipe the pool's manager
    thread is closing, and prints an 'OSError: Bad file descriptor' traceback. `wait=True`
    (the CLI on Ctrl+C) waits here; the exit would have waited for those batches anyway."""
    global _POOL, _POOL_WORKERS
    pool, _POOL, _POOL_WORKERS = _POOL, None, 0
    if pool is not None and wait:
        pool.shutdown(wait=True, cancel_futures=True)
    elif pool is not None:
        closer = threading.Thread(
            target=pool.shutdown,
            kwargs={"wait": True, "cancel_futures": True},
            name="generation-pool-shutdown",
        )
        closer.start()
        _LETTING_GO.append(closer)
    if wait:
        join_pool()


def join_pool() -> None:
    """Wait for every pool `shutdown_pool` let go without waiting (before a process exits)."""
    while _LETTING_GO:
        _LETTING_GO.pop().join()


def check_staging(
    staging_dir: Path | str, dataset_root: Path | str, real_dirs: Iterable[str] = ()
) -> Path:
    """Create the staging folder and prove it writable; GenerateError with a clear reason.

    Never inside the dataset: its root or any real folder it reads (`real_dirs`, a scanned
    `Dataset.real_dirs`; without them the class folders' links are resolved here)."""
    staging = Path(staging_dir).absolute()
    folder = dataset_folder_of(staging, dataset_root, real_dirs)
    if folder is not None:
        raise GenerateError(
            f"staging folder {staging} is {where_in_dataset(folder, dataset_root)}, which is "
            "read-only to Imbalance Studio; choose a staging folder elsewhere"
        )
    try:
        staging.mkdir(parents=True, exist_ok=True)
        probe = staging / ".write-probe"
        atomic_write(probe, lambda f: f.write(b"ok"))
        probe.unlink()
    except OSError as exc:
        raise GenerateError(
            f"staging folder {staging} is not writable ({exc.strerror or exc})"
        ) from exc
    return staging


def iter_generate(
    dataset: Any,
    project: Any,
    plan: Any,
    staging_dir: Path | str,
    workers: int = 1,
    *,
    executor: Executor | None = None,
) -> Generator[GenerateProgress, None, GenerateResult]:
    """Make (or reuse) every image the plan's training split asks for; yields progress,
    returns the images the plan uses. Resumable: finished images are never made twice.

    Raises GenerateError when the staging folder is unusable, the disk fills up or a stack
    fails; what is finished stays valid. Sources that fail to decode are skipped (reported
    in the progress and the result) and their slots are filled from the class's other
    training images.
    """
    staging = check_staging(staging_dir, dataset.root, getattr(dataset, "real_dirs", ()))
    clean_temp_files(staging)
    result = GenerateResult()
    known = read_bad_sources(staging, dataset.root)
    jobs = class_jobs(dataset, project, plan, staging, known)
    report_known(known, jobs, result)
    queue: deque[Slot] = deque()
    for job in jobs:
        slots = slots_to_fill(job, result)
        if not slots:
            result.problems.append(no_source(job))
        queue.extend(slots)
    total = len(queue) + len(result)
    done = len(result)
    finished: dict[str, GeneratedImage] = {}

    def progress(
        message: str,
        image: GeneratedImage | None = None,
        problem: str | None = None,
        step: tuple[int, int] = (0, 0),
    ):
        return GenerateProgress(
            "generating", done, total, message, image, problem, result.made, result.reused,
            *step,
        )  # fmt: skip

    yield progress(f"{total} images to generate for {len(jobs)} classes")
    batched = executor is not None or workers > 1
    pool: Executor | None = None  # started for the first augment/CutMix batch only
    diffusing = DiffusionThread(HEARTBEAT_S)
    # Each entry: the slots of one batch and their outcomes (a future, or already known).
    inflight: deque[tuple[list[Slot], Future | list[Outcome]]] = deque()
    # In-process, the fsync + rename of image k overlaps the making of image k + 1.
    committer: ThreadPoolExecutor | None = None
    limit = 2 * max(1, workers)

    def next_slot() -> Slot | None:
        """The next slot that needs making; reused and impossible ones are counted here."""
        nonlocal done, total
        while queue:
            slot = queue.popleft()
            current = slot.job.slot(slot.ordinal)  # a source may have failed since
            if current is None:
                total -= 1 + drop_class(slot.job, queue, result)
                continue
            reuse = slot.job.done(current)
            if reuse is not None and reuse.status != "rejected":
                finished[current.id] = reuse
                result.reused += 1
                done += 1
                continue
            return current
        return None

    try:
        while queue or inflight:
            while queue and len(inflight) < limit:
                if queue[0].generator == DIFFUSION:
                    slot = next_slot()
                    if slot is not None and slot.generator == DIFFUSION:
                        inflight.append(([slot], diffusing.submit(slot.item())))
                    elif slot is not None:
                        queue.appendleft(slot)  # re-resolved to another generator
                    continue
                if not batched:
                    slot = next_slot()
                    if slot is None:
                        break
                    if slot.generator == DIFFUSION:  # reached past reused images
                        inflight.append(([slot], diffusing.submit(slot.item())))
                        continue
                    staged = render(slot.item())
                    if isinstance(staged, Staged):
                        if committer is None:
                            committer = ThreadPoolExecutor(1, thread_name_prefix="generate-commit")
                        inflight.append(([slot], committer.submit(commit, staged)))
                    else:
                        inflight.append(([slot], [staged]))
                    continue
                # Small batches let a worker overlap one image's fsync with the next one's
                # work, and keep enough batches to share out between the workers.
                size = max(1, min(MAX_BATCH, len(queue) // limit))
                batch: list[Slot] = []
                while len(batch) < size and queue and queue[0].generator != DIFFUSION:
                    slot = next_slot()
                    if slot is None:
                        break
                    if slot.generator == DIFFUSION:  # never to a pool worker (see above)
                        queue.appendleft(slot)
                        break
                    batch.append(slot)
                if batch:
                    pool = pool or executor or shared_pool(workers)
                    inflight.append((batch, pool.submit(make_batch, [s.item() for s in batch])))
            if not inflight:
                continue
            slots, pending = inflight[0]
            if isinstance(pending, Future) and diffusing.owns(pending):
                label = f"{slots[0].job.name}: image {done + 1} of {total}"
                for step in diffusing.steps_of(pending):
                    yield progress(step_text(label, step), step=step)
            if isinstance(pending, Future):
                while not wait_futures([pending], timeout=HEARTBEAT_S).done:
                    yield progress("working")
                try:
                    outcomes = pending.result()
                except Cancelled:  # only while closing: nothing of it was written
                    raise GenerateError("diffusion was cancelled") from None
                except BrokenProcessPool as exc:
                    shutdown_pool()
                    raise GenerateError(f"a generation worker died ({exc})") from exc
                except Exception as exc:  # a cluster's task that failed for good
                    if executor is None or diffusing.owns(pending):
                        raise
                    raise GenerateError(
                        f"a generation task failed on the cluster ({exc}); the finished "
                        "images are kept, run again to finish"
                    ) from exc
            else:
                outcomes = pending
            inflight.popleft()
            if not isinstance(outcomes, list):
                outcomes = [outcomes]
            for slot, outcome in zip(slots, outcomes, strict=True):
                problem = note_bad(slot.job, outcome, result)
                if outcome.kind == "done":
                    assert outcome.image is not None
                    finished[outcome.image.id] = outcome.image
                    result.made += 1
                    done += 1
                    yield progress(f"{slot.job.name}: {outcome.image.id}", outcome.image, problem)
                elif outcome.kind in ("bad_source", "no_donor"):
                    queue.appendleft(slot)  # it re-resolves to another source or generator
                    yield progress(f"{slot.job.name}: skipped a source", None, problem)
                else:
                    raise GenerateError(_error_text(outcome, staging))
    finally:
        diffusing.stop()  # the image in progress stops within one step and is thrown away
        for _batch, pending in inflight:
            # Running items finish and stay valid (a diffusion image is dropped at its next
            # step); queued ones never start. In-process commits are left to finish.
            if isinstance(pending, Future) and (batched or diffusing.owns(pending)):
                pending.cancel()
        diffusing.join()
        if committer is not None:
            committer.shutdown(wait=True)  # rendered images are committed: nothing left open
    by_slot = sorted(finished.values(), key=lambda g: (g.class_name, g.ordinal))
    result[:0] = by_slot
    result.sort(key=lambda g: (class_order(plan, g.class_name), g.ordinal, g.id))
    return result


def _error_text(outcome: Outcome, staging: Path) -> str:
    if outcome.disk_full:
        return (
            f"staging folder {staging}: disk full; the images finished so far are kept, "
            "free some space and generate again to finish"
        )
    return outcome.message
