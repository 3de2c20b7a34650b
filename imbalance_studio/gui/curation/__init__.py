"""The curation panel: marks on gallery tiles, the gallery filter, the Balance tab (split,
policies, targets, before/after chart) and undo/redo. It declares its actions (Edit menu and
toolbar); the window lays them out. Project files, recovery and closing are app-level:
`gui.app_session`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, SignalInstance
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMessageBox

from ...core.mark_counts import MarkTally
from ..actions import PanelAction
from ..models.gallery import PathRole
from .controller import CurationController
from .marks import MarkActions, MarkFilter, MarkFilterBox, make_badge_overlay
from .plan_panel import PlanPanel

if TYPE_CHECKING:
    from ..main_window import MainWindow


class Curation(QObject):
    """Owns the controller and the widgets it adds to the main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.controller = c = CurationController(self)
        self.plan_panel = PlanPanel(c)
        window.add_panel(self.plan_panel, "Balance")
        self.marks = MarkActions(c, window.gallery, self._selected_paths, window)
        window.gallery.delegate.add_overlay(make_badge_overlay(c, PathRole))
        self.filter_box = MarkFilterBox()
        self.mark_filter = MarkFilter(c, window.gallery_model, self)
        self.filter_box.currentTextChanged.connect(lambda _t: self._refilter())

        window.session.datasetChanged.connect(c.set_dataset)
        c.marksChanged.connect(self._on_marks)
        # The class list and the chart show each class's count after the marks.
        self._tally: MarkTally | None = None
        # (project, dataset, split or 0) the tally was made for
        self._tallied: tuple[int, int, int] = (0, 0, 0)
        # A new dataset or project is counted from scratch (10,000 marks: ~10 ms) on the next
        # turn of the event loop, once: opening a project brings both signals in one event.
        self._recount = QTimer(self, singleShot=True, interval=0)
        self._recount.timeout.connect(lambda: self._count_after_marks())
        window.session.datasetChanged.connect(lambda _d: self._recount.start())
        # The class list is reset a turn after a listing arrives, which clears its counts:
        # count again after it, whichever of the two comes first.
        window.class_model.modelReset.connect(self._recount.start)
        window.gallery_model.indexReady.connect(self._recount.start)  # splits can be told
        c.projectChanged.connect(self._recount.start)
        c.planChanged.connect(self._on_plan)
        c.status.connect(lambda text: window.statusBar().showMessage(text, 6000))
        c.reconciled.connect(self._on_reconciled)

    # -- declared actions ---------------------------------------------------------------
    def panel_actions(self) -> list[PanelAction]:
        stack = self.controller.undo_stack

        def has_project() -> bool:
            # Marks need a dataset: on the start page the mark buttons are greyed out.
            return self.controller.project is not None

        # Fixed labels (the edit's name goes in the tooltip): "Undo Remove 3 images" would
        # change the toolbar's width and shift every control after it at each edit.
        history = [
            PanelAction(
                "edit.undo",
                "&Undo",
                stack.undo,
                menu="Edit",
                section="history",
                shortcuts=(QKeySequence.StandardKey.Undo,),
                tip=lambda: f"Undo {stack.undoText()}".strip(),
                toolbar=True,
                enabled_when=stack.canUndo,
                app_wide=True,
            ),
            PanelAction(
                "edit.redo",
                "&Redo",
                stack.redo,
                menu="Edit",
                section="history",
                # Both keys on every platform, spelled out: the platform's Redo key is one
                # of them (Ctrl+Y on Windows, Ctrl+Shift+Z on X11 and macOS).
                shortcuts=("Ctrl+Shift+Z", "Ctrl+Y"),
                tip=lambda: f"Redo {stack.redoText()}".strip(),
                toolbar=True,
                enabled_when=stack.canRedo,
                app_wide=True,
            ),
        ]
        marks = self.marks.declarations(enabled_when=has_project)
        gallery_filter = PanelAction(
            "view.mark_filter",
            "Filter",
            section="filter",
            toolbar=True,
            widget=self.filter_box,
            enabled_when=has_project,
        )
        return [*history, *marks, gallery_filter]

    def state_signals(self) -> list[SignalInstance]:
        stack = self.controller.undo_stack
        return [
            stack.canUndoChanged,
            stack.canRedoChanged,
            stack.undoTextChanged,
            stack.redoTextChanged,
            self.controller.projectChanged,
        ]

    # -- reactions ----------------------------------------------------------------------
    def _selected_paths(self) -> list[str]:
        return self.window.gallery.selected_paths()

    def _on_marks(self, paths) -> None:
        self.window.gallery.viewport().update()
        self.mark_filter.marks_changed(paths)  # only the changed samples' rows
        self._count_after_marks(paths)

    def _count_after_marks(self, changed=None) -> None:
        """Recount per changed mark; from scratch only for another project or dataset."""
        c, w = self.controller, self.window
        if c.project is None or c.dataset is None:
            w.class_model.set_after_marks(None)
            w.chart.set_after_marks(None)
            return
        is_train, split = self._train_test(), c.split_assignment
        key = (id(c.project), id(c.dataset), id(split) if is_train is not None else 0)
        if self._tally is None or key != self._tallied:
            self._tally, self._tallied = MarkTally(c.dataset.classes, is_train), key
            self._tally.reset(c.project.marks)
        elif changed is not None:
            self._tally.update(changed, c.project.marks)
        after = self._tally.after(c.dataset.counts())
        shown = None if not any(self._tally.delta) else after
        w.class_model.set_after_marks(shown)
        w.chart.set_after_marks(shown)

    def _train_test(self):
        """Whether a path is a training image, by the current split (None until the split
        and the gallery's path index are there: duplicate marks all count meanwhile)."""
        c, model = self.controller, self.window.gallery_model
        split = c.split_assignment
        if (
            split is None
            or model.dataset is not c.dataset
            or not model.index_ready
            or len(split.splits) != len(c.dataset.paths)
        ):
            return None
        splits, index_of = split.splits, model.sample_index_of

        def is_train(path: str) -> bool:
            i = index_of(path)
            return i is not None and splits[i] == 0

        return is_train

    def _on_plan(self, _plan) -> None:
        self._refilter(only_split=True)
        # A new split (or the path index now ready) changes which duplicate marks count.
        split = self.controller.split_assignment
        if self._tallied[2] != (id(split) if self._train_test() is not None else 0):
            self._recount.start()

    def _refilter(self, only_split: bool = False) -> None:
        if not only_split:
            self.mark_filter.which = self.filter_box.currentText()
        self.mark_filter.refresh(only_split)

    def _on_reconciled(self, report) -> None:
        if report.ok:
            return
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "The dataset folder changed",
            "The folder no longer matches the project:\n\n• " + "\n• ".join(report.messages()),
            QMessageBox.StandardButton.Ok,
            self.window,
        )
        box.open()
        self.reconcile_box = box


def install_curation(window: MainWindow) -> Curation:
    """The curation panel, its actions in the window's menus and toolbar."""
    curation = Curation(window)
    window.install(curation)
    return curation
