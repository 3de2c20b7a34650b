"""The Generate panel: background generation with progress and Cancel, and the QA gallery.

Generation runs `core.generation.iter_generate` as one job of the window's job runner (a thread
that feeds the process pool, closed in its own thread on Cancel); thumbnails and full images
are decoded off the GUI thread. The QA review (accept, reject, the gallery's contents) is in
`review.py`, the gallery's widgets and filters in `qa_gallery.py`. Export asks this panel for
the images it lacks (`generate()`), so one generation job, with its progress bar and Cancel,
ever runs in the staging folder.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core.generation import GeneratedImage, GenerateProgress
from ...core.text import made_text
from ..jobs import Job, start_job
from ..views.progress_bar import ProgressBar
from .qa_gallery import QAGallery
from .review import REJECT_CHOICES, QAReview


class GenerationPanel(QAReview, QAGallery, QWidget):
    generationFinished = Signal(object)  # the GenerateResult; None if cancelled or failed
    busyChanged = Signal(bool)  # a generation started (True) or ended (False)
    projectChanged = Signal()  # the reject mode changed (QA decisions go to the controller)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        thumbnails: Any = None,
        workers: int | None = None,
        controller: Any = None,
        own_shortcuts: bool = True,
        on_generate: Callable[[], object] | None = None,
        on_cancel: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(parent)
        self._own_shortcuts = own_shortcuts
        # What the Generate and Cancel buttons ask for: in the window, the workbench's (which
        # first waits for the plan to settle, and can call that wait off); alone, this panel's.
        self._on_generate = on_generate
        self._on_cancel = on_cancel
        self._waiting = ""  # what a generation asked for waits for (see `set_waiting`)
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
        self._job: Job | None = None
        self._pending: list[GeneratedImage] = []
        self._outcome: Any = None  # the result of the job that is ending (see _finished)
        self._problems: list[str] = []
        self._again = False
        self._overrides: dict[str, str] = {}  # id -> status chosen, until its record says so
        self._cancelled = False  # the last run was cancelled: said until the next one starts
        self._t0 = 0.0
        self._made0 = 0
        self._build()

    # -- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("Make the planned new images of the minority classes")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = ProgressBar()
        self.progress.setFormat("%v / %m")
        self.progress.setValue(0)
        self.status = QLabel("Open a dataset and plan targets to generate images")
        self.status.setWordWrap(True)
        filters, split = self._build_gallery()
        top = QHBoxLayout()
        top.addWidget(self.generate_button)
        top.addWidget(self.cancel_button)
        top.addWidget(self.progress, 1)
        from .diffusion_settings import DiffusionSettingsBox

        self.diffusion = DiffusionSettingsBox(self)
        self.diffusion.setVisible(False)  # while a class's method is diffusion
        self.diffusion.changed.connect(self._diffusion_changed)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.diffusion)
        layout.addWidget(self.status)
        layout.addLayout(filters)
        layout.addWidget(split, 1)

        self.generate_button.clicked.connect(lambda: (self._on_generate or self.generate)())
        self.cancel_button.clicked.connect(lambda: (self._on_cancel or self.cancel)())
        self._install_review()
        self._flush_timer = QTimer(self, interval=100)
        self._flush_timer.timeout.connect(self._flush)
        self._set_enabled()

    # -- public --------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._job is not None

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
        self.model.class_rank = {name: i for i, name in enumerate(plan.classes)} if plan else {}
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
        if not same:
            self._cancelled = False
            self._show_ready(0, self.wanted(), say=False)  # the gallery load fills it in
        self.diffusion.set_project(project)
        self.diffusion.setVisible(self._uses_diffusion())
        self._set_enabled()
        if self.staging is not None and plan is not None:
            if not same:
                self._say(f"{self.wanted()} new images planned; staging folder {self.staging}")
            self._load_gallery()

    def wanted(self) -> int:
        if self.plan is None:
            return 0
        return sum(len(cp.generate) for cp in self.plan.splits["train"])

    def generate(self) -> bool:
        """Start generating in the background; True when a generation runs (it was started,
        or one already runs and will run again after), False when there is nothing to make."""
        from ...core.generation import iter_generate

        if self.busy:
            self._again = True
            return True
        if self.staging is None or self.plan is None or not self.wanted():
            return False
        self._problems = []
        self._t0 = time.monotonic()
        self._made0 = -1
        self._cancelled = False
        self.progress.setFormat("%v / %m")
        self.progress.setRange(0, self.wanted())
        self.progress.setValue(0)
        gen = iter_generate(self.dataset, self.project, self.plan, self.staging,
                            workers=self.workers)  # fmt: skip
        # The runner closes the generator in its worker thread: closing waits for the last
        # file write, which must not happen on the GUI thread.
        self._job = start_job(
            gen, owner=self, progress=self._progressed, done=self._returned,
            error=self._errored, finished=self._finished,
        )  # fmt: skip
        self._set_enabled()
        self._say("starting…")
        self._flush_timer.start()
        self.busyChanged.emit(True)
        return True

    def set_waiting(self, message: str) -> None:
        """A generation asked for waits (for the plan): say so, and let Cancel call it off;
        "" when it no longer waits."""
        was, self._waiting = self._waiting, message
        if message:
            self._say(f"Waiting: {message}")
        elif was and not self.busy:
            self._say("")
        self._set_enabled()

    def cancel(self) -> None:
        """Stop after the images in progress; finished images stay and are reused."""
        if self._job is not None:
            self._again = False
            self._job.cancel()
            self._say("cancelling…")

    # -- job callbacks ------------------------------------------------------------------
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
        if event.steps:  # a diffusion image in progress
            text += f" · denoising step {event.step} of {event.steps}"
        elif "loads the diffusion model" in event.message:
            text += " · starting a diffusion image (the first one loads the model)…"
        if self._problems:
            text += f" · {len(self._problems)} problems"
        self._say(text)

    def _returned(self, result: Any) -> None:
        self._flush()
        self.last_result = result
        self.model.add_images(list(result))
        self.progress.setRange(0, max(1, self.wanted()))
        self.progress.setValue(len(result))
        lines = [f"{len(result)} of {self.wanted()} images ready: "
                 f"{made_text(result.made, result.reused)}"]  # fmt: skip
        lines += result.problems
        self._say("\n".join(lines), error=bool(result.problems))
        self._outcome = result

    def _errored(self, exc: Exception) -> None:
        self._say(str(exc), error=True)

    def _finished(self) -> None:
        # generationFinished is emitted here, once the panel is no longer busy: a listener
        # that refreshes the panel's context (the window replans) must not be turned away.
        job, self._job = self._job, None
        result, self._outcome = self._outcome, None
        self._flush()
        self._flush_timer.stop()
        if job is not None and job.cancelled:
            self._cancelled = True
            ready = self.progress.value()  # the last progress event's count
            self._show_ready(ready, max(0, self.wanted() - ready))
        self._set_enabled()
        self.busyChanged.emit(False)
        self.generationFinished.emit(result)
        if self._again:
            self._again = False
            QTimer.singleShot(0, self.generate)

    def _flush(self) -> None:
        if self._pending:
            images, self._pending = self._pending, []
            self.model.add_images(images)

    # -- helpers ---------------------------------------------------------------------------
    def _uses_diffusion(self) -> bool:
        from ...core.project import Method

        if self.project is None:
            return False
        return any(t.method == Method.DIFFUSION for t in self.project.targets.values())

    def _diffusion_changed(self) -> None:
        """New settings: other images (new ids); the gallery shows what is staged for them."""
        self.projectChanged.emit()
        if self.staging is not None and self.plan is not None and not self.busy:
            self._load_gallery()

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

    def _show_ready(self, ready: int, missing: int, say: bool = True) -> None:
        """The bar and the line under it from one count: `ready` of `ready + missing`, and
        whether the last run was cancelled."""
        total = ready + missing
        self.progress.setRange(0, max(1, total))  # not Qt's default 0 / 100
        self.progress.setValue(ready)
        if not total:  # not "0 / 1"
            self.progress.setFormat("nothing planned")
        else:
            self.progress.setFormat("%v / %m · cancelled" if self._cancelled else "%v / %m")
        if not say:
            return
        if not total:
            self._say(
                "Nothing to generate: no class target asks for new images. Set targets in the "
                "Balance tab (a policy, or a class's target with the method augment or "
                "diffusion); the planned images then appear here."
            )
            return
        text = f"{ready} of {total} images ready, {missing} to generate"
        if self._cancelled:
            text = f"Generation cancelled: {text}; the finished images are kept"
        self._say(f"{text}; staging folder {self.staging}")

    def _set_enabled(self) -> None:
        ready = self.staging is not None and self.plan is not None and self.wanted() > 0
        self.generate_button.setEnabled(ready and not self.busy)
        self.cancel_button.setEnabled(self.busy or bool(self._waiting))

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c0392b;" if error else "")


def _clock(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    return f"{seconds // 60}:{seconds % 60:02d}"
