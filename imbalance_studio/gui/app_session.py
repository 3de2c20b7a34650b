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

from ..core.autosave import find_autosaves
from ..core.project import PROJECT_SUFFIX
from . import app as app_facts
from .actions import PanelAction
from .app import DISPLAY_NAME
from .views.offer_bar import OfferBar

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
        self._offer_bar: OfferBar | None = None
        self._offered_file = ""
        self._own_open = False  # a folder opened for a project (or a recovery): no offer
        self._recorded: Path | None = None  # the project file last put in the recent list
        c.projectChanged.connect(self.update_title)
        c.projectChanged.connect(self._remember_project)
        c.undo_stack.cleanChanged.connect(self._on_clean_changed)
        c.error.connect(self.show_error)
        window.installEventFilter(self)
        window.session.scanStarted.connect(self._offer_saved_project)
        if window.session.root is not None:
            # A folder opened at launch starts its scan before the panels are built.
            self._offer_saved_project(str(window.session.root))
        window.start_page.openProjectRequested.connect(self.choose_project)
        window.start_page.openRecentProjectRequested.connect(lambda f: self.open_project(Path(f)))
        self._show_recent(app_facts.recent_projects())

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
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Open project", self.dialog_folder(), PROJECT_FILTER
        )
        if path:
            self.open_project(Path(path))

    def open_project(self, path: Path) -> None:
        if self._offer_bar is not None:
            self._offer_bar.hide()
        self.controller.open_project(path, lambda project: self._open_own(project.dataset_root))

    def _open_own(self, folder: str | Path) -> None:
        """Open the folder of a project being opened or recovered (no offer of a project)."""
        self._own_open = True
        try:
            self.window.open_folder(folder)
        finally:
            self._own_open = False

    # -- recent projects, and the offer to reopen a folder's project ---------------------
    def _remember_project(self) -> None:
        c = self.controller
        if c.project_file is None or c.project is None or c.project_file == self._recorded:
            return
        self._recorded = c.project_file
        file = str(c.project_file.absolute())
        self._show_recent(app_facts.add_recent_project(file, c.project.dataset_root))

    def _show_recent(self, projects: list[tuple[str, str]]) -> None:
        self.window.start_page.set_recent_projects(projects)
        self.window.own_actions.fill_recent(app_facts.recent_folders(), projects)

    def _offer_saved_project(self, folder: str) -> None:
        """The user opened a folder (not a project): when a recent project is of this folder,
        offer to open it instead of starting afresh (its file is looked for in a worker)."""
        c = self.controller
        if self._own_open or c.pending_project is not None:
            return
        if self._offer_bar is not None:
            self._offer_bar.hide()  # an offer for the folder opened before
        project, file = c.project, c.project_file
        if project is not None and file is not None and _same_folder(project.dataset_root, folder):
            return  # that project is open already
        files = [f for f, root in app_facts.recent_projects() if _same_folder(root, folder)]
        if files:
            self.controller.run_job(
                existing_files, files, done=lambda found: self._offer_project(folder, found)
            )

    def _offer_project(self, folder: str, found: list[str]) -> None:
        c, session = self.controller, self.window.session
        if not found or session.root is None or not _same_folder(session.root, folder):
            return  # another folder was opened meanwhile
        if c.pending_project is not None or c.project_file is not None or c.dirty:
            return  # a project came, or the user is already editing this one
        from .views.start_page import project_name

        self._offered_file = found[0]
        self.offer_bar().offer(
            f"This folder has a saved project, <b>{project_name(found[0])}</b> ({found[0]}), "
            "with its marks, targets and stacks."
        )

    def offer_bar(self) -> OfferBar:
        """The bar offering the open folder's saved project (made on first use)."""
        if self._offer_bar is None:
            self._offer_bar = OfferBar("Open project")
            self._offer_bar.accepted.connect(lambda: self.open_project(Path(self._offered_file)))
            self.window.workspace.layout().insertWidget(0, self._offer_bar)
        return self._offer_bar

    def save(self) -> None:
        if not self.controller.save():
            self.save_as()

    def save_as(self) -> None:
        path = self.ask_save_path()
        if path is not None:
            self.controller.save(path)

    def dialog_folder(self) -> str:
        """Where a file dialog starts: by the open project, else beside the open dataset,
        else by the most recent project or folder; "" (the platform's choice) when none."""
        c = self.controller
        if c.project_file is not None:
            return str(c.project_file.parent)
        if self.window.session.root is not None and not self.window.session.is_demo:
            return str(self.window.session.root.parent)
        recent = [Path(f).parent for f, _r in app_facts.recent_projects()]
        recent += [Path(f).parent for f in app_facts.recent_folders()]
        return str(recent[0]) if recent else ""

    def ask_save_path(self) -> Path | None:
        """The file the user picks for the project (suffix added), or None if cancelled."""
        if self.controller.project is None:
            return None
        # Beside the dataset folder (never inside it: the dataset is read-only to us).
        root = Path(self.controller.project.dataset_root)
        start = str(self.controller.project_file or root.parent / f"{root.name}{PROJECT_SUFFIX}")
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
                self._open_own(newest.project.dataset_root)
            else:  # declined: do not ask again about the same work
                self._discard_autosave(newest.project_file, newest.project.dataset_root)

        box.finished.connect(answered)
        box.open()
        self.recovery_box = box

    def _discard_autosave(self, project_file, dataset_root: str) -> None:
        from ..core.autosave import discard_autosave

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
        self.window.update_title()

    def window_title(self) -> str:
        """The one title rule: the project's name when the open folder's project has a file
        (a project being opened counts already), else the folder's name; a leading `*`
        while that project has unsaved edits."""
        from .views.start_page import project_name

        c, session = self.controller, self.window.session
        root = session.root
        if root is None:
            return DISPLAY_NAME
        project, file = None, None
        pending = c.pending_project
        if pending is not None and _same_folder(pending[0].dataset_root, root):
            project, file = pending
        elif c.project is not None and _same_folder(c.project.dataset_root, root):
            project, file = c.project, c.project_file
        if file is not None:
            name = project_name(file)
        elif session.is_demo:
            name = "demo dataset (synthetic data)"
        else:
            name = root.name or str(root)
        star = "*" if project is not None and project is c.project and c.dirty else ""
        return f"{star}{name} — {DISPLAY_NAME}"

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
                from ..core.autosave import discard_autosave

                c = self.controller
                if c.project is not None:
                    with contextlib.suppress(OSError):
                        discard_autosave(c.project_file, c.project.dataset_root)
        return False


def existing_files(files: list[str]) -> list[str]:
    """Runs in a worker: the files that still exist."""
    return [f for f in files if Path(f).is_file()]


def _same_folder(a: str | Path, b: str | Path) -> bool:
    return Path(a).expanduser().absolute() == Path(b).expanduser().absolute()


def install_app_session(window: MainWindow, controller: CurationController) -> AppSession:
    """The app-level project handling, its actions in the window's File menu."""
    session = AppSession(window, controller)
    window.install(session)
    return session
