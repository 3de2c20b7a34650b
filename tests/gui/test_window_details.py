"""Smaller things a new user tripped over: Help ▸ Keyboard Shortcuts and About (with the
version), a View menu that is never empty, "1 image" not "1 images", and status-bar text that
never runs into the text beside it."""

from __future__ import annotations

from datasets import write_digits
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QMessageBox

from imbalance_studio import __version__
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.project import Mark, Project
from imbalance_studio.core.scanning import scan


def menus(window) -> dict:
    return {a.text().replace("&", ""): a for a in window.menuBar().actions()}


def test_no_menu_is_empty_and_view_goes_to_every_tab(qtbot, window):
    window.workbench  # noqa: B018  (the work panels add their tabs)
    for name, action in menus(window).items():
        assert action.isVisible() == bool(action.menu().actions()), name
    view = menus(window)["View"].menu()
    titles = [a.text() for a in view.actions() if not a.isSeparator()]
    assert titles[:7] == [
        "Gallery", "Problems", "Balance", "Inspect", "Augment", "Generate", "Evaluate"
    ]  # fmt: skip
    assert [a.shortcut().toString() for a in view.actions()[:7]] == [
        f"Ctrl+{i}" for i in range(1, 8)
    ]
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.gallery, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.panels.tabText(window.panels.currentIndex()) == "Balance"


def test_help_lists_every_key_and_about_names_the_version(qtbot, window):
    window.workbench  # noqa: B018
    window.action("help.shortcuts").trigger()
    dialog = window.own_actions.shortcuts_dialog
    qtbot.waitUntil(dialog.isVisible)
    table = dialog.table
    rows = [[table.item(r, c).text() for c in range(3)] for r in range(table.rowCount())]
    keys = " | ".join(r[0] for r in rows)
    for key in ("Ctrl+E", "Ctrl+Shift+Z, Ctrl+Y", "Del", "Shift+D", "A, Space", "F1"):
        assert key in keys, key
    remove = next(r for r in rows if r[1] == "Remove")
    assert remove[2].startswith("Gallery")
    dialog.close()
    window.action("help.about").trigger()
    box = window.own_actions.about_box
    qtbot.waitUntil(box.isVisible)
    assert __version__ in box.text()
    box.button(QMessageBox.StandardButton.Ok).click()


def test_one_is_singular(qtbot, window, wait_scanned, tmp_path):
    root = tmp_path / "digits"
    write_digits(root, [8, 4])
    window.open_folder(root)
    wait_scanned(window)
    c = window.curation.controller
    qtbot.waitUntil(lambda: c.project is not None and not c.busy, timeout=60_000)
    first = window.gallery.model().index(0, 0)
    window.gallery.selectionModel().select(first, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    window.action("edit.remove").trigger()
    assert c.undo_stack.undoText() == "Remove 1 image"
    # One held-out image marked for duplication: "1 sample … is".
    dataset = scan(root)
    project = Project(dataset_root=str(root))
    plan = make_plan(dataset, project)
    held = next(p for p in dataset.paths if plan.split_of(p) != "train")
    project.marks = {held: Mark(duplicate=1)}
    warnings = make_plan(dataset, project).warnings
    assert any(w.startswith("1 sample marked for duplication is in val/test") for w in warnings)


def test_one_file_left_out_is_singular(qtbot, window, wait_scanned, tmp_path):
    root = tmp_path / "digits"
    write_digits(root, [8, 4])
    (root / "digit_1" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    window.open_folder(root)
    wait_scanned(window)
    qtbot.waitUntil(lambda: "left out" in window.summary.text(), timeout=30_000)
    assert window.summary.text() == "12 images · 2 classes · 1 file left out"
    assert "1 file left out (see Problems)" in window.scan_status.message.full_text()


def test_a_long_status_message_never_runs_into_the_summary(qtbot, window, wait_scanned, tmp_path):
    window.resize(900, 500)
    long = "Scan complete: 1,000 usable images; 12 files left out (see Problems). " * 3
    window.scan_status.idle(long)
    window.summary.setText("1,000 images · 3 classes · 12 files left out")
    qtbot.wait(50)
    label, summary = window.scan_status.message, window.summary
    right = label.mapTo(window, label.rect().topRight()).x()
    left = summary.mapTo(window, summary.rect().topLeft()).x()
    assert right < left, "the message box ends before the summary starts"
    shown = label.text()
    assert shown.endswith("…") and shown != long
    assert label.fontMetrics().horizontalAdvance(shown) <= label.width()
    assert label.toolTip() == long


def test_a_passing_message_is_never_drawn_over_the_scan_status(qtbot, window):
    """A temporary message hides the scan status. QStatusBar hides it "not explicitly", and
    when the bar lays itself out anew (its height changed) it shows it again, over the
    message: that must not happen."""
    bar = window.statusBar()
    window.scan_status.idle("Scan complete: 227 usable images")
    qtbot.waitUntil(window.scan_status.isVisible)
    bar.showMessage("4 files have an identical twin; twins share a split.", 6000)
    window.summary.setText("227 images · 3 classes\n1 file left out")  # a taller status bar
    qtbot.wait(100)
    assert bar.currentMessage() and not window.scan_status.isVisible()
    bar.clearMessage()
    assert window.scan_status.isVisible(), "back when the message has gone"


def test_ten_classes_fit_the_class_list_without_scrolling(qtbot, window, wait_scanned, digits_root):
    from imbalance_studio.gui.main_window import DEFAULT_SIZE

    window.resize(DEFAULT_SIZE)
    window.open_folder(digits_root)  # digit_0 .. digit_9
    wait_scanned(window)
    view = window.class_list
    assert view.model().rowCount() == 10
    qtbot.waitUntil(lambda: view.viewport().height() > 0, timeout=5_000)
    last = view.visualRect(view.model().index(9, 0))
    assert last.bottom() <= view.viewport().height()  # the tenth row is whole
    assert view.verticalScrollBar().maximum() == 0
