"""The open dataset and the background scan that fills it.

The window asks the session to open a folder; the session runs core's one scan
(`core.scanning.iter_scan`) on the window's job runner and announces each stage with
signals. Datasets are immutable values: the listed dataset the window shows first is never
changed by the check, which hands over a new one (`datasetChanged` again).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..core.dataset import Dataset

# The job runner (and superqt with it) is imported on first use: not before the window shows.


def warm_imports() -> None:
    """Import, in a worker while the folder is listed, what showing the first dataset needs:
    the class chart's pyqtgraph, the viewer's decoder (PIL) and the thumbnail cache. Imported
    on the GUI thread when the listing arrives, they froze the window for 0.3-0.5 s. Modules
    only: no Qt object is made here."""
    from .qt_import_hook import import_pyqtgraph

    import_pyqtgraph()
    from ..core import thumbnails  # noqa: F401  (the gallery's first tiles: Pillow, SQLite)
    from . import workers  # noqa: F401


WARM_UP_KEY = "warm imports"


def start_warm_up(then: Callable[[], None] | None = None) -> None:
    """Run `warm_imports` on the job runner; what it imported is frozen when it is done, and
    then `then()` runs (on the GUI thread)."""
    from .jobs import start_job
    from .main_thread_gc import adopt_modules

    def done(_none: None) -> None:
        adopt_modules()
        if then is not None:
            then()

    start_job(warm_imports, key=WARM_UP_KEY, done=done)


DEMO_MESSAGE = "Preparing the synthetic demo dataset (first run draws 1,000 images)…"


def scan_job(root: str | os.PathLike[str], demo: bool = False) -> Generator[Any, None, Dataset]:
    """`iter_scan`, with each dataset's class array and counts made here in the worker thread (the
    gallery filters rows by them; a million samples take ~200 ms, too long for the GUI).
    With `demo`, the demo dataset is first made at `root` if it is not there yet: in the
    same job, so its scan never waits for a turn of the GUI thread in between."""
    from ..core.scanning import Listed, iter_scan

    if demo:
        from ..core.demo import ensure_demo_dataset
        from ..core.listing import ScanProgress

        yield ScanProgress("preparing", 0, None, DEMO_MESSAGE)
        ensure_demo_dataset(Path(root))
    steps = iter_scan(root)
    try:
        while True:
            try:
                item = next(steps)
            except StopIteration as stop:
                stop.value.counts()  # also makes the label array
                return stop.value
            if isinstance(item, Listed):
                item.dataset.counts()
            yield item
    finally:
        steps.close()  # a cancelled scan shuts its process pool down here, in the worker


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
    warmedUp = Signal()  # what showing a dataset needs is imported (see `warm_imports`)
    scanFailed = Signal(str)  # a one-line message for the user

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self.root: Path | None = None
        self.is_demo = False
        self.checked = False
        # One job at a time (the scan, which makes the demo first): a new one replaces it.
        self._key = ("dataset session", id(self))
        self._phase = ""
        self._unusable: dict[str, str] = {}  # found after the scan (by generation)
        self._shown_verdicts: Dataset | None = None  # a reopen's last verdicts, unverified

    @property
    def busy(self) -> bool:
        """A scan or demo job runs (a cancelled one until its worker has stopped)."""
        from .jobs import runner

        return runner().running(self._key)

    @property
    def phase(self) -> str:
        return self._phase

    @property
    def scanning(self) -> bool:
        """A folder is being prepared (the demo), listed or checked."""
        return self._phase in ("preparing", "listing", "checking")

    @property
    def class_array(self) -> Any:
        """Numpy int32 class index per sample of `dataset` (read-only), or None."""
        return self.dataset.label_array() if self.dataset is not None else None

    def open_folder(self, folder: str | Path, *, demo: bool = False) -> None:
        # Absolute: the project made for it and the recent lists must not depend on the
        # directory the app was started from.
        self.root = Path(os.path.abspath(Path(folder).expanduser()))
        self._unusable = {}
        self.is_demo = demo
        self.checked = False
        self._phase = "preparing" if demo else "listing"
        self.scanStarted.emit(str(self.root))
        if demo:
            self.progress.emit("preparing", 0, 0, DEMO_MESSAGE)
        else:
            self.progress.emit("listing", 0, 0, "Listing files…")
        from .jobs import start_job

        start_job(
            scan_job, self.root, demo, owner=self, key=self._key, progress=self._on_progress,
            partial=self._on_listed, done=self._on_checked, error=self._on_error,
            hold_on_result=True,  # showing a listing takes the window a few long turns
        )  # fmt: skip
        self.warm_up()

    def warm_up(self) -> None:
        """Import what showing a dataset needs, in a worker (while a folder is listed)."""
        start_warm_up(then=self.warmedUp.emit)

    def open_demo(self) -> None:
        """Open the synthetic demo dataset, made by the scan's job on first use."""
        from ..core.demo import demo_root

        self.open_folder(demo_root(), demo=True)

    def note_unusable(self, found: Mapping[str, str]) -> None:
        """Files found not to decode after the scan (rel path -> reason, e.g. by generation)
        become problems of the dataset: left out of it, listed, and planned without."""
        new = {p: r for p, r in found.items() if p not in self._unusable}
        if not new:
            return
        self._unusable.update(new)
        self._apply_unusable()

    def _apply_unusable(self) -> None:
        if self.dataset is None or self._phase:
            return  # a running scan makes a new dataset: applied when it ends
        changed = self._without_unusable(self.dataset)
        if changed is not self.dataset:
            self.dataset = changed
            self.datasetChanged.emit(changed)

    def _without_unusable(self, dataset: Dataset) -> Dataset:
        if not self._unusable:
            return dataset
        from ..core.generation.badsources import as_problem

        return dataset.without(as_problem(p, r) for p, r in self._unusable.items())

    def cancel_check(self) -> None:
        """Stop decoding images; the listing stays usable, unverified files are kept."""
        if self._phase != "checking":
            return
        from .jobs import runner

        runner().cancel(self._key)  # its worker closes the pool; nothing more is heard of it
        self._phase = ""
        shown, self._shown_verdicts = self._shown_verdicts, None
        if shown is not None and self.dataset is shown:
            # A reopen's last verdicts, not verified: the files left out stay out, but the
            # orientations are unknown again (an export reads them from the files).
            self.dataset = shown.replace(orientations=None)
            self.datasetChanged.emit(self.dataset)
        self._apply_unusable()
        self.checkCancelled.emit()
        if self.dataset is not None:
            self.scanFinished.emit(self.dataset)

    def close(self) -> None:
        from .jobs import runner

        runner().cancel(self._key)
        self._phase = ""

    # -- job callbacks (GUI thread; dropped once the job is replaced or cancelled) ------
    def _on_progress(self, event: Any) -> None:
        phase, done, total = event.phase, event.done, event.total or 0
        if phase == "preparing":
            message = event.message
        elif phase == "checking" and self._shown_verdicts is not None:
            message = f"Verifying images against their last check {done:,}/{total:,}"
        elif phase == "checking":
            message = f"Checking images {done:,}/{total:,}"
        else:
            message = f"Listing… {done}/{total} class folders"
        self.progress.emit(phase, done, total, message)

    def _on_listed(self, listed: Any) -> None:  # core.scanning.Listed, or Known
        from ..core.scanning import Known

        self.dataset = listed.dataset
        self._shown_verdicts = listed.dataset if isinstance(listed, Known) else None
        self._phase = "checking"
        self.datasetChanged.emit(listed.dataset)
        total = len(listed.dataset.paths)
        verifying = self._shown_verdicts is not None
        verb = "Verifying images against their last check" if verifying else "Checking images"
        self.progress.emit("checking", 0, total, f"{verb} 0/{total:,}")

    def _on_checked(self, dataset: Dataset) -> None:
        self._phase = ""
        # The last check's verdicts, shown on reopening and verified unchanged, come back as
        # the same object (`core.scanning.Known`): the window keeps what it shows, no replan.
        self._shown_verdicts = None
        checked = self._without_unusable(dataset)
        changed = checked is not self.dataset
        self.dataset = checked
        self.checked = True
        if changed:
            self.datasetChanged.emit(self.dataset)
        self.scanFinished.emit(self.dataset)

    def _on_error(self, exc: BaseException) -> None:
        from ..core.listing import ScanError

        self._phase = ""
        self._shown_verdicts = None
        # Anything but a ScanError is our bug, but the user still gets one readable line.
        message = str(exc) if isinstance(exc, ScanError) else f"{type(exc).__name__}: {exc}"
        self.dataset = None
        self.scanFailed.emit(message)
