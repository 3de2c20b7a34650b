"""The Generate panel: background generation, progress and Cancel, and the QA gallery."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .panel import GenerationPanel

__all__ = ["GenerationPanel"]


def __getattr__(name: str) -> Any:
    # Lazy: the window declares the panel's review actions (`.review`) at start-up, and
    # importing the panel loads the generation machinery.
    if name == "GenerationPanel":
        from .panel import GenerationPanel

        return GenerationPanel
    raise AttributeError(name)
