"""The preview grid: N augmented variants of the sample, rendered off the GUI thread.

Each tile is what generation makes from the sample with that tile's seed (see
`core.augment.preview`); a large sample is previewed on a downscaled copy, and the grid says
so under the tiles.

A change restarts a short debounce timer; when it fires, one render job is started with a new
generation number. Renders share one job-runner key: a newer one replaces the older, whose
result is never shown (a stale grid never overwrites a newer) and which stops at its next step
(after decoding, after rendering) or never starts when it is still queued.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

from ...core.augment.apply import BOOKKEEPING_PARAMS
from ..jobs import runner, start_job

PREVIEW_SIZE = 256  # tiles are shrunk to this for display; the stack runs before that
DEBOUNCE_MS = 60
TILE_PX = 120


@dataclass(frozen=True)
class PreviewRequest:
    generation: int
    path: str | None
    # path -> decoded PreviewSource, filled by the job: a replaced render's decode is kept
    # for the next one (a drag of a slider must not decode the sample again and again).
    sources: dict[str, Any]
    stack: dict[str, Any] | None
    n: int
    seed: int


@dataclass(frozen=True)
class PreviewResult:
    generation: int
    path: str | None
    image: Any  # PreviewSource
    tiles: list[Any]  # core.augment.PreviewTile
    qimages: list[QImage | None]
    error: str | None = None


def render_job(req: PreviewRequest) -> Generator[None, None, PreviewResult]:
    """Runs in a worker thread: decode (first time), augment, convert to QImages. Each `yield`
    is a point where a replaced render stops."""
    from ...core.augment.preview import load_preview_source, render_previews
    from ...core.imageio import ImageDecodeError

    image = req.sources.get(req.path) if req.path is not None else None
    if image is None and req.path is not None:
        try:
            image = load_preview_source(req.path)
        except ImageDecodeError as exc:
            return PreviewResult(req.generation, req.path, None, [], [], f"cannot read: {exc}")
        req.sources[req.path] = image  # one assignment: safe from a worker thread
        yield None
    if image is None:
        return PreviewResult(req.generation, None, None, [], [])
    tiles = render_previews(image, req.stack, req.n, req.seed, PREVIEW_SIZE)
    yield None
    qimages = [to_qimage(t.image) if t.image is not None else None for t in tiles]
    return PreviewResult(req.generation, req.path, image, tiles, qimages)


def to_qimage(arr: np.ndarray) -> QImage:
    """A QImage that owns a copy of the pixels (safe to build outside the GUI thread)."""
    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    if arr.ndim == 2 or arr.shape[2] == 1:
        fmt, ch = QImage.Format.Format_Grayscale8, 1
    elif arr.shape[2] == 4:
        fmt, ch = QImage.Format.Format_RGBA8888, 4
    else:
        fmt, ch = QImage.Format.Format_RGB888, 3
    return QImage(arr.data, w, h, w * ch, fmt).copy()


def params_text(params: dict[str, Any]) -> str:
    """Tooltip text: one line per applied transform with the values it drew."""
    applied = params.get("applied", [])
    if not applied:
        return "No transform was applied to this variant (each has its own probability p)."
    lines = []
    for item in applied:
        shown = {k: v for k, v in item["params"].items() if k not in BOOKKEEPING_PARAMS}
        values = ", ".join(f"{k}={_short(v)}" for k, v in shown.items())
        lines.append(f"{item['name']}: {values}" if values else item["name"])
    return "\n".join(lines)


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.3g}")
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def _short(value: Any) -> str:
    value = _rounded(value)
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


class PreviewTileView(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(TILE_PX, TILE_PX)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setFrameShape(QLabel.Shape.StyledPanel)

    def show_image(self, image: QImage, tooltip: str) -> None:
        self.setStyleSheet("")
        pix = QPixmap.fromImage(image)
        mode = Qt.TransformationMode.SmoothTransformation
        if max(image.width(), image.height()) < TILE_PX // 2:
            mode = Qt.TransformationMode.FastTransformation  # keep small images crisp
        self.setPixmap(
            pix.scaled(TILE_PX - 4, TILE_PX - 4, Qt.AspectRatioMode.KeepAspectRatio, mode)
        )
        self.setToolTip(tooltip)

    def show_error(self, text: str) -> None:
        self.setPixmap(QPixmap())
        self.setStyleSheet("color: #c0392b; font-size: 9pt;")
        self.setText(text[:220])
        self.setToolTip(text)


class PreviewGrid(QWidget):
    """Shows the newest grid; `request()` asks for a refresh (debounced)."""

    updated = Signal(int)  # generation of the grid now shown
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self._grid = QGridLayout(self)
        self._grid.setSpacing(4)
        self.tiles: list[Any] = []  # the PreviewTiles on screen
        self.views: list[PreviewTileView] = []
        self.generation = 0  # newest request
        self.shown_generation = 0
        self._path: str | None = None
        self._sources: dict[str, Any] = {}  # the sample's decoded PreviewSource
        self._key = object()  # one render at a time: the newest request replaces the older
        self._source: Any = None  # callable -> (stack, n, seed)
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self._submit)
        # Under the tiles: says when they are a scaled view of a large image.
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(mid); font-size: 9pt;")
        self.note.hide()
        self._grid.addWidget(self.note, 100, 0, 1, 4)

    def set_source(self, source: Any) -> None:
        """`source()` returns (stack, n, seed) for the next render."""
        self._source = source

    def set_sample(self, path: Path | str | None) -> None:
        self._path = str(path) if path is not None else None
        self._sources = {}  # decoded by the next render, in the worker
        self.request()

    def request(self) -> None:
        self._timer.start()

    def request_now(self) -> None:
        self._timer.stop()
        self._submit()

    @property
    def busy(self) -> bool:
        return self._timer.isActive() or runner().running(self._key)

    def _submit(self) -> None:
        if self._source is None:
            return
        stack, n, seed = self._source()
        self.generation += 1
        req = PreviewRequest(self.generation, self._path, self._sources, stack, n, seed)
        if self._path is None:
            self._show_placeholder(n, "Select a sample in the gallery to preview the stack.")
            self.shown_generation = self.generation
            self.updated.emit(self.generation)
            return
        start_job(render_job, req, owner=self, key=self._key,
                  done=self._on_result, error=self._on_error)  # fmt: skip

    def _on_error(self, exc: BaseException) -> None:
        self.message.emit(f"Preview failed: {exc}")

    def _on_result(self, result: PreviewResult) -> None:
        if result.error:
            self._show_placeholder(len(self.views) or 8, result.error)
        else:
            self._show(result)
        self.shown_generation = result.generation
        self.updated.emit(result.generation)

    def _ensure_views(self, n: int) -> None:
        # 8 variants as a tall 4 x 2 grid, 16 as 4 x 4: the editor sits beside the class
        # column in a 1366-pixel window, where width is scarcer than height.
        cols = 2 if n <= 8 else 4
        while len(self.views) < n:
            self.views.append(PreviewTileView(self))
        for i, view in enumerate(self.views):
            if i < n:
                self._grid.addWidget(view, i // cols, i % cols)
            view.setVisible(i < n)

    def _show(self, result: PreviewResult) -> None:
        self._ensure_views(len(result.tiles))
        self.tiles = list(result.tiles)
        note = result.image.note if result.image is not None else ""
        self.note.setText(note)
        self.note.setVisible(bool(note))
        for view, tile, qimg in zip(self.views, result.tiles, result.qimages, strict=False):
            if qimg is None:
                view.show_error(tile.error or "failed")
            else:
                view.show_image(qimg, params_text(tile.params))

    def _show_placeholder(self, n: int, text: str) -> None:
        self._ensure_views(n)
        self.tiles = []
        self.note.hide()
        for view in self.views:
            view.setPixmap(QPixmap())
            view.setStyleSheet("color: palette(mid);")
            view.setText("")
            view.setToolTip("")
        if self.views:
            self.views[0].setText(text)
