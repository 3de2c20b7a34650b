"""The status bar's "Next: …" hints, one per stage of the loop (scan, targets, generation),
worded in one place so that each stage's hint hands over to the next one's."""

from __future__ import annotations

from typing import Any

from ..core.text import made_text, plural

SCAN_DONE = "Scan complete"


SCAN_STEP = "mark images here (Del removes, D duplicates), then set targets in the Balance tab."


def after_scan(usable: int, excluded: int) -> str:
    note = f"; {plural(excluded, 'file')} left out (see Problems)" if excluded else ""
    return f"{SCAN_DONE}: {plural(usable, 'usable image')}{note}. Next: {SCAN_STEP}"


def after_targets(shown: str, plan: Any, project: Any) -> str | None:
    """The scan's hint (`shown`) once the plan changed: with targets, what comes next; with
    none (cleared, undone), the scan's own step again. None when a later stage's hint is
    shown, or there is no plan."""
    if plan is None or project is None:
        return None
    if not shown.startswith(SCAN_DONE) or " Next: " not in shown:
        return None
    head = shown.split(" Next: ", 1)[0]
    if not project.targets:
        return f"{head} Next: {SCAN_STEP}"
    from ..core.export.report import imbalance_text, left_imbalanced

    planned, _classes = plan.generation_total()
    after = plan.final_counts("train")
    if planned:
        step = (
            f"Generate (Ctrl+G) makes the {plural(planned, 'planned new image')}; review them "
            "in the Generate tab, then Export (Ctrl+E)."
        )
    elif left_imbalanced(plan.original_counts("train"), after):
        step = (
            f"the targets leave the training split imbalanced ({imbalance_text(after)}): "
            "Export (Ctrl+E) writes it with class and sampler weights, or set more targets."
        )
    else:
        step = "Export (Ctrl+E) writes the balanced dataset."
    return f"{head} Next: {step}"


def after_generation(result: Any) -> str:
    return (
        f"Generation done: {plural(len(result), 'new image')} ready "
        f"({made_text(result.made, result.reused)}). Next: review them in the Generate tab "
        "(A accepts, R rejects), then Export (Ctrl+E)."
    )
