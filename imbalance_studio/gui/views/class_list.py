"""The class list: one row per class with its count, share bar and minority flag."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
)

from ..models.class_list import (
    COUNT,
    FLAG,
    MAJORITY_COLOR,
    MINORITY_COLOR,
    NAME,
    SHARE,
    ClassListModel,
    MinorityRole,
    ShareRole,
)

Index = QModelIndex | QPersistentModelIndex


class ShareBarDelegate(QStyledItemDelegate):
    """Paints the share as a small horizontal bar with the percentage beside it."""

    BAR_WIDTH = 56

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        # model.data(), not index.data(): PySide6 6.12's QModelIndex.data() over-releases
        # None when a Python model returns it, and Python aborts after enough calls.
        model = index.model()
        share = float(model.data(index, ShareRole) or 0.0)
        minority = bool(model.data(index, MinorityRole))
        r = opt.rect.adjusted(4, 0, -4, 0)
        bar = QRect(r.left(), r.center().y() - 4, self.BAR_WIDTH, 9)
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(opt.palette.color(QPalette.ColorRole.Midlight))
        painter.drawRect(bar)
        painter.setBrush(MINORITY_COLOR if minority else MAJORITY_COLOR)
        painter.drawRect(QRect(bar.left(), bar.top(), max(1, round(share * bar.width())), 9))
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(opt.palette.color(role))
        text_rect = QRect(bar.right() + 4, r.top(), r.right() - bar.right() - 4, r.height())
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text
        )
        painter.restore()


class ClassListView(QTableView):
    """Multi-selection of classes; emits the selected class indices."""

    classesSelected = Signal(list)  # list[int]; empty when nothing is selected

    def __init__(self, model: ClassListModel, parent=None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setItemDelegateForColumn(SHARE, ShareBarDelegate(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        rows = self.verticalHeader()
        rows.hide()
        # Compact rows: ten classes (digits, CIFAR-10) fit the default window without a
        # scroll bar (Qt's default row of ~30 px cut the tenth in half).
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.horizontalHeader()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COUNT, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(SHARE, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(SHARE, ShareBarDelegate.BAR_WIDTH + 62)
        header.setSectionResizeMode(FLAG, QHeaderView.ResizeMode.ResizeToContents)
        # A light selection: all classes start selected and their bars must stay readable.
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Highlight, QColor("#d6e6f5"))
        palette.setColor(QPalette.ColorRole.HighlightedText, palette.color(QPalette.ColorRole.Text))
        self.setPalette(palette)
        self.setToolTip("Select one or more classes (Ctrl/Shift+click) to see their images")
        self.selectionModel().selectionChanged.connect(self._emit_selection)
        self._kept: list[str] = []
        model.modelAboutToBeReset.connect(self._remember_selection)
        model.modelReset.connect(self._restore_selection)

    def selected_classes(self) -> list[int]:
        return sorted(i.row() for i in self.selectionModel().selectedRows())

    def select_classes(self, indices: list[int]) -> None:
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        selection = QItemSelection()
        model = self.model()
        for i in indices:
            selection.select(model.index(i, 0), model.index(i, model.columnCount() - 1))
        self.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _remember_selection(self) -> None:
        model: ClassListModel = self.model()  # type: ignore[assignment]
        selected = self.selected_classes()
        # Every class selected means "all": a class the rescan finds new is shown too.
        every = len(selected) == len(model.infos)
        self._kept = [] if every else [model.infos[i].name for i in selected]

    def _restore_selection(self) -> None:
        # Rescans of the same folder keep what the user picked; a new folder shows all.
        model: ClassListModel = self.model()  # type: ignore[assignment]
        names = {info.name: info.index for info in model.infos}
        kept = [names[n] for n in self._kept if n in names]
        if kept:
            self.select_classes(kept)
        else:
            self.selectAll()

    def _emit_selection(self, *_: object) -> None:
        self.classesSelected.emit(self.selected_classes())
