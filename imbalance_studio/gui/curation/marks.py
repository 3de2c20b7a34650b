"""Marks on gallery samples: actions (keyboard, toolbar, context menu), tile badges and the
gallery filter by mark or split. Marks only ever change the project, never the files."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFont, QKeySequence, QPainter
from PySide6.QtWidgets import QComboBox, QListView, QMenu, QWidget

from ...core.dataset import Dataset
from ...core.plan import Plan
from ...core.project import MAX_DUPLICATE, Mark
from ..actions import PanelAction
from .controller import CurationController

REMOVE_COLOR = QColor("#c62828")
DUPLICATE_COLOR = QColor("#1565c0")

# Filter label -> what it keeps (see `filter_mask`).
FILTERS = (
    "All images",
    "Marked for removal",
    "Marked for duplication",
    "Unmarked",
    "Training split",
    "Validation split",
    "Test split",
)


def filter_mask(
    which: str, dataset: Dataset, controller: CurationController, plan: Plan | None
) -> np.ndarray | None:
    """A boolean mask over `dataset.samples` for a filter label (None: keep everything)."""
    if which == FILTERS[0] or controller.project is None:
        return None
    marks = controller.project.marks
    paths = dataset.paths
    if which == "Marked for removal":
        return np.fromiter((p in marks and marks[p].remove for p in paths), bool, len(paths))
    if which == "Marked for duplication":
        return np.fromiter((p in marks and marks[p].duplicate > 0 for p in paths), bool, len(paths))
    if which == "Unmarked":
        return np.fromiter((p not in marks for p in paths), bool, len(paths))
    split = {"Training split": "train", "Validation split": "val", "Test split": "test"}[which]
    if plan is None:
        return np.zeros(len(paths), bool)
    return np.fromiter((plan.split_of(p) == split for p in paths), bool, len(paths))


class MarkActions(QObject):
    """Remove (Del), duplicate (D, adds one copy; Shift+D takes one away), clear (U).

    The actions are declared (`declarations`) and laid out by the window; their shortcuts
    act on the gallery's selection, so they belong to the gallery, and the gallery's context
    menu shows them."""

    def __init__(
        self,
        controller: CurationController,
        view: QListView,
        selected_paths: Callable[[], list[str]],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.view = view
        self._selected_paths = selected_paths
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._context_menu)

    def declarations(self, enabled_when: Callable[[], bool]) -> list[PanelAction]:
        def mark(action_id: str, text: str, key: str | QKeySequence.StandardKey, slot, tip: str):
            return PanelAction(
                action_id,
                text,
                slot,
                menu="Edit",
                section="marks",
                shortcuts=(key,),
                tip=tip,
                toolbar=True,
                enabled_when=enabled_when,
                scope=self.view,
            )

        return [
            mark(
                "edit.remove",
                "Remove",
                QKeySequence.StandardKey.Delete,
                self.mark_remove,
                "Leave the selected images out of the export (files are never touched)",
            ),
            mark(
                "edit.duplicate",
                "Duplicate",
                "D",
                lambda: self.change_duplicates(+1),
                "Add one exact copy of each selected training image",
            ),
            mark(
                "edit.unduplicate",
                "−1 copy",
                "Shift+D",
                lambda: self.change_duplicates(-1),
                "Take one copy away from each selected image",
            ),
            mark(
                "edit.clear_mark",
                "Clear mark",
                "U",
                self.mark_clear,
                "Remove every mark from the selected images",
            ),
        ]

    def _context_menu(self, pos: QPoint) -> None:
        menu = QMenu(self.view)
        menu.addActions(self.view.actions())  # the actions whose shortcuts the view holds
        menu.exec(self.view.viewport().mapToGlobal(pos))

    def mark_remove(self) -> None:
        paths = self._selected_paths()
        self.controller.set_marks(paths, Mark(remove=True), f"Remove {len(paths)} images")

    def mark_clear(self) -> None:
        paths = self._selected_paths()
        self.controller.set_marks(paths, None, f"Clear marks of {len(paths)} images")

    def change_duplicates(self, step: int) -> None:
        paths = self._selected_paths()
        if not paths or self.controller.project is None:
            return
        marks = self.controller.project.marks
        new: dict[str, Mark | None] = {}
        for p in paths:
            old = marks.get(p)
            count = 0 if old is None or old.remove else old.duplicate
            count = min(MAX_DUPLICATE, max(0, count + step))
            # Marking a removed sample for duplication un-removes it: never both.
            new[p] = Mark(duplicate=count) if count else None
        verb = "Duplicate" if step > 0 else "Fewer copies of"
        self.controller.undo_stack.push(
            _marks_command(self.controller, new, f"{verb} {len(paths)} images")
        )


def _marks_command(controller, marks, text):
    from .commands import SetMarksCommand

    return SetMarksCommand(controller, marks, text)


def make_badge_overlay(controller: CurationController, path_role: int):
    """A gallery overlay painting a remove / ×N badge on marked tiles."""
    font = QFont()
    font.setBold(True)
    font.setPointSize(8)

    def paint(painter: QPainter, thumb_rect: QRect, index) -> None:
        mark = controller.mark_of(index.data(path_role))
        if mark is None:
            return
        painter.save()
        if mark.remove:
            # Dim the tile so removed images read as "gone" at a glance.
            painter.fillRect(thumb_rect, QColor(255, 255, 255, 140))
            text, color = "✕ removed", REMOVE_COLOR
        else:
            text, color = f"×{mark.duplicate + 1}", DUPLICATE_COLOR
        painter.setFont(font)
        width = painter.fontMetrics().horizontalAdvance(text) + 8
        badge = QRect(thumb_rect.right() - width + 1, thumb_rect.top(), width, 16)
        painter.fillRect(badge, color)
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    return paint


class MarkFilterBox(QComboBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.addItems(list(FILTERS))
        self.setToolTip("Show only images with this mark, or of this split")
