"""A bar across the top of the workspace that offers one thing (reopen a folder's saved
project) without stopping the user: it never takes the keyboard or blocks the window."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class OfferBar(QFrame):
    accepted = Signal()

    def __init__(self, accept_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("offer-bar")
        self.setStyleSheet(
            "#offer-bar { background:#e3f2fd; border-bottom:1px solid #90caf9; }"
            "#offer-bar QLabel { color:#0d3c61; }"
        )
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.accept_button = QPushButton(accept_text)
        self.dismiss_button = QPushButton("Dismiss")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.accept_button)
        layout.addWidget(self.dismiss_button)
        self.accept_button.clicked.connect(self._accept)
        self.dismiss_button.clicked.connect(self.hide)
        self.hide()

    def offer(self, text: str) -> None:
        self.label.setText(text)
        self.show()

    def _accept(self) -> None:
        self.hide()
        self.accepted.emit()
