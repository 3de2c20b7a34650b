"""Stack files in albumentations' own format (`A.save` JSON or YAML), so `A.load` reads ours."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..fileio import atomic_write_text, dataset_folder_of, where_in_dataset
from .stack import StackError, entries_from_stack, jsonable, normalize_stack, stack_from_entries

YAML_SUFFIXES = (".yaml", ".yml")


def load_stack_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read an `A.save` JSON/YAML file as a stack dict; ValueError (StackError) says what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StackError(f"{path}: cannot read the stack file ({exc.strerror or exc})") from exc
    try:
        if path.suffix.lower() in YAML_SUFFIXES:
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:
        kind = "YAML" if path.suffix.lower() in YAML_SUFFIXES else "JSON"
        raise StackError(f"{path}: not valid {kind} ({_first_line(exc)})") from exc
    try:
        # A file holding a single transform (A.save of one transform) becomes a one-entry stack.
        entries = entries_from_stack(data)
        stack = stack_from_entries(entries)
        if isinstance(data, dict) and "__version__" in data:
            stack["__version__"] = data["__version__"]
        return normalize_stack(stack)
    except StackError as exc:
        raise StackError(
            f"{path}: not a usable albumentations pipeline: {exc}", exc.errors
        ) from exc


def save_stack_file(
    stack: dict[str, Any],
    path: str | os.PathLike[str],
    dataset_root: str | os.PathLike[str] | None = None,
    real_dirs: Iterable[str] = (),
) -> None:
    """Write the stack atomically as `A.save` would (JSON, or YAML for .yaml/.yml).

    With `dataset_root`, a path inside the dataset is refused: the dataset is read-only, and
    so are its class folders' real paths (pass a scanned `Dataset.real_dirs` as `real_dirs`
    so folders linked deeper inside a class count too)."""
    path = Path(path)
    folder = None if dataset_root is None else dataset_folder_of(path, dataset_root, real_dirs)
    if folder is not None:
        raise StackError(
            f"{path}: will not write {where_in_dataset(folder, dataset_root)} "
            "(the dataset is read-only); save the stack file elsewhere"
        )
    data = jsonable(stack)
    entries_from_stack(data)  # refuse to write something A.load could not read
    if path.suffix.lower() in YAML_SUFFIXES:
        import yaml

        text = yaml.safe_dump(data, sort_keys=False)
    else:
        text = json.dumps(data, indent=4) + "\n"
    atomic_write_text(path, text)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
