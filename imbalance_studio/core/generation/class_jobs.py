"""A generation run's bookkeeping, class by class: the `ClassJob`s the plan asks for, the
slots each must fill, and what a run notes on the way (sources that do not decode, classes
left without a source). `run.iter_generate` is the loop that fills the slots;
`staged_for_plan` reads what is already staged without making anything.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

from .badsources import KnownBad, read_bad_sources, record_bad_sources
from .records import GeneratedImage, read_class_records
from .results import GenerateError, GenerateResult
from .slots import ClassJob, Slot
from .work import Outcome


def class_jobs(
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


def slots_to_fill(job: ClassJob, result: GenerateResult) -> list[Slot]:
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
    for job in class_jobs(dataset, project, plan, staging, known, create=False):
        for slot in slots_to_fill(job, result):
            image = job.done(slot)
            if image is None:
                missing += 1
            else:
                result.append(image)
    result.sort(key=lambda g: (class_order(plan, g.class_name), g.ordinal, g.id))
    return list(result), missing


def class_order(plan: Any, name: str) -> int:
    try:
        return plan.classes.index(name)
    except ValueError:
        return len(plan.classes)


def report_known(known: KnownBad, jobs: list[ClassJob], result: GenerateResult) -> None:
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


def note_bad(job: ClassJob, outcome: Outcome, result: GenerateResult) -> str | None:
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


def drop_class(job: ClassJob, queue: deque[Slot], result: GenerateResult) -> int:
    """Drop the queued slots of a class that has no usable source left; how many."""
    if not any(p.startswith(f"class {job.name}:") for p in result.problems):
        result.problems.append(no_source(job))
    mine = [s for s in queue if s.job is job]
    for s in mine:
        queue.remove(s)
    return len(mine)


def no_source(job: ClassJob) -> str:
    return (
        f"class {job.name}: none of its {len(job.kept)} training images decodes; "
        f"its {len(job.tasks)} new images cannot be made"
    )
