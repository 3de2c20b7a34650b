"""The Evaluate tab and its Tools menu entry; `install_evaluate(window)` puts both in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, SignalInstance

from ..actions import PanelAction
from ..lazy_tab import LazyTab

if TYPE_CHECKING:
    from ..curation.controller import CurationController
    from ..main_window import MainWindow
    from .panel import EvaluatePanel
    from .recipes import RecipeSearch

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
        self._controller = controller
        self._recipes: RecipeSearch | None = None
        # Built when first shown: its modules and widgets cost the first paint ~40 ms, for a
        # tab a user opens only once an export exists.
        self.tab = LazyTab(self._build, "")
        self.index = window.add_panel(self.tab, "Evaluate")

    def _build(self) -> EvaluatePanel:
        from .panel import EvaluatePanel

        panel = EvaluatePanel()
        if self._controller is not None:  # the search works on the open dataset's project
            from .recipes import RecipeSearch

            self._recipes = RecipeSearch(self._controller)
            panel.layout().insertWidget(1, self._recipes)
        if folder := last_export():
            panel.set_export(folder)
        return panel

    @property
    def panel(self) -> EvaluatePanel:
        return self.tab.ensure()

    @property
    def recipes(self) -> RecipeSearch | None:
        self.tab.ensure()
        return self._recipes

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
        self.tab.ensure()  # also in a window not on screen yet (no show event)
        self.window.panels.setCurrentIndex(self.index)

    def exported(self, report) -> None:
        """An export finished in the window: it becomes the one to evaluate."""
        remember_export(str(report.out))
        if self.tab.widget is not None:  # else the panel starts with it when first shown
            self.tab.widget.offer_export(report.out)


def install_evaluate(window: MainWindow, controller: CurationController | None = None) -> Evaluate:
    evaluate = Evaluate(window, controller)
    window.install(evaluate)
    return evaluate
