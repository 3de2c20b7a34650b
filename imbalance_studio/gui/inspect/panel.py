"""The Inspect tab: duplicate groups (label conflicts first) and flagged images, with the
actions that turn them into remove marks. Started by `Inspection` right after each scan."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...core.inspect.quality import DEFAULT_THRESHOLDS, ISSUES
from ..views.progress_bar import ProgressBar
from .models import FlagsModel, GroupDelegate, GroupRole, GroupsModel

ISSUE_HELP = {
    "dark": "few bright pixels (99th percentile of brightness)",
    "light": "few dark pixels (washed out)",
    "blurry": "weak edges after a contrast stretch",
    "low_information": "a narrow histogram: flat, blank",
    "odd_aspect_ratio": "very wide or very tall",
    "odd_size": "far larger or smaller than the median image",
    "grayscale": "no colour in a colour dataset",
}


class InspectPanel(QWidget):
    inspectRequested = Signal()  # again, with the settings shown
    cancelRequested = Signal()
    settingsChanged = Signal()  # near threshold or grouping changed
    thresholdsChanged = Signal()  # a quality threshold changed
    markGroupsRequested = Signal(bool)  # True: every group; False: the selected ones
    markFlaggedRequested = Signal()

    def __init__(self, loader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = QLabel("Open a folder: its duplicates and flagged images show here.")
        self.status.setWordWrap(True)
        self.progress = ProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.hide()
        self.cancel = QPushButton("Cancel")
        self.cancel.hide()
        self.cancel.clicked.connect(self.cancelRequested)
        self.again = QPushButton("Inspect Again")
        self.again.setToolTip("Inspect the folder again (unchanged files come from the cache)")
        self.again.clicked.connect(self.inspectRequested)
        self.near = QSpinBox()
        self.near.setRange(0, 16)
        self.near.setSuffix(" bits")
        self.near.setToolTip(
            "Largest Hamming distance between two perceptual hashes (64 bits) of near "
            "duplicates: 0 finds re-encodes only, 10 also resizes, brightness changes and "
            "small crops"
        )
        self.near.valueChanged.connect(lambda _v: self.settingsChanged.emit())
        self.grouping = QCheckBox("Keep each group in one split")
        self.grouping.setToolTip(
            "The split puts every exact or near-duplicate group in one of train / val / test, "
            "so no picture is both trained on and tested on. Off: the export counts the "
            "pairs that cross splits."
        )
        self.grouping.toggled.connect(lambda _on: self.settingsChanged.emit())
        # The progress has a row of its own: beside the settings it made the tab (and with
        # it the window) wider than a 1366 px screen while an inspection ran.
        running = QHBoxLayout()
        running.addWidget(self.progress, 1)
        running.addWidget(self.cancel)
        top = QHBoxLayout()
        top.addStretch(1)
        top.addWidget(QLabel("Near-duplicate threshold"))
        top.addWidget(self.near)
        top.addWidget(self.grouping)
        top.addWidget(self.again)

        # Duplicates: one row per group.
        self.groups_model = GroupsModel(loader, self)
        self.groups_view = QListView()
        self.groups_view.setModel(self.groups_model)
        self.groups_view.setItemDelegate(GroupDelegate(self.groups_model, self.groups_view))
        self.groups_view.setUniformItemSizes(True)
        self.groups_view.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        self.groups_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.groups_title = QLabel("<b>Duplicate groups</b>")
        # Wrapped: the title grows into a sentence of counts, which must never widen the
        # window (a tab's minimum width is the window's, hidden or not).
        self.groups_title.setWordWrap(True)
        self.mark_selected = QPushButton("Mark All but One (Selected Groups)")
        self.mark_selected.setToolTip(
            "Keep the largest (then sharpest) image of each selected group; mark the rest "
            "as removed. A label conflict keeps one image per class: which label is right "
            "is yours to settle. Undo with Ctrl+Z."
        )
        self.mark_selected.clicked.connect(lambda: self.markGroupsRequested.emit(False))
        self.mark_all = QPushButton("Mark All but One in Every Group")
        self.mark_all.setToolTip(self.mark_selected.toolTip().replace("selected ", ""))
        self.mark_all.clicked.connect(lambda: self.markGroupsRequested.emit(True))
        self.groups_counts = QLabel("")
        self.groups_counts.setWordWrap(True)
        # Full width under the title: large groups of merely alike pictures (see
        # InspectReport.loose_groups_note), said before anyone marks all but one.
        self.groups_warning = QLabel("")
        self.groups_warning.setWordWrap(True)
        self.groups_warning.setStyleSheet("color: #9a5b00;")
        self.groups_warning.hide()
        dup_buttons = QHBoxLayout()
        dup_buttons.addWidget(self.mark_selected)
        dup_buttons.addWidget(self.mark_all)
        dup_buttons.addWidget(self.groups_counts, 1)
        dup_box = QWidget()
        dl = QVBoxLayout(dup_box)
        dl.setContentsMargins(0, 0, 0, 0)
        dl.addWidget(self.groups_title)
        dl.addWidget(self.groups_warning)
        dl.addWidget(self.groups_view, 1)
        dl.addLayout(dup_buttons)

        # Quality: a filterable gallery and the thresholds.
        self.flags_model = FlagsModel(loader, self)
        self.flags_view = QListView()
        self.flags_view.setModel(self.flags_model)
        self.flags_view.setViewMode(QListView.ViewMode.IconMode)
        self.flags_view.setIconSize(QSize(96, 96))
        self.flags_view.setGridSize(QSize(128, 132))
        self.flags_view.setResizeMode(QListView.ResizeMode.Adjust)
        self.flags_view.setWordWrap(True)
        self.flags_view.setMovement(QListView.Movement.Static)
        self.flags_title = QLabel("<b>Flagged images</b>")
        self.flags_title.setWordWrap(True)
        self.issue_filter = QComboBox()
        self.issue_filter.addItem("Every issue", "")
        for issue in ISSUES:
            self.issue_filter.addItem(issue.replace("_", " "), issue)
        self.issue_filter.currentIndexChanged.connect(lambda _i: self.thresholdsChanged.emit())
        self.thresholds: dict[str, QDoubleSpinBox] = {}
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        for issue in ISSUES:
            box = QDoubleSpinBox()
            box.setRange(0.0, 1.0)
            box.setSingleStep(0.05)
            box.setDecimals(2)
            box.setValue(DEFAULT_THRESHOLDS[issue])
            box.setToolTip(f"Flag an image whose {issue} score is below this: {ISSUE_HELP[issue]}")
            box.valueChanged.connect(lambda _v: self.thresholdsChanged.emit())
            self.thresholds[issue] = box
            form.addRow(issue.replace("_", " "), box)
        self.mark_flagged = QPushButton("Mark All Shown as Removed")
        self.mark_flagged.setToolTip("Mark every image listed here as removed (Ctrl+Z undoes)")
        self.mark_flagged.clicked.connect(self.markFlaggedRequested)
        self.flags_counts = QLabel("")
        self.flags_counts.setWordWrap(True)
        side = QVBoxLayout()
        side.addWidget(QLabel("Show"))
        side.addWidget(self.issue_filter)
        side.addWidget(QLabel("Thresholds (score below = flagged)"))
        side.addLayout(form)
        side.addWidget(self.mark_flagged)
        side.addWidget(self.flags_counts)
        side.addStretch(1)
        flags_box = QWidget()
        fl = QHBoxLayout(flags_box)
        fl.setContentsMargins(0, 0, 0, 0)
        left = QVBoxLayout()
        left.addWidget(self.flags_title)
        left.addWidget(self.flags_view, 1)
        fl.addLayout(left, 1)
        fl.addLayout(side)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(dup_box)
        split.addWidget(flags_box)
        split.setSizes([330, 330])
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(running)
        layout.addLayout(top)
        layout.addWidget(split, 1)

    # -- what the owner reads ----------------------------------------------------------
    def threshold_values(self) -> dict[str, float]:
        return {issue: box.value() for issue, box in self.thresholds.items()}

    def issue(self) -> str:
        return self.issue_filter.currentData() or ""

    def selected_groups(self) -> list:
        rows = sorted(i.row() for i in self.groups_view.selectionModel().selectedRows())
        return [self.groups_model.index(r).data(GroupRole) for r in rows]

    def show_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel.setVisible(running)
        self.again.setEnabled(not running)
        if running:
            self.progress.setRange(0, 0)
