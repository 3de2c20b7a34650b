"""The QA gallery's model: generated images with their status, thumbnails from a loader."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QPixmap

from ...core.generation import GeneratedImage

ImageRole = Qt.ItemDataRole.UserRole + 1
ClassRole = Qt.ItemDataRole.UserRole + 2
StatusRole = Qt.ItemDataRole.UserRole + 3

STATUS_COLORS = {
    "accepted": QColor(46, 160, 67, 90),
    "rejected": QColor(218, 54, 51, 110),
    "unreviewed": QColor(230, 170, 20, 110),  # diffusion: waits for a person's review
}

_Index = QModelIndex | QPersistentModelIndex


class GeneratedModel(QAbstractListModel):
    """One row per generated image; `thumbnails` is a `ThumbnailLoader` (or anything with
    `pixmap(path) -> QPixmap | None`, requesting it when missing)."""

    def __init__(self, thumbnails: Any = None, parent=None, tile: int = 96) -> None:
        super().__init__(parent)
        self._images: list[GeneratedImage] = []
        self._row_of: dict[str, int] = {}
        self.thumbnails = thumbnails
        self.tile = tile
        # Small images (a 32-px digit) are enlarged to the tile, without smoothing, so the
        # pixels can be judged; the enlarged copies are kept (a few KB each).
        self._scaled: dict[str, QPixmap] = {}

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._images)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        g = self._images[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{g.class_name} #{g.ordinal + 1}"
        if role == Qt.ItemDataRole.DecorationRole and self.thumbnails is not None:
            return self._thumbnail(str(g.file))
        if role == Qt.ItemDataRole.SizeHintRole:
            return QSize(self.tile + 12, self.tile + 24)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{g.id}\n{g.generator} of {', '.join(g.sources)}\nseed {g.seed}, {g.status}"
            if g.params.get("prompt") is not None:
                tip += f"\nprompt: {g.params['prompt']}"
            return tip
        if role == Qt.ItemDataRole.BackgroundRole:
            return STATUS_COLORS.get(g.status)
        if role == ImageRole:
            return g
        if role == ClassRole:
            return g.class_name
        if role == StatusRole:
            return g.status
        return None

    def _thumbnail(self, path: str) -> QPixmap | None:
        scaled = self._scaled.get(path)
        if scaled is not None:
            return scaled
        pixmap = self.thumbnails.pixmap(path)
        if pixmap is None or pixmap.isNull():
            return None
        if max(pixmap.width(), pixmap.height()) < self.tile:
            pixmap = pixmap.scaled(
                self.tile,
                self.tile,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation,
            )
            self._scaled[path] = pixmap
        return pixmap

    # -- edits ---------------------------------------------------------------------------
    def set_images(self, images: list[GeneratedImage]) -> None:
        self.beginResetModel()
        self._images = list(images)
        self._row_of = {g.id: i for i, g in enumerate(self._images)}
        self.endResetModel()

    def add_images(self, images: list[GeneratedImage]) -> None:
        new = [g for g in images if g.id not in self._row_of]
        for g in images:
            if g.id in self._row_of:
                self.update_image(g)
        if not new:
            return
        first = len(self._images)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        for g in new:
            self._row_of[g.id] = len(self._images)
            self._images.append(g)
        self.endInsertRows()

    def update_image(self, image: GeneratedImage) -> None:
        row = self._row_of.get(image.id)
        if row is None:
            return
        self._images[row] = image
        index = self.index(row)
        self.dataChanged.emit(index, index)

    def refresh_paths(self, paths: list[str]) -> None:
        """Thumbnails arrived for these files: repaint their tiles."""
        wanted = set(paths)
        for row, g in enumerate(self._images):
            if str(g.file) in wanted:
                index = self.index(row)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def images(self) -> list[GeneratedImage]:
        return list(self._images)

    def row_of(self, image_id: str) -> int | None:
        return self._row_of.get(image_id)

    def image(self, image_id: str) -> GeneratedImage | None:
        row = self._row_of.get(image_id)
        return None if row is None else self._images[row]


class ClassFilter(QSortFilterProxyModel):
    """Shows one class (or all, with an empty filter)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._class = ""

    def set_class(self, name: str) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.10; invalidateFilter is deprecated
            self.beginFilterChange()
            self._class = name
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self._class = name
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: _Index) -> bool:
        if not self._class:
            return True
        index = self.sourceModel().index(row, 0, parent)
        return index.data(ClassRole) == self._class
