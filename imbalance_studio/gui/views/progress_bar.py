"""A progress bar that can follow a job's every event without taking the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QProgressBar, QWidget

# Twenty times a second reads as smooth; a user can't follow more.
SHOW_EVERY_MS = 50


class ProgressBar(QProgressBar):
    """QProgressBar.setValue repaints at once, synchronously, whenever its text changes: a job
    that reports every image (a few hundred a second) then spends most of the GUI thread
    painting the bar. This one shows a value at once, then at most one every
    `SHOW_EVERY_MS` (the newest, against the range it has then); `value()` is the newest
    value given that the range admits, as Qt's would be."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._wanted: int | None = None
        self._quiet = QTimer(self, singleShot=True, interval=SHOW_EVERY_MS)
        self._quiet.timeout.connect(self._shown)

    def setValue(self, value: int) -> None:
        if self._quiet.isActive():  # shown one lately: this one waits for its turn
            self._wanted = value
            return
        super().setValue(value)
        self._quiet.start()

    def value(self) -> int:
        wanted = self._wanted
        if wanted is not None and self.minimum() <= wanted <= self.maximum():
            return wanted
        return super().value()

    def reset(self) -> None:
        self._wanted = None
        super().reset()

    def _shown(self) -> None:
        if self._wanted is not None:
            wanted, self._wanted = self._wanted, None
            super().setValue(wanted)
            self._quiet.start()  # and the next waits again
