"""Item models of the Inspect tab: duplicate groups as rows of thumbnails, flagged images as
a gallery. Thumbnails come from the window's `ThumbnailLoader` (decoded in its processes);
nothing here reads a file."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from ..thumbnail_loader import ThumbnailLoader

GroupRole = Qt.ItemDataRole.UserRole + 1
PathRole = Qt.ItemDataRole.UserRole + 2
TILE = 96  # thumbnail side in a group row
MAX_TILES = 12  # a group row shows this many members, then "+N"
CONFLICT = QColor("#b42318")


class GroupsModel(QAbstractListModel):
    """One row per duplicate group (label conflicts first, as the report orders them)."""

    def __init__(self, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(parent)
        self.loader = loader
        self.root = ""
        self.groups: list = []
        loader.thumbnailsReady.connect(self._arrived)

    def set_groups(self, root: str, groups: list) -> None:
        self.beginResetModel()
        self.root, self.groups = root.rstrip("/") + "/", list(groups)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.groups)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        g = self.groups[index.row()]
        if role == GroupRole:
            return g
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(f"{p}  [{c}]" for p, c in zip(g.paths, g.classes, strict=True))
        return None

    def _arrived(self, _paths: list) -> None:
        if self.groups:
            self.dataChanged.emit(self.index(0), self.index(len(self.groups) - 1))


class GroupDelegate(QStyledItemDelegate):
    """A group row: what kind of group, then each member's thumbnail over its class."""

    def __init__(self, model: GroupsModel, parent=None) -> None:
        super().__init__(parent)
        self.model = model

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return QSize(140 + MAX_TILES * (TILE + 8), TILE + 44)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        g = index.data(GroupRole)
        if g is None:
            return
        painter.save()
        r = option.rect
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(r, option.palette.color(QPalette.ColorRole.Highlight).lighter(160))
        head = QRect(r.left() + 6, r.top() + 6, 128, r.height() - 12)
        painter.setPen(CONFLICT if g.conflict else option.palette.color(QPalette.ColorRole.Text))
        title = (
            "LABEL CONFLICT"
            if g.conflict
            else ("Exact copies" if g.kind == "exact" else "Near duplicates")
        )
        sub = f"{len(g.paths)} images"
        if g.identical:  # a near group with copies in it
            sub += f", {g.copies} identical"
        if g.conflict:
            sub += f"\n{g.kind}, {len(set(g.classes))} classes"
        painter.drawText(
            head, Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap, f"{title}\n{sub}"
        )
        x = r.left() + 140
        loader = self.model.loader
        for path, cls in list(zip(g.paths, g.classes, strict=True))[:MAX_TILES]:
            cell = QRect(x, r.top() + 6, TILE, TILE)
            pm = loader.pixmap(self.model.root + path, sticky=True)
            if pm is not None:
                scaled = pm.scaled(cell.size(), Qt.AspectRatioMode.KeepAspectRatio)
                dx, dy = (TILE - scaled.width()) // 2, (TILE - scaled.height()) // 2
                painter.drawPixmap(cell.left() + dx, cell.top() + dy, scaled)
            else:
                painter.fillRect(cell, QColor("#e6e6e6"))
            painter.setPen(
                CONFLICT if g.conflict else option.palette.color(QPalette.ColorRole.Text)
            )
            label = QRect(x - 2, r.top() + TILE + 8, TILE + 4, 16)
            text = painter.fontMetrics().elidedText(cls, Qt.TextElideMode.ElideMiddle, TILE + 4)
            painter.drawText(label, Qt.AlignmentFlag.AlignCenter, text)
            x += TILE + 8
        if len(g.paths) > MAX_TILES:
            painter.drawText(QRect(x, r.top() + 6, 60, TILE), Qt.AlignmentFlag.AlignVCenter,
                             f"+{len(g.paths) - MAX_TILES}")  # fmt: skip
        painter.restore()


class FlagsModel(QAbstractListModel):
    """The flagged images (under the current thresholds and filter) as gallery tiles."""

    def __init__(self, loader: ThumbnailLoader, parent=None) -> None:
        super().__init__(parent)
        self.loader = loader
        self.root = ""
        self.items: list = []
        loader.thumbnailsReady.connect(self._arrived)

    def set_flags(self, root: str, flags: list) -> None:
        self.beginResetModel()
        self.root, self.items = root.rstrip("/") + "/", list(flags)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.items)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        f = self.items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return ", ".join(i.replace("_", " ") for i in f.issues)
        if role == Qt.ItemDataRole.DecorationRole:
            pm = self.loader.pixmap(self.root + f.path, sticky=True)
            return QIcon(pm) if pm is not None else None  # an icon is scaled to iconSize
        if role == Qt.ItemDataRole.ToolTipRole:
            scores = ", ".join(f"{k} {v:.2f}" for k, v in f.scores.items())
            return f"{f.path}\nissues: {', '.join(f.issues)}\nscores: {scores}"
        if role == PathRole:
            return f.path
        return None

    def _arrived(self, _paths: list) -> None:
        if self.items:
            self.dataChanged.emit(
                self.index(0), self.index(len(self.items) - 1), [Qt.ItemDataRole.DecorationRole]
            )
