"""The curation's files: autosave, save, open, adopt (`ProjectFiles`, a part of the curation
controller), and what they write, the project file and the QA status of staged images.

The writing half is Qt-free, so a worker thread or the closing window runs the very same
code. One save path (`SaveJob`) for Save, Save As and save-on-close: the project is written,
the staging folder of a project that had no file yet moves next to it, and the autosaves it
replaces are removed. QA statuses are written by `write_statuses`; a lock keeps the two
apart, and a record whose folder a save just moved is written in the folder's new place.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...core.autosave import discard_autosave, write_autosave
from ...core.dataset import Dataset
from ...core.project import Project, ProjectError
from ...core.reconcile import snapshot_of

if TYPE_CHECKING:
    from ...core.generation import GeneratedImage


def snapshot(project: Project) -> Project:
    """A copy a worker may read while the GUI keeps editing: marks and targets are replaced,
    never mutated, so a shallow copy shares them safely; the small settings objects that
    panels do mutate in place are copied."""
    return project.model_copy(
        update={
            "generation": project.generation.model_copy(deep=True),
            "augment": project.augment.model_copy(deep=True),
            "split": project.split.model_copy(),
        }
    )


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


class ProjectFiles:
    """Mixed into CurationController (which owns the project, the undo stack, `run_job`,
    the autosave timer and flags, `snapshot` and the `status`/`projectChanged` signals).
    Autosaves are debounced and written one at a time in edit order; saves and opens run as
    jobs; `save_now` and `keep_autosave` write on the calling thread, for a closing window."""

    project: Any
    project_file: Any
    dataset: Any
    undo_stack: Any
    _edits: int

    def _autosave(self) -> None:
        # Debounced, and one write at a time in edit order: parallel writes could land an
        # older snapshot over a newer one.
        if self.project is not None and not self._autosave_off:
            self._autosave_timer.start()

    def _write_autosave(self) -> None:
        if self.project is None or self._autosave_off:
            return
        if self._autosave_running:
            self._autosave_again = True
            return
        self._autosave_running = True
        self.run_job(
            write_autosave,
            snapshot(self.project),
            self.project_file,
            failed="Autosave failed",
            quiet=True,
            then=self._autosave_done,
        )

    def _autosave_done(self) -> None:
        self._autosave_running = False
        if self._autosave_again:
            self._autosave_again = False
            self._write_autosave()

    def stop_autosave(self, timeout_ms: int = 3000) -> None:
        """No more autosaves (the window is closing): waits for one being written."""
        from PySide6.QtCore import QThreadPool

        self._autosave_off = True
        self._autosave_timer.stop()
        if self._autosave_running:
            QThreadPool.globalInstance().waitForDone(timeout_ms)

    def keep_autosave(self) -> None:
        """The window closes without asking (terminated by a signal): no more autosaves,
        and the newest unsaved state is on disk as the autosave before this returns."""
        self.stop_autosave()  # waits for one being written
        if self.project is not None and self.dirty:
            # On the GUI thread on purpose: the process is about to exit, a worker might not
            # run. A failed write leaves the previous autosave in place.
            with contextlib.suppress(OSError):
                write_autosave(snapshot(self.project), self.project_file)

    def save(self, path: Path | None = None) -> bool:
        """Save to `path` (or the current file) in a worker; False when there is no file to
        save to. Save, Save As and save-on-close (`save_now`) share one `SaveJob`."""
        job = self._save_job(path)
        if job is None:
            return False
        self.run_job(job.run, done=lambda file: self._saved(job, file), failed="Could not save")
        return True

    def save_now(self, path: Path | None = None) -> Path:
        """The same save, synchronously: for the closing window, where a worker might not
        finish before the process ends. Raises ProjectError or OSError."""
        job = self._save_job(path)
        if job is None:
            raise ProjectError("nothing to save: no project, or no file chosen")
        self._flush_statuses()
        file = job.run()
        self._saved(job, file)
        return file

    def _save_job(self, path: Path | None) -> SaveJob | None:
        if self.project is None:
            return None
        target = Path(path) if path is not None else self.project_file
        if target is None:
            return None
        return SaveJob(snapshot(self.project), self.dataset, self.project_file, target, self._edits)

    def _saved(self, job: SaveJob, file: Path) -> None:
        self.project_file = file
        if self.project is not None:
            self.project.snapshot = job.project.snapshot
        if self._edits == job.edits_at_start:
            self._unsaved_outside_undo = False
            self.undo_stack.setClean()
        else:  # edited while saving: still unsaved, and its autosave was just removed
            self._autosave()
        self.status.emit(f"Saved {file}")
        self.projectChanged.emit()

    def open_project(self, path: Path, on_loaded) -> None:
        """Load a project file in a worker; `on_loaded(project)` then opens its folder.
        A broken file leaves the current state as it was."""

        def loaded(project: Project) -> None:
            self.adopt_project(project, Path(path))
            on_loaded(project)

        self.run_job(Project.load, path, done=loaded, failed=f"Could not open {path}")

    @property
    def pending_project(self) -> tuple[Project, Path | None] | None:
        """The project (and its file) waiting for its folder's scan to finish, if any."""
        return self._pending_project

    def adopt_project(self, project: Project, project_file: Path | None) -> None:
        """Use `project` as soon as its dataset folder has been scanned."""
        self._pending_project = (project, project_file)
        if (
            self.dataset is not None
            and self.dataset.root.absolute() == Path(project.dataset_root).absolute()
        ):
            self.set_dataset(self.dataset)
