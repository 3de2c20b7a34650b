"""Panels declare their actions; the window lays out every menu and toolbar from them.

A panel is any object with `panel_actions()` (what it offers: text, menu and section,
shortcuts, tooltip, toolbar or not, when it is enabled) and `state_signals()` (the signals
after which its `enabled_when` answers may have changed). `ActionLayout` turns the
declarations of all installed panels into QActions, puts them into the fixed menus in a
fixed section order, builds the one toolbar, and re-evaluates every `enabled_when` and
tooltip on the window's one "state changed" signal. Nothing splices a menu by index.

The protocol method is `panel_actions`, not `actions`: `QWidget.actions()` already exists
(the actions added to a widget) and a panel is often a widget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, SignalInstance
from PySide6.QtGui import QAction, QIcon, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QMainWindow,
    QMenu,
    QPlainTextEdit,
    QTextEdit,
    QToolBar,
    QWidget,
    QWidgetAction,
)

MenuName = Literal["File", "Edit", "View", "Tools", "Help"]
Shortcut = str | QKeySequence | QKeySequence.StandardKey

# The menu bar, left to right, and each menu's sections, top to bottom (separators between
# sections). A section no menu lists goes after the listed ones, in the order first seen.
MENUS: tuple[tuple[MenuName, str], ...] = (
    ("File", "&File"),
    ("Edit", "&Edit"),
    ("View", "&View"),
    ("Tools", "&Tools"),
    ("Help", "&Help"),
)
SECTIONS: dict[str, tuple[str, ...]] = {
    "File": ("project", "open", "export", "quit"),
    "Edit": ("history", "marks", "review"),
    "View": ("tabs", "docks"),
    "Tools": ("work",),
    "Help": ("help", "about"),
}
# The toolbar's groups, left to right (separators between groups), by section.
TOOLBAR: tuple[tuple[str, ...], ...] = (("marks", "history"), ("filter",), ("work",))


@dataclass(frozen=True)
class PanelAction:
    """One thing a panel offers. `triggered` runs on click or shortcut; `enabled_when` (and
    a callable `tip`) is asked again whenever the window's state changes, so keep it cheap.

    `scope`: the shortcut acts only while the keyboard focus is in this widget (the gallery
    for marks): the same key may mean something else elsewhere. `app_wide`: the shortcut
    also acts in the window's dialogs (undo). `menu` None: on the toolbar only.
    `use`: an action Qt already made (a submenu's `menuAction()`, a dock's toggle), laid
    out as it is. `widget`: a toolbar widget (a filter box) instead of a button.
    """

    id: str
    text: str
    triggered: Callable[[], object] | None = None
    menu: MenuName | None = None
    section: str = ""
    also_in: tuple[tuple[MenuName, str], ...] = ()  # further (menu, section) places
    shortcuts: tuple[Shortcut, ...] = ()
    tip: str | Callable[[], str] = ""
    icon_text: str = ""
    icon: str = ""  # a freedesktop theme icon name
    toolbar: bool = False
    enabled_when: Callable[[], bool] | None = None
    scope: QWidget | None = field(default=None, compare=False)
    app_wide: bool = False
    use: QAction | None = field(default=None, compare=False)
    widget: QWidget | None = field(default=None, compare=False)

    def places(self) -> list[tuple[MenuName, str]]:
        return ([(self.menu, self.section)] if self.menu else []) + list(self.also_in)

    def key_sequences(self) -> list[QKeySequence]:
        # A standard key means its platform's primary binding (as `setShortcut` takes it).
        keys = [QKeySequence(s) for s in self.shortcuts]
        unique = {k.toString(): k for k in keys if not k.isEmpty()}
        return list(unique.values())


class Panel(Protocol):
    def panel_actions(self) -> list[PanelAction]: ...

    def state_signals(self) -> list[SignalInstance]: ...


def make_action(decl: PanelAction, parent: QObject) -> QAction:
    """The QAction for one declaration (its shortcut bound to `decl.scope` if any)."""
    if decl.widget is not None:
        action: QAction = QWidgetAction(parent)
        action.setDefaultWidget(decl.widget)
    else:
        action = decl.use or QAction(decl.text, parent)
    if decl.use is None:
        action.setObjectName(decl.id)
    if decl.icon_text:
        action.setIconText(decl.icon_text)
    if decl.icon:
        action.setIcon(QIcon.fromTheme(decl.icon))
    keys = decl.key_sequences()
    if keys:
        action.setShortcuts(keys)
    if decl.scope is not None:
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        decl.scope.addAction(action)  # a widget-scoped shortcut needs its widget
    elif decl.app_wide:
        action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
    if decl.triggered is not None:
        slot = decl.triggered
        action.triggered.connect(lambda _checked=False: slot())
    refresh_action(decl, action)
    return action


def refresh_action(decl: PanelAction, action: QAction) -> None:
    if not shiboken6.isValid(action):
        return  # torn down with the window
    if decl.enabled_when is not None:
        action.setEnabled(bool(decl.enabled_when()))
        if decl.widget is not None:
            decl.widget.setEnabled(action.isEnabled())
    tip = decl.tip() if callable(decl.tip) else decl.tip
    if decl.widget is not None or decl.use is not None:
        if tip:
            action.setToolTip(tip)
        return
    text = (tip or decl.text.replace("&", "").rstrip("…")).strip()
    keys = decl.key_sequences()
    action.setToolTip(f"{text} ({keys[0].toString()})" if keys else text)


def bind_actions(
    widget: QWidget, decls: Iterable[PanelAction], signals: Iterable[SignalInstance] = ()
) -> dict[str, QAction]:
    """Make a widget's declared actions work on their own, outside the window (their
    shortcuts scoped to `widget`; `signals` play the window's "state changed"). The window
    binds them itself; never bind both."""
    decls = list(decls)
    actions = {d.id: make_action(d, widget) for d in decls}
    for signal in signals:
        signal.connect(lambda *_: [refresh_action(d, actions[d.id]) for d in decls])
    return actions


def _empty(target: QMenu | QToolBar) -> None:
    """Take every action out of a menu or toolbar, deleting only the separators it made.
    (Not `QMenu.clear()`: that also deletes a submenu's own menu action.)"""
    for action in target.actions():
        target.removeAction(action)
        if action.isSeparator() and action.parent() is target:
            action.deleteLater()


# Widgets that claim key presses for text editing before any shortcut is looked at.
TEXT_INPUTS = (QLineEdit, QAbstractSpinBox, QComboBox, QTextEdit, QPlainTextEdit)
_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)


class ActionLayout(QObject):
    """The menus and the toolbar of `window`, laid out from the declared actions.

    A focused text field or spin box claims some Ctrl keys for editing before shortcuts are
    looked at (on X11 Ctrl+E moves to the end of the line; Ctrl+Z / Ctrl+Y undo typing): the
    window's own Ctrl/Alt keys go to the window first, so every key in the menus works
    whatever has the focus. Plain keys (D, A, typing) stay the field's."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.menus: dict[str, QMenu] = {
            name: window.menuBar().addMenu(title) for name, title in MENUS
        }
        self.toolbar: QToolBar | None = None
        self.declared: list[PanelAction] = []
        self.qactions: dict[str, QAction] = {}
        self.window_keys: set[str] = set()  # the window-wide keys with Ctrl, Alt or Meta
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus)

    def _on_focus(self, _old: QWidget | None, new: QWidget | None) -> None:
        # Filter only the focused text inputs of this window: nothing else pays for it.
        if (
            isinstance(new, TEXT_INPUTS)
            and shiboken6.isValid(self.window)
            and new.window() is self.window
        ):
            new.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            key = QKeySequence(event.keyCombination()).toString()
            if key in self.window_keys:
                event.ignore()  # not the field's: the shortcut map gives it to the action
                return True
        return False

    def install(self, panel: Panel) -> None:
        for decl in panel.panel_actions():
            if decl.id in self.qactions:
                raise ValueError(f"two actions are declared as {decl.id!r}")
            self.qactions[decl.id] = make_action(decl, self.window)
            self.declared.append(decl)
            if decl.scope is None:
                self.window_keys.update(
                    k.toString()
                    for k in decl.key_sequences()
                    if k.count() == 1 and k[0].keyboardModifiers() & _MODIFIERS
                )
        self._lay_out()

    def refresh(self) -> None:
        for decl in self.declared:
            refresh_action(decl, self.qactions[decl.id])

    def _lay_out(self) -> None:
        for name, menu in self.menus.items():
            _empty(menu)
            menu.menuAction().setVisible(False)  # shown again below if anything is in it
            self._fill(
                menu,
                SECTIONS.get(name, ()),
                [
                    (section, self.qactions[d.id])
                    for d in self.declared
                    for m, section in d.places()
                    if m == name
                ],
            )
            menu.menuAction().setVisible(bool(menu.actions()))  # no empty menus
        items = [(d.section, self.qactions[d.id]) for d in self.declared if d.toolbar]
        if items and self.toolbar is None:
            self.toolbar = QToolBar("Toolbar")
            self.toolbar.setObjectName("main-toolbar")
            self.window.addToolBar(self.toolbar)
        if self.toolbar is not None:
            _empty(self.toolbar)
            groups = [s for group in TOOLBAR for s in group]
            self._fill(self.toolbar, groups, items, TOOLBAR)

    @staticmethod
    def _fill(
        target: QMenu | QToolBar,
        order: Sequence[str],
        items: list[tuple[str, QAction]],
        groups: Sequence[Sequence[str]] | None = None,
    ) -> None:
        """Add `items` section by section in `order` (unknown sections last), with a
        separator between groups (each section its own group unless `groups` says)."""
        sections = list(order) + [s for s, _ in items if s not in order]
        sections = list(dict.fromkeys(sections))

        def group_of(section: str) -> int:
            if groups:
                for i, group in enumerate(groups):
                    if section in group:
                        return i
            return len(groups or ()) + sections.index(section)

        last_group: int | None = None
        for section in sections:
            actions = [a for s, a in items if s == section]
            if not actions:
                continue
            group = group_of(section)
            if last_group is not None and group != last_group:
                target.addSeparator()
            last_group = group
            target.addActions(actions)


__all__ = [
    "MENUS",
    "SECTIONS",
    "TOOLBAR",
    "ActionLayout",
    "MenuName",
    "Panel",
    "PanelAction",
    "bind_actions",
    "make_action",
    "refresh_action",
]
