"""Stack files in albumentations' own format (`A.save` JSON or YAML), so `A.load` reads ours."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..fileio import atomic_write_text, dataset_folder_of, where_in_dataset
from ..safe_read import (
    MAX_JSON_DEPTH,
    STACK_MAX_BYTES,
    InputFileError,
    check_depth,
    loads_bounded,
    read_bounded_text,
)
from .stack import StackError, entries_from_stack, jsonable, normalize_stack, stack_from_entries

YAML_SUFFIXES = (".yaml", ".yml")


def load_stack_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read an `A.save` JSON/YAML file as a stack dict; ValueError (StackError) says what is wrong.

    Only a regular file below `STACK_MAX_BYTES` is read (a FIFO would hang us, a link to
    /dev/zero fill memory), and nesting is bounded in both formats.
    """
    path = Path(path)
    is_yaml = path.suffix.lower() in YAML_SUFFIXES
    try:
        text = read_bounded_text(path, STACK_MAX_BYTES, "an augmentation stack")
    except InputFileError as exc:
        raise StackError(str(exc)) from None
    except UnicodeDecodeError:
        raise StackError(f"{path}: not a stack file (not UTF-8 text)") from None
    except OSError as exc:
        raise StackError(f"{path}: cannot read the stack file ({exc.strerror or exc})") from exc
    try:
        data = _load_yaml(text, str(path)) if is_yaml else loads_bounded(text, str(path))
        check_depth(data, str(path))
    except InputFileError as exc:
        raise StackError(str(exc)) from None
    except Exception as exc:
        kind = "YAML" if is_yaml else "JSON"
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


def _load_yaml(text: str, source: str) -> Any:
    """`yaml.safe_load` without aliases and with bounded nesting.

    An alias repeats a node without its bytes ("billion laughs": a few hundred bytes that
    expand to billions of items when walked), and PyYAML's composer recurses once per level,
    so both are refused while composing, before anything is built. `A.save` writes neither.
    """
    import yaml

    class Loader(yaml.SafeLoader):
        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                raise InputFileError(f"{source}: YAML aliases (*name) are not allowed here")
            self.depth += 1
            try:
                if self.depth > MAX_JSON_DEPTH:
                    raise InputFileError(
                        f"{source}: nested too deeply (more than {MAX_JSON_DEPTH} levels)"
                    )
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return yaml.load(text, Loader=Loader)  # a SafeLoader: plain data only, no objects


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
