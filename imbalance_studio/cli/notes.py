"""Notes every command prints the same way: how the dataset differs from a saved project."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # not at run time: `scan` has no project, and pydantic costs ~0.2 s to import
    from ..core.dataset import Dataset
    from ..core.project import Project


def note_dataset_changes(project: Project, dataset: Dataset) -> bool:
    """Print (stderr, `note:` lines) how the folder differs from the project, as plan,
    generate and export all do; True when it differs."""
    if not (project.marks or project.snapshot):
        return False  # a fresh project: nothing saved to compare with
    from ..core.reconcile import describe, reconcile

    report = reconcile(project, dataset)
    lines = describe(report)
    for line in lines:
        print(f"note: {line}", file=sys.stderr)
    # Only the classes are recorded by a save (marks on missing files are kept whatever).
    classes_differ = report.missing_classes or report.new_classes or report.changed_classes
    if classes_differ and project.snapshot:
        print(
            "note: the plan follows the folder as it is now; save the project again to "
            "record it (plan PROJECT --save-project PROJECT)",
            file=sys.stderr,
        )
    return bool(lines)


# A list longer than this is cut, with a count of the rest and where the whole list is.
LIST_LIMIT = 20


def print_list(items: list[str], where: str = "", limit: int = LIST_LIMIT, file=None) -> None:
    """Print `items` indented, one a line, at most `limit` of them, then how many more and
    `where` the whole list can be read."""
    from ..core.text import printable

    for item in items[:limit]:
        print(f"  {printable(item)}", file=file)
    if len(items) > limit:
        tail = f" ({where})" if where else ""
        print(f"  ... and {len(items) - limit} more{tail}", file=file)
