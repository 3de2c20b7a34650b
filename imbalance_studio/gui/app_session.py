"""App-level handling of the project: the file dialogs (open / save / save as), the offer to
recover unsaved work, the window title, error messages, and what closing the window does
with unsaved curation (save, discard the autosave, or keep it when a signal closes us).

It acts on the curation controller's public API only and declares its File menu entries;
the window lays them out.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEvent, QObject, SignalInstance
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from ..core.project import PROJECT_SUFFIX, find_autosaves
from .actions import PanelAction
from .app import DISPLAY_NAME

if TYPE_CHECKING:
    from .curation.controller import CurationController
    from .main_window import MainWindow

PROJECT_FILTER = f"Imbalance Studio projects (*{PROJECT_SUFFIX})"


class AppSession(QObject):
    def __init__(self, window: MainWindow, controller: CurationController) -> None:
        super().__init__(window)
        self.window = window
        self.controller = c = controller
        self.recovery_box: QMessageBox | None = None
        self.error_box: QMessageBox | None = None
        c.projectChanged.connect(self.update_title)
        c.undo_stack.cleanChanged.connect(self._on_clean_changed)
        c.error.connect(self.show_error)
        window.installEventFilter(self)

    # -- declared actions ---------------------------------------------------------------
    def panel_actions(self) -> list[PanelAction]:
        def has_project() -> bool:
            return self.controller.project is not None

        return [
            PanelAction(
                "file.open_project",
                "Open &Project…",
                self.choose_project,
                menu="File",
                section="project",
                shortcuts=("Ctrl+Shift+O",),
            ),
            PanelAction(
                "file.save",
                "&Save Project",
                self.save,
                menu="File",
                section="project",
                shortcuts=(QKeySequence.StandardKey.Save,),
                enabled_when=has_project,
            ),
            PanelAction(
                "file.save_as",
                "Save Project &As…",
                self.save_as,
                menu="File",
                section="project",
                shortcuts=("Ctrl+Shift+S",),
                enabled_when=has_project,
            ),
        ]

    def state_signals(self) -> list[SignalInstance]:
        return [self.controller.projectChanged]

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
        path = self.ask_save_path()
        if path is not None:
            self.controller.save(path)

    def ask_save_path(self) -> Path | None:
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

    # -- recovery -----------------------------------------------------------------------
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

    def _discard_autosave(self, project_file, dataset_root: str) -> None:
        from ..core.project import discard_autosave

        self.controller.run_job(discard_autosave, project_file, dataset_root)

    # -- messages and title -------------------------------------------------------------
    def show_error(self, message: str) -> None:
        """A one-line error in the status bar and in a (non-blocking) message box."""
        self.window.statusBar().showMessage(message, 10000)
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            DISPLAY_NAME,
            message,
            QMessageBox.StandardButton.Ok,
            self.window,
        )
        box.open()
        self.error_box = box

    def _on_clean_changed(self, _clean: bool) -> None:
        # The undo stack also reports "clean" while it is being destroyed with the window.
        if shiboken6.isValid(self.controller.undo_stack) and shiboken6.isValid(self.window):
            self.update_title()

    def update_title(self) -> None:
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

    # -- closing ------------------------------------------------------------------------
    def save_before_close(self) -> bool:
        """Save synchronously (a worker might not finish before the process ends), through
        the one save path every save takes; False when the user cancelled the file dialog
        or the save failed."""
        from ..core.project import ProjectError

        c = self.controller
        assert c.project is not None
        target = c.project_file or self.ask_save_path()
        if target is None:
            return False
        try:
            c.save_now(target)
        except (ProjectError, OSError) as exc:
            QMessageBox.warning(self.window, "Could not save", str(exc))
            return False
        return True

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
                if not self.save_before_close():
                    event.ignore()
                    return True
            else:  # Discard: the user dropped the edits, so no recovery offer next time.
                # Synchronous on purpose: the window is closing and a worker might not run.
                from ..core.project import discard_autosave

                c = self.controller
                if c.project is not None:
                    with contextlib.suppress(OSError):
                        discard_autosave(c.project_file, c.project.dataset_root)
        return False


def install_app_session(window: MainWindow, controller: CurationController) -> AppSession:
    """The app-level project handling, its actions in the window's File menu."""
    session = AppSession(window, controller)
    window.install(session)
    return session
