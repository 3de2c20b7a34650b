"""The Generate panel: background generation with progress and Cancel, and the QA gallery.

Generation runs `core.generate.iter_generate` in a superqt GeneratorWorker (a thread that
feeds the process pool); thumbnails and full images are decoded off the GUI thread, and
status changes are written by workers too. Accepting and rejecting work by keyboard:
A or Space accepts, R or Delete rejects, and the selection moves on to the next image.
Every decision is an undoable edit of the curation controller (Undo takes a reject and the
target it lowered back in one step); the panel shows what the controller reports.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import create_worker

from ...core.generate import GeneratedImage, GenerateProgress
from .compare import CompareView
from .model import ClassFilter, GeneratedModel, ImageRole

TILE = 96
REJECT_CHOICES = (
    ("replace", "On reject: make a replacement"),
    ("reduce", "On reject: lower the class count"),
)


def _steps(gen):
    """The generator the worker drives (closing it closes `gen`)."""
    return (yield from gen)


class GenerationPanel(QWidget):
    generationFinished = Signal(object)  # the GenerateResult; None if cancelled or failed
    projectChanged = Signal()  # the reject mode changed (QA decisions go to the controller)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        thumbnails: Any = None,
        workers: int | None = None,
        controller: Any = None,
        own_shortcuts: bool = True,
    ) -> None:
        super().__init__(parent)
        self._own_shortcuts = own_shortcuts
        self.controller = controller  # the CurationController: QA decisions are its edits
        self.dataset: Any = None
        self.project: Any = None
        self.plan: Any = None
        self.project_file: Path | None = None
        self.staging: Path | None = None
        self.workers = workers or os.cpu_count() or 1
        self.last_result: Any = None
        self._thumbs = thumbnails
        self._own_thumbs = thumbnails is None
        self._worker: Any = None
        self._gen: Any = None
        self._side_workers: list = []
        self._pending: list[GeneratedImage] = []
        self._problems: list[str] = []
        self._again = False
        self._overrides: dict[str, str] = {}  # id -> status chosen, until its record says so
        self._load_token = 0
        self._t0 = 0.0
        self._made0 = 0
        self._build()
        if controller is not None:
            controller.decisionChanged.connect(self._decision_changed)

    # -- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("Make the planned new images of the minority classes")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m")
        self.progress.setValue(0)
        self.status = QLabel("Open a dataset and plan targets to generate images")
        self.status.setWordWrap(True)
        self.class_filter = QComboBox()
        self.class_filter.addItem("All classes", "")
        self.reject_mode = QComboBox()
        for key, label in REJECT_CHOICES:
            self.reject_mode.addItem(label, key)
        top = QHBoxLayout()
        top.addWidget(self.generate_button)
        top.addWidget(self.cancel_button)
        top.addWidget(self.progress, 1)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Show:"))
        filters.addWidget(self.class_filter)
        legend = QLabel(
            "<span style='background:#9fd5a9'>&nbsp;accepted&nbsp;</span> "
            "<span style='background:#eea3a2'>&nbsp;rejected (left out of the export)&nbsp;</span>"
            " · A accept, R reject"
        )
        legend.setToolTip(
            "Images you do not mark are exported too; rejecting one replaces it "
            "or lowers the class's target, as chosen on the right"
        )
        filters.addWidget(legend)
        filters.addStretch(1)
        filters.addWidget(self.reject_mode)

        self.model = GeneratedModel(None, self, tile=TILE)
        self.proxy = ClassFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = QListView()
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setUniformItemSizes(True)
        self.view.setIconSize(QSize(TILE, TILE))
        self.view.setGridSize(QSize(TILE + 16, TILE + 30))
        self.view.setSpacing(4)
        self.view.setModel(self.proxy)
        self.compare = CompareView(self)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(self.compare)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addLayout(filters)
        layout.addWidget(split, 1)

        self.generate_button.clicked.connect(self.generate)
        self.cancel_button.clicked.connect(self.cancel)
        self.class_filter.currentIndexChanged.connect(
            lambda _i: self.proxy.set_class(self.class_filter.currentData() or "")
        )
        self.reject_mode.currentIndexChanged.connect(self._reject_mode_changed)
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.compare.acceptRequested.connect(self.accept_image)
        self.compare.rejectRequested.connect(self.reject_image)
        if self._own_shortcuts:  # in the window, the window binds them (Edit menu)
            from ..actions import bind_actions
            from .review import review_actions

            changed = self.view.selectionModel().currentChanged
            bind_actions(self, review_actions(lambda: self, scope=self), signals=[changed])
        self._flush_timer = QTimer(self, interval=100)
        self._flush_timer.timeout.connect(self._flush)
        self._set_enabled()

    # -- public --------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._worker is not None

    def set_context(self, dataset: Any, project: Any, plan: Any, project_file: Any) -> None:
        """Show (and generate for) this dataset, project and plan.

        Called again for the same dataset and staging folder (after a replan, e.g. because
        of a rejection), the gallery is refreshed in place: the selection stays.
        """
        from ...core.project import ProjectError

        if self.busy:
            self.cancel()
        staging = None
        try:
            if project is not None:
                file = Path(project_file) if project_file else None
                staging = project.staging_path(file, dataset)
        except ProjectError as exc:
            self._say(str(exc), error=True)
        same = dataset is not None and dataset is self.dataset and staging == self.staging
        self.dataset, self.project, self.plan = dataset, project, plan
        self.project_file = Path(project_file) if project_file else None
        self.staging = staging
        if not same:
            self._overrides = {}
            self.compare.set_root(str(dataset.root) if dataset is not None else "")
            self.compare.show_image(None)
            self.model.set_images([])
        self.reject_mode.blockSignals(True)
        if project is not None:
            self.reject_mode.setCurrentIndex(
                [k for k, _ in REJECT_CHOICES].index(project.generation.on_reject)
            )
        self.reject_mode.blockSignals(False)
        self._fill_class_filter()
        self.progress.setRange(0, max(1, self.wanted()))  # not Qt's default 0 / 100
        self.progress.setValue(0)
        self._set_enabled()
        if self.staging is not None and plan is not None:
            if not same:
                self._say(f"{self.wanted()} new images planned; staging folder {self.staging}")
            self._load_token += 1
            token = self._load_token
            self._run_side(
                lambda found: self._gallery_loaded(found, token),
                _load_gallery,
                dataset,
                project,
                plan,
                self.staging,
            )

    def wanted(self) -> int:
        if self.plan is None:
            return 0
        return sum(len(cp.generate) for cp in self.plan.splits["train"])

    def generate(self) -> None:
        """Start generating in the background (no-op while running)."""
        from ...core.generate import iter_generate

        if self.busy:
            self._again = True
            return
        if self.staging is None or self.plan is None or not self.wanted():
            return
        self._problems = []
        self._t0 = time.monotonic()
        self._made0 = -1
        self.progress.setRange(0, self.wanted())
        self.progress.setValue(0)
        self._gen = iter_generate(
            self.dataset, self.project, self.plan, self.staging, workers=self.workers
        )
        from ..workers import ClosingGeneratorWorker

        # The worker closes the generator in its own thread: closing waits for the last
        # file write, which must not happen on the GUI thread.
        worker = ClosingGeneratorWorker(_steps, self._gen)
        worker.yielded.connect(self._progressed)
        worker.returned.connect(self._returned)
        worker.errored.connect(self._errored)
        worker.finished.connect(self._finished)
        self._worker = worker
        self._set_enabled()
        self._say("starting…")
        self._flush_timer.start()
        worker.start()

    def cancel(self) -> None:
        """Stop after the images in progress; finished images stay and are reused."""
        if self._worker is not None:
            self._again = False
            self._worker.quit()
            self._say("cancelling…")

    # -- worker callbacks ------------------------------------------------------------------
    def _progressed(self, event: GenerateProgress) -> None:
        self.progress.setMaximum(max(1, event.total))
        self.progress.setValue(event.done)
        if event.image is not None:
            self._pending.append(event.image)
        if event.problem:
            self._problems.append(event.problem)
        if self._made0 < 0:  # the first event: what was there already does not count
            self._made0, self._t0 = event.made, time.monotonic()
        made = event.made - self._made0
        elapsed = time.monotonic() - self._t0
        text = f"{event.done} of {event.total} ready ({event.reused} reused)"
        if made and elapsed > 0:
            rate = made / elapsed
            left = (event.total - event.done) / rate
            text += f" · {rate:.1f} images/s · {_clock(left)} left"
        if self._problems:
            text += f" · {len(self._problems)} problems"
        self._say(text)

    def _returned(self, result: Any) -> None:
        self._flush()
        self.last_result = result
        self.model.add_images(list(result))
        lines = [f"{len(result)} of {self.wanted()} images ready: made {result.made}, "
                 f"reused {result.reused}"]  # fmt: skip
        lines += result.problems
        self._say("\n".join(lines), error=bool(result.problems))
        self.generationFinished.emit(result)

    def _errored(self, exc: Exception) -> None:
        self._say(str(exc), error=True)
        self.generationFinished.emit(None)

    def _finished(self) -> None:
        worker, self._worker = self._worker, None
        self._gen = None  # closed by the worker, in its thread
        self._flush()
        self._flush_timer.stop()
        if worker is not None and worker.abort_requested:
            self._say(f"cancelled: {self.progress.value()} finished images are kept")
            self.generationFinished.emit(None)
        self._set_enabled()
        if self._again:
            self._again = False
            QTimer.singleShot(0, self.generate)

    def _flush(self) -> None:
        if self._pending:
            images, self._pending = self._pending, []
            self.model.add_images(images)

    def _gallery_loaded(self, found: tuple[list[GeneratedImage], int], token: int) -> None:
        if token != self._load_token:
            return  # a newer context was set meanwhile
        images, missing = found
        rejected = set(self.project.generation.rejected) if self.project is not None else set()
        # Decisions whose record is still being written show as the user made them.
        images = [
            dataclasses.replace(g, status="rejected")
            if g.id in rejected
            else dataclasses.replace(g, status=self._overrides.get(g.id, g.status))
            for g in images
        ]
        current = self.current_image()
        self.model.set_images(images)
        if current is not None and self.model.image(current.id) is not None:
            self._select(current.id)
        elif current is not None:
            self.compare.show_image(None)
        if not self.busy:
            self._say(
                f"{len(images) - len(rejected & {g.id for g in images})} of {self.wanted()} "
                f"images ready, {missing} to generate; staging folder {self.staging}"
            )

    def _select(self, image_id: str) -> None:
        row = self.model.row_of(image_id)
        if row is None:
            return
        index = self.proxy.mapFromSource(self.model.index(row))
        if index.isValid():
            self.view.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )

    # -- QA --------------------------------------------------------------------------------
    def current_image(self) -> GeneratedImage | None:
        index = self.view.currentIndex()
        return index.data(ImageRole) if index.isValid() else None

    def accept_image(self, image: GeneratedImage) -> None:
        if self._can_decide(image) and self.controller.decide(image, "accepted"):
            self._advance()

    def reject_image(self, image: GeneratedImage) -> None:
        """Reject, as one undoable step: remembered in the project at once; the replacement
        (mode "replace") is made in the background and appears in the gallery, or (mode
        "reduce") the class's target drops by one."""
        from ...core.generate import reduced_plan

        if not self._can_decide(image) or self.project is None:
            return
        mode = self.reject_mode.currentData()
        if not self.controller.decide(image, "rejected", mode):
            return
        if mode == "reduce" and self.plan is not None:
            # One task fewer for the class at once; the controller's replan follows.
            self.plan = reduced_plan(self.plan, image.class_name)
        self._advance()
        if mode == "replace":
            self.generate()  # the project already lists the image: its slot is made anew

    def _can_decide(self, image: GeneratedImage) -> bool:
        if self.staging is None or image.status == "rejected":
            return False  # a rejected image comes back by Undo
        if self.controller is None:
            self._say("Open the project in the main window to accept or reject", error=True)
            return False
        return True

    def _decision_changed(self, image: GeneratedImage) -> None:
        """A decision was made, undone or redone: show it until its record says so."""
        self._overrides[image.id] = image.status
        shown = self.model.image(image.id) or image
        self._show_status(
            dataclasses.replace(shown, status=image.status, reject_mode=image.reject_mode)
        )

    def accept_current(self) -> None:
        image = self.current_image()
        if image is not None and image.status != "rejected":
            self.accept_image(image)

    def reject_current(self) -> None:
        image = self.current_image()
        if image is not None and image.status != "rejected":
            self.reject_image(image)

    def _show_status(self, image: GeneratedImage) -> None:
        self.model.update_image(image)
        if self.compare.image is not None and self.compare.image.id == image.id:
            self.compare.show_image(image)

    def _advance(self) -> None:
        row = self.view.currentIndex().row()
        if 0 <= row < self.proxy.rowCount() - 1:
            self.view.selectionModel().setCurrentIndex(
                self.proxy.index(row + 1, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
            )

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.compare.show_image(current.data(ImageRole) if current.isValid() else None)

    def _reject_mode_changed(self, _index: int) -> None:
        if self.project is not None:
            self.project.generation.on_reject = self.reject_mode.currentData()
            self.projectChanged.emit()

    # -- helpers ---------------------------------------------------------------------------
    def _run_side(self, done: Any, fn: Any, *args: Any) -> None:
        """Run a small job (file reads/writes) in a worker thread; `done(result)` after."""
        worker = create_worker(fn, *args, _start_thread=False, _ignore_errors=True)
        from shiboken6 import isValid

        # The panel may be gone (window closed) when the job ends.
        if done is not None:
            worker.returned.connect(
                lambda r: None if not isValid(self) else (done(r) if r is not None else done())
            )
        worker.errored.connect(
            lambda exc: self._say(str(exc), error=True) if isValid(self) else None
        )
        worker.finished.connect(lambda: self._side_workers.remove(worker))
        self._side_workers.append(worker)
        worker.start()

    def _thumbnails(self) -> Any:
        if self._thumbs is None:
            from ..thumbnail_loader import ThumbnailLoader

            self._thumbs = ThumbnailLoader(self, workers=1)
        return self._thumbs

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.model.thumbnails is None:
            loader = self._thumbnails()
            self.model.thumbnails = loader
            loader.thumbnailsReady.connect(self.model.refresh_paths)

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop generation and the thumbnail pool (the window calls this on close)."""
        self.cancel()
        if self._own_thumbs and self._thumbs is not None:
            self._thumbs.shutdown()

    def _fill_class_filter(self) -> None:
        self.class_filter.blockSignals(True)
        self.class_filter.clear()
        self.class_filter.addItem("All classes", "")
        if self.plan is not None:
            for cp in self.plan.splits["train"]:
                if cp.generate:
                    name = self.plan.classes[cp.class_index]
                    self.class_filter.addItem(f"{name} ({len(cp.generate)})", name)
        self.class_filter.blockSignals(False)
        self.proxy.set_class("")

    def _set_enabled(self) -> None:
        ready = self.staging is not None and self.plan is not None and self.wanted() > 0
        self.generate_button.setEnabled(ready and not self.busy)
        self.cancel_button.setEnabled(self.busy)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c0392b;" if error else "")


def _clock(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    return f"{seconds // 60}:{seconds % 60:02d}"


def _load_gallery(dataset, project, plan, staging) -> tuple[list[GeneratedImage], int]:
    from ...core.generate import load_staging
    from ...core.generation import staged_for_plan

    images, missing = staged_for_plan(dataset, project, plan, staging)
    rejected = set(project.generation.rejected)
    classes = {g.class_name for g in images} | {
        plan.classes[cp.class_index] for cp in plan.splits["train"] if cp.generate
    }
    # Rejected images stay visible (tinted) so the user sees what was turned down.
    shown = [g for g in load_staging(staging) if g.id in rejected and g.class_name in classes]
    return images + shown, missing
