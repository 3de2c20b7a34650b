"""Augmentation stacks: catalogue, stack model, files, presets, apply and preview.

Importing this package loads neither albumentations nor cv2; they load on first use.
"""

from .apply import apply_stack
from .catalogue import GROUPS, ParamSpec, TransformInfo, catalogue, transform_info
from .io import load_stack_file, save_stack_file
from .presets import DEFAULT_PRESET, PRESETS, default_preset_stack, six_transform_stack
from .preview import PreviewTile, render_previews
from .stack import (
    STUDIO_KEY,
    StackEntry,
    StackError,
    build_compose,
    empty_stack,
    entries_from_stack,
    new_entry,
    normalize_stack,
    set_param,
    stack_for_class,
    stack_from_entries,
    validate_entry,
    validate_stack,
)

__all__ = [
    "DEFAULT_PRESET",
    "GROUPS",
    "PRESETS",
    "STUDIO_KEY",
    "ParamSpec",
    "PreviewTile",
    "StackEntry",
    "StackError",
    "TransformInfo",
    "apply_stack",
    "build_compose",
    "catalogue",
    "default_preset_stack",
    "empty_stack",
    "entries_from_stack",
    "load_stack_file",
    "new_entry",
    "normalize_stack",
    "render_previews",
    "save_stack_file",
    "set_param",
    "six_transform_stack",
    "stack_for_class",
    "stack_from_entries",
    "transform_info",
    "validate_entry",
    "validate_stack",
]
