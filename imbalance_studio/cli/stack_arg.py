"""`--augment STACK`, read the same way by every command (plan, generate, export).

STACK is a preset name (light, medium, heavy, label-safe, safe) or an albumentations JSON/YAML
file (`A.save` format). A preset name wins over a file of the same name; write `./light`
for the file.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from . import CliError
from .project_arg import regular_file

# The names of core.augment.PRESETS (a test keeps them equal) for --help, without importing it.
PRESET_NAMES = ("light", "medium", "heavy", "label-safe", "safe")
STACK_HELP = (
    "augmentation stack: a preset (" + ", ".join(PRESET_NAMES) + ") or an albumentations "
    "JSON/YAML file (default: the project's stack, else safe: no flips or hue shifts)"
)


def resolve_stack(spec: str) -> dict[str, Any]:
    """The stack dict `spec` names; CliError with one line if there is none."""
    from ..core.augment import PRESETS, load_stack_file

    if spec in PRESETS:
        return copy.deepcopy(PRESETS[spec])  # the project may be edited and saved
    if not os.path.lexists(spec):
        raise CliError(
            f"{spec}: no such augmentation stack file or preset (presets: {', '.join(PRESETS)})"
        )
    path = regular_file(spec, "augmentation stack file")
    try:
        return load_stack_file(path)
    except UnicodeDecodeError:
        raise CliError(f"{spec}: not an augmentation stack file (not UTF-8 text)") from None
    except (ValueError, OSError) as exc:  # its messages already name the file
        raise CliError((str(exc).strip().splitlines() or [type(exc).__name__])[0]) from exc
