"""The problems list: every file or folder the scan left out, and why."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..models.problems import ProblemsModel


class ProblemsPanel(QWidget):
    problemSelected = Signal(str)  # absolute path of the clicked problem

    def __init__(self, model: ProblemsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.root: Path | None = None
        self.table = QTableView()
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        # Not sized to its contents: one long reason took the width the details need (each
        # row's tooltip holds the whole text).
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.resizeSection(0, 300)
        header.resizeSection(1, 280)
        self.location = QLabel("Click a problem to see where the file is.")
        self.location.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.location.setWordWrap(True)
        self.reveal_button = QPushButton("Open containing folder")
        self.reveal_button.setEnabled(False)
        self.reveal_button.clicked.connect(self._reveal)
        self.empty = QLabel("No problems found: every file in the folder is a usable image.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        bottom = QHBoxLayout()
        bottom.addWidget(self.location, 1)
        bottom.addWidget(self.reveal_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.table.clicked.connect(self._on_clicked)
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _p: self._on_clicked(cur))
        model.modelReset.connect(self._on_reset)
        self._on_reset()

    def set_root(self, root: Path | None) -> None:
        self.root = root

    def _on_reset(self) -> None:
        has = self.model.rowCount() > 0
        self.empty.setVisible(not has)
        self.table.setVisible(has)
        self.location.setText("Click a problem to see where the file is." if has else "")
        self.reveal_button.setEnabled(False)

    def _abspath(self, row: int) -> Path | None:
        if self.root is None:
            return None
        return self.root / self.model.problem(row).path

    def _on_clicked(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        path = self._abspath(index.row())
        if path is None:
            return
        problem = self.model.problem(index.row())
        self.location.setText(f"<b>{problem.reason}</b> — {path}")
        self.reveal_button.setEnabled(True)
        self.problemSelected.emit(str(path))

    def _reveal(self) -> None:
        index = self.table.currentIndex()
        path = self._abspath(index.row()) if index.isValid() else None
        if path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))
