"""Source and result side by side, with the parameters applied and Accept / Reject."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ...core.augment.apply import BOOKKEEPING_PARAMS
from ...core.generation import GeneratedImage
from ..jobs import runner, start_job
from ..qimage import pixmap_from_raw
from ..workers import DecodedImage, decode_for_viewer

VIEW_SIDE = 220  # pixels each image gets in the comparison


def describe_params(params: dict) -> str:
    """The applied transforms, one per line, with their drawn values (rounded)."""
    if "prompt" in params and "strength" in params:  # diffusion img2img
        return describe_diffusion(params)
    applied = params.get("applied")
    if not isinstance(applied, list):
        return json.dumps(params, indent=1, default=str)
    if not applied:
        return "no transform applied (each one's probability said no): a plain copy"
    lines = []
    for step in applied:
        values = step.get("params") or {}
        shown = ", ".join(
            f"{k} {_short(v)}"
            for k, v in values.items()
            if k not in BOOKKEEPING_PARAMS and _short(v) != ""
        )
        lines.append(f"{step.get('name', '?')}: {shown}" if shown else step.get("name", "?"))
    return "\n".join(lines)


def describe_diffusion(params: dict) -> str:
    model = params.get("model") or {}
    lines = [f"prompt: {params.get('prompt', '')}"]
    if params.get("negative_prompt"):
        lines.append(f"negative prompt: {params['negative_prompt']}")
    lines.append(
        f"strength {_short(params.get('strength'))} · {params.get('steps')} steps · guidance "
        f"{_short(params.get('guidance'))} · {params.get('size')} px"
        + (f" · {params['device']}" if params.get("device") else "")
    )
    if isinstance(model, dict):
        lines.append(f"model: {model.get('path', '?')} ({model.get('fingerprint', '')})")
    return "\n".join(lines)


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, dict):
        return " ".join(f"{k}={_short(v)}" for k, v in value.items())
    if isinstance(value, list):
        if len(value) > 4 or any(isinstance(v, list) for v in value):
            return ""  # matrices and maps: in the record, too long to read here
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return str(value)


class ImageBox(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(VIEW_SIDE // 2, VIEW_SIDE // 2)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setStyleSheet("QLabel { background: palette(base); }")
        self._pixmap: QPixmap | None = None

    def show_pixmap(self, pixmap: QPixmap | None, text: str = "") -> None:
        self._pixmap = pixmap
        if pixmap is None:
            self.clear()
            self.setText(text)
        else:
            self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self._pixmap is None:
            return
        side = max(16, min(self.width(), self.height()) - 4)
        # Small images (digits are 32 px) are enlarged without smoothing, to see the pixels.
        mode = (
            Qt.TransformationMode.FastTransformation
            if self._pixmap.width() < side
            else Qt.TransformationMode.SmoothTransformation
        )
        self.setPixmap(self._pixmap.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, mode))


class CompareView(QWidget):
    """Shows one generated image against its source; decodes both in worker threads."""

    acceptRequested = Signal(object)  # GeneratedImage
    rejectRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: GeneratedImage | None = None
        self._root = ""
        # One decode per box at a time: a newer image replaces the older one's decode.
        self._keys = (object(), object())
        self.title = QLabel("Click a generated image to compare it with its source")
        self.title.setWordWrap(True)
        self.source_box = ImageBox(self)
        self.result_box = ImageBox(self)
        self.source_label = QLabel("Source")
        self.result_label = QLabel("Generated")
        grid = QGridLayout()
        grid.addWidget(self.source_label, 0, 0)
        grid.addWidget(self.result_label, 0, 1)
        grid.addWidget(self.source_box, 1, 0)
        grid.addWidget(self.result_box, 1, 1)
        self.params = QPlainTextEdit(readOnly=True)
        self.params.setPlaceholderText("Parameters applied")
        self.params.setMaximumHeight(160)
        self.accept_button = QPushButton("Accept (A)")
        self.reject_button = QPushButton("Reject (R)")
        self.accept_button.clicked.connect(lambda: self._emit(self.acceptRequested))
        self.reject_button.clicked.connect(lambda: self._emit(self.rejectRequested))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.reject_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(grid, 1)
        layout.addWidget(self.params)
        layout.addLayout(buttons)
        self._set_enabled(False)

    def set_root(self, root: str) -> None:
        self._root = root

    def show_image(self, image: GeneratedImage | None) -> None:
        self.image = image
        if image is None:
            for key in self._keys:
                runner().cancel(key)
            self.title.setText("Click a generated image to compare it with its source")
            self.source_box.show_pixmap(None)
            self.result_box.show_pixmap(None)
            self.params.clear()
            self._set_enabled(False)
            return
        self.title.setText(
            f"<b>{image.class_name}</b> · {image.id} · {image.generator} · seed {image.seed}"
            f" · <i>{image.status}</i>"
        )
        self.source_label.setText("Source: " + " + ".join(image.sources))
        self.result_label.setText(f"Generated ({image.generator})")
        self.params.setPlainText(describe_params(image.params))
        self.source_box.show_pixmap(None, "loading…")
        self.result_box.show_pixmap(None, "loading…")
        self._decode(f"{self._root}/{image.sources[0]}", self.source_box, self._keys[0])
        self._decode(str(image.file), self.result_box, self._keys[1])
        # A rejected image is taken back with Undo, not decided on again.
        self._set_enabled(image.status != "rejected")

    def _decode(self, path: str, box: ImageBox, key: object) -> None:
        start_job(
            decode_for_viewer, 0, path, owner=self, key=key,
            done=lambda decoded, b=box: self._decoded(decoded, b),
            error=lambda exc, b=box: b.show_pixmap(None, str(exc)),
        )  # fmt: skip

    def _decoded(self, decoded: DecodedImage, box: ImageBox) -> None:
        if decoded.error:
            box.show_pixmap(None, decoded.error)
            return
        box.show_pixmap(pixmap_from_raw(decoded.data, decoded.width, decoded.height, decoded.mode))

    def _emit(self, signal) -> None:
        if self.image is not None:
            signal.emit(self.image)

    def _set_enabled(self, on: bool) -> None:
        self.accept_button.setEnabled(on)
        self.reject_button.setEnabled(on)
