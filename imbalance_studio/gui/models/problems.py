"""Files and folders the scan could not use, with the reason, as a table model."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from ...core.dataset import Dataset, Problem, ProblemReason

Index = QModelIndex | QPersistentModelIndex

COLUMNS = ("Path", "Reason", "Detail")
ProblemRole = Qt.ItemDataRole.UserRole + 1  # core.dataset.Problem


# What a note means for the file (a note is listed after the files left out).
_USED = "note; file still used"
_NOTE = {ProblemReason.HIDDEN: "note; hidden files are not part of the dataset"}


class ProblemsModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._problems: tuple[Problem, ...] = ()  # the dataset's problems, sorted for display

    def set_dataset(self, dataset: Dataset | None) -> None:
        self.beginResetModel()
        # Problems that exclude a file first, notes (still-usable files) after them.
        found = dataset.problems if dataset is not None else ()
        self._problems = tuple(sorted(found, key=lambda p: (not p.excludes, p.reason, p.path)))
        self.endResetModel()

    def problem(self, row: int) -> Problem:
        return self._problems[row]

    @property
    def excluded_count(self) -> int:
        return sum(p.excludes for p in self._problems)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._problems)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        p = self._problems[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            reason = p.reason if p.excludes else f"{p.reason} ({_NOTE.get(p.reason, _USED)})"
            return (p.path, reason, p.detail)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{p.path}\n{p.reason}: {p.detail}" if p.detail else f"{p.path}\n{p.reason}"
        if role == ProblemRole:
            return p
        return None
