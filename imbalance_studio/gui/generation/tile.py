"""A QA gallery tile: the thumbnail with its review state as a badge drawn over it.

A tinted background behind the thumbnail was all the state showed before, and a thumbnail
covers almost all of its tile: accepted and pending looked the same. The badge is a labelled
pill on top of the image, and a rejected image is also washed out and struck through.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from .model import StatusRole

Index = QModelIndex | QPersistentModelIndex

# State -> (badge text, pill colour, text colour).
BADGES: dict[str, tuple[str, QColor, QColor]] = {
    "unreviewed": ("unreviewed", QColor("#f9a825"), QColor("#212121")),  # diffusion images
    "pending": ("pending", QColor("#eceff1"), QColor("#37474f")),
    "accepted": ("accepted", QColor("#2e7d32"), QColor("white")),
    "rejected": ("rejected", QColor("#c62828"), QColor("white")),
}
BADGE_HEIGHT = 16


def badge_rect(thumb: QRect) -> QRect:
    """Where the badge sits: across the bottom of the thumbnail square, over the image."""
    return QRect(thumb.left() + 2, thumb.bottom() - BADGE_HEIGHT - 1, thumb.width() - 4,
                 BADGE_HEIGHT)  # fmt: skip


class QATileDelegate(QStyledItemDelegate):
    """Paints a generated image's tile: thumbnail, review badge, name, selection frame."""

    def __init__(self, tile: int, parent=None) -> None:
        super().__init__(parent)
        self.tile = tile

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return QSize(self.tile + 12, self.tile + 24)

    def thumb_rect(self, rect: QRect) -> QRect:
        return QRect(rect.left() + (rect.width() - self.tile) // 2, rect.top() + 4, self.tile,
                     self.tile)  # fmt: skip

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        palette, rect = option.palette, option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        model = index.model()  # model.data(), not index.data() (see views/gallery.py)
        status = str(model.data(index, StatusRole) or "pending")
        painter.save()
        if selected:
            painter.fillRect(
                rect.adjusted(1, 1, -1, -1), palette.color(QPalette.ColorRole.Highlight)
            )
        box = self.thumb_rect(rect)
        pixmap = model.data(index, Qt.ItemDataRole.DecorationRole)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            size = pixmap.size().scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(box.center())
            painter.drawPixmap(target, pixmap)
        else:
            painter.fillRect(box, palette.color(QPalette.ColorRole.AlternateBase))
        if status == "rejected":  # washed out and struck through: left out of the export
            painter.fillRect(box, QColor(255, 255, 255, 150))
            painter.setPen(QPen(BADGES["rejected"][1], 2))
            painter.drawLine(box.topLeft(), box.bottomRight())
            painter.drawLine(box.topRight(), box.bottomLeft())
        self._paint_badge(painter, badge_rect(box), status)
        text_rect = QRect(rect.left() + 2, box.bottom() + 3, rect.width() - 4, 16)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(palette.color(role))
        name = str(model.data(index, Qt.ItemDataRole.DisplayRole) or "")
        elided = option.fontMetrics.elidedText(
            name, Qt.TextElideMode.ElideMiddle, text_rect.width()
        )
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, elided)
        painter.restore()

    @staticmethod
    def _paint_badge(painter: QPainter, rect: QRect, status: str) -> None:
        text, fill, ink = BADGES.get(status, BADGES["pending"])
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(0, 0, 0, 90), 1))
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, 4, 4)
        font = QFont(painter.font())
        font.setBold(True)
        font.setPixelSize(BADGE_HEIGHT - 5)
        painter.setFont(font)
        painter.setPen(ink)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
