"""The status bar's "Next: …" hints, one per stage of the loop (scan, targets, generation),
worded in one place so that each stage's hint hands over to the next one's."""

from __future__ import annotations

from typing import Any

from ..core.text import made_text, plural

SCAN_DONE = "Scan complete"


def after_scan(usable: int, excluded: int) -> str:
    note = f"; {plural(excluded, 'file')} left out (see Problems)" if excluded else ""
    return (
        f"{SCAN_DONE}: {plural(usable, 'usable image')}{note}. Next: mark images here "
        "(Del removes, D duplicates), then set targets in the Balance tab."
    )


def after_targets(shown: str, plan: Any, project: Any) -> str | None:
    """The scan's hint (`shown`) once targets are set: what comes next instead. None when
    there is nothing to change (no targets yet, or a later stage's hint is shown)."""
    if plan is None or project is None or not project.targets:
        return None
    if not shown.startswith(SCAN_DONE) or " Next: " not in shown:
        return None
    planned = sum(len(cp.generate) for cp in plan.splits["train"])
    step = (
        f"Next: Generate (Ctrl+G) makes the {plural(planned, 'planned new image')}; review "
        "them in the Generate tab, then Export (Ctrl+E)."
        if planned
        else "Next: Export (Ctrl+E) writes the balanced dataset."
    )
    return shown.split(" Next: ", 1)[0] + " " + step


def after_generation(result: Any) -> str:
    return (
        f"Generation done: {plural(len(result), 'new image')} ready "
        f"({made_text(result.made, result.reused)}). Next: review them in the Generate tab "
        "(A accepts, R rejects), then Export (Ctrl+E)."
    )
