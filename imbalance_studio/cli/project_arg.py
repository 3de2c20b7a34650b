"""Project files on the command line, read and written the same way by every command.

Reading: FOLDER|PROJECT arguments are told apart here, and a special file (FIFO, device) is
refused by its type before anything opens it. Writing (`plan --save-project P`): only where
nothing exists, over one of our project files (judged by content), or with
--overwrite-project; a folder, never.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..core.dataset import Dataset
from ..core.project import PROJECT_SUFFIX, Project, ProjectError
from ..core.safe_read import NotRegularFileError, file_kind
from . import CliError

OVERWRITE_FLAG = "--overwrite-project"


def regular_file(path: str, what: str) -> Path:
    """`path` if it names a regular file (symlinks followed); CliError otherwise. Opening a
    FIFO blocks and a device never ends: the type is checked with stat, which opens nothing."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise CliError(f"{path}: no such {what}") from None
    except OSError as exc:
        raise CliError(f"{path}: cannot read {what} ({exc.strerror or exc})") from None
    a = "an" if what[:1] in "aeiou" else "a"
    if stat.S_ISDIR(st.st_mode):
        raise CliError(f"{path}: is a folder, not {a} {what}")
    if not stat.S_ISREG(st.st_mode):
        raise CliError(str(NotRegularFileError(path, file_kind(st.st_mode), f"{a} {what}"))) from None
    return Path(path)


def is_project_arg(target: str) -> bool:
    """Whether a FOLDER|PROJECT argument means a project file: anything that is not a folder
    (so a missing or special file gets the project file's message)."""
    return target.endswith(PROJECT_SUFFIX) or (
        os.path.lexists(target) and not os.path.isdir(target)
    )


def load_project(path: str) -> Project:
    """The project file `path`; CliError with one line if it cannot be used."""
    try:
        return Project.load(regular_file(path, "project file"))
    except ProjectError as exc:
        raise CliError(str(exc)) from exc


def check_save_target(path: str, overwrite: bool) -> None:
    """Refuse, before any work, to save a project over something we did not write."""
    from ..core.project_check import overwrite_risk

    risk = overwrite_risk(path)
    if risk is None:
        return
    if risk == "is a folder":
        raise CliError(f"{path}: is a folder; give a file name for the project")
    if not overwrite:
        raise CliError(
            f"{path}: {risk}; not overwritten (choose another name, or {OVERWRITE_FLAG} "
            "to replace it)"
        )


def save_project(project: Project, path: str, overwrite: bool, dataset: Dataset) -> None:
    """Save `project` at `path` atomically, checked again (the file may have appeared while
    the dataset was scanned), never into a folder of `dataset` (a class folder that is a
    symlink included: `Project.save` refuses those)."""
    check_save_target(path, overwrite)
    try:
        project.save(path, dataset)
    except ProjectError as exc:
        raise CliError(str(exc)) from exc
