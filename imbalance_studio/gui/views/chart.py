"""The class distribution: a bar chart sorted by count, with the two numbers that matter.
Once marks change a class's count, its bar shows the count after the marks over a pale bar
of the original, labelled "120 → 118".

pyqtgraph takes half a second to import, so the plot is built on the first `set_counts()`,
after the window is on screen; the headline numbers are plain labels.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from ...core.dataset import MINORITY_FRACTION, ClassInfo, imbalance_ratio, majority_baseline
from ..models.class_list import MAJORITY_COLOR, MINORITY_COLOR

# Above this many classes the bars get no count labels (they would overlap).
MAX_LABELLED_BARS = 40


def ratio_text(counts: list[int]) -> str:
    ratio = imbalance_ratio(counts)
    if not counts or ratio == 0:
        return "Imbalance ratio: –"
    if math.isinf(ratio):
        return "Imbalance ratio: ∞ (a class has no images)"
    return f"Imbalance ratio: {ratio:,.1f} : 1  (largest / smallest class)"


def baseline_text(infos: list[ClassInfo]) -> str:
    counts = [c.count for c in infos]
    if not counts or sum(counts) == 0:
        return "Majority-class baseline accuracy: –"
    largest = max(infos, key=lambda c: c.count)
    return (
        f"Majority-class baseline accuracy: {majority_baseline(counts):.1%} — a model that "
        f"always answers “{largest.name}” scores this, so plain accuracy says little."
    )


class DistributionChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ratio_label = QLabel(ratio_text([]))
        self.baseline_label = QLabel(baseline_text([]))
        self.baseline_label.setWordWrap(True)
        self.legend_label = QLabel(
            f"<span style='color:{MINORITY_COLOR.name()}'>■</span> minority class "
            f"(fewer than {MINORITY_FRACTION:.0%} of the largest) &nbsp; "
            f"<span style='color:{MAJORITY_COLOR.name()}'>■</span> other classes"
        )
        self.legend_label.setTextFormat(Qt.TextFormat.RichText)
        font = self.ratio_label.font()
        font.setBold(True)
        self.ratio_label.setFont(font)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self._layout.addWidget(self.ratio_label)
        self._layout.addWidget(self.baseline_label)
        self._layout.addWidget(self.legend_label)
        self._placeholder = QLabel("")
        self._placeholder.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._layout.addWidget(self._placeholder, 1)
        self.plot: Any = None  # pyqtgraph.PlotWidget once built
        self.bars: Any = None  # pyqtgraph.BarGraphItem of the current data
        self.order: list[ClassInfo] = []  # classes in bar order (largest first)
        self.infos: list[ClassInfo] = []
        self.after: list[int] | None = None  # per class index, after the marks
        self.labels: list[str] = []  # the count labels, in bar order
        # A mark edit redraws on the next turn of the event loop, in an event of its own (a
        # rebuild of the plot is 10-20 ms; the edit's own event is busy enough at a million
        # samples), and a burst of edits costs one redraw.
        self._redraw_timer = QTimer(self, singleShot=True, interval=0)
        self._redraw_timer.timeout.connect(lambda: self._draw(self.infos))

    def set_infos(self, infos: list[ClassInfo]) -> None:
        counts = [c.count for c in infos]
        self.ratio_label.setText(ratio_text(counts))
        self.baseline_label.setText(baseline_text(infos))
        # `after` stays: the curation counts a new dataset's marks as soon as it is shown,
        # before its chart is drawn (a moment later, see MainWindow._on_dataset), and clears
        # it when there is nothing to show; counts of another length are never drawn.
        self.infos = list(infos)
        if self.after is not None and len(self.after) != len(self.infos):
            self.after = None
        self._redraw_timer.stop()  # this draw shows the marks too
        self._draw(infos)

    def set_after_marks(self, after: list[int] | None) -> None:
        """Draw each class's count after the marks over its original bar (None: none)."""
        if after is not None and len(after) != len(self.infos):
            after = None
        if after == self.after:
            return
        self.after = after
        self._redraw_timer.start()

    def prepare(self) -> None:
        """Make the (empty) plot now: the first pyqtgraph plot costs 15-30 ms on the GUI
        thread, better spent while a folder is listed than when its listing is shown."""
        self._ensure_plot()

    def _ensure_plot(self) -> Any:
        if self.plot is None:
            self.plot = make_count_plot(self, min_height=120)
            self._layout.replaceWidget(self._placeholder, self.plot)
            self._placeholder.deleteLater()
        return self.plot

    def _draw(self, infos: list[ClassInfo]) -> None:
        import pyqtgraph as pg

        plot = self._ensure_plot()
        plot.clear()
        # Horizontal bars, largest on top: class names stay readable in a narrow panel.
        self.order = sorted(infos, key=lambda c: (-c.count, c.index))
        n = len(self.order)
        if n == 0:
            self.bars = None
            return
        ys = [n - 1 - i for i in range(n)]
        counts = [c.count for c in self.order]
        after = [self.after[c.index] for c in self.order] if self.after else counts
        colors = [MINORITY_COLOR if c.is_minority else MAJORITY_COLOR for c in self.order]
        if after != counts:
            # The original count as a pale bar behind the count after the marks.
            pale = [QColor(col.red(), col.green(), col.blue(), 70) for col in colors]
            behind = pg.BarGraphItem(
                x0=0, y=ys, height=0.7, width=counts, brushes=[pg.mkBrush(c) for c in pale],
                pen=pg.mkPen(None),
            )  # fmt: skip
            plot.addItem(behind)
        self.bars = pg.BarGraphItem(
            x0=0, y=ys, height=0.7, width=after, brushes=[pg.mkBrush(c) for c in colors],
            pen=pg.mkPen(None),
        )  # fmt: skip
        plot.addItem(self.bars)
        left = plot.getPlotItem().getAxis("left")
        left.setTicks([[(y, _short(c.name)) for y, c in zip(ys, self.order, strict=True)]])
        top = max(max(counts), max(after)) or 1
        self.labels = [
            f"{c.count:,}" if a == c.count else f"{c.count:,} → {a:,}"
            for c, a in zip(self.order, after, strict=True)
        ]
        if n <= MAX_LABELLED_BARS:
            for y, c, a, text in zip(ys, self.order, after, self.labels, strict=True):
                label = pg.TextItem(text, color=self.palette().text().color(), anchor=(0, 0.5))
                label.setPos(max(c.count, a), y)
                plot.addItem(label)
        # Room on the right for the count labels ("150 → 144" needs more than "150").
        room = 1.35 if any("→" in t for t in self.labels) else 1.18
        plot.setXRange(0, top * room, padding=0)
        plot.setYRange(-0.6, n - 0.4, padding=0)


def make_count_plot(owner: QWidget, min_height: int) -> Any:
    """A static pyqtgraph plot for image counts (no zoom, pan or context menu)."""
    import pyqtgraph as pg

    # enableMenu=False: the view box never builds its context menu (a few ms of the GUI
    # thread per plot, for a menu this static chart would hide anyway).
    plot = pg.PlotWidget(background=owner.palette().base().color(), enableMenu=False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    plot.getPlotItem().setLabel("bottom", "images")
    plot.setMinimumHeight(min_height)
    return plot


def _short(name: str, limit: int = 18) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
