"""What the curation writes besides autosaves: the project file and the QA status of staged
images. Qt-free, so a worker thread or the closing window runs the very same code.

One save path (`SaveJob`) for Save, Save As and save-on-close: the project is written, the
staging folder of a project that had no file yet moves next to it, and the autosaves it
replaces are removed. QA statuses are written by `write_statuses`; a lock keeps the two
apart, and a record whose folder a save just moved is written in the folder's new place.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...core.autosave import discard_autosave
from ...core.dataset import Dataset
from ...core.project import Project, ProjectError
from ...core.reconcile import snapshot_of

if TYPE_CHECKING:
    from ...core.generation import GeneratedImage

# Held while a staging folder moves and while statuses are written: a record write never
# lands in a folder that is being moved.
_STAGING_LOCK = threading.Lock()
_MOVED: dict[Path, Path] = {}  # staging folders moved by a save: old place -> new place


def adopt_staging(project: Project, old_file: Path | None, new_file: Path) -> None:
    """Generated images made before a project had a file live in the user cache; the first
    save moves them next to the project file, where its staging folder now is."""
    if project.staging_dir or old_file is not None:
        return
    try:
        old, new = project.staging_path(None), project.staging_path(new_file)
    except ProjectError:
        return
    with _STAGING_LOCK:
        if old.is_dir() and not new.exists():
            # On failure the images can be made again; the project itself is saved.
            with contextlib.suppress(OSError):
                shutil.move(str(old), str(new))
                _MOVED[old] = new


def _current(staging: Path) -> Path:
    seen = set()
    while staging in _MOVED and staging not in seen:
        seen.add(staging)
        staging = _MOVED[staging]
    return staging


# staging folder, image, status, reject mode
StatusWrite = tuple[Path, "GeneratedImage", str, str | None]


def write_statuses(writes: list[StatusWrite]) -> None:
    """Write each image's QA status into its record, in order; one ProjectError naming what
    failed is raised after the others are written."""
    from ...core.generation import set_status  # not at start-up: it brings numpy and PIL

    failed: list[str] = []
    with _STAGING_LOCK:
        for staging, image, status, mode in writes:
            try:
                set_status(_current(staging), image, status, mode)
            except (OSError, ValueError) as exc:
                failed.append(f"{image.id} ({getattr(exc, 'strerror', None) or exc})")
    if failed:
        raise ProjectError(
            f"could not write the QA status of {len(failed)} generated image(s) to the staging "
            f"folder: {', '.join(failed[:3])}{' …' if len(failed) > 3 else ''}"
        )


@dataclass
class SaveJob:
    """One save: `run()` writes (in a worker, or synchronously while the window closes)."""

    project: Project  # a snapshot: the GUI may keep editing meanwhile
    dataset: Dataset | None
    old_file: Path | None
    target: Path
    edits_at_start: int

    def run(self) -> Path:
        project, target = self.project, self.target
        if self.dataset is not None:
            project.snapshot = snapshot_of(self.dataset)
        project.save(target, self.dataset)
        adopt_staging(project, self.old_file, target)
        # The project is saved: an autosave left behind only means an offer to recover it.
        with contextlib.suppress(OSError):
            discard_autosave(self.old_file, project.dataset_root)
            if self.old_file != target:
                discard_autosave(target, project.dataset_root)
        return target
