"""The QApplication and the few application-wide facts (names, icon, settings)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from . import qt_import_hook

qt_import_hook.install()  # every later import is cheaper (see the module)

ORGANIZATION = "imbalance-studio"
APPLICATION = "imbalance-studio"
DISPLAY_NAME = "Imbalance Studio"
DESKTOP_ID = "imbalance-studio"
RECENT_KEY = "recent_folders"
RECENT_PROJECTS_KEY = "recent_projects"  # JSON {"file": …, "root": …} per project
MAX_RECENT = 8


def resources_dir() -> Path:
    """The repository's resources/ folder (icons); may be missing in an installed wheel."""
    return Path(__file__).resolve().parents[2] / "resources"


def app_icon() -> QIcon:
    path = resources_dir() / "imbalance-studio.svg"
    return QIcon(str(path)) if path.exists() else QIcon()


def create_app(argv: list[str] | None = None) -> QApplication:
    """Return the running QApplication, creating it on first use."""
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "imbalance-studio", *(argv or [])])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(DISPLAY_NAME)
    app.setDesktopFileName(DESKTOP_ID)
    app.setWindowIcon(app_icon())
    from .main_thread_gc import install

    install(app)  # Qt objects must never be garbage-collected from a worker thread
    if app.platformName() == "offscreen":
        _quiet_offscreen_warnings()
    return app  # type: ignore[return-value]


# The offscreen platform (--screenshot, tests) has no window manager to pass size hints to
# and says so for every top-level window: noise on stderr, not a problem of ours.
_OFFSCREEN_NOISE = ("This plugin does not support propagateSizeHints()",)


def _quiet_offscreen_warnings() -> None:
    from PySide6.QtCore import qInstallMessageHandler

    def handler(_kind, _context, message: str) -> None:
        if message not in _OFFSCREEN_NOISE:
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def settings() -> QSettings:
    return QSettings(ORGANIZATION, APPLICATION)


def recent_folders() -> list[str]:
    value = settings().value(RECENT_KEY, [])
    if isinstance(value, str):  # QSettings returns a bare string for a one-item list
        value = [value]
    return [str(v) for v in value or []]


def add_recent_folder(folder: str) -> list[str]:
    # Absolute: a folder opened as "digits" from a terminal must still be found when the
    # app is next started from elsewhere (or from the desktop).
    folder = os.path.abspath(folder)
    folders = [folder, *(f for f in recent_folders() if f != folder)][:MAX_RECENT]
    settings().setValue(RECENT_KEY, folders)
    return folders


def _as_list(value) -> list[str]:
    if isinstance(value, str):  # QSettings returns a bare string for a one-item list
        value = [value]
    return [str(v) for v in value or []]


def recent_projects() -> list[tuple[str, str]]:
    """(project file, its dataset folder) of the projects saved or opened last, newest first."""
    found = []
    for entry in _as_list(settings().value(RECENT_PROJECTS_KEY, [])):
        try:
            item = json.loads(entry)
            found.append((str(item["file"]), str(item["root"])))
        except (ValueError, KeyError, TypeError):
            continue  # written by another version: skipped, not fatal
    return found


def add_recent_project(file: str, root: str) -> list[tuple[str, str]]:
    file, root = os.path.abspath(file), os.path.abspath(root)
    projects = [(file, root), *(p for p in recent_projects() if p[0] != file)][:MAX_RECENT]
    settings().setValue(
        RECENT_PROJECTS_KEY, [json.dumps({"file": f, "root": r}) for f, r in projects]
    )
    return projects
