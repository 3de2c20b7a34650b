"""A progress bar that can follow a job's every event without taking the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QProgressBar, QWidget

# Twenty times a second reads as smooth; a user can't follow more.
SHOW_EVERY_MS = 50


class ProgressBar(QProgressBar):
    """QProgressBar.setValue repaints at once, synchronously, whenever its text changes: a job
    that reports every image (a few hundred a second) then spends most of the GUI thread
    painting the bar. This one takes every value but shows only the newest, at most every
    `SHOW_EVERY_MS`, against the range it has then; `value()` is the newest value given."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._wanted: int | None = None
        self._show = QTimer(self, singleShot=True, interval=SHOW_EVERY_MS)
        self._show.timeout.connect(self._shown)

    def setValue(self, value: int) -> None:
        self._wanted = value
        if not self._show.isActive():
            self._show.start()

    def value(self) -> int:
        return super().value() if self._wanted is None else self._wanted

    def reset(self) -> None:
        self._wanted = None
        super().reset()

    def _shown(self) -> None:
        if self._wanted is not None:
            wanted, self._wanted = self._wanted, None
            super().setValue(wanted)
