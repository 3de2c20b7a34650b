"""Raw pixels from a worker to a QPixmap: the one conversion that happens on the GUI thread.

Workers decode and send tightly packed RGB or RGBA bytes; wrapping them is a copy, not a
decode, so it is cheap enough for the GUI thread.
"""

from __future__ import annotations

from PySide6.QtGui import QImage, QPixmap


def pixmap_from_raw(data: bytes | memoryview, width: int, height: int, mode: str) -> QPixmap:
    """A QPixmap of packed 8-bit "RGB" or "RGBA" pixels (the bytes are copied)."""
    rgba = mode == "RGBA"
    fmt = QImage.Format.Format_RGBA8888 if rgba else QImage.Format.Format_RGB888
    image = QImage(data, width, height, width * (4 if rgba else 3), fmt)
    return QPixmap.fromImage(image)
