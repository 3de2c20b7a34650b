"""A tab whose real widget is built the first time it is shown."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget


class LazyTab(QWidget):
    """A tab whose real widget is built on first show (keeps heavy imports off start-up)."""

    def __init__(self, factory, placeholder: str) -> None:
        super().__init__()
        self._factory = factory
        self.widget: Any = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._placeholder = QLabel(placeholder)
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._layout.addWidget(self._placeholder)

    def ensure(self) -> Any:
        if self.widget is None:
            self.widget = self._factory()
            # A scroll area keeps a wide panel from growing the whole window.
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            scroll.setWidget(self.widget)
            self._layout.replaceWidget(self._placeholder, scroll)
            self._placeholder.deleteLater()
        return self.widget

    def showEvent(self, event) -> None:
        self.ensure()
        super().showEvent(event)
