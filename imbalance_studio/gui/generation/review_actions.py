"""The Generate panel's review actions, declared for the window's Edit menu: A or Space
accepts the current generated image, R or Delete rejects it (the selection moves on).

Kept apart from the panel so the window can declare them without importing the panel
(which loads the generation machinery) before the Generate tab is first shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from ..actions import PanelAction

if TYPE_CHECKING:
    from .panel import GenerationPanel


def review_actions(
    panel_of: Callable[[], GenerationPanel | None], scope: QWidget
) -> list[PanelAction]:
    """Accept / Reject for the panel `panel_of()` returns (None while it is not built); the
    keys act only while the focus is inside `scope` (the panel or the tab holding it)."""

    def on_current(decide: str) -> Callable[[], None]:
        def run() -> None:
            panel = panel_of()
            if panel is not None:
                getattr(panel, decide)()

        return run

    def has_current() -> bool:
        panel = panel_of()
        return panel is not None and panel.current_image() is not None

    return [
        PanelAction(
            "edit.accept_generated",
            "&Accept Generated Image",
            on_current("accept_current"),
            menu="Edit",
            section="review",
            shortcuts=("A", "Space"),
            tip="Keep the selected generated image for the export",
            enabled_when=has_current,
            scope=scope,
        ),
        PanelAction(
            "edit.reject_generated",
            "Re&ject Generated Image",
            on_current("reject_current"),
            menu="Edit",
            section="review",
            shortcuts=("R", "Delete"),
            tip="Leave the selected generated image out (a replacement is made, or the "
            "class count drops, as the panel's reject mode says)",
            enabled_when=has_current,
            scope=scope,
        ),
    ]
