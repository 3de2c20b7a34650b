"""The Evaluate tab's two plots: one arm's confusion matrix as a heat map with counts, and
every arm's training loss. pyqtgraph loads when the first report is shown."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget

from ...core.names import display_name

ARM_COLOURS = ["#4a6fb4", "#e68c3c", "#50a05a", "#aa50a0", "#c83c3c"]
MAX_COUNTS = 30  # above this many classes the cells carry no count text
MAX_TICKS = 40


def _static_plot(owner: QWidget, min_height: int) -> Any:
    import pyqtgraph as pg

    plot = pg.PlotWidget(background=owner.palette().base().color())
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    plot.setMinimumHeight(min_height)
    return plot


def _short(name: str, n: int = 14) -> str:
    name = display_name(name)
    return name if len(name) <= n else name[: n - 1] + "…"


def make_confusion_plot(owner: QWidget) -> Any:
    plot = _static_plot(owner, 260)
    item = plot.getPlotItem()
    item.setLabel("left", "true class")
    item.setLabel("bottom", "predicted class")
    item.invertY(True)
    item.setAspectLocked(True)
    return plot


def draw_confusion(plot: Any, classes: list[str], cm: list[list[int]]) -> None:
    """Cells shaded by the share of their row (each true class's images), with counts."""
    import numpy as np
    import pyqtgraph as pg

    plot.clear()
    m = np.asarray(cm, dtype=float)
    k = len(classes)
    rows = m.sum(axis=1, keepdims=True)
    share = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    image = pg.ImageItem(share.T)  # ImageItem takes [x, y]: x = predicted, y = true
    image.setLookupTable(pg.colormap.get("CET-L12").getLookupTable(nPts=256))
    image.setLevels((0, 1))
    plot.addItem(image)
    if k <= MAX_COUNTS:
        for i in range(k):
            for j in range(k):
                if m[i, j]:
                    colour = "w" if share[i, j] > 0.55 else "k"
                    text = pg.TextItem(str(int(m[i, j])), color=colour, anchor=(0.5, 0.5))
                    text.setPos(j + 0.5, i + 0.5)
                    plot.addItem(text)
    ticks = [(i + 0.5, _short(c)) for i, c in enumerate(classes)] if k <= MAX_TICKS else []
    item = plot.getPlotItem()
    item.getAxis("left").setTicks([ticks])
    item.getAxis("bottom").setTicks([[(x, str(i)) for i, (x, _) in enumerate(ticks)]])
    plot.setRange(xRange=(0, k), yRange=(0, k), padding=0.02)


def make_curve_plot(owner: QWidget) -> Any:
    plot = _static_plot(owner, 220)
    item = plot.getPlotItem()
    item.setLabel("left", "training loss")
    item.setLabel("bottom", "step")
    item.addLegend(offset=(-10, 10))
    return plot


def draw_curves(plot: Any, arms: dict[str, dict]) -> None:
    import pyqtgraph as pg

    item = plot.getPlotItem()
    item.clear()
    if item.legend is not None:
        item.legend.clear()
    for i, (name, arm) in enumerate(arms.items()):
        curve = arm.get("curve") or []
        if curve:
            xs, ys = zip(*curve, strict=True)
            pen = pg.mkPen(ARM_COLOURS[i % len(ARM_COLOURS)], width=2)
            item.plot(list(xs), list(ys), pen=pen, name=name)
