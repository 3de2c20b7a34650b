"""QA decisions on staged images: accept, and reject with "replace" or "reduce".

The project remembers rejected ids (`project.generation.rejected`), the record mirrors the
status. A rejected image is never used again; the next `iter_generate` makes its
replacement ("replace": a fresh seed for the same slot) or, with "reduce", nothing: the
class's target has been lowered by one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .diffusion import UNREVIEWED
from .records import RECORD_SUFFIX, GeneratedImage, image_from_record, read_record, set_status

REJECT_MODES = ("replace", "reduce")


def awaiting_review(images: Any, project: Any = None) -> list[GeneratedImage]:
    """The diffusion images among `images` no one has accepted or rejected yet."""
    rejected = set(project.generation.rejected) if project is not None else set()
    return [g for g in images if g.status == UNREVIEWED and g.id not in rejected]


def find_image(staging_dir: Path | str, image: GeneratedImage | str) -> GeneratedImage:
    """The staged image with this id (or the current state of this image)."""
    staging = Path(staging_dir)
    if isinstance(image, GeneratedImage):
        folders = [staging / image.class_name]
        image_id = image.id
    else:
        image_id = image
        folders = sorted(p for p in staging.iterdir() if p.is_dir()) if staging.is_dir() else []
    for folder in folders:
        rec = read_record(folder / f"{image_id}{RECORD_SUFFIX}", check_image=False)
        if rec is not None:
            return image_from_record(rec, folder)
    raise KeyError(f"no generated image {image_id} in {staging}")


def accept(staging_dir: Path | str, image: GeneratedImage | str) -> GeneratedImage:
    return set_status(staging_dir, find_image(staging_dir, image), "accepted")


def reject(
    staging_dir: Path | str,
    image: GeneratedImage | str,
    mode: str | None = None,
    *,
    project: Any,
) -> GeneratedImage:
    """Reject an image: remembered in `project` (save it afterwards) and in its record.

    `mode` ("replace" or "reduce"; default `project.generation.on_reject`): "replace" lets the
    next generation make a replacement with a fresh seed; "reduce" lowers the class's target
    by one instead.
    """
    found = find_image(staging_dir, image)
    mode = note_rejection(project, found, mode)
    return set_status(staging_dir, found, "rejected", mode)


def note_rejection(project: Any, image: GeneratedImage, mode: str | None = None) -> str:
    """The in-memory half of `reject` (no file is touched): remember the id in the project
    and with "reduce" lower the class's target. Returns the mode used."""
    mode, rejected, targets = rejection_changes(project, image, mode)
    project.generation.rejected = rejected
    project.targets = targets
    return mode


def rejection_changes(
    project: Any, image: GeneratedImage, mode: str | None = None
) -> tuple[str, list[str], dict[str, Any]]:
    """What rejecting `image` changes, without changing anything: the mode used, then the
    project's rejected ids and class targets afterwards (an undoable edit applies them).

    An image already rejected stays rejected once: rejecting it again with "reduce" does
    not lower its class's target a second time."""
    mode = mode or project.generation.on_reject
    if mode not in REJECT_MODES:
        raise ValueError(f"reject mode must be one of {REJECT_MODES}, not {mode!r}")
    rejected = list(project.generation.rejected)
    targets = dict(project.targets)
    if image.id in rejected:
        return mode, rejected, targets
    rejected.append(image.id)
    target = targets.get(image.class_name)
    if mode == "reduce" and target is not None and target.target:
        targets[image.class_name] = target.model_copy(update={"target": target.target - 1})
    return mode, rejected, targets


def reduced_plan(plan: Any, class_name: str) -> Any:
    """The plan after "reduce" lowered `class_name`'s target by one, without replanning: a
    class's generation tasks for a lower target are a prefix of those for a higher one
    (ordinal i always has the same source and seed), so the last task goes."""
    import dataclasses

    index = plan.classes.index(class_name)
    train = list(plan.splits["train"])
    cp = train[index]
    if not cp.generate:
        return plan
    train[index] = dataclasses.replace(cp, generate=cp.generate[:-1])
    return dataclasses.replace(plan, splits={**plan.splits, "train": tuple(train)})
