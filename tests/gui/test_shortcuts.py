"""Every key in the menus works from every tab, whatever has the keyboard focus there (a spin
box or a text field included), and no key is bound twice."""

from __future__ import annotations

import pytest
from datasets import write_digits
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLineEdit, QWidget

from imbalance_studio.core.project import ClassTarget

WAIT = 60_000


class GreedyField(QLineEdit):
    """A text field that claims every key for itself, as X11's emacs-style bindings make a
    QLineEdit claim Ctrl+E (end of line) and Ctrl+K, Ctrl+U …"""

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()
            return True
        return super().event(event)


@pytest.fixture
def ready(qtbot, window, wait_scanned, tmp_path):
    """A window on a small dataset where every declared action is enabled, each action's
    work replaced by a counter (the keys are under test, not Save or Export)."""
    root = tmp_path / "digits"
    write_digits(root, [20, 8, 4])
    window.open_folder(root)
    wait_scanned(window)
    c = window.curation.controller
    qtbot.waitUntil(lambda: c.plan is not None and not c.busy, timeout=WAIT)
    c.set_target("digit_2", ClassTarget(target=6))  # something to generate
    c.set_target("digit_1", ClassTarget(target=9))
    c.undo_stack.undo()  # something to undo and to redo
    qtbot.waitUntil(lambda: not c.busy, timeout=WAIT)
    window.workbench.generate_tab.ensure()
    window.workbench.augment_tab.ensure()
    fired: list[str] = []
    for decl in window.declared_actions():
        action = window.action(decl.id)
        if decl.shortcuts:
            action.triggered.disconnect()
            action.triggered.connect(lambda _checked=False, i=decl.id: fired.append(i))
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow())
    return window, fired


def focus_targets(tab: QWidget) -> list[QWidget]:
    """The tab itself and the first spin box, text field and drop-down in it."""
    found = [tab]
    for kind in (QAbstractSpinBox, QLineEdit, QComboBox):
        widgets = [w for w in tab.findChildren(kind) if w.isVisibleTo(tab)]
        if kind is QLineEdit:
            widgets = [w for w in widgets if not isinstance(w.parent(), QAbstractSpinBox)]
        found += widgets[:1]
    return found


def window_keys(window) -> list[tuple[str, str]]:
    """(key, action id) for every key that acts in the whole window."""
    return [
        (key.toString(), d.id)
        for d in window.declared_actions()
        if d.scope is None
        for key in window.action(d.id).shortcuts()
    ]


def press(qtbot, widget: QWidget, key: str) -> None:
    combo = QKeySequence(key)[0]
    qtbot.keyClick(widget, combo.key(), combo.keyboardModifiers())


def test_every_window_key_works_from_every_tab_and_focused_field(qtbot, ready, qtlog):
    window, fired = ready
    keys = window_keys(window)
    assert {k for k, _ in keys} >= {
        "Ctrl+O", "Ctrl+Shift+O", "Ctrl+S", "Ctrl+Shift+S", "Ctrl+E", "Ctrl+G", "Ctrl+Z",
        "Ctrl+Shift+Z", "Ctrl+Y", "Ctrl+Q", "F1",
    }  # fmt: skip
    for _key, action_id in keys:
        assert window.action(action_id).isEnabled(), action_id
    misses = []
    for t in range(window.panels.count()):
        window.panels.setCurrentIndex(t)
        tab = window.panels.widget(t)
        for target in focus_targets(tab):
            target.setFocus()
            if target is not tab and not target.hasFocus():
                continue
            for key, action_id in keys:
                fired.clear()
                press(qtbot, window.focusWidget() or window, key)
                if fired != [action_id]:
                    where = f"{window.panels.tabText(t)}/{type(target).__name__}"
                    misses.append((where, key, list(fired)))
    assert not misses
    assert not [r for r in qtlog.records if "Ambiguous" in r.message]


def test_a_field_that_claims_ctrl_keys_does_not_eat_the_window_keys(qtbot, ready):
    """As on X11, where a focused spin box on the Balance tab took Ctrl+E for "end of line"."""
    window, fired = ready
    window.panels.setCurrentWidget(window.workbench.curation.plan_panel)
    field = GreedyField(window.workbench.curation.plan_panel)
    field.show()
    field.setFocus()
    assert field.hasFocus()
    for key, action_id in (("Ctrl+E", "tools.export"), ("Ctrl+Z", "edit.undo"),
                           ("Ctrl+Shift+Z", "edit.redo")):  # fmt: skip
        fired.clear()
        press(qtbot, field, key)
        assert fired == [action_id], key
    field.setText("typed")
    fired.clear()
    qtbot.keyClick(field, Qt.Key.Key_D)  # plain keys stay the field's: no mark is made
    assert field.text() == "typedd" and fired == []


def test_marks_keys_work_in_the_gallery(qtbot, ready):
    window, fired = ready
    window.panels.setCurrentWidget(window.gallery)
    window.gallery.set_current_row(0)
    window.gallery.setFocus()
    for key, action_id in (("Del", "edit.remove"), ("D", "edit.duplicate"),
                           ("Shift+D", "edit.unduplicate"), ("U", "edit.clear_mark")):  # fmt: skip
        fired.clear()
        press(qtbot, window.gallery, key)
        assert fired == [action_id], key


def test_fewer_copies_of_an_unmarked_image_adds_no_undo_step(qtbot, window, wait_scanned, tmp_path):
    root = tmp_path / "digits"
    write_digits(root, [10, 5])
    window.open_folder(root)
    wait_scanned(window)
    c = window.curation.controller
    qtbot.waitUntil(lambda: c.project is not None and not c.busy, timeout=WAIT)
    window.gallery.set_current_row(1)
    window.gallery.setFocus()
    qtbot.keyClick(window.gallery, Qt.Key.Key_D)
    c.undo_stack.undo()
    assert c.undo_stack.canRedo()
    window.gallery.set_current_row(2)
    steps = c.undo_stack.count()
    qtbot.keyClick(window.gallery, Qt.Key.Key_D, Qt.KeyboardModifier.ShiftModifier)
    assert c.undo_stack.count() == steps, "no empty step"
    assert c.undo_stack.canRedo(), "the redo history is kept"
    assert not c.project.marks
