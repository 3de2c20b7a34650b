"""The open dataset and the background scan that fills it.

The window asks the session to open a folder; the session runs the scan in a worker and
announces each stage with signals. Models take snapshots of `dataset` when they hear
`datasetChanged`, so the worker may keep refining it meanwhile.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from ..core.dataset import Dataset

if TYPE_CHECKING:
    from superqt.utils import WorkerBase


class DatasetSession(QObject):
    scanStarted = Signal(str)  # folder
    progress = Signal(
        str, int, int, str
    )  # phase ("preparing"/"listing"/"checking"), done, total, message
    datasetChanged = Signal(object)  # Dataset: after listing, and again after the check
    scanFinished = Signal(
        object
    )  # Dataset, fully checked (or partly, when the check was cancelled)
    checkCancelled = Signal()
    scanFailed = Signal(str)  # a one-line message for the user

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self.class_array: Any = None  # numpy int32 class index per sample of `dataset`
        self.root: Path | None = None
        self.is_demo = False
        self.checked = False
        self._worker: WorkerBase | None = None
        self._phase = ""
        self._unusable: dict[str, str] = {}  # found after the scan (by generation)

    @property
    def busy(self) -> bool:
        return self._worker is not None

    @property
    def phase(self) -> str:
        return self._phase

    def open_folder(self, folder: str | Path, *, demo: bool = False) -> None:
        from . import workers

        self._stop()
        self.root = Path(folder).expanduser()
        self._unusable = {}
        self.is_demo = demo
        self.checked = False
        self._phase = "listing"
        worker = workers.start_scan(self.root)
        worker.yielded.connect(self._on_yielded)
        worker.returned.connect(self._on_checked)
        worker.errored.connect(self._on_error)
        worker.aborted.connect(self._on_aborted)
        self._track(worker)
        self.scanStarted.emit(str(self.root))
        self.progress.emit("listing", 0, 0, "Listing files…")
        worker.start()

    def open_demo(self) -> None:
        """Create the synthetic demo dataset on first use (in a worker), then open it."""
        from . import workers

        self._stop()
        self._phase = "preparing"
        worker = workers.start_demo()
        worker.returned.connect(self._on_demo_ready)
        worker.errored.connect(self._on_error)
        self._track(worker)
        self.progress.emit(
            "preparing",
            0,
            0,
            "Preparing the synthetic demo dataset (first run draws 1,000 images)…",
        )
        worker.start()

    def note_unusable(self, found: Mapping[str, str]) -> None:
        """Files found not to decode after the scan (rel path -> reason, e.g. by generation)
        become problems of the dataset: left out of it, listed, and planned without."""
        new = {p: r for p, r in found.items() if p not in self._unusable}
        if not new:
            return
        self._unusable.update(new)
        self._apply_unusable()

    def _apply_unusable(self) -> None:
        if self.dataset is None or self.busy:
            return  # a running check still fills the dataset: applied when it ends
        changed = self._without_unusable(self.dataset)
        if changed is not self.dataset:
            self.dataset = changed
            self.class_array = None  # made for the old sample list; the gallery remakes it
            self.datasetChanged.emit(changed)

    def _without_unusable(self, dataset: Dataset) -> Dataset:
        if not self._unusable:
            return dataset
        from ..core.generation.badsources import as_problem

        return dataset.without(as_problem(p, r) for p, r in self._unusable.items())

    def cancel_check(self) -> None:
        """Stop decoding images; the listing stays usable, unverified files are kept."""
        if self._worker is not None and self._phase == "checking":
            self._worker.quit()

    def close(self) -> None:
        self._stop()

    # -- worker plumbing -------------------------------------------------------------
    def _track(self, worker: WorkerBase) -> None:
        self._worker = worker
        worker.finished.connect(lambda w=worker: self._on_finished(w))

    def _stop(self) -> None:
        if self._worker is not None:
            worker, self._worker = self._worker, None
            for signal in ("yielded", "returned", "errored", "aborted"):
                # A signal with no connection raises on disconnect(); nothing to undo then.
                with contextlib.suppress(RuntimeError, TypeError, AttributeError):
                    getattr(worker, signal).disconnect()
            worker.quit()
        self._phase = ""

    def _on_finished(self, worker: WorkerBase) -> None:
        if self._worker is worker:
            self._worker = None
            self._phase = ""

    def _on_demo_ready(self, root: Path) -> None:
        self._worker = None
        self.open_folder(root, demo=True)

    def _on_yielded(self, event: object) -> None:
        from .workers import Listed

        if isinstance(event, Listed):
            self.dataset = event.dataset
            self.class_array = event.class_array
            self._phase = "checking"
            self.datasetChanged.emit(event.dataset)
            total = len(event.dataset.samples)
            self.progress.emit("checking", 0, total, f"Checking images 0/{total:,}")
            return
        phase, done, total = event.phase, event.done, event.total or 0  # type: ignore[attr-defined]
        if phase == "checking":
            message = f"Checking images {done:,}/{total:,}"
        else:
            message = f"Listing… {done}/{total} class folders"
        self.progress.emit(phase, done, total, message)

    def _on_checked(self, result: object) -> None:
        dataset = getattr(result, "dataset", None) or self.dataset
        self.class_array = getattr(result, "class_array", None)
        if dataset is not None and self._unusable:
            unusable = self._without_unusable(dataset)
            if unusable is not dataset:
                dataset, self.class_array = unusable, None
        self.checked = True
        self._phase = ""
        self._worker = None
        if dataset is not None:
            self.dataset = dataset
            self.datasetChanged.emit(dataset)
            self.scanFinished.emit(dataset)

    def _on_aborted(self) -> None:
        self._phase = ""
        self._worker = None
        self._apply_unusable()
        self.checkCancelled.emit()
        if self.dataset is not None:
            self.scanFinished.emit(self.dataset)

    def _on_error(self, exc: BaseException) -> None:
        from ..core.scanning import ScanError

        self._phase = ""
        self._worker = None
        # Anything but a ScanError is our bug, but the user still gets one readable line.
        message = str(exc) if isinstance(exc, ScanError) else f"{type(exc).__name__}: {exc}"
        self.dataset = None
        self.class_array = None
        self.scanFailed.emit(message)
