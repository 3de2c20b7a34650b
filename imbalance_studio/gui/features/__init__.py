"""File ▸ Export features…: HOG vectors and SMOTE on the training split, for SVMs.

`FeaturesPanel` declares the action (installed with one `window.install(panel)`) and opens
`FeaturesDialog` on the curation's current dataset, project and plan."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, Qt, SignalInstance

from ..actions import PanelAction

if TYPE_CHECKING:
    from ..main_window import MainWindow


class FeaturesPanel(QObject):
    def __init__(self, window: MainWindow, controller: Any) -> None:
        super().__init__(window)
        self.window = window
        self.controller = controller
        self.dialog: Any = None

    def panel_actions(self) -> list[PanelAction]:
        c = self.controller
        return [
            PanelAction(
                "file.export_features",
                "Export &Features (HOG + SMOTE)…",
                self.open_dialog,
                menu="File",
                section="export",
                tip="Write HOG feature vectors of every split, the training split resampled "
                "with SMOTE & co., for SVMs and other classical models",
                enabled_when=lambda: c.dataset is not None and c.plan is not None,
            )
        ]

    def state_signals(self) -> list[SignalInstance]:
        return [self.controller.planChanged, self.controller.projectChanged]

    def open_dialog(self) -> None:
        from ..curation.controller import snapshot
        from .dialog import FeaturesDialog

        c = self.controller
        if c.dataset is None or c.project is None or c.plan is None:
            return
        dialog = FeaturesDialog(c.dataset, snapshot(c.project), c.plan, parent=self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.open()

    def shutdown(self) -> None:
        """Cancel a running featurizing or export (no partial folder is left)."""
        if self.dialog is not None and shiboken6.isValid(self.dialog):
            self.dialog.cancel()


__all__ = ["FeaturesPanel"]
