"""The export job for the dialog: `core.export.iter_export` in a superqt GeneratorWorker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..workers import ClosingGeneratorWorker

# The export's cleanup (removing the temporary folder) must run in the worker thread.
ExportWorker = ClosingGeneratorWorker


def export_steps(
    dataset: Any,
    project: Any,
    plan: Any,
    generated: list,
    out: Path,
    link: bool,
    overwrite: bool,
    overwrite_all: bool = False,
    bad_sources: dict[str, str] | None = None,
    staging: Path | None = None,
):
    from ...core.export import iter_export

    return (
        yield from iter_export(
            dataset, project, plan, generated, out, link,
            overwrite=overwrite, overwrite_all=overwrite_all, bad_sources=bad_sources,
            staging=staging,
        )
    )  # fmt: skip


def start_export(
    dataset: Any,
    project: Any,
    plan: Any,
    generated: list,
    out: Path,
    link: bool,
    overwrite: bool,
    overwrite_all: bool = False,
    *,
    bad_sources: dict[str, str] | None = None,
    staging: Path | None = None,
) -> ExportWorker:
    """A worker (not started) running the export; connect its signals, then start().
    `overwrite_all` also deletes files the user added to the previous export; the
    `staging` folder's record of unusable originals is read in the worker."""
    return ExportWorker(
        export_steps, dataset, project, plan, generated, out, link, overwrite, overwrite_all,
        bad_sources, staging,
    )
