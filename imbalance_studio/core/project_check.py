"""Is a file one of our project files? Asked before saving a project over an existing file:
we never overwrite a file we did not write (a notes.txt given as the project name by mistake).
Whether a path lands inside the dataset is `fileio.dataset_folder_of`'s question.

Judged by content, not by name: the file must parse as a project. It is opened without
following a symlink and only if it is a regular file, and read under a size bound.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .project import Project, ProjectError
from .safe_read import PROJECT_MAX_BYTES, read_bounded_bytes

# A file above the size `Project.load` accepts cannot be one of our projects.
MAX_PROJECT_PROBE = PROJECT_MAX_BYTES


def is_project_file(path: str | os.PathLike[str], limit: int = MAX_PROJECT_PROBE) -> bool:
    """True when `path` is a regular file (not a symlink) that parses as an Imbalance Studio
    project of a version this program reads."""
    if os.path.islink(path):
        return False
    try:
        data = read_bounded_bytes(path, limit, "a project file")
        Project.from_json_text(data.decode("utf-8"), str(path))
    except (OSError, ValueError, ProjectError):  # InputFileError and UnicodeDecodeError too
        return False
    return True


def overwrite_risk(path: str | os.PathLike[str]) -> str | None:
    """Why saving a project at `path` would replace something we did not write, or None when
    nothing is there or it is one of our project files. The reason reads after the path:
    "notes.txt: exists and is not a project file"."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be checked ({exc.strerror or exc})"
    if stat.S_ISDIR(st.st_mode):
        return "is a folder"
    if stat.S_ISLNK(st.st_mode):
        return "is a symbolic link"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    if st.st_size > MAX_PROJECT_PROBE:
        return "exists and is too big to be a project file"
    if not is_project_file(path):
        return "exists and is not a project file this version of Imbalance Studio reads"
    return None
