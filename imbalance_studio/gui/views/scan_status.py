"""Status-bar widgets for the scan: a message, a progress bar and a Cancel button."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget


class ScanStatus(QWidget):
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel("")
        self.bar = QProgressBar()
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

    def idle(self, message: str) -> None:
        self.message.setText(message)
        self.bar.setVisible(False)
        self.cancel.setVisible(False)
