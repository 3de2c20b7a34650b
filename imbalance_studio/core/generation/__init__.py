"""Synthetic minority images: staged files with provenance, made in the background.

See `run.iter_generate` (the work), `slots` (ids, sources, replacements), `records` (the
staging folder) and `review` (accept / reject).
"""

from .badsources import BAD_SOURCES_NAME, as_problem, read_bad_sources
from .class_jobs import staged_for_plan
from .records import GeneratedImage, load_staging, set_status
from .results import GenerateError, GenerateProgress, GenerateResult
from .review import (
    REJECT_MODES,
    accept,
    awaiting_review,
    find_image,
    note_rejection,
    reduced_plan,
    reject,
    rejection_changes,
)
from .run import check_staging, iter_generate, shared_pool, shutdown_pool
from .slots import image_id, stack_fingerprint

__all__ = [
    "BAD_SOURCES_NAME",
    "REJECT_MODES",
    "GenerateError",
    "GenerateProgress",
    "GenerateResult",
    "GeneratedImage",
    "accept",
    "as_problem",
    "awaiting_review",
    "check_staging",
    "find_image",
    "image_id",
    "iter_generate",
    "load_staging",
    "note_rejection",
    "read_bad_sources",
    "reduced_plan",
    "reject",
    "rejection_changes",
    "set_status",
    "shared_pool",
    "shutdown_pool",
    "stack_fingerprint",
    "staged_for_plan",
]
