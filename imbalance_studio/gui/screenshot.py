"""`--screenshot`: wait until the window has nothing left to load, save a PNG, quit."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, QObject, QTimer
from PySide6.QtWidgets import QApplication

from .main_window import MainWindow

SAVE_QUALITY = 80
# How often to look whether everything is loaded: a look is a few attribute reads, and at
# 50 ms the PNG waited 25 ms on average (up to 50) after the window had settled.
POLL_MS = 10


class Screenshotter(QObject):
    def __init__(
        self,
        window: MainWindow,
        out: Path,
        timeout_s: float,
        expect_scan: bool,
        folder: str | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.out = out
        self.folder = folder  # the dataset folder asked for: never written to, opened or not
        self.timeout_ms = int(timeout_s * 1000)
        self.expect_scan = expect_scan
        self.exit_code = 3
        self._failure = ""
        self._scan_done = not expect_scan
        self._clock = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        window.session.scanFinished.connect(self._on_done)
        window.session.scanFailed.connect(self._on_failed)

    def start(self) -> None:
        self._clock.start()
        self._timer.start()

    def _on_done(self, *_: object) -> None:
        self._scan_done = True

    def _on_failed(self, message: str) -> None:
        self._failure = message
        self._scan_done = True

    def fail(self, message: str) -> None:
        """What was to be shown cannot be (a project file that does not load): the picture
        is still saved, and the run exits 1 with `message`."""
        self._on_failed(message)

    def _poll(self) -> None:
        if self._clock.elapsed() > self.timeout_ms:
            self._finish(3, f"timed out after {self.timeout_ms / 1000:g} s waiting for the scan")
            return
        if not self._scan_done or not self.window.is_settled():
            return
        # Painting is what requests thumbnails: paint once, and shoot only when that paint
        # asked for nothing new.
        pixmap = self.window.grab()
        QApplication.processEvents()
        if not self.window.is_settled():
            return
        refusal = self._inside_dataset()
        if refusal:
            self._finish(2, refusal)
            return
        # Quality 80 is zlib's faster level for a PNG: a window's picture saves in ~40% of the
        # time of the default level (a few hundred ms on a busy machine), ~15% larger.
        if not pixmap.save(str(self.out), None, SAVE_QUALITY):
            self._finish(4, f"cannot write {self.out}")
        elif self._failure:
            self._finish(1, self._failure)
        else:
            self._finish(0, "")

    def _inside_dataset(self) -> str:
        """Why the PNG may not be saved where asked: inside the dataset shown (read-only to
        us; a picture in a class folder would be scanned as one more image). "" when it may."""
        from ..core.fileio import dataset_folder_of, where_in_dataset

        dataset = self.window.session.dataset
        if dataset is not None:
            root, real_dirs = dataset.root, dataset.real_dirs
        elif self.folder is not None:  # it could not be opened (one class, say): still ours
            root, real_dirs = Path(self.folder), ()
        else:
            return ""
        held = dataset_folder_of(self.out, root, real_dirs)
        if held is None:
            return ""
        return (
            f"{self.out} is {where_in_dataset(held, root)}; the dataset is never written to: "
            "save the picture elsewhere"
        )

    def _finish(self, code: int, message: str) -> None:
        self._timer.stop()
        self.exit_code = code
        if message:
            print(f"imbalance-studio: screenshot: {message}", file=sys.stderr)
        self.window.close()
        QApplication.instance().quit()
