"""The main window's own actions (File: open a folder, the demo, recent folders, Quit;
Help: Keyboard Shortcuts, About) and a dock's View menu entry, declared like any panel's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, SignalInstance
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu, QMessageBox, QWidget

from . import app as app_facts
from .actions import PanelAction

if TYPE_CHECKING:
    from .main_window import MainWindow


def quit_keys() -> tuple[QKeySequence, ...]:
    # The platform's key where it has one; Ctrl+Q where it has none (offscreen, some
    # desktops), so Quit always has a key.
    key = QKeySequence(QKeySequence.StandardKey.Quit)
    return (key if not key.isEmpty() else QKeySequence("Ctrl+Q"),)


class WindowActions(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.recent_menu = QMenu("Open &Recent", window)
        self.projects: list[tuple[str, str]] = []  # filled once the project handling is built
        self.fill_recent(app_facts.recent_folders())

    def panel_actions(self) -> list[PanelAction]:
        w = self.window
        return [
            PanelAction(
                "file.open_folder",
                "&Open Folder…",
                w.choose_folder,
                menu="File",
                section="open",
                shortcuts=(QKeySequence.StandardKey.Open,),
                tip="Open a dataset folder (one sub-folder per class)",
            ),
            PanelAction(
                "file.open_demo", "Open &Demo Dataset", w.open_demo, menu="File", section="open"
            ),
            PanelAction(
                "file.open_recent",
                "Open &Recent",
                menu="File",
                section="open",
                use=self.recent_menu.menuAction(),
                enabled_when=lambda: not self.recent_menu.isEmpty(),
            ),
            PanelAction(
                "file.quit", "&Quit", w.close, menu="File", section="quit", shortcuts=quit_keys()
            ),
            PanelAction(
                "help.shortcuts",
                "&Keyboard Shortcuts",
                self.show_shortcuts,
                menu="Help",
                section="help",
                shortcuts=("F1",),
                tip="Every key and where it acts",
            ),
            PanelAction(
                "help.about", "&About Imbalance Studio", self.about, menu="Help", section="about"
            ),
        ]

    def state_signals(self) -> list[SignalInstance]:
        return []

    def fill_recent(
        self, folders: list[str], projects: list[tuple[str, str]] | None = None
    ) -> None:
        """File ▸ Open Recent lists the recent projects, then the recent folders (greyed out
        when there are none). `projects` None keeps the projects listed now."""
        if projects is not None:
            self.projects = list(projects)
        self.recent_menu.clear()  # the entries belong to the menu: deleted
        if self.projects:
            from .views.start_page import project_name

            self.recent_menu.addSection("Projects")
            for file, root in self.projects:
                action = self.recent_menu.addAction(f"{project_name(file)} — {root}")
                action.setToolTip(file)
                action.triggered.connect(lambda _=False, f=file: self.open_recent_project(f))
        if folders and self.projects:
            self.recent_menu.addSection("Folders")
        for folder in folders:
            action = self.recent_menu.addAction(folder)
            action.triggered.connect(lambda _=False, f=folder: self.window.open_folder(f))
        self.window.stateChanged.emit()

    def open_recent_project(self, file: str) -> None:
        from pathlib import Path

        self.window.app_session.open_project(Path(file))

    def show_shortcuts(self) -> None:
        from .views.shortcuts_help import ShortcutsDialog

        self.shortcuts_dialog = ShortcutsDialog(self.window)
        self.shortcuts_dialog.open()

    def about(self) -> None:
        from .. import __version__

        self.about_box = QMessageBox(
            QMessageBox.Icon.Information,
            "About Imbalance Studio",
            f"<b>Imbalance Studio {__version__}</b><br>See, curate and balance labelled image "
            "datasets: split, mark, augment, generate and export a balanced, training-ready "
            "copy. Your files are never modified.",
            QMessageBox.StandardButton.Ok,
            self.window,
        )
        self.about_box.open()


class DockToggle:
    """A dock's show/hide entry in the View menu."""

    def __init__(self, dock: QDockWidget, title: str) -> None:
        self.dock, self.title = dock, title

    def panel_actions(self) -> list[PanelAction]:
        toggle = self.dock.toggleViewAction()
        return [
            PanelAction(
                f"view.dock.{self.title}", self.title, menu="View", section="docks", use=toggle
            )
        ]

    def state_signals(self) -> list[SignalInstance]:
        return []


class TabAction:
    """View ▸ a tab (Ctrl+1 … Ctrl+9 for the first nine): every tab is a key away."""

    def __init__(self, window: MainWindow, widget: QWidget, title: str, number: int) -> None:
        self.window, self.widget, self.title, self.number = window, widget, title, number

    def panel_actions(self) -> list[PanelAction]:
        keys = (f"Ctrl+{self.number}",) if self.number <= 9 else ()
        return [
            PanelAction(
                f"view.tab.{self.number}",
                self.title,
                lambda: self.window.panels.setCurrentWidget(self.widget),
                menu="View",
                section="tabs",
                shortcuts=keys,
                tip=f"Show the {self.title} tab",
            )
        ]

    def state_signals(self) -> list[SignalInstance]:
        return []
