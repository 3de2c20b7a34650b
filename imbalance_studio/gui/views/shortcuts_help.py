"""Help ▸ Keyboard Shortcuts: every key the window's actions declare, where it acts, and the
viewer's keys. Built from the declarations, so it can never list a key that does nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

if TYPE_CHECKING:
    from ..main_window import MainWindow

# Keys of widgets that are not declared actions (they act inside one view).
VIEW_KEYS = (
    ("← / →, PgUp / PgDn", "Previous / next image", "Image viewer"),
    ("Enter, double-click", "Open the image in a viewer window", "Gallery"),
)


def shortcut_rows(window: MainWindow) -> list[tuple[str, str, str]]:
    """(keys, what, where) for every declared action with a key, then the viewer keys."""
    rows = []
    for decl in window.declared_actions():
        keys = window.action(decl.id).shortcuts()
        if not keys:
            continue
        what = decl.text.replace("&", "").rstrip("…")
        rows.append((", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys), what,
                     _where(window, decl.scope)))  # fmt: skip
    return rows + list(VIEW_KEYS)


def _where(window: MainWindow, scope) -> str:
    if scope is None:
        return "Anywhere in the window"
    if scope is window.gallery:
        return "Gallery (the selected images)"
    index = window.panels.indexOf(scope)
    return f"{window.panels.tabText(index)} tab" if index >= 0 else "Its panel"


class ShortcutsDialog(QDialog):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Keys", "Action", "Where"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(620, 480)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
