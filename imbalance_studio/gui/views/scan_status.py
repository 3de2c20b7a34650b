"""Status-bar widgets for the scan: a message, a progress bar and a Cancel button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from .progress_bar import ProgressBar


class ElidedLabel(QLabel):
    """One line that ends in "…" where it does not fit (the whole text in its tooltip): a
    long message must never run into the status bar's other text."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = text
        self.setToolTip(text if text else "")
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(
            self._full, Qt.TextElideMode.ElideRight, max(0, self.width() - 2)
        )
        super().setText(shown)


class ScanStatus(QWidget):
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = ElidedLabel("")
        self.bar = ProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(False)
        self.cancel = QPushButton("Cancel check")
        self.cancel.setToolTip(
            "Stop decoding images; the listing stays usable, unverified files are kept"
        )
        self.cancel.clicked.connect(self.cancelRequested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.message)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel)
        self.idle("")

    def show_progress(self, phase: str, done: int, total: int, message: str) -> None:
        self.message.setText(message)
        self.bar.setVisible(True)
        self.bar.setRange(0, total if total else 0)  # 0..0 = busy indicator
        if total:
            self.bar.setValue(done)
        self.cancel.setVisible(phase == "checking")

    def follow_message(self, message: str) -> None:
        """The status bar's passing message changed. QStatusBar hides this widget while one
        shows, but not explicitly, and shows it again (over the message) whenever it lays
        itself out anew: hidden and shown here, explicitly, it stays hidden until the
        message has gone."""
        self.setVisible(not message)

    def idle(self, message: str) -> None:
        self.message.setText(message)
        self.bar.setVisible(False)
        self.cancel.setVisible(False)
