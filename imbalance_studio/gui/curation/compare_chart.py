"""Before / after distribution of one split (or all), side by side, updated with the plan."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ...core.dataset import imbalance_ratio, majority_baseline
from ...core.plan import SPLITS, Plan
from ...core.text import plural
from ..views.chart import make_count_plot

BEFORE_COLOR = "#9aa5b1"
AFTER_COLOR = "#2f6fb0"
SPLIT_CHOICES = {
    "Training split": "train",
    "Validation split": "val",
    "Test split": "test",
    "All splits": "all",
}


def _ratio(counts: list[int]) -> str:
    r = imbalance_ratio(counts)
    return "–" if r == 0 else ("∞" if math.isinf(r) else f"{r:,.1f}:1")


def plan_counts(plan: Plan, which: str) -> tuple[list[int], list[int]]:
    """(before, after) per class for one split, or summed over all splits."""
    splits = SPLITS if which == "all" else (which,)
    before = [sum(plan.splits[s][c].original for s in splits) for c in range(len(plan.classes))]
    after = [sum(plan.splits[s][c].final for s in splits) for c in range(len(plan.classes))]
    return before, after


class CompareChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.split_box = QComboBox()
        self.split_box.addItems(list(SPLIT_CHOICES))
        self.split_box.currentIndexChanged.connect(lambda _i: self._redraw())
        self.summary = QLabel("–")
        self.summary.setWordWrap(True)
        legend = QLabel(
            f"<span style='color:{BEFORE_COLOR}'>■</span> before &nbsp; "
            f"<span style='color:{AFTER_COLOR}'>■</span> after the plan"
        )
        top = QHBoxLayout()
        top.addWidget(QLabel("Show:"))
        top.addWidget(self.split_box)
        top.addStretch(1)
        top.addWidget(legend)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addLayout(top)
        self._layout.addWidget(self.summary)
        self.plot: Any = None
        self.plan: Plan | None = None
        self.before: list[int] = []
        self.after: list[int] = []
        self._stale = False  # bars not drawn for the current numbers

    @property
    def split(self) -> str:
        return SPLIT_CHOICES[self.split_box.currentText()]

    def set_plan(self, plan: Plan | None) -> None:
        self.plan = plan
        self._redraw()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._stale:
            self._draw_bars()

    def _redraw(self) -> None:
        """The numbers at once; the bars when the chart is on screen (the Balance tab is
        hidden at start-up, and a pyqtgraph plot costs 10-20 ms of the GUI thread)."""
        if self.plan is None:
            self.before, self.after = [], []
            self.summary.setText("The plan appears once the folder has been scanned.")
        else:
            before, after = plan_counts(self.plan, self.split)
            self.before, self.after = before, after
            # Each figure is kept whole (no wrap inside, not even at the hyphen of
            # "majority-class"): a narrow tab wraps between figures ("images 700 →" above "42").
            # A class with no image here (an empty folder) cannot be balanced and made both
            # figures ∞ whatever the plan did: it is left out of the ratio, and said so.
            held = [c for c, n in enumerate(before) if n]
            empty = len(before) - len(held)
            ratio = f"{_ratio([before[c] for c in held])} → {_ratio([after[c] for c in held])}"
            items = [
                f"<b>Imbalance ratio</b> {ratio}",
                f"<b>majority-class baseline accuracy</b> {majority_baseline(before):.1%} → "
                f"{majority_baseline(after):.1%}",
                f"images {sum(before):,} → {sum(after):,}",
            ]
            if empty and held:  # its own figure: the line may wrap before it
                items.insert(1, f"({plural(empty, 'class', 'classes')} without images not counted)")
            # (Qt's rich text ignores white-space:nowrap for these breaks: no-break spaces, and
            # U+2011, the no-break hyphen.)
            whole = [i.replace(" ", "&nbsp;").replace("-", "\u2011") for i in items]
            self.summary.setText(" &nbsp;·&nbsp; ".join(whole))
        self._stale = True
        if self.isVisible():
            self._draw_bars()

    def _draw_bars(self) -> None:
        import pyqtgraph as pg

        self._stale = False
        if self.plot is None:
            self.plot = make_count_plot(self, min_height=140)
            self._layout.addWidget(self.plot, 1)
        self.plot.clear()
        if self.plan is None:
            return
        before, after = self.before, self.after
        n = len(before)
        ys = [n - 1 - i for i in range(n)]
        self.plot.addItem(
            pg.BarGraphItem(
                x0=0,
                y=[y + 0.2 for y in ys],
                height=0.38,
                width=before,
                brush=BEFORE_COLOR,
                pen=pg.mkPen(None),
            )
        )
        self.plot.addItem(
            pg.BarGraphItem(
                x0=0,
                y=[y - 0.2 for y in ys],
                height=0.38,
                width=after,
                brush=AFTER_COLOR,
                pen=pg.mkPen(None),
            )
        )
        axis = self.plot.getPlotItem().getAxis("left")
        axis.setTicks([[(y, name[:18]) for y, name in zip(ys, self.plan.classes, strict=True)]])
        top = max([*before, *after, 1])
        self.plot.setXRange(0, top * 1.05, padding=0)
        self.plot.setYRange(-0.6, n - 0.4, padding=0)
