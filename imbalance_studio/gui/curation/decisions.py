"""QA decisions on generated images as undoable edits of the project (a part of the
curation controller): accept, reject, and reject-and-reduce, which lowers the class's target
in the same step. The image's record in the staging folder mirrors each decision; records
are written in a worker, one batch at a time, in the order of the decisions."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ...core.project import ProjectError
from .commands import DecideCommand, QaState
from .files import write_statuses

if TYPE_CHECKING:
    from ...core.generation import GeneratedImage


class QaDecisions:
    """Mixed into CurationController (which owns the undo stack, the project, `run_job`,
    the `decisionChanged` signal and the status queue)."""

    project: Any
    project_file: Any
    undo_stack: Any
    _status_queue: list
    _status_running: bool

    def decide(self, image: GeneratedImage, status: str, mode: str | None = None) -> bool:
        """Accept (`status` "accepted") or reject ("rejected", with `mode` "replace" or
        "reduce"; default the project's choice) a generated image, as one undoable step.
        A rejected image is taken back by Undo only. False when nothing changed."""
        if self.project is None or status not in ("accepted", "rejected"):
            return False
        if image.status == "rejected" or image.id in self.project.generation.rejected:
            return False
        if status == image.status:
            return False
        self.undo_stack.push(DecideCommand(self, image, status, mode))
        return True

    def _apply_decision(self, image: GeneratedImage, state: QaState) -> None:
        assert self.project is not None
        project, name = self.project, image.class_name
        gen = project.generation
        ids = [i for i in gen.rejected if i != image.id] + ([image.id] if state.listed else [])
        project.generation = gen.model_copy(update={"rejected": ids})
        if project.targets.get(name) != state.target:
            targets = {k: v for k, v in project.targets.items() if k != name}
            if state.target is not None:
                targets[name] = state.target
            project.targets = targets
        mode = state.mode if state.status == "rejected" else None
        self._write_status(image, state.status, mode)
        self.decisionChanged.emit(dataclasses.replace(image, status=state.status, reject_mode=mode))
        self._edited()

    def _write_status(self, image: GeneratedImage, status: str, mode: str | None) -> None:
        # An undo right after a reject is written after it: one batch at a time, in order.
        assert self.project is not None
        try:
            staging = self.project.staging_path(self.project_file)
        except ProjectError:
            return  # no usable staging folder: the panel says so, there is nothing to mirror
        self._status_queue.append((staging, image, status, mode))
        if not self._status_running:
            self._start_status_writes()

    def _start_status_writes(self) -> None:
        batch, self._status_queue = self._status_queue, []
        self._status_running = True  # before the job starts: its `then` may run at once
        self.run_job(
            write_statuses, batch, failed="Could not record a QA decision",
            then=self._status_writes_done,
        )  # fmt: skip

    def _status_writes_done(self) -> None:
        self._status_running = False
        if self._status_queue:
            self._start_status_writes()

    def _flush_statuses(self) -> None:
        """Write queued statuses now (the window is closing); a failure is only reported:
        it must not keep the project from being saved."""
        batch, self._status_queue = self._status_queue, []
        if batch:
            try:
                write_statuses(batch)
            except ProjectError as exc:
                self.status.emit(str(exc))
