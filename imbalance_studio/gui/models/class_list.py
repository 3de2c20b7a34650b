"""Per-class facts (name, count, share, minority flag) as a table model. The count shows
the number left after the user's marks beside the original ("120 → 118") once marks
change it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from ...core.dataset import MINORITY_FRACTION, ClassInfo, Dataset

Index = QModelIndex | QPersistentModelIndex

COLUMNS = ("Class", "Images", "Share", "Flag")
NAME, COUNT, SHARE, FLAG = range(4)

ClassInfoRole = Qt.ItemDataRole.UserRole + 1  # core.dataset.ClassInfo
ShareRole = Qt.ItemDataRole.UserRole + 2  # float 0..1
MinorityRole = Qt.ItemDataRole.UserRole + 3  # bool

# Shared with the chart so the two views read as one.
MAJORITY_COLOR = QColor("#4c78a8")
MINORITY_COLOR = QColor("#e45756")


class ClassListModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._infos: list[ClassInfo] = []
        self._after: list[int] | None = None  # per class, after the marks

    def set_dataset(self, dataset: Dataset | None) -> None:
        self.beginResetModel()
        self._infos = dataset.class_infos() if dataset is not None else []
        self._after = None
        self.endResetModel()

    def set_after_marks(self, after: list[int] | None) -> None:
        """Each class's count once the marks are applied (None: no marks to show)."""
        if after is not None and len(after) != len(self._infos):
            after = None  # counted for another dataset
        if after == self._after:
            return
        self._after = after
        if self._infos:
            self.dataChanged.emit(self.index(0, COUNT), self.index(len(self._infos) - 1, COUNT))

    def after_marks(self, row: int) -> int:
        info = self._infos[row]
        return info.count if self._after is None else self._after[row]

    @property
    def infos(self) -> list[ClassInfo]:
        return self._infos

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._infos)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.ToolTipRole and section == SHARE:
                return "Share of all usable images in the dataset"
            if role == Qt.ItemDataRole.ToolTipRole and section == FLAG:
                return f"minority: fewer than {MINORITY_FRACTION:.0%} of the largest class"
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        info = self._infos[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == NAME:
                return info.name
            if col == COUNT:
                after = self.after_marks(index.row())
                return f"{info.count:,}" if after == info.count else f"{info.count:,} → {after:,}"
            if col == FLAG:
                return "minority" if info.is_minority else ""
            return f"{info.share:.1%}"
        if role == Qt.ItemDataRole.ForegroundRole and col == FLAG:
            return MINORITY_COLOR
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COUNT, SHARE):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            note = (
                f"\nMinority class: fewer than {MINORITY_FRACTION:.0%} of the largest class."
                if info.is_minority
                else ""
            )
            after = self.after_marks(index.row())
            marks = (
                f"\n{after:,} after your marks (removals left out, duplicate copies added)."
                if after != info.count
                else ""
            )
            return f"{info.name} (class index {info.index}): {info.count:,} images{marks}{note}"
        if role == Qt.ItemDataRole.DecorationRole and col == NAME:
            return MINORITY_COLOR if info.is_minority else MAJORITY_COLOR
        if role == Qt.ItemDataRole.FontRole and info.is_minority and col == NAME:
            font = QFont()
            font.setBold(True)
            return font
        if role == ClassInfoRole:
            return info
        if role == ShareRole:
            return info.share
        if role == MinorityRole:
            return info.is_minority
        return None
