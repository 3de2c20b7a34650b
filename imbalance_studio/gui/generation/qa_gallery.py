"""The Generate panel's QA gallery: the tiles of the staged images beside the compare pane,
with filters by class and review state (each state's entry counts its images) and the reject
mode. What a decision does is in `review.py`.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QSplitter,
    QVBoxLayout,
)

from .compare import CompareView
from .model import STATUSES, ClassFilter, GeneratedModel
from .review import REJECT_CHOICES
from .tile import QATileDelegate

TILE = 96


class QAGallery:
    """The gallery half of `GenerationPanel` (which lays out what `_build_gallery` returns
    and owns `plan`)."""

    def _build_gallery(self) -> tuple[QVBoxLayout, QSplitter]:
        """The filter row and the gallery beside the compare pane, wired to each other."""
        self.class_filter = QComboBox()
        self.class_filter.addItem("All classes", "")
        self.state_filter = QComboBox()
        self.state_filter.setToolTip("Show only the images in one review state")
        self.state_filter.setMinimumContentsLength(16)  # "All states (3,060)" stays whole
        self.state_filter.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        for status in ("", *STATUSES):
            self.state_filter.addItem(status.capitalize() or "All states", status)
        self.reject_mode = QComboBox()
        for key, label in REJECT_CHOICES:
            self.reject_mode.addItem(label, key)
        row = QHBoxLayout()
        row.addWidget(QLabel("Show:"))
        row.addWidget(self.class_filter)
        row.addWidget(self.state_filter)
        row.addStretch(1)
        row.addWidget(self.reject_mode)
        legend = QLabel(
            "Badges: <b>unreviewed</b> (diffusion: shown first, review before export), "
            "<b>pending</b>, <b>accepted</b>, <b>rejected</b> · A accept, R reject"
        )
        legend.setToolTip(
            "Pending and accepted images are exported; rejected ones are left out. Rejecting "
            "one replaces it (the new image appears right after it) or lowers the class's "
            "target, as chosen on the right"
        )
        # On a line of its own, wrapped: beside the filters it made the tab wider than the
        # window (a horizontal scroll bar, and the compare view cut off).
        legend.setWordWrap(True)
        filters = QVBoxLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        filters.addLayout(row)
        filters.addWidget(legend)

        self.model = GeneratedModel(None, self, tile=TILE)
        self.proxy = ClassFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = QListView()
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setUniformItemSizes(True)
        self.view.setIconSize(QSize(TILE, TILE))
        self.view.setGridSize(QSize(TILE + 16, TILE + 30))
        self.view.setSpacing(4)
        self.view.setItemDelegate(QATileDelegate(TILE, self.view))
        self.view.setModel(self.proxy)
        self.compare = CompareView(self)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(self.compare)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)

        self.class_filter.currentIndexChanged.connect(
            lambda _i: self.proxy.set_class(self.class_filter.currentData() or "")
        )
        self.state_filter.currentIndexChanged.connect(
            lambda _i: self.proxy.set_status(self.state_filter.currentData() or "")
        )
        # The state counts are redone once per burst of changes, not per inserted row.
        self._count_timer = QTimer(self, singleShot=True, interval=150)
        self._count_timer.timeout.connect(self._count_states_now)
        for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset):
            signal.connect(self._count_states)
        return filters, split

    def _fill_class_filter(self) -> None:
        self.class_filter.blockSignals(True)
        self.class_filter.clear()
        self.class_filter.addItem("All classes", "")
        if self.plan is not None:
            for cp in self.plan.splits["train"]:
                if cp.generate:
                    name = self.plan.classes[cp.class_index]
                    self.class_filter.addItem(f"{name} ({len(cp.generate)})", name)
        self.class_filter.blockSignals(False)
        self.proxy.set_class("")

    def _count_states(self, *_: object) -> None:
        if not self._count_timer.isActive():
            self._count_timer.start()

    def _count_states_now(self) -> None:
        """The state filter's entries say how many images each state holds."""
        counts = dict.fromkeys(STATUSES, 0)
        for g in self.model.images():
            counts[g.status] = counts.get(g.status, 0) + 1
        for i in range(self.state_filter.count()):
            status = self.state_filter.itemData(i)
            n = counts.get(status, 0) if status else sum(counts.values())
            self.state_filter.setItemText(i, f"{status.capitalize() or 'All states'} ({n})")
            # Only diffusion makes unreviewed images: the entry is noise in every other project.
            self.state_filter.view().setRowHidden(i, status == "unreviewed" and n == 0)
