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
):
    from ...core.export import iter_export

    return (
        yield from iter_export(
            dataset, project, plan, generated, out, link,
            overwrite=overwrite, overwrite_all=overwrite_all,
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
) -> ExportWorker:
    """A worker (not started) running the export; connect its signals, then start().
    `overwrite_all` also deletes files the user added to the previous export."""
    return ExportWorker(
        export_steps, dataset, project, plan, generated, out, link, overwrite, overwrite_all
    )
