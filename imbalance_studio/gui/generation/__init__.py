"""The Generate panel: background generation, progress and Cancel, and the QA gallery."""

from .panel import GenerationPanel

__all__ = ["GenerationPanel"]
