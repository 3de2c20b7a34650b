"""Curation in the window: marks on gallery tiles, the Balance tab (split, policies, targets,
before/after chart), undo/redo and project files. `install_curation(window)` wires it all
through the main window's extension points."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QToolBar

from ...core.project import PROJECT_SUFFIX, find_autosaves
from ..app import DISPLAY_NAME
from ..models.gallery import PathRole
from .controller import CurationController
from .marks import MarkActions, MarkFilter, MarkFilterBox, make_badge_overlay
from .plan_panel import PlanPanel

if TYPE_CHECKING:
    from ..main_window import MainWindow

PROJECT_FILTER = f"Imbalance Studio projects (*{PROJECT_SUFFIX})"


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

        # Fixed labels (the edit's name goes in the tooltip): "Undo Remove 3 images" would
        # change the toolbar's width and shift every control after it at each edit.
        self.undo_action = QAction("&Undo", self)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.triggered.connect(c.undo_stack.undo)
        self.redo_action = QAction("&Redo", self)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence.StandardKey.Redo])
        self.redo_action.triggered.connect(c.undo_stack.redo)
        for action, can, text in (
            (self.undo_action, c.undo_stack.canUndoChanged, c.undo_stack.undoTextChanged),
            (self.redo_action, c.undo_stack.canRedoChanged, c.undo_stack.redoTextChanged),
        ):
            action.setEnabled(False)
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            can.connect(action.setEnabled)
            text.connect(lambda t, a=action: a.setToolTip(f"{a.text().strip('&')} {t}".strip()))

        toolbar = QToolBar("Curation")
        toolbar.setObjectName("curation-toolbar")
        for action in (*self.marks.actions, self.undo_action, self.redo_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addWidget(self.filter_box)
        window.addToolBar(toolbar)
        self.toolbar = toolbar
        self._build_menus()

        window.session.datasetChanged.connect(c.set_dataset)
        c.marksChanged.connect(self._on_marks)
        c.planChanged.connect(lambda _p: self._refilter(only_split=True))
        c.projectChanged.connect(self._update_title)
        c.projectChanged.connect(self._update_actions)
        self._update_actions()
        c.undo_stack.cleanChanged.connect(self._on_clean_changed)
        c.status.connect(lambda text: window.statusBar().showMessage(text, 6000))
        c.error.connect(self._show_error)
        c.reconciled.connect(self._on_reconciled)
        window.installEventFilter(self)

    # -- menus --------------------------------------------------------------------------
    def _build_menus(self) -> None:
        w = self.window
        file_menu = w.menuBar().actions()[0].menu()
        first = file_menu.actions()[0] if file_menu.actions() else None
        open_project = QAction("Open &Project…", self)
        open_project.setShortcut(QKeySequence("Ctrl+Shift+O"))
        open_project.triggered.connect(self.choose_project)
        self.save_action = QAction("&Save Project", self)
        self.save_action.setShortcut(QKeySequence.StandardKey.Save)
        self.save_action.triggered.connect(self.save)
        save_as = QAction("Save Project &As…", self)
        save_as.setShortcut(QKeySequence("Ctrl+Shift+S"))
        save_as.triggered.connect(self.save_as)
        for action in (open_project, self.save_action, save_as):
            file_menu.insertAction(first, action)
        file_menu.insertSeparator(first)
        edit_menu = w.menuBar().addMenu("&Edit")
        w.menuBar().insertMenu(w.menuBar().actions()[1], edit_menu)
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        for action in self.marks.actions:
            edit_menu.addAction(action)

    # -- project files ------------------------------------------------------------------
    def choose_project(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open project", "", PROJECT_FILTER)
        if path:
            self.open_project(Path(path))

    def open_project(self, path: Path) -> None:
        self.controller.open_project(
            path, lambda project: self.window.open_folder(project.dataset_root)
        )

    def save(self) -> None:
        if not self.controller.save():
            self.save_as()

    def save_as(self) -> None:
        path = self._ask_save_path()
        if path is not None:
            self.controller.save(path)

    def _ask_save_path(self) -> Path | None:
        """The file the user picks for the project (suffix added), or None if cancelled."""
        if self.controller.project is None:
            return None
        start = str(
            self.controller.project_file
            or Path.home() / f"{Path(self.controller.project.dataset_root).name}{PROJECT_SUFFIX}"
        )
        path, _ = QFileDialog.getSaveFileName(self.window, "Save project", start, PROJECT_FILTER)
        if not path:
            return None
        return Path(path if path.endswith(PROJECT_SUFFIX) else path + PROJECT_SUFFIX)

    def offer_recovery(self) -> None:
        """Look for autosaves (in a worker) and offer to recover the newest."""
        self.controller.run_job(find_autosaves, done=self._offer)

    def _offer(self, autosaves) -> None:
        if not autosaves or self.controller.dirty:
            return  # never offer to replace work the user is doing now
        newest = autosaves[0]
        name = newest.project_file or f"an unsaved project on {newest.project.dataset_root}"
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Recover unsaved work?",
            f"Imbalance Studio found unsaved curation of {name}.\nRecover it?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self.window,
        )

        def answered(button: int) -> None:
            if button == QMessageBox.StandardButton.Yes:
                self.controller.adopt_project(newest.project, newest.project_file)
                self.window.open_folder(newest.project.dataset_root)
            else:  # declined: do not ask again about the same work
                self._discard_autosave(newest.project_file, newest.project.dataset_root)

        box.finished.connect(answered)
        box.open()
        self.recovery_box = box

    def _save_before_close(self) -> bool:
        """Save synchronously (a worker might not finish before the process ends), through
        the one save path every save takes; False when the user cancelled the file dialog
        or the save failed."""
        from ...core.project import ProjectError

        c = self.controller
        assert c.project is not None
        target = c.project_file or self._ask_save_path()
        if target is None:
            return False
        try:
            c.save_now(target)
        except (ProjectError, OSError) as exc:
            QMessageBox.warning(self.window, "Could not save", str(exc))
            return False
        return True

    def _discard_autosave(self, project_file, dataset_root: str) -> None:
        from ...core.project import discard_autosave

        self.controller.run_job(discard_autosave, project_file, dataset_root)

    # -- reactions ----------------------------------------------------------------------
    def _selected_paths(self) -> list[str]:
        return [s.path for s in self.window.selected_samples()]

    def _on_marks(self, paths) -> None:
        self.window.gallery.viewport().update()
        self.mark_filter.marks_changed(paths)  # only the changed samples' rows

    def _refilter(self, only_split: bool = False) -> None:
        if not only_split:
            self.mark_filter.which = self.filter_box.currentText()
        self.mark_filter.refresh(only_split)

    def _update_actions(self) -> None:
        # Marks need a dataset: on the start page the mark buttons are greyed out.
        has_project = self.controller.project is not None
        for action in (*self.marks.actions, self.save_action):
            action.setEnabled(has_project)
        self.filter_box.setEnabled(has_project)

    def _on_clean_changed(self, _clean: bool) -> None:
        # The undo stack also reports "clean" while it is being destroyed with the window.
        if shiboken6.isValid(self.controller.undo_stack) and shiboken6.isValid(self.window):
            self._update_title()

    def _update_title(self) -> None:
        c = self.controller
        if c.dataset is None:
            return
        if c.project_file is not None:
            base = c.project_file.name
        elif self.window.session.is_demo:
            base = "demo dataset (synthetic data)"
        else:
            base = c.dataset.root.name
        self.window.setWindowTitle(f"{'*' if c.dirty else ''}{base} — {DISPLAY_NAME}")

    def _show_error(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 10000)
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Imbalance Studio",
            message,
            QMessageBox.StandardButton.Ok,
            self.window,
        )
        box.open()
        self.error_box = box

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

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is not self.window or event.type() != QEvent.Type.Close:
            return False
        if self.window.closing_on_signal is not None:
            # Terminated (logout, process manager): nobody can answer; the newest edits
            # stay in the autosave and are offered back at the next start.
            self.controller.keep_autosave()
            return False
        if self.controller.dirty and QApplication.platformName() not in ("offscreen", "minimal"):
            answer = QMessageBox.question(
                self.window,
                "Save the project?",
                "The curation has unsaved changes (an autosave exists). Save them?",
                QMessageBox.StandardButton.Save
                | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel,
            )
            if self.window.closing_on_signal is not None:
                # A signal came while the question was open (Qt ignores the nested close
                # it asked for): close now, keeping the autosave whatever the torn-down
                # dialog answered.
                self.controller.keep_autosave()
                return False
            if answer == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return True
            self.controller.stop_autosave()  # a late autosave must not undo the decision
            if answer == QMessageBox.StandardButton.Save:
                if not self._save_before_close():
                    event.ignore()
                    return True
            else:  # Discard: the user dropped the edits, so no recovery offer next time.
                # Synchronous on purpose: the window is closing and a worker might not run.
                from ...core.project import discard_autosave

                c = self.controller
                if c.project is not None:
                    with contextlib.suppress(OSError):
                        discard_autosave(c.project_file, c.project.dataset_root)
        return False


def install_curation(window: MainWindow) -> Curation:
    return Curation(window)
