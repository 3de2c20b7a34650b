"""Panels declare their actions and the window lays out every menu and the toolbar from
them: every key is in a menu, no key means two things where it acts, and a new panel is one
declaration plus `window.install(panel)`."""

from __future__ import annotations

from pathlib import Path

from datasets import write_digits
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QShortcut
from PySide6.QtWidgets import QApplication, QMenu

from imbalance_studio.core.generation import load_staging
from imbalance_studio.core.project import ClassTarget
from imbalance_studio.gui.actions import PanelAction

WAIT = 60_000


def menu_entries(menu: QMenu, path: str = "") -> list[tuple[str, QAction]]:
    """(menu path, action) for every action reachable from `menu`, submenus included."""
    found = []
    for action in menu.actions():
        if action.isSeparator():
            continue
        found.append((path, action))
        if action.menu() is not None:
            found += menu_entries(action.menu(), f"{path}/{action.text()}")
    return found


def layout(menu: QMenu) -> list[str]:
    return ["----" if a.isSeparator() else a.text() for a in menu.actions()]


def built(window):
    bench = window.workbench
    bench.generate_tab.ensure()  # the Generate panel exists, as after its tab was shown
    return bench


def test_every_declared_shortcut_is_in_a_menu_and_no_key_means_two_things(window):
    built(window)
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    assert list(menus) == ["File", "Edit", "View", "Tools", "Help"]
    reachable = {id(a) for m in menus.values() for _p, a in menu_entries(m)}
    decls = window.declared_actions()

    keyed = []  # (key, scope widget or None for the whole window)
    for decl in decls:
        action = window.action(decl.id)
        if decl.shortcuts:
            assert decl.menu is not None, f"{decl.id}: a key needs a menu entry"
            assert id(action) in reachable, f"{decl.id} is in no menu"
            assert [k.toString() for k in action.shortcuts()] == [
                k.toString() for k in decl.key_sequences()
            ]
        for key in action.shortcuts():
            keyed.append((key.toString(), None if decl.scope is None else decl.scope, decl.id))

    # Nothing makes keys behind the window's back.
    declared = {id(window.action(d.id)) for d in decls}
    stray = [
        a.text() for a in window.findChildren(QAction) if a.shortcuts() and id(a) not in declared
    ]
    assert not stray and not window.findChildren(QShortcut)

    def overlap(a, b) -> bool:  # could both be asked for the same key press?
        return a is None or b is None or a is b or a.isAncestorOf(b) or b.isAncestorOf(a)

    for i, (key, scope, who) in enumerate(keyed):
        for other_key, other_scope, other in keyed[i + 1 :]:
            assert not (key == other_key and overlap(scope, other_scope)), (key, who, other)

    keys = {key for key, _s, _w in keyed}
    for key in (
        "Ctrl+O", "Ctrl+Shift+O", "Ctrl+S", "Ctrl+Shift+S", "Ctrl+E", "Ctrl+G", "Ctrl+Q",
        "Ctrl+Z", "Ctrl+Shift+Z", "Del", "D", "Shift+D", "U", "A", "Space", "R",
    ):  # fmt: skip
        assert key in keys, key


def test_menus_and_toolbar_are_laid_out_in_their_fixed_order(window):
    built(window)
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    assert layout(menus["File"]) == [
        "Open &Project…", "&Save Project", "Save Project &As…", "----",
        "&Open Folder…", "Open &Demo Dataset", "Open &Recent", "----",
        "&Export Balanced Dataset…", "Export &Features (HOG + SMOTE)…", "----", "&Quit",
    ]  # fmt: skip
    assert layout(menus["Edit"]) == [
        "&Undo", "&Redo", "----", "Remove", "Duplicate +1", "Duplicate \u22121", "Clear Mark",
        "Mark All but One in Every Duplicate Group", "Mark All Flagged Images as Removed",
        "----", "&Accept Generated Image", "Re&ject Generated Image",
    ]  # fmt: skip
    assert layout(menus["Tools"]) == [
        "&Inspect Again", "&Generate Planned Images", "&Export Balanced Dataset…",
        "E&valuate an Export…",
    ]  # fmt: skip
    assert layout(menus["Help"]) == ["&Keyboard Shortcuts", "----", "&About Imbalance Studio"]
    toolbar = window.layout_of_actions.toolbar
    items = ["----" if a.isSeparator() else a.iconText() for a in toolbar.actions()]
    assert items == [
        "Remove", "Duplicate +1", "Duplicate \u22121", "Clear Mark", "Undo", "Redo", "----",
        "", "----", "Generate", "Export…",
    ]  # fmt: skip
    assert toolbar.widgetForAction(toolbar.actions()[7]) is window.curation.filter_box
    # The marks act on the gallery's selection: the gallery holds them (keys, context menu).
    marks = ("edit.remove", "edit.duplicate", "edit.unduplicate", "edit.clear_mark")
    assert [window.action(i) for i in marks] == window.gallery.actions()


class ExtraPanel(QObject):
    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.ready = False
        self.runs = 0

    def panel_actions(self) -> list[PanelAction]:
        return [
            PanelAction(
                "tools.extra",
                "&Extra Work",
                self.run,
                menu="Tools",
                section="extra",  # a section no menu lists: after the listed ones
                shortcuts=("Ctrl+Alt+X",),
                toolbar=True,
                enabled_when=lambda: self.ready,
            )
        ]

    def state_signals(self):
        return [self.changed]

    def run(self) -> None:
        self.runs += 1


def test_a_new_panel_is_one_install_and_its_state_is_asked_again(window):
    built(window)
    panel = ExtraPanel()
    window.install(panel)
    tools = window.action("tools.generate").associatedObjects()
    tools = next(o for o in tools if isinstance(o, QMenu))
    assert layout(tools) == [
        "&Inspect Again", "&Generate Planned Images", "&Export Balanced Dataset…",
        "E&valuate an Export…", "----",
        "&Extra Work",
    ]  # fmt: skip
    extra = window.action("tools.extra")
    assert extra in window.layout_of_actions.toolbar.actions()
    assert not extra.isEnabled() and extra.toolTip() == "Extra Work (Ctrl+Alt+X)"
    panel.ready = True
    panel.changed.emit()  # the window's one "state changed" asks every enabled_when again
    assert extra.isEnabled()
    extra.trigger()
    assert panel.runs == 1
    # Re-laying out the menus keeps everything else where it was.
    assert layout(tools)[:3] == [
        "&Inspect Again", "&Generate Planned Images", "&Export Balanced Dataset…",
    ]  # fmt: skip
    try:
        window.install(ExtraPanel())
    except ValueError as exc:
        assert "tools.extra" in str(exc)
    else:
        raise AssertionError("two actions with one id were accepted")


def test_recent_folders_fill_the_file_menu(qtbot, window, wait_scanned, tmp_path):
    root = tmp_path / "digits"
    write_digits(root, [6, 3])
    window.open_folder(root)
    wait_scanned(window)
    recent = window.action("file.open_recent")
    assert recent.isEnabled() and recent.menu() is window.recent_menu
    assert str(root) in [a.text() for a in window.recent_menu.actions()]


def _planned_digits(qtbot, window, wait_scanned, tmp_path):
    """Two digit classes (20 and 6) opened and planned; returns the controller."""
    root = tmp_path / "digits"
    write_digits(root, [20, 6])
    window.open_folder(root)
    wait_scanned(window)
    c = window.curation.controller
    qtbot.waitUntil(lambda: c.plan is not None and not c.busy, timeout=30_000)
    return c


def test_accept_and_reject_keys_act_in_the_window_generate_tab(
    qtbot, window, wait_scanned, tmp_path
):
    c = _planned_digits(qtbot, window, wait_scanned, tmp_path)
    c.set_target("digit_1", ClassTarget(target=9))
    qtbot.waitUntil(lambda: not c.busy and bool(c.plan.splits["train"][1].generate), timeout=WAIT)
    bench = window.workbench
    bench.generate_action.trigger()
    panel = bench.generate_tab.widget
    qtbot.waitUntil(lambda: not panel.busy and panel.last_result is not None, timeout=120_000)
    qtbot.waitUntil(lambda: panel.proxy.rowCount() >= 2, timeout=WAIT)

    def status(image_id: str) -> str | None:
        staging = Path(panel.staging)
        return next((g.status for g in load_staging(staging) if g.id == image_id), None)

    panel.view.setFocus()
    panel.view.setCurrentIndex(panel.proxy.index(0, 0))
    assert window.action("edit.accept_generated").isEnabled()
    first = panel.current_image()
    qtbot.keyClick(panel.view, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: status(first.id) == "accepted", timeout=WAIT)
    second = panel.current_image()  # the selection moved on
    assert second.id != first.id
    # What the R key needs (seen once in CI: R did nothing for 60 s): say which is missing.
    assert QApplication.activeModalWidget() is None, QApplication.activeModalWidget()
    assert window.action("edit.reject_generated").isEnabled()
    focus = QApplication.focusWidget()
    assert focus is not None and (focus is panel.view or panel.view.isAncestorOf(focus)), focus
    qtbot.keyClick(panel.view, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: status(second.id) == "rejected", timeout=WAIT)
    qtbot.waitUntil(lambda: not panel.busy and not c.busy, timeout=120_000)
    # Delete in the Generate tab rejects there; it never marks gallery images for removal.
    assert not any(m.remove for m in c.project.marks.values())


def test_a_folder_opened_by_a_relative_path_is_remembered_absolute(
    qtbot, window, wait_scanned, tmp_path, monkeypatch
):
    write_digits(tmp_path / "digits", [6, 3])
    monkeypatch.chdir(tmp_path)
    window.open_folder("digits")
    wait_scanned(window)
    assert str(tmp_path / "digits") in [a.text() for a in window.recent_menu.actions()]
    assert "digits" not in [a.text() for a in window.recent_menu.actions()]
    # The project made for it names the folder the same way (saved elsewhere, it must still
    # point at this folder).
    c = window.curation.controller
    qtbot.waitUntil(lambda: c.project is not None, timeout=10_000)
    assert c.project.dataset_root == str(tmp_path / "digits")


def test_a_greyed_out_generate_says_why(qtbot, window, wait_scanned, tmp_path):
    c = _planned_digits(qtbot, window, wait_scanned, tmp_path)
    generate = window.action("tools.generate")
    assert not generate.isEnabled()
    assert generate.toolTip().startswith("Nothing to generate: the plan makes no new image")
    c.set_target("digit_1", ClassTarget(target=9))
    qtbot.waitUntil(lambda: not c.busy and generate.isEnabled(), timeout=30_000)
    assert generate.toolTip().startswith("Make the new minority images")
