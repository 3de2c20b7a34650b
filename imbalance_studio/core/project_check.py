"""Is a file one of our project files? Asked before saving a project over an existing file:
we never overwrite a file we did not write (a notes.txt given as the project name by mistake).
And would a path land inside the dataset, through any symlink (`inside_dataset`)?

Judged by content, not by name: the file must parse as a project. It is opened without
following a symlink and only if it is a regular file, and read under a size bound.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from .project import Project, ProjectError

if TYPE_CHECKING:
    from .dataset import Dataset

# Reading more than this to answer "is it ours?" is not worth it: a larger file needs an
# explicit overwrite (a project with 100,000 marks is about 8 MB).
MAX_PROJECT_PROBE = 16 * 2**20


def _read_regular(path: Path, limit: int) -> bytes | None:
    """The bytes of a regular file (not through a symlink), or None: not one, or too big."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        chunks, left = [], limit + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        return None if len(data) > limit else data
    except OSError:
        return None
    finally:
        os.close(fd)


def is_project_file(path: str | os.PathLike[str], limit: int = MAX_PROJECT_PROBE) -> bool:
    """True when `path` is a regular file (not a symlink) that parses as an Imbalance Studio
    project of a version this program reads."""
    data = _read_regular(Path(path), limit)
    if data is None:
        return False
    try:
        Project.from_json_text(data.decode("utf-8"), str(path))
    except (UnicodeDecodeError, ProjectError):
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


def dataset_folders(dataset: Dataset) -> set[str]:
    """The real paths (symlinks resolved) of every folder the dataset is read from: its root,
    each class folder and each folder holding a sample. A class folder that is a symlink makes
    its target part of the dataset, and so read-only to us."""
    rels = {"", *dataset.classes}
    rels.update(p.rpartition("/")[0] for p in dataset.paths)
    root = str(dataset.root)
    return {os.path.realpath(os.path.join(root, rel)) for rel in rels}


def inside_dataset(path: str | os.PathLike[str], dataset: Dataset) -> bool:
    """True when writing `path` would write into one of the dataset's folders, through any
    symlink (a `<class>` link to a folder elsewhere included)."""
    real = Path(os.path.realpath(path))
    folders = dataset_folders(dataset)
    return any(str(p) in folders for p in (real, *real.parents))
