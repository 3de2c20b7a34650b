"""The suite never writes into the user's own folders: settings, autosaves, thumbnails and
the demo data of a test land in temporary folders, so a later `make run` opens clean (no
"Recover unsaved work?" pointing into a pytest folder)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
from datasets import write_digits
from PySide6.QtCore import Qt
from user_dirs import REAL_USER_ENV

from imbalance_studio.gui.app import recent_folders, settings

APP = "imbalance-studio"
DEFAULTS = {
    "XDG_CACHE_HOME": ".cache",
    "XDG_CONFIG_HOME": ".config",
    "XDG_DATA_HOME": ".local/share",
    "XDG_STATE_HOME": ".local/state",
}


def real_app_folders() -> list[Path]:
    """Where the app keeps its files for the user running the suite."""
    home = Path.home()
    return [Path(REAL_USER_ENV[v] or home / d) / APP for v, d in DEFAULTS.items()]


def snapshot(folders: list[Path]) -> dict[str, tuple[int, int]]:
    found = {}
    for folder in folders:
        for dirpath, _dirs, files in os.walk(folder):
            for name in files:
                st = (Path(dirpath) / name).stat()
                found[str(Path(dirpath) / name)] = (st.st_size, st.st_mtime_ns)
    return found


def under(path: str | Path, folders: list[Path]) -> bool:
    return any(Path(path).resolve().is_relative_to(f.parent.resolve()) for f in folders)


def test_a_session_that_autosaves_and_remembers_folders_writes_only_to_temporary_folders(
    qtbot, window, wait_scanned, tmp_path
):
    real = real_app_folders()
    before = snapshot(real)
    # Every place the app writes to is elsewhere.
    for where in (platformdirs.user_state_dir(APP), platformdirs.user_cache_dir(APP),
                  platformdirs.user_config_dir(APP), settings().fileName()):  # fmt: skip
        assert not under(where, real), where
    root = tmp_path / "digits"
    write_digits(root, [8, 4])
    window.open_folder(root)
    wait_scanned(window)
    c = window.curation.controller
    qtbot.waitUntil(lambda: c.project is not None and not c.busy, timeout=60_000)
    window.gallery.set_current_row(0)
    window.gallery.setFocus()
    qtbot.keyClick(window.gallery, Qt.Key.Key_Delete)  # an unsaved edit: autosaved
    qtbot.waitUntil(lambda: not c.busy, timeout=60_000)
    from imbalance_studio.core.autosave import find_autosaves

    assert find_autosaves(), "the edit was autosaved (in the temporary state folder)"
    assert str(root) in recent_folders()
    assert snapshot(real) == before, "nothing written into the user's own folders"
