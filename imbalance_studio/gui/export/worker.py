"""The export job for the dialog: `core.export.iter_export` in a superqt GeneratorWorker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from superqt.utils import GeneratorWorker


class ExportWorker(GeneratorWorker):
    """A GeneratorWorker that closes its generator in the worker thread when it stops.

    superqt's worker only stops asking for items when quit() is called; closing the generator
    here runs the export's cleanup (removing the temporary folder) in this thread, before
    `finished` is emitted, and never on the GUI thread.
    """

    def work(self) -> Any:
        try:
            return super().work()
        finally:
            self._gen.close()


def export_steps(
    dataset: Any,
    project: Any,
    plan: Any,
    generated: list,
    out: Path,
    link: bool,
    overwrite: bool,
):
    from ...core.export import iter_export

    return (
        yield from iter_export(dataset, project, plan, generated, out, link, overwrite=overwrite)
    )


def start_export(
    dataset: Any, project: Any, plan: Any, generated: list, out: Path, link: bool, overwrite: bool
) -> ExportWorker:
    """A worker (not started) running the export; connect its signals, then start()."""
    return ExportWorker(export_steps, dataset, project, plan, generated, out, link, overwrite)
