"""The Export features dialog's read-only views: the PCA scatter of the training vectors
(real and synthetic points told apart, one colour per class), the counts table and the SVC
check table. They only draw what a background job computed."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

from ...core.names import display_name

# Ten distinguishable colours (matplotlib's tab10), cycled beyond ten classes.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
# A scatter of more points than this shows an even subsample (drawing stays instant).
MAX_POINTS = 20_000
# Above this many classes the plot has no legend (it would hide the points).
MAX_LEGEND = 12


def class_color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def make_scatter(title: str) -> Any:
    import pyqtgraph as pg

    plot = pg.PlotWidget(background="w")
    plot.setTitle(title, color="#333", size="10pt")
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMinimumSize(300, 240)
    for axis in ("bottom", "left"):
        plot.getPlotItem().getAxis(axis).setTextPen("#555")
    return plot


def draw_scatter(plot: Any, points: np.ndarray, y: np.ndarray, synthetic: np.ndarray,
                 classes: tuple[str, ...], legend: bool) -> None:  # fmt: skip
    """Real vectors as filled dots, synthetic ones as crosses, coloured by class."""
    import pyqtgraph as pg

    plot.clear()
    item = plot.getPlotItem()
    if item.legend is not None:
        item.legend.scene().removeItem(item.legend)
        item.legend = None
    if legend and len(classes) <= MAX_LEGEND:
        plot.addLegend(offset=(-4, 4), labelTextColor="#333", brush=pg.mkBrush(255, 255, 255, 200))
    step = max(1, math.ceil(len(y) / MAX_POINTS))
    idx = np.arange(0, len(y), step)
    for c, name in enumerate(classes):
        color = class_color(c)
        for syn in (False, True):
            sel = idx[(y[idx] == c) & (synthetic[idx] == syn)]
            if not len(sel):
                continue
            kw: dict = (
                {"symbol": "x", "size": 7, "pen": pg.mkPen(color, width=1.2), "brush": None}
                if syn
                else {"symbol": "o", "size": 6, "pen": None, "brush": pg.mkBrush(color)}
            )
            # One legend entry per class (the dot); the title says what a cross is.
            label = None if syn else display_name(name)
            plot.addItem(pg.ScatterPlotItem(points[sel, 0], points[sel, 1], name=label, **kw))


def fill_table(table: QTableWidget, header: list[str], rows: list[list[str]]) -> None:
    table.clear()
    table.setColumnCount(len(header))
    table.setRowCount(len(rows))
    table.setHorizontalHeaderLabels(header)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.resizeRowsToContents()


def make_table() -> QTableWidget:
    table = QTableWidget()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.setMinimumHeight(160)
    return table


def counts_rows(trial: Any) -> list[list[str]]:
    fs, res = trial.features, trial.resampled
    n = len(fs.classes)
    before = fs.splits["train"].counts(n)
    after = np.bincount(res.y, minlength=n).tolist() if res is not None else before
    made = np.bincount(res.y[res.synthetic], minlength=n).tolist() if res is not None else [0] * n
    val, test = fs.splits["val"].counts(n), fs.splits["test"].counts(n)
    rows = [
        [
            display_name(name),
            f"{before[i]:,}",
            f"{after[i]:,}",
            f"{made[i]:,}",
            f"{val[i]:,}",
            f"{test[i]:,}",
        ]
        for i, name in enumerate(fs.classes)
    ]
    rows.append(["all", f"{sum(before):,}", f"{sum(after):,}", f"{sum(made):,}",
                 f"{sum(val):,}", f"{sum(test):,}"])  # fmt: skip
    return rows


COUNT_HEADER = ["class", "train kept", "train resampled", "synthetic", "val", "test"]


def _pct(v: float) -> str:
    return "–" if math.isnan(v) else f"{v:.1%}"


def check_rows(check: Any, classes: tuple[str, ...]) -> list[list[str]]:
    o, r = check.original, check.resampled

    def row(name: str, a: float, b: float) -> list[str]:
        delta = "" if math.isnan(a) or math.isnan(b) else f"{(b - a) * 100:+.1f}"
        return [name, _pct(a), _pct(b), delta]

    rows = [
        row("balanced accuracy", o.balanced_accuracy, r.balanced_accuracy),
        row("macro-F1", o.macro_f1, r.macro_f1),
        row("geometric mean (imblearn)", o.geometric_mean, r.geometric_mean),
    ]
    rows += [
        row(f"recall {display_name(name)}", o.recall[i], r.recall[i])
        for i, name in enumerate(classes)
    ]
    return rows


CHECK_HEADER = ["on validation", "SVC() on originals", "SVC() on resampled", "Δ points"]
