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

from collections import deque
from collections.abc import Generator, Iterable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..fileio import dataset_folder_of, where_in_dataset
from .badsources import KnownBad, read_bad_sources, record_bad_sources
from .diffusion import GENERATOR as DIFFUSION
from .diffusion import Cancelled
from .diffusion_thread import DiffusionThread, step_text
from .records import GeneratedImage, atomic_write, clean_temp_files, read_class_records
from .slots import ClassJob, Slot
from .work import Outcome, Staged, commit, make_batch, render, warm_up

# While waiting on a worker the generator yields a heartbeat this often, so a GUI can stop
# it (a superqt GeneratorWorker only checks for abort between yields).
HEARTBEAT_S = 0.2
# Images per job sent to a pool worker (fewer when little is left).
MAX_BATCH = 4


class GenerateError(Exception):
    """Generation cannot go on (staging unusable, disk full, a stack that fails); one line."""


@dataclass(frozen=True)
class GenerateProgress:
    phase: str  # "generating"
    done: int  # slots finished (made or reused)
    total: int
    message: str = ""
    image: GeneratedImage | None = None  # the image just finished, if any
    problem: str | None = None  # a source that failed, a class without sources
    made: int = 0
    reused: int = 0
    step: int = 0  # diffusion: denoising steps done of the image in progress
    steps: int = 0  # diffusion: its denoising steps in all (0: not a diffusion image)


class GenerateResult(list):
    """The images the plan uses (a list of `GeneratedImage`, class by class), plus what
    happened: counts, sources that failed to decode and problems to report."""

    def __init__(self, images: list[GeneratedImage] = ()) -> None:  # type: ignore[assignment]
        super().__init__(images)
        self.made = 0
        self.reused = 0
        self.bad_sources: dict[str, str] = {}
        self.problems: list[str] = []


# One pool kept for the life of the process: starting "spawn" workers (and importing
# albumentations in them) costs seconds, a second Generate should not pay it again.
_POOL: ProcessPoolExecutor | None = None
_POOL_WORKERS = 0


def shared_pool(workers: int) -> ProcessPoolExecutor:
    global _POOL, _POOL_WORKERS
    if _POOL is None or workers != _POOL_WORKERS:
        shutdown_pool()
        from ..processes import worker_pool

        _POOL = worker_pool(workers, initializer=warm_up)
        _POOL_WORKERS = workers
    return _POOL


def shutdown_pool() -> None:
    global _POOL, _POOL_WORKERS
    if _POOL is not None:
        _POOL.shutdown(wait=False, cancel_futures=True)
    _POOL, _POOL_WORKERS = None, 0


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


def _jobs(
    dataset: Any, project: Any, plan: Any, staging: Path, known: KnownBad, create: bool = True
) -> list[ClassJob]:
    from ..augment import default_preset_stack, stack_for_class

    rejected = set(project.generation.rejected)
    cutmix = set(project.generation.cutmix_classes)
    diffusion = _diffusion_specs(project, plan, need_extra=create)
    jobs = []
    for cp in plan.splits["train"]:
        if not cp.generate:
            continue
        name = plan.classes[cp.class_index]
        kept = tuple(cp.kept)
        kept_set = set(kept)
        for t in cp.generate:
            # Leakage guard: the plan must only ever hand us training originals.
            if plan.split_of(t.source) != "train" or t.source not in kept_set:
                raise GenerateError(
                    f"class {name}: the plan gives {t.source} as a source, which is not a "
                    "kept training image; re-plan"
                )
        folder = staging / name
        try:
            if create:
                folder.mkdir(exist_ok=True)
        except OSError as exc:
            raise GenerateError(f"{folder}: cannot create ({exc.strerror or exc})") from exc
        jobs.append(
            ClassJob(
                name=name,
                index=cp.class_index,
                tasks=tuple(cp.generate),
                kept=kept,
                stack=stack_for_class(project, name) or default_preset_stack(),
                cutmix=name in cutmix,
                root=str(dataset.root),
                staging=str(staging),
                rejected=rejected,
                records=read_class_records(folder),
                bad={p: known.bad[p] for p in kept if p in known.bad},
                recheck=frozenset(known.changed),
                diffusion=diffusion.get(name),
            )
        )
    return jobs


def _diffusion_specs(project: Any, plan: Any, need_extra: bool) -> dict[str, Any]:
    """class name -> DiffusionSpec for the classes whose method is diffusion; GenerateError
    (before any image) without the extra (`need_extra`), without a model or with an
    incomplete one."""
    from ..project import Method

    names = [plan.classes[cp.class_index] for cp in plan.splits["train"] if cp.generate]
    names = [
        n for n in names if getattr(project.targets.get(n), "method", None) == Method.DIFFUSION
    ]
    if not names:
        return {}
    from .diffusion import DiffusionError, missing_extra, spec_for

    hint = missing_extra() if need_extra else None
    if hint:
        raise GenerateError(hint)
    settings = project.generation.diffusion
    try:
        return {n: spec_for(settings, n) for n in names}
    except DiffusionError as exc:
        raise GenerateError(str(exc)) from None


def _slots(job: ClassJob, result: GenerateResult) -> list[Slot]:
    """The slots to fill for one class (see slots.py on "reduce")."""
    slots = [job.slot(i) for i in range(len(job.tasks))]
    if any(s is None for s in slots):
        return []  # no usable source at all: reported by the caller
    plain = [s for s in slots if s is not None and not s.reducible]
    reducible = [s for s in slots if s is not None and s.reducible]
    need = len(job.tasks)
    spares = job.spares({s.id for s in slots if s is not None})[: max(0, need - len(plain))]
    result.extend(spares)
    have = len(plain) + len(spares)
    fill = reducible[: max(0, need - have)]
    return sorted(plain + fill, key=lambda s: s.ordinal)


def staged_for_plan(
    dataset: Any, project: Any, plan: Any, staging_dir: Path | str
) -> tuple[list[GeneratedImage], int]:
    """The staged images the plan uses now and how many it still lacks; reads records
    only (nothing is made or written). What a gallery shows before Generate is pressed."""
    staging = Path(staging_dir).absolute()
    if not staging.is_dir():
        return [], sum(len(cp.generate) for cp in plan.splits["train"])
    result = GenerateResult()
    missing = 0
    known = read_bad_sources(staging, dataset.root)
    for job in _jobs(dataset, project, plan, staging, known, create=False):
        for slot in _slots(job, result):
            image = job.done(slot)
            if image is None:
                missing += 1
            else:
                result.append(image)
    result.sort(key=lambda g: (_class_order(plan, g.class_name), g.ordinal, g.id))
    return list(result), missing


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
    jobs = _jobs(dataset, project, plan, staging, known)
    _report_known(known, jobs, result)
    queue: deque[Slot] = deque()
    for job in jobs:
        slots = _slots(job, result)
        if not slots:
            result.problems.append(_no_source(job))
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
                total -= 1 + _drop_class(slot.job, queue, result)
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
                problem = _note_bad(slot.job, outcome, result)
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
    result.sort(key=lambda g: (_class_order(plan, g.class_name), g.ordinal, g.id))
    return result


def _class_order(plan: Any, name: str) -> int:
    try:
        return plan.classes.index(name)
    except ValueError:
        return len(plan.classes)


def _report_known(known: KnownBad, jobs: list[ClassJob], result: GenerateResult) -> None:
    """Sources found unusable by an earlier run are reported by this one too (their slots
    are reused, so nothing decodes them again): the export must leave them out as well."""
    found = dict(known.bad)
    for job in jobs:  # also those known only from a substitute's record (older staging)
        for p, r in job.bad.items():
            found.setdefault(p, r)
    if known.problem:
        result.problems.append(known.problem)
    for p, r in sorted(found.items()):
        result.bad_sources[p] = r
        result.problems.append(f"{p}: does not decode ({r}; found in an earlier run); left out")


def _note_bad(job: ClassJob, outcome: Outcome, result: GenerateResult) -> str | None:
    new = {p: r for p, r in outcome.bad.items() if p not in job.bad}
    if not new:
        return None
    try:  # remembered with the staging folder: a resumed run never decodes them again
        record_bad_sources(job.staging, job.root, new)
    except OSError as exc:
        raise GenerateError(
            f"cannot write to the staging folder {job.staging}: {exc.strerror or exc}"
        ) from exc
    job.bad.update(new)
    result.bad_sources.update(new)
    notes = [f"{p}: does not decode ({r}); skipped, its share goes to other sources"
             for p, r in new.items()]  # fmt: skip
    result.problems.extend(notes)
    return "; ".join(notes)


def _drop_class(job: ClassJob, queue: deque[Slot], result: GenerateResult) -> int:
    """Drop the queued slots of a class that has no usable source left; how many."""
    if not any(p.startswith(f"class {job.name}:") for p in result.problems):
        result.problems.append(_no_source(job))
    mine = [s for s in queue if s.job is job]
    for s in mine:
        queue.remove(s)
    return len(mine)


def _no_source(job: ClassJob) -> str:
    return (
        f"class {job.name}: none of its {len(job.kept)} training images decodes; "
        f"its {len(job.tasks)} new images cannot be made"
    )


def _error_text(outcome: Outcome, staging: Path) -> str:
    if outcome.disk_full:
        return (
            f"staging folder {staging}: disk full; the images finished so far are kept, "
            "free some space and generate again to finish"
        )
    return outcome.message
