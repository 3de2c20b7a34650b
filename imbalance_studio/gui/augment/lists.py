"""The catalogue tree (grouped, searchable) and the stack list (checkable, drag to reorder)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.augment.catalogue import GROUPS, TransformInfo
from ...core.augment.stack import StackEntry

ID_ROLE = Qt.ItemDataRole.UserRole + 1


class CatalogueView(QWidget):
    """Every catalogue transform, grouped (the article's groups first) and searchable by name,
    group or description; double-click or Enter adds one."""

    addRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.search = QLineEdit(placeholderText="Search transforms…", clearButtonEnabled=True)
        self.search.textChanged.connect(self._filter)
        layout.addWidget(self.search)
        self.tree = QTreeWidget(headerHidden=True)
        self.tree.itemActivated.connect(self._activated)
        layout.addWidget(self.tree)
        # Names come from the static GROUPS table; descriptions arrive with the catalogue.
        for group, names in GROUPS.items():
            top = QTreeWidgetItem([group])
            top.setFlags(top.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            self.tree.addTopLevelItem(top)
            for name in names:
                item = QTreeWidgetItem([name])
                item.setData(0, ID_ROLE, name)
                top.addChild(item)
        self.tree.expandAll()

    def set_infos(self, infos: dict[str, TransformInfo]) -> None:
        """Show the whole catalogue, grouped (the article's groups first), with summaries."""
        self.tree.clear()
        groups: dict[str, QTreeWidgetItem] = {}
        for info in infos.values():
            top = groups.get(info.group)
            if top is None:
                top = groups[info.group] = QTreeWidgetItem([info.group])
                top.setFlags(top.flags() & ~Qt.ItemFlag.ItemIsSelectable)
                self.tree.addTopLevelItem(top)
            item = QTreeWidgetItem([info.name])
            item.setData(0, ID_ROLE, info.name)
            item.setToolTip(0, info.summary)
            top.addChild(item)
        for top in groups.values():
            top.setText(0, f"{top.text(0)} ({top.childCount()})")
        self.tree.expandAll()
        self._filter(self.search.text())

    def wanted_width(self) -> int:
        """Pixels the pane needs to show every transform's whole name (indented under its
        group, beside a vertical scroll bar): names like RandomBrightnessContrast were cut."""
        fm = self.tree.fontMetrics()
        widest = 0
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            widest = max(widest, fm.horizontalAdvance(top.text(0)))
            for j in range(top.childCount()):
                widest = max(widest, self.tree.indentation() + fm.horizontalAdvance(
                    top.child(j).text(0)))  # fmt: skip
        scroll = self.tree.verticalScrollBar().sizeHint().width()
        # The root decoration, the frame and the item's own margins: a few pixels each side.
        return widest + self.tree.indentation() + scroll + 2 * self.tree.frameWidth() + 16

    def names(self) -> list[str]:
        """The transforms the tree shows now (after the search), in order."""
        shown = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                if not top.child(j).isHidden():
                    shown.append(top.child(j).data(0, ID_ROLE))
        return shown

    def selected_name(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, ID_ROLE) if item is not None else None

    def _activated(self, item: QTreeWidgetItem) -> None:
        name = item.data(0, ID_ROLE)
        if name:
            self.addRequested.emit(name)

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            group_hit = needle in top.text(0).lower()
            shown = 0
            for j in range(top.childCount()):
                item = top.child(j)
                hit = not needle or group_hit or needle in item.text(0).lower()
                hit = hit or needle in item.toolTip(0).lower()
                item.setHidden(not hit)
                shown += hit
            top.setHidden(shown == 0)


class StackList(QListWidget):
    """Entries of the stack; the checkbox enables a transform, drag and drop reorders."""

    enabledToggled = Signal(int, bool)  # row, enabled
    orderChanged = Signal(list)  # entry ids in their new order

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.itemChanged.connect(self._item_changed)
        self.model().rowsMoved.connect(self._rows_moved)
        self._filling = False

    def fill(self, entries: list[StackEntry], ids: list[int], errors: dict[int, dict]) -> None:
        self._filling = True
        try:
            row = self.currentRow()
            self.clear()
            for i, (entry, ident) in enumerate(zip(entries, ids, strict=True)):
                item = QListWidgetItem(self._label(entry))
                item.setData(ID_ROLE, ident)
                flags = (
                    item.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsDragEnabled
                )
                item.setFlags(flags & ~Qt.ItemFlag.ItemIsDropEnabled)
                item.setCheckState(
                    Qt.CheckState.Checked if entry.enabled else Qt.CheckState.Unchecked
                )
                self._mark(item, errors.get(i))
                self.addItem(item)
            if 0 <= row < self.count():
                self.setCurrentRow(row)
        finally:
            self._filling = False

    def update_row(self, row: int, entry: StackEntry, errors: dict[str, str] | None) -> None:
        item = self.item(row)
        if item is None:
            return
        self._filling = True
        try:
            item.setText(self._label(entry))
            self._mark(item, errors)
        finally:
            self._filling = False

    @staticmethod
    def _label(entry: StackEntry) -> str:
        return f"{entry.name}   p={entry.p:.2f}"

    @staticmethod
    def _mark(item: QListWidgetItem, errors: dict[str, str] | None) -> None:
        if errors:
            item.setForeground(QColor("#c0392b"))
            item.setToolTip("\n".join(f"{k}: {v}" if k else v for k, v in errors.items()))
        else:
            item.setData(Qt.ItemDataRole.ForegroundRole, None)
            item.setToolTip("Drag to reorder; the checkbox turns the transform on or off.")

    def _item_changed(self, item: QListWidgetItem) -> None:
        if not self._filling:
            self.enabledToggled.emit(self.row(item), item.checkState() == Qt.CheckState.Checked)

    def _rows_moved(self, *_args: object) -> None:
        if not self._filling:
            self.orderChanged.emit([self.item(i).data(ID_ROLE) for i in range(self.count())])
