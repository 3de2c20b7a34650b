"""Which optional extras are installed, looked up without importing them.

The window asks at start-up (the Balance tab greys out "diffusion" without its extra), so
this module imports nothing but the standard library: asking from `core.generation` cost
the first paint that whole package (~26 ms of imports).
"""

from __future__ import annotations

import importlib.util
import sys

DIFFUSION_INSTALL_COMMAND = 'pip install "imbalance-studio[diffusion]"'
DIFFUSION_MODULES = ("diffusers", "transformers", "safetensors")


def missing_diffusion() -> str | None:
    """None when the `[diffusion]` extra is installed, else one line with the install
    command."""
    for name in DIFFUSION_MODULES:
        if not importable(name):
            return (
                f"diffusion needs the optional extra ({name} is missing): "
                f"{DIFFUSION_INSTALL_COMMAND}"
            )
    return None


def importable(name: str) -> bool:
    """Whether `import name` would find the module (without importing it)."""
    if name in sys.modules:
        return sys.modules[name] is not None  # None: imports of it are blocked
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
