"""The thumbnail gallery: a virtualised icon-mode QListView with a painting delegate.

Only tiles that are painted ask for a thumbnail; scrolling marks older requests stale.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import (
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QPainter, QPaintEvent, QPalette, QPixmap, QRegion
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
)

from ...core.dataset import Sample
from ..models.gallery import GalleryModel, ThumbnailFailureRole

Index = QModelIndex | QPersistentModelIndex
Overlay = Callable[[QPainter, QRect, Index], None]

THUMB_BOX = 128
TILE = QSize(THUMB_BOX + 16, THUMB_BOX + 30)


class GalleryDelegate(QStyledItemDelegate):
    """Paints a tile: thumbnail (or a placeholder), file name, selection frame, overlays.

    Other panels add badges with `add_overlay(fn)`; `fn(painter, thumb_rect, index)` runs
    after the tile is painted, with `thumb_rect` the square where the thumbnail sits.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.overlays: list[Overlay] = []

    def add_overlay(self, overlay: Overlay) -> None:
        self.overlays.append(overlay)

    def remove_overlay(self, overlay: Overlay) -> None:
        self.overlays.remove(overlay)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return TILE

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        palette = option.palette
        rect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        if selected:
            painter.fillRect(
                rect.adjusted(2, 2, -2, -2), palette.color(QPalette.ColorRole.Highlight)
            )
        box = QRect(
            rect.left() + (rect.width() - THUMB_BOX) // 2, rect.top() + 6, THUMB_BOX, THUMB_BOX
        )
        # model.data(), not index.data(): PySide6 6.12's QModelIndex.data() over-releases
        # None when a Python model returns it, and Python aborts after enough calls.
        model = index.model()
        pixmap = model.data(index, Qt.ItemDataRole.DecorationRole)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            size = pixmap.size().scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(box.center())
            painter.drawPixmap(target, pixmap)
        else:
            failure = model.data(index, ThumbnailFailureRole)
            painter.fillRect(box, palette.color(QPalette.ColorRole.AlternateBase))
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(
                box.adjusted(6, 6, -6, -6),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                f"cannot show:\n{failure}" if failure else "loading…",
            )
        text_rect = QRect(rect.left() + 4, box.bottom() + 4, rect.width() - 8, 18)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(palette.color(role))
        name = str(model.data(index, Qt.ItemDataRole.DisplayRole) or "")
        elided = option.fontMetrics.elidedText(
            name, Qt.TextElideMode.ElideMiddle, text_rect.width()
        )
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, elided
        )
        painter.restore()
        for overlay in self.overlays:
            painter.save()
            overlay(painter, box, index)
            painter.restore()


class GalleryView(QListView):
    """The gallery model's samples as a wrapping grid of tiles (the delegate draws them)."""

    activatedSample = Signal(int)  # row opened with double-click or Enter
    currentRowChanged = Signal(int)  # -1 when nothing is current

    EMPTY_TEXT = "Select one or more classes on the left to see their images."

    def __init__(self, model: GalleryModel, parent=None) -> None:
        super().__init__(parent)
        # List mode flowing left to right and wrapping, not icon mode: the same grid of tiles,
        # but laid out from the uniform item size alone. Icon mode keeps an item per row (a
        # million at a million samples) and makes a model index for each as it lays them out,
        # a call into Python per row; a filtered-out run of rows re-lays out the rest.
        self.setViewMode(QListView.ViewMode.ListMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)  # one sizeHint for all rows: no per-row layout pass
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(2000)
        self.setGridSize(TILE)
        self.setSpacing(0)
        self.setWrapping(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(TILE.height() // 3)
        self.delegate = GalleryDelegate(self)
        self.setItemDelegate(self.delegate)
        self.setModel(model)
        self.empty_text = self.EMPTY_TEXT
        self.doubleClicked.connect(lambda index: self.activatedSample.emit(index.row()))
        self.selectionModel().currentChanged.connect(
            lambda cur, _prev: self.currentRowChanged.emit(cur.row() if cur.isValid() else -1)
        )
        self.verticalScrollBar().valueChanged.connect(self._on_scroll)
        model.modelReset.connect(self._on_scroll)
        loader = model.loader
        if loader is not None:
            loader.thumbnailsReady.connect(lambda _paths: self.viewport().update())

    def gallery_model(self) -> GalleryModel:
        return self.model()  # type: ignore[return-value]

    def selected_rows(self) -> list[int]:
        # From the selection's ranges: one QModelIndex per selected row costs ~8 ms a
        # thousand on the GUI thread (a shift-click over 10,000 tiles, then Del).
        rows: set[int] = set()
        for span in self.selectionModel().selection():
            rows.update(range(span.top(), span.bottom() + 1))
        return sorted(rows)

    def selected_samples(self) -> list[Sample]:
        """The samples the user selected in the gallery, in gallery order."""
        return self.gallery_model().samples(self.selected_rows())

    def selected_paths(self) -> list[str]:
        """The relative paths of the selected samples, in gallery order."""
        return self.gallery_model().paths(self.selected_rows())

    def set_current_row(self, row: int) -> None:
        index = self.model().index(row, 0)
        if index.isValid():
            self.setCurrentIndex(index)
            self.scrollTo(index)

    def visualRegionForSelection(self, selection: QItemSelection) -> QRegion:
        """The whole viewport: QListView's own walks every row of the selection (an index and
        three rowCount calls per row, ~40 ms on the GUI thread when 10,000 rows are selected
        or leave the filter), and repainting the viewport paints only the visible tiles."""
        return QRegion(self.viewport().rect())

    def _on_scroll(self, *_: object) -> None:
        loader = self.gallery_model().loader
        if loader is not None:
            loader.new_generation()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.activatedSample.emit(self.currentIndex().row())
            return
        super().keyPressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.model().rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(
                self.viewport().rect().adjusted(20, 20, -20, -20),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.empty_text,
            )
            return
        super().paintEvent(event)
