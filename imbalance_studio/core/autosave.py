"""Autosave of projects: one file per project file (or per dataset root while unsaved) under
the user state folder, so a crash loses at most the last edit.

The GUI calls `write_autosave` after every edit, `discard_autosave` after a real save (and for
the untitled one after a first Save As), and `find_autosaves` on start to offer recovery.
These names are also importable from `core.project`.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from .. import APP_NAME
from .fileio import atomic_write_text
from .project import PROJECT_SUFFIX, Project, ProjectError, _key, _stem
from .safe_read import PROJECT_MAX_BYTES, load_json_bounded


def autosave_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP_NAME)) / "autosave"


def autosave_path(project_file: str | os.PathLike[str] | None, dataset_root: str = "") -> Path:
    """Where the autosave of a project lives: keyed by the project file, or for an unsaved
    project by its dataset root."""
    if project_file is not None:
        target = Path(project_file).absolute()
        return autosave_dir() / f"{_stem(target)}-{_key(str(target))}{PROJECT_SUFFIX}"
    return autosave_dir() / f"untitled-{_key(str(Path(dataset_root).absolute()))}{PROJECT_SUFFIX}"


@dataclass(frozen=True)
class Autosave:
    """A recoverable autosave: `project` is the autosaved state of `project_file` (None when
    the project was never saved)."""

    path: Path
    project_file: Path | None
    saved_at: float
    project: Project


def write_autosave(project: Project, project_file: str | os.PathLike[str] | None) -> Path:
    """Autosave `project` (atomically); returns the autosave's path."""
    path = autosave_path(project_file, project.dataset_root)
    envelope = {
        "autosave": 1,
        "project_file": str(Path(project_file).absolute()) if project_file is not None else None,
        "saved_at": time.time(),
        "project": json.loads(project.model_dump_json()),
    }
    atomic_write_text(path, json.dumps(envelope, indent=1) + "\n")
    return path


def find_autosaves() -> list[Autosave]:
    """Autosaves worth offering for recovery: newer than their project file (or of a project
    never saved, or whose file is gone). Unreadable autosaves are skipped. Newest first."""
    found: list[Autosave] = []
    folder = autosave_dir()
    if not folder.is_dir():
        return found
    for path in folder.glob(f"*{PROJECT_SUFFIX}"):
        try:
            # Regular, bounded and shallow only (InputFileError is a ValueError): a FIFO or a
            # link to /dev/zero among the autosaves must not hang the start of the app.
            envelope = load_json_bounded(path, PROJECT_MAX_BYTES, "an autosave")
            project = Project.from_json_text(json.dumps(envelope["project"]), str(path))
            saved_at = float(envelope["saved_at"])
            file = envelope.get("project_file")
            project_file = Path(file) if file else None
        except (OSError, ValueError, KeyError, TypeError, ProjectError):
            continue
        if project_file is not None:
            try:
                if project_file.stat().st_mtime >= path.stat().st_mtime:
                    continue  # saved properly after the last autosave
            except OSError:
                pass  # the project file is gone: the autosave is all there is
        found.append(Autosave(path, project_file, saved_at, project))
    found.sort(key=lambda a: a.saved_at, reverse=True)
    return found


def discard_autosave(
    project_file: str | os.PathLike[str] | None = None, dataset_root: str = ""
) -> None:
    """Delete the autosave of a project (after a save, or when the user declines recovery)."""
    autosave_path(project_file, dataset_root).unlink(missing_ok=True)
