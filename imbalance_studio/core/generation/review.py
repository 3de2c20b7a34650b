"""QA decisions on staged images: accept, and reject with "replace" or "reduce".

The project remembers rejected ids (`project.generation.rejected`), the record mirrors the
status. A rejected image is never used again; the next `iter_generate` makes its
replacement ("replace": a fresh seed for the same slot) or, with "reduce", nothing: the
class's target has been lowered by one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .records import RECORD_SUFFIX, GeneratedImage, image_from_record, read_record, set_status

REJECT_MODES = ("replace", "reduce")


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
    mode = mode or project.generation.on_reject
    if mode not in REJECT_MODES:
        raise ValueError(f"reject mode must be one of {REJECT_MODES}, not {mode!r}")
    found = find_image(staging_dir, image)
    updated = set_status(staging_dir, found, "rejected", mode)
    gen = project.generation
    if found.id not in gen.rejected:
        gen.rejected = [*gen.rejected, found.id]
    if mode == "reduce":
        target = project.targets.get(found.class_name)
        if target is not None and target.target:
            lowered = target.model_copy(update={"target": target.target - 1})
            project.targets = {**project.targets, found.class_name: lowered}
    return updated
