"""Table of per-class training targets: counts now, after marks, target, method, result."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from ...core.plan import Plan
from ...core.project import MAX_TARGET, ClassTarget, Method, target_limit_message
from .controller import CurationController

Index = QModelIndex | QPersistentModelIndex

COLUMNS = (
    "Class", "Train now", "After marks", "Target", "Method", "CutMix", "Final train", "Val", "Test",
)  # fmt: skip
(COL_CLASS, COL_NOW, COL_MARKED, COL_TARGET, COL_METHOD, COL_CUTMIX, COL_FINAL, COL_VAL,
 COL_TEST) = range(9)  # fmt: skip
TIPS = {
    COL_NOW: "Original images of this class assigned to the training split",
    COL_MARKED: "Training images after remove marks, plus marked duplicates",
    COL_TARGET: "Wanted training count (empty: no target). Edit to change.",
    COL_METHOD: "How the gap to the target is closed: augment (new views, recommended), "
    "duplicate (exact copies), undersample (seeded random drop), keep, or diffusion "
    "(img2img from a local model; needs the [diffusion] extra, images are reviewed before export)",
    COL_CUTMIX: "Also make new images of this class by intra-class CutMix (a patch from "
    "another training image of the same class; the label stays right)",
    COL_FINAL: "Training images the export will hold",
    COL_VAL: "Validation images (originals only, original distribution)",
    COL_TEST: "Test images (originals only, original distribution)",
}
METHODS = [m.value for m in Method]


class TargetsModel(QAbstractTableModel):
    def __init__(self, controller: CurationController, parent=None) -> None:
        super().__init__(parent)
        self._c = controller
        self._plan: Plan | None = None
        controller.planChanged.connect(self._on_plan)
        controller.projectChanged.connect(self._on_project)

    def _on_plan(self, plan: Plan) -> None:
        self.beginResetModel()
        self._plan = plan
        self.endResetModel()

    def _on_project(self) -> None:
        if self._c.project is None:
            self.beginResetModel()
            self._plan = None
            self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self._plan is None else len(self._plan.classes)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return TIPS.get(section)
        return None

    def _target(self, name: str) -> ClassTarget | None:
        project = self._c.project
        return project.targets.get(name) if project else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        plan = self._plan
        if plan is None or not index.isValid():
            return None
        row, col = index.row(), index.column()
        name = plan.classes[row]
        train = plan.splits["train"][row]
        target = self._target(name)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if col == COL_CLASS:
                return name
            if col == COL_NOW:
                return train.original
            if col == COL_MARKED:
                return self._c.train_counts.get(name, 0)
            if col == COL_TARGET:
                if target is None or target.target is None:
                    return "" if role == Qt.ItemDataRole.DisplayRole else -1
                return target.target
            if col == COL_METHOD:
                return (target.method if target else Method.AUGMENT).value
            if col == COL_FINAL:
                return train.final
            if col == COL_VAL:
                return plan.splits["val"][row].final
            if col == COL_TEST:
                return plan.splits["test"][row].final
        if role == Qt.ItemDataRole.CheckStateRole and col == COL_CUTMIX:
            on = self._c.project is not None and name in self._c.project.generation.cutmix_classes
            return Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.TextAlignmentRole and col not in (COL_CLASS, COL_METHOD):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        unmet = target is not None and target.target is not None and train.final != target.target
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_FINAL and unmet:
            return QBrush(QColor("#b00020"))  # target not met (e.g. no training source)
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_FINAL:
            parts = [f"{len(train.kept)} kept originals"]
            if train.duplicates:
                parts.append(f"{len(train.duplicates)} exact copies")
            if train.generate:
                parts.append(f"{len(train.generate)} to generate by augmentation")
            if train.removed:
                parts.append(f"{len(train.removed)} left out")
            return ", ".join(parts)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.column() in (COL_TARGET, COL_METHOD):
            return base | Qt.ItemFlag.ItemIsEditable
        if index.column() == COL_CUTMIX:
            return base | Qt.ItemFlag.ItemIsUserCheckable
        return base

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if self._plan is None:
            return False
        name = self._plan.classes[index.row()]
        if role == Qt.ItemDataRole.CheckStateRole and index.column() == COL_CUTMIX:
            on = Qt.CheckState(value) == Qt.CheckState.Checked
            self._c.set_cutmix(name, on)
            self.dataChanged.emit(index, index)
            return True
        if role != Qt.ItemDataRole.EditRole:
            return False
        old = self._target(name) or ClassTarget(target=None, method=Method.AUGMENT)
        if index.column() == COL_TARGET:
            text = str(value).strip()
            if text in ("", "-1"):
                new = ClassTarget(target=None, method=old.method)
            else:
                try:
                    n = int(text)
                except ValueError:
                    return False
                if n < 0:
                    return False
                if n > MAX_TARGET:  # refused with the reason, not silently
                    self._c.error.emit(f"{name}: {target_limit_message(n)}")
                    return False
                method = old.method
                # A target below the current count can only be met by undersampling.
                have = self._c.train_counts.get(name, 0)
                if n < have:
                    method = Method.UNDERSAMPLE
                elif method in (Method.UNDERSAMPLE, Method.KEEP) and n > have:
                    method = Method.AUGMENT
                new = ClassTarget(target=n, method=method)
        elif index.column() == COL_METHOD:
            if value not in METHODS:
                return False
            new = ClassTarget(target=old.target, method=Method(value))
        else:
            return False
        if new == old:
            return False
        self._c.set_target(name, new)
        return True
