"""The sample viewer: one image, decoded on the job runner, with its facts and prev/next keys.

Each viewer (the docked one, every viewer window) decodes under its own job key: moving to
another image replaces the decode still running for the last one, whose result is dropped.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPainter, QPaintEvent, QPalette, QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..models.gallery import GalleryModel
from ..qimage import pixmap_from_raw


class ImageCanvas(QWidget):
    """Draws a pixmap scaled to fit, keeping its aspect ratio (never upscaled past 8x)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pixmap: QPixmap | None = None
        self.message = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 160)

    def sizeHint(self) -> QSize:
        return QSize(320, 320)

    def set_pixmap(self, pixmap: QPixmap | None, message: str = "") -> None:
        self.pixmap, self.message = pixmap, message
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.AlternateBase))
        if self.pixmap is None or self.pixmap.isNull():
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(
                self.rect().adjusted(12, 12, -12, -12),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.message,
            )
            return
        size = self.pixmap.size()
        limit = QSize(size.width() * 8, size.height() * 8).boundedTo(self.size())
        size = size.scaled(limit, Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect(0, 0, size.width(), size.height())
        target.moveCenter(self.rect().center())
        painter.setRenderHint(
            QPainter.RenderHint.SmoothPixmapTransform, size.width() < 4 * self.pixmap.width()
        )
        painter.drawPixmap(target, self.pixmap)


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{n} bytes"


class SampleViewer(QWidget):
    """Shows row `row` of a gallery model; Left/Right, PgUp/PgDn, Home/End move."""

    rowChanged = Signal(int)  # the viewer moved to this row (the gallery follows)
    imageShown = Signal(str)  # absolute path whose decode finished (shown or failed)

    def __init__(self, model: GalleryModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.row = -1
        self._key = ("sample viewer", id(self))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.canvas = ImageCanvas()
        self.canvas.set_pixmap(None, "Click an image in the gallery to see it here.")
        self.fields = {k: QLabel("–") for k in ("Path", "Class", "Pixels", "Mode", "File size")}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name, label in self.fields.items():
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            form.addRow(f"{name}:", label)
        self.prev_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.position = QLabel("")
        self.position.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        for b in (self.prev_button, self.next_button):
            b.setToolTip("Keyboard: ←/→ or PgUp/PgDn when the viewer has focus")
        nav = QHBoxLayout()
        nav.addWidget(self.prev_button)
        nav.addWidget(self.position, 1)
        nav.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(nav)
        layout.addLayout(form)
        model.modelReset.connect(self._on_reset)
        self._update_nav()

    @property
    def busy(self) -> bool:
        from ..jobs import runner  # not at start-up: it brings superqt

        return runner().running(self._key)

    def show_row(self, row: int) -> None:
        if row == self.row and row >= 0:
            return  # the gallery echoing a move the viewer made
        if not 0 <= row < self.model.rowCount():
            self._on_reset()
            return
        self.row = row
        sample = self.model.sample(row)
        dataset = self.model.dataset
        path = self.model.abspath(row)
        self.fields["Path"].setText(sample.path)
        self.fields["Path"].setToolTip(path)
        self.fields["Class"].setText(
            f"{dataset.classes[sample.class_index]} (index {sample.class_index})"
            if dataset
            else "–"
        )
        for key in ("Pixels", "Mode", "File size"):
            self.fields[key].setText("…")
        self.canvas.set_pixmap(self.canvas.pixmap, "")
        self._update_nav()
        self._decode(path)

    def step(self, delta: int) -> None:
        n = self.model.rowCount()
        if n == 0:
            return
        row = min(max(self.row + delta, 0), n - 1) if self.row >= 0 else 0
        if row != self.row:
            self.show_row(row)
            self.rowChanged.emit(row)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        moves = {
            Qt.Key.Key_Left: -1,
            Qt.Key.Key_Right: 1,
            Qt.Key.Key_PageUp: -1,
            Qt.Key.Key_PageDown: 1,
            Qt.Key.Key_Up: -1,
            Qt.Key.Key_Down: 1,
            Qt.Key.Key_Home: -(10**12),
            Qt.Key.Key_End: 10**12,
        }
        delta = moves.get(Qt.Key(event.key()))
        if delta is None:
            super().keyPressEvent(event)
            return
        self.step(delta)

    def _decode(self, path: str) -> None:
        from ..jobs import start_job
        from ..workers import decode_for_viewer

        start_job(decode_for_viewer, 0, path, owner=self, key=self._key, done=self._on_decoded,
                  error=self._on_failed)  # fmt: skip

    def _on_failed(self, exc: BaseException | str) -> None:
        self.canvas.set_pixmap(None, f"Cannot show this file:\n{exc}")
        for key in ("Pixels", "Mode", "File size"):
            self.fields[key].setText("–")

    def _on_decoded(self, result) -> None:  # workers.DecodedImage
        if result.error:
            self._on_failed(result.error)
        else:
            self.canvas.set_pixmap(
                pixmap_from_raw(result.data, result.width, result.height, result.mode)
            )
            info = result.info
            shrunk = (
                " (shown reduced)"
                if (info.width, info.height) != (result.width, result.height)
                else ""
            )
            self.fields["Pixels"].setText(f"{info.width} × {info.height}{shrunk}")
            self.fields["Mode"].setText(f"{info.mode} ({info.format})")
            self.fields["File size"].setText(human_size(info.file_size))
        self.imageShown.emit(result.path)

    def _on_reset(self) -> None:
        from ..jobs import runner

        self.row = -1
        runner().cancel(self._key)  # a decode still running must not paint over the reset
        self.canvas.set_pixmap(None, "Click an image in the gallery to see it here.")
        for label in self.fields.values():
            label.setText("–")
        self._update_nav()

    def _update_nav(self) -> None:
        n = self.model.rowCount()
        self.prev_button.setEnabled(self.row > 0)
        self.next_button.setEnabled(0 <= self.row < n - 1)
        self.position.setText(f"{self.row + 1:,} / {n:,}" if self.row >= 0 else "")
