"""The Evaluate tab and its Tools menu entry; `install_evaluate(window)` puts both in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, SignalInstance

from ..actions import PanelAction
from .panel import EvaluatePanel

if TYPE_CHECKING:
    from ..curation.controller import CurationController
    from ..main_window import MainWindow

LAST_EXPORT_KEY = "last_export"


def last_export() -> str:
    """The folder of the window's last finished export ('' when none)."""
    from ..app import settings

    return str(settings().value(LAST_EXPORT_KEY, "") or "")


def remember_export(folder: str) -> None:
    from ..app import settings

    settings().setValue(LAST_EXPORT_KEY, str(folder))


class Evaluate(QObject):
    """Owns the tab; declares Tools ▸ Evaluate an Export."""

    def __init__(self, window: MainWindow, controller: CurationController | None = None) -> None:
        super().__init__(window)
        self.window = window
        from PySide6.QtWidgets import QScrollArea

        self.panel = EvaluatePanel()
        self.recipes = None
        if controller is not None:  # the recipe search works on the open dataset's project
            from .recipes import RecipeSearch

            self.recipes = RecipeSearch(controller)
            self.panel.layout().insertWidget(1, self.recipes)
        # A scroll area: the table and plots never widen the window.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.panel)
        self.index = window.add_panel(scroll, "Evaluate")
        if folder := last_export():
            self.panel.set_export(folder)

    def panel_actions(self) -> list[PanelAction]:
        return [
            PanelAction(
                "tools.evaluate",
                "E&valuate an Export…",
                self.show,
                menu="Tools",
                section="work",
                tip="Did balancing help? Train a small classifier raw / balanced / weighted "
                "on an export and compare balanced accuracy, macro-F1 and per-class recall",
            )
        ]

    def state_signals(self) -> list[SignalInstance]:
        return []

    def show(self) -> None:
        self.window.panels.setCurrentIndex(self.index)

    def exported(self, report) -> None:
        """An export finished in the window: it becomes the one to evaluate."""
        remember_export(str(report.out))
        self.panel.offer_export(report.out)


def install_evaluate(window: MainWindow, controller: CurationController | None = None) -> Evaluate:
    evaluate = Evaluate(window, controller)
    window.install(evaluate)
    return evaluate
