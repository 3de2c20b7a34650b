"""Synthetic generation (the implementation lives in `core.generation`)."""

from .generation import (
    REJECT_MODES,
    GeneratedImage,
    GenerateError,
    GenerateProgress,
    GenerateResult,
    accept,
    iter_generate,
    load_staging,
    note_rejection,
    reduced_plan,
    reject,
    shutdown_pool,
)

__all__ = [
    "REJECT_MODES",
    "GenerateError",
    "GenerateProgress",
    "GenerateResult",
    "GeneratedImage",
    "accept",
    "iter_generate",
    "load_staging",
    "note_rejection",
    "reduced_plan",
    "reject",
    "shutdown_pool",
]
