"""The QA gallery's model: generated images with their status, thumbnails from a loader.

Rows stay in slot order (diffusion images first, since they await a person's review before the
export takes them; then class, then plan task), a rejected image first in its slot and its
replacement right after it: a decision, a replacement or a reload never reshuffles the grid,
so the tile under the user's eye stays there and a replacement appears beside what it
replaces.
"""

from __future__ import annotations

import bisect
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QPixmap

from ...core.generation import GeneratedImage
from ...core.generation.diffusion import GENERATOR as DIFFUSION

ImageRole = Qt.ItemDataRole.UserRole + 1
ClassRole = Qt.ItemDataRole.UserRole + 2
StatusRole = Qt.ItemDataRole.UserRole + 3

STATUSES = ("unreviewed", "pending", "accepted", "rejected")  # unreviewed: diffusion

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
        self._keys: list[tuple[int, int, int]] = []  # each row's slot, in row order
        # Set by the panel from the plan and the project: ImageFolder class order, and the
        # order in which a slot's images were rejected.
        self.class_rank: dict[str, int] = {}
        self.rejected_order: dict[str, int] = {}

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
    def slot_key(self, g: GeneratedImage) -> tuple[int, int, int]:
        # By generator, not by status: a decision must not move the tile from under the user.
        first = 0 if g.generator == DIFFUSION else 1
        return (first, self.class_rank.get(g.class_name, len(self.class_rank)), g.ordinal)

    def _order(self, images: list[GeneratedImage]) -> list[GeneratedImage]:
        """Slot order; within a slot the rejected images (oldest rejection first), then
        the slot's current image."""
        last = len(self.rejected_order)

        def key(g: GeneratedImage):
            rejected = g.status == "rejected"
            return (*self.slot_key(g), 0 if rejected else 1,
                    self.rejected_order.get(g.id, last) if rejected else 0)  # fmt: skip

        return sorted(images, key=key)

    def set_images(self, images: list[GeneratedImage]) -> None:
        self.beginResetModel()
        self._images = self._order(list(images))
        self._reindex()
        self.endResetModel()

    def merge_images(self, images: list[GeneratedImage]) -> None:
        """Show exactly `images`, in place: rows that stay are updated (the view keeps its
        selection and scroll position), rows gone are removed, new rows are inserted at
        their slot."""
        wanted = {g.id: g for g in images}
        for row in range(len(self._images) - 1, -1, -1):
            if self._images[row].id not in wanted:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._images[row]
                del self._keys[row]
                self.endRemoveRows()
        self._reindex()
        self.add_images(self._order(list(wanted.values())))

    def add_images(self, images: list[GeneratedImage]) -> None:
        """Update the images already shown; insert the new ones at their slot (after the
        images already in that slot)."""
        fresh: dict[str, GeneratedImage] = {}
        for g in images:
            if g.id in self._row_of:
                self.update_image(g)
            else:
                fresh.setdefault(g.id, g)
        if not fresh:
            return
        new = list(fresh.values())
        keys = [self.slot_key(g) for g in new]
        # Most images arrive after everything shown (one insertion for all of them); the few a
        # busy worker finished late go to their slot one by one.
        last = self._keys[-1] if self._keys else None
        tail = sorted(
            (i for i, k in enumerate(keys) if last is None or k >= last), key=keys.__getitem__
        )
        late = [i for i in range(len(new)) if last is not None and keys[i] < last]
        if tail:
            first = len(self._images)
            self.beginInsertRows(QModelIndex(), first, first + len(tail) - 1)
            for row, i in enumerate(tail, start=first):
                self._images.append(new[i])
                self._keys.append(keys[i])
                self._row_of[new[i].id] = row
            self.endInsertRows()
        for i in late:
            row = bisect.bisect_right(self._keys, keys[i])
            self.beginInsertRows(QModelIndex(), row, row)
            self._images.insert(row, new[i])
            self._keys.insert(row, keys[i])
            self.endInsertRows()
        if late:
            self._reindex()  # rows after an insertion moved

    def _reindex(self) -> None:
        self._row_of = {g.id: i for i, g in enumerate(self._images)}
        self._keys = [self.slot_key(g) for g in self._images]

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

    def image_at(self, row: int) -> GeneratedImage | None:
        return self._images[row] if 0 <= row < len(self._images) else None

    def image(self, image_id: str) -> GeneratedImage | None:
        row = self._row_of.get(image_id)
        return None if row is None else self._images[row]


class ClassFilter(QSortFilterProxyModel):
    """Shows one class (or all, with an empty filter) and one review state (or all)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._class = ""
        self._status = ""

    def set_class(self, name: str) -> None:
        self._refilter(lambda: setattr(self, "_class", name))

    def set_status(self, status: str) -> None:
        """ "pending", "accepted", "rejected", or "" for every state."""
        self._refilter(lambda: setattr(self, "_status", status))

    def _refilter(self, change) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.10; invalidateFilter is deprecated
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            change()
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: _Index) -> bool:
        if not self._class and not self._status:
            return True
        model = self.sourceModel()
        index = model.index(row, 0, parent)
        if self._class and model.data(index, ClassRole) != self._class:
            return False
        return not self._status or model.data(index, StatusRole) == self._status
