"""Marks on gallery samples: actions (keyboard, toolbar, context menu), tile badges and the
gallery filter by mark or split. Marks only ever change the project, never the files.

The filter keeps each sample's mark as one int8 in an array parallel to the dataset: a mark
edit updates the entries of the changed samples only, and the gallery's mask likewise, so a
key press costs the size of the selection, not of the dataset."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFont, QKeySequence, QPainter
from PySide6.QtWidgets import QComboBox, QListView, QMenu, QWidget

from ...core.dataset import Dataset
from ...core.plan import Plan
from ...core.project import MAX_DUPLICATE, Mark
from ...core.text import plural
from ..actions import PanelAction
from ..models.gallery import GalleryModel
from .controller import CurationController

REMOVE_COLOR = QColor("#c62828")
DUPLICATE_COLOR = QColor("#1565c0")
# The sample indices of many paths in one call (None where a path is not in the dataset).
Lookup = Callable[[list[str]], list[int | None]]

# Filter label -> what it keeps (see `MarkFilter`).
FILTERS = (
    "All images",
    "Marked for removal",
    "Marked for duplication",
    "Unmarked",
    "Training split",
    "Validation split",
    "Test split",
)


# Mark state per sample in the filter's array.
UNMARKED, REMOVE, DUPLICATE = 0, 1, 2
MARK_FILTERS = {
    "Marked for removal": REMOVE,
    "Marked for duplication": DUPLICATE,
    "Unmarked": UNMARKED,
}
SPLIT_FILTERS = {"Training split": 0, "Validation split": 1, "Test split": 2}  # SplitAssignment


def _code(mark: Mark | None) -> int:
    return UNMARKED if mark is None else REMOVE if mark.remove else DUPLICATE


def _mark_codes(marks: dict[str, Mark], n: int, lookup: Lookup):
    """Mark state of every sample: O(number of marks), never O(samples) in Python."""
    codes = np.zeros(n, np.int8)
    at, values = _indexed_codes(list(marks), list(marks.values()), lookup)
    codes[at] = values
    return codes


def _indexed_codes(
    paths: list[str], marks: list[Mark | None], lookup: Lookup
) -> tuple[np.ndarray, np.ndarray]:
    """(sample indices, mark codes) of the paths (with their marks) that are in the dataset;
    `lookup` finds the sample indices of all paths in one call. An edit of 10,000 images
    shares a few Mark objects: each is coded once, by identity (all are alive while this
    runs, so no two share an id)."""
    code_of: dict[int, int] = {}
    at: list[int] = []
    codes: list[int] = []
    for i, mark in zip(lookup(paths), marks, strict=True):
        if i is None:
            continue
        code = code_of.get(id(mark))
        if code is None:
            code = code_of[id(mark)] = _code(mark)
        at.append(i)
        codes.append(code)
    return np.array(at, np.int64), np.array(codes, np.int8)


def _split_mask(
    which: str, dataset: Dataset, controller: CurationController, plan: Plan | None
) -> np.ndarray:
    split = controller.split_assignment
    if plan is None:
        return np.zeros(len(dataset.paths), bool)
    if (
        split is not None
        and controller.dataset is dataset
        and len(split.splits) == len(dataset.paths)
    ):
        return np.frombuffer(split.splits, np.uint8) == SPLIT_FILTERS[which]
    # A plan made for another listing of the folder (a rescan is under way): by path.
    name = {"Training split": "train", "Validation split": "val", "Test split": "test"}[which]
    return np.fromiter((plan.split_of(p) == name for p in dataset.paths), bool, len(dataset.paths))


class MarkFilter(QObject):
    """The gallery filter by mark or split, kept in step with mark edits and plans.

    Mark edits arrive through the controller's `marksChanged` (the only way marks change
    short of a new project, which `refresh` notices by identity)."""

    def __init__(
        self, controller: CurationController, model: GalleryModel, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.model = model
        self.which = FILTERS[0]
        self._codes: np.ndarray | None = None
        self._codes_of: tuple[object, object] = (None, None)  # (dataset, project) they show
        self._shown: np.ndarray | None = None  # the mask last given to the model
        model.indexReady.connect(self.refresh)

    def set_filter(self, which: str) -> None:
        self.which = which
        self.refresh()

    def refresh(self, only_split: bool = False) -> None:
        """Apply the filter anew (the dataset, the project or the plan changed)."""
        if only_split and self.which not in SPLIT_FILTERS:
            return
        dataset, c = self.model.dataset, self.controller
        if dataset is None:
            return
        if self.which == FILTERS[0] or c.project is None:
            mask = None
        elif self.which in SPLIT_FILTERS:
            mask = _split_mask(self.which, dataset, c, c.plan)
        else:
            codes = self._current_codes()
            if codes is None:
                return  # the path index is still being built: `indexReady` comes back here
            mask = codes == MARK_FILTERS[self.which]
        if self.model.sample_mask is self._shown and (
            (mask is None and self._shown is None)
            or (mask is not None and self._shown is not None and np.array_equal(mask, self._shown))
        ):
            return  # e.g. a new plan with the same splits: the view keeps its place
        self._shown = mask
        self.model.set_sample_mask(mask)

    def marks_changed(self, paths: list[str]) -> None:
        """Some samples' marks changed: update their entries, and only theirs."""
        c, dataset = self.controller, self.model.dataset
        if c.project is None or dataset is None:
            return
        if not self._codes_fit(dataset, c.project):
            self._codes = None  # not kept for this dataset or project: rebuilt when asked
            if self.which in MARK_FILTERS:
                self.refresh()
            return
        marks = c.project.marks
        at, codes = _indexed_codes(paths, [marks.get(p) for p in paths], self.model.sample_indices)
        if not len(at):
            return
        self._codes[at] = codes
        if self.which in MARK_FILTERS and self._shown is not None:
            # The model holds `_shown` itself and updates it with the rows it changes.
            self.model.update_sample_mask(at, codes == MARK_FILTERS[self.which])

    def _current_codes(self) -> np.ndarray | None:
        dataset, project = self.model.dataset, self.controller.project
        assert dataset is not None and project is not None
        if self._codes_fit(dataset, project):
            return self._codes
        if not self.model.index_ready:
            return None
        self._codes = _mark_codes(project.marks, len(dataset.paths), self.model.sample_indices)
        self._codes_of = (dataset, project)
        return self._codes

    def _codes_fit(self, dataset: Dataset, project: object) -> bool:
        return (
            self._codes is not None
            and self._codes_of[0] is dataset
            and self._codes_of[1] is project
        )


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
                "Duplicate +1",
                "D",
                lambda: self.change_duplicates(+1),
                "Add one exact copy of each selected training image",
            ),
            mark(
                "edit.unduplicate",
                "Duplicate \u22121",  # minus sign: a hyphen reads as a dash
                "Shift+D",
                lambda: self.change_duplicates(-1),
                "Take one copy away from each selected image",
            ),
            mark(
                "edit.clear_mark",
                "Clear Mark",
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
        self.controller.set_marks(paths, Mark(remove=True), f"Remove {plural(len(paths), 'image')}")

    def mark_clear(self) -> None:
        paths = self._selected_paths()
        self.controller.set_marks(paths, None, f"Clear marks of {plural(len(paths), 'image')}")

    def change_duplicates(self, step: int) -> None:
        paths = self._selected_paths()
        if not paths or self.controller.project is None:
            return
        marks = self.controller.project.marks
        new: dict[str, Mark | None] = {}
        # One (frozen) Mark per copy count, shared: validating 10,000 new ones cost ~30 ms.
        by_count: dict[int, Mark] = {}
        for p in paths:
            old = marks.get(p)
            count = 0 if old is None or old.remove else old.duplicate
            count = min(MAX_DUPLICATE, max(0, count + step))
            # Marking a removed sample for duplication un-removes it: never both.
            if count and count not in by_count:
                by_count[count] = Mark(duplicate=count)
            new[p] = by_count[count] if count else None
        verb = "Duplicate" if step > 0 else "Fewer copies of"
        self.controller.change_marks(new, f"{verb} {plural(len(paths), 'image')}")


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
