"""Curating in the window: marks by keyboard, undo/redo, policies, targets, project files."""

import json
import math
import subprocess
import sys

from PySide6.QtCore import QItemSelectionModel, Qt

from imbalance_studio.core.project import Project
from imbalance_studio.gui.curation import install_curation
from imbalance_studio.gui.curation.targets_model import COL_FINAL, COL_TARGET


def curation_of(window):
    return getattr(window, "curation", None) or install_curation(window)


def open_and_plan(qtbot, window, wait_scanned, root):
    cur = curation_of(window)
    window.open_folder(root)
    wait_scanned(window)
    qtbot.waitUntil(
        lambda: cur.controller.plan is not None and not cur.controller.busy, timeout=30_000
    )
    return cur


def wait_plan(qtbot, controller):
    qtbot.waitUntil(lambda: not controller.busy, timeout=30_000)


def select_rows(window, rows):
    view = window.gallery
    sel = view.selectionModel()
    sel.clearSelection()
    for r in rows:
        sel.select(view.model().index(r, 0), QItemSelectionModel.SelectionFlag.Select)
    sel.setCurrentIndex(view.model().index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate)
    view.setFocus()


def test_keyboard_marks_undo_redo_and_plan(qtbot, window, wait_scanned, digits_root):
    cur = open_and_plan(qtbot, window, wait_scanned, digits_root)
    c = cur.controller
    window.class_list.select_classes([0])
    select_rows(window, [0, 1, 2])
    paths = [window.gallery_model.sample(r).path for r in (0, 1, 2)]

    qtbot.keyClick(window.gallery, Qt.Key.Key_Delete)
    assert all(c.project.marks[p].remove for p in paths)
    wait_plan(qtbot, c)
    removed = {p for split in c.plan.splits.values() for cp in split for p in cp.removed}
    assert set(paths) <= removed
    assert c.dirty

    qtbot.keyClick(window.gallery, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not any(p in c.project.marks for p in paths)
    qtbot.keyClick(
        window.gallery,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert all(c.project.marks[p].remove for p in paths)

    # D on a removed sample makes it a duplication source instead (never both).
    qtbot.keyClick(window.gallery, Qt.Key.Key_D)
    assert all(c.project.marks[p].duplicate == 1 and not c.project.marks[p].remove for p in paths)
    qtbot.keyClick(window.gallery, Qt.Key.Key_U)
    assert not any(p in c.project.marks for p in paths)

    # The gallery filter shows only marked images.
    select_rows(window, [5])
    qtbot.keyClick(window.gallery, Qt.Key.Key_Delete)
    cur.filter_box.setCurrentText("Marked for removal")
    assert window.gallery_model.rowCount() == 1
    cur.filter_box.setCurrentText("All images")
    assert window.gallery_model.rowCount() == 150


def test_policy_fills_table_and_chart_then_cell_edit(qtbot, window, wait_scanned, digits_root):
    cur = open_and_plan(qtbot, window, wait_scanned, digits_root)
    c, panel = cur.controller, cur.plan_panel
    largest = max(c.train_counts.values())
    panel.policy_box.setCurrentText("Oversample every class (augment: 1.5 × the largest)")
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    wait_plan(qtbot, c)
    model = panel.model
    finals = [model.index(r, COL_FINAL).data() for r in range(model.rowCount())]
    target = math.floor(1.5 * largest + 0.5)  # filled by augmentation: 1.5 x the largest
    assert finals == [target] * 10
    assert panel.chart.after == [target] * 10  # the chart shows the training split
    # Each figure is one unbreakable run: the line wraps between figures, never inside one.
    from PySide6.QtGui import QTextDocument

    label = panel.chart.summary
    doc = QTextDocument()
    doc.setDefaultFont(label.font())
    doc.setHtml(label.text())
    figures = doc.toPlainText().split("  ·  ")  # (no-break spaces read as spaces)
    before, after = sum(panel.chart.before), sum(panel.chart.after)
    assert len(figures) == 3 and figures[0].endswith("→ 1.0:1")
    assert figures[2] == f"images {before:,} → {after:,}"
    for width in (400, 480, 560, 640):  # widths a figure fits in (~330 px): one line each
        doc.setTextWidth(width)
        doc.documentLayout().documentSize()  # lays the text out
        layout = doc.firstBlock().layout()
        assert layout.lineCount() >= 1
        lines = [doc.toPlainText()[layout.lineAt(i).textStart():][: layout.lineAt(i).textLength()]
                 for i in range(layout.lineCount())]  # fmt: skip
        for figure in figures:
            assert any(figure in line for line in lines), (width, figure, lines)
    # The bars are drawn when the Balance tab is shown, not while it is hidden.
    chart = panel.chart
    assert not chart.isVisible() and chart.plot is None
    tabs = window.panels
    tabs.setCurrentIndex(next(i for i in range(tabs.count()) if tabs.tabText(i) == "Balance"))
    window.show()
    qtbot.waitUntil(lambda: chart.plot is not None, timeout=5_000)
    bars = [i for i in chart.plot.getPlotItem().items if type(i).__name__ == "BarGraphItem"]
    assert len(bars) == 2 and list(bars[1].opts["width"]) == [target] * 10
    # Generation, not copies, closes the gap by default (the article's advice).
    assert sum(len(cp.generate) for cp in c.plan.splits["train"]) > 0
    assert sum(len(cp.duplicates) for cp in c.plan.splits["train"]) == 0

    # Edit one cell; undo restores the policy's value.
    assert model.setData(model.index(9, COL_TARGET), "20")
    wait_plan(qtbot, c)
    assert model.index(9, COL_FINAL).data() == 20
    c.undo_stack.undo()
    wait_plan(qtbot, c)
    assert model.index(9, COL_FINAL).data() == target


def test_save_reopen_and_cli_plan_matches(qtbot, window, wait_scanned, digits_root, tmp_path):
    cur = open_and_plan(qtbot, window, wait_scanned, digits_root)
    c = cur.controller
    window.class_list.select_classes([2])
    select_rows(window, [0, 3])
    qtbot.keyClick(window.gallery, Qt.Key.Key_Delete)
    cur.plan_panel.policy_box.setCurrentText("Meet at the median")
    qtbot.mouseClick(cur.plan_panel.apply_button, Qt.MouseButton.LeftButton)
    wait_plan(qtbot, c)
    project_file = tmp_path / "digits.isproj.json"
    assert c.save(project_file)
    qtbot.waitUntil(lambda: project_file.exists() and not c.dirty, timeout=10_000)
    saved = Project.load(project_file)
    assert saved.marks == c.project.marks and saved.policy == "median"
    gui_plan = c.plan.to_json(list_files=True)

    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "imbalance_studio",
            "plan",
            str(project_file),
            "--json",
            "--list-files",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    cli_plan = json.loads(out.stdout)
    assert cli_plan["splits"] == gui_plan["splits"]
    assert cli_plan["files"] == gui_plan["files"]

    # Reopen in a fresh controller state: the marks come back.
    c.undo_stack.clear()
    c.project = None
    window.app_session.open_project(project_file)
    qtbot.waitUntil(
        lambda: (
            c.project is not None
            and c.project_file == project_file
            and c.plan is not None
            and not c.busy
        ),
        timeout=30_000,
    )
    assert c.project.marks == saved.marks


def test_broken_project_file_keeps_state(qtbot, window, wait_scanned, digits_root, tmp_path):
    cur = open_and_plan(qtbot, window, wait_scanned, digits_root)
    before = cur.controller.project
    bad = tmp_path / "broken.isproj.json"
    bad.write_text('{"version": 1, "dataset_root": ')
    errors = []
    cur.controller.error.connect(errors.append)
    window.app_session.open_project(bad)
    qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
    assert "broken.isproj.json" in errors[0]
    assert cur.controller.project is before


def test_autosave_is_offered_back_after_a_crash(qtbot, window, wait_scanned, digits_root):
    from PySide6.QtWidgets import QMessageBox

    from imbalance_studio.gui.main_window import MainWindow

    cur = open_and_plan(qtbot, window, wait_scanned, digits_root)
    window.class_list.select_classes([4])
    select_rows(window, [1, 2])
    qtbot.keyClick(window.gallery, Qt.Key.Key_Delete)
    marks = dict(cur.controller.project.marks)
    qtbot.waitUntil(lambda: not cur.controller.busy, timeout=10_000)  # autosave written

    # A new window (the first one "crashed" without saving) offers the work back.
    again = MainWindow()
    qtbot.addWidget(again)
    again.show()
    again.app_session.offer_recovery()
    qtbot.waitUntil(lambda: again.app_session.recovery_box is not None, timeout=10_000)
    again.app_session.recovery_box.button(QMessageBox.StandardButton.Yes).click()
    wait_scanned(again)
    c2 = again.curation.controller
    qtbot.waitUntil(lambda: c2.plan is not None and not c2.busy, timeout=30_000)
    assert c2.project.marks == marks


def test_an_edit_made_while_saving_stays_unsaved(qtbot, digits_root, tmp_path, monkeypatch):
    import threading

    from imbalance_studio.core.autosave import autosave_path
    from imbalance_studio.core.project import Mark, Project
    from imbalance_studio.core.scanning import scan
    from imbalance_studio.gui.curation.controller import CurationController

    c = CurationController()
    ds = scan(digits_root)
    c.set_dataset(ds)
    qtbot.waitUntil(lambda: c.plan is not None and not c.busy, timeout=30_000)
    real_save, gate = Project.save, threading.Event()

    def slow_save(self, path, *args, **kw):
        gate.wait(5)
        real_save(self, path, *args, **kw)

    monkeypatch.setattr(Project, "save", slow_save)
    target = tmp_path / "p.isproj.json"
    c.set_marks([ds.samples[0].path], Mark(remove=True), "rm 0")
    assert c.save(target)
    c.set_marks([ds.samples[1].path], Mark(remove=True), "rm 1")  # while the save runs
    gate.set()
    qtbot.waitUntil(lambda: not c.busy and c.project_file == target, timeout=10_000)
    saved = Project.load(target)
    assert ds.samples[0].path in saved.marks and ds.samples[1].path not in saved.marks
    assert c.dirty  # the second edit is not saved, so closing must still ask
    assert autosave_path(target, str(ds.root)).exists()  # and a crash would not lose it


def test_plan_panel_states_the_total_to_generate_and_refuses_huge_targets(
    qtbot, window, wait_scanned, digits_root
):
    cur = open_and_plan(qtbot, window, wait_scanned, digits_root)
    c, panel = cur.controller, cur.plan_panel
    assert panel.generation_total.text() == "Nothing to generate"
    panel.policy_box.setCurrentText("Oversample every class (augment: 1.5 × the largest)")
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    wait_plan(qtbot, c)
    made = [len(cp.generate) for cp in c.plan.splits["train"] if cp.generate]
    assert (
        panel.generation_total.text() == f"Will make {sum(made):,} images for {len(made)} classes"
    )

    errors = []
    c.error.connect(errors.append)
    model = panel.model
    before = model.index(9, COL_TARGET).data()
    assert not model.setData(model.index(9, COL_TARGET), "100000000")
    assert errors and "above the limit of 1,000,000 images per class" in errors[0]
    assert model.index(9, COL_TARGET).data() == before


def test_an_empty_class_is_left_out_of_the_balance_ratio_and_said(qtbot, tmp_path):
    """An empty class folder made the ratio ∞ → ∞ whatever the plan did."""
    from datasets import write_digits

    from imbalance_studio.core.plan import make_plan, train_counts
    from imbalance_studio.core.policies import apply_policy
    from imbalance_studio.core.project import Project
    from imbalance_studio.core.scanning import check, scan
    from imbalance_studio.gui.curation.compare_chart import CompareChart

    root = tmp_path / "d"
    write_digits(root, counts=[30, 10])
    (root / "digit_9").mkdir()  # no images
    dataset = check(scan(root))
    project = Project(dataset_root=str(root))
    project.targets = apply_policy("undersample", train_counts(dataset, project))
    chart = CompareChart()
    qtbot.addWidget(chart)
    chart.set_plan(make_plan(dataset, project))
    text = chart.summary.text().replace("&nbsp;", " ")
    assert "∞" not in text and "→ 1.0:1" in text, text
    assert "(1 class without images not counted)" in text


def test_the_split_button_says_when_the_split_shown_is_in_use(
    qtbot, window, wait_scanned, digits_root
):
    """The counts show the project's split from the start: the button offers only a change."""
    cur = open_and_plan(qtbot, window, wait_scanned, digits_root)
    panel, c = cur.plan_panel, cur.controller
    button = panel.split_button
    assert button.text() == "Split in use" and not button.isEnabled()
    panel.val_spin.setValue(0.2)
    assert button.text() == "Apply split" and button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    wait_plan(qtbot, c)
    assert c.project.split.val == 0.2
    assert button.text() == "Split in use" and not button.isEnabled()
    panel.seed_spin.setValue(c.project.seed + 1)  # another seed is another split
    assert button.isEnabled()
    c.undo_stack.undo()  # the earlier split: the form follows, in use
    wait_plan(qtbot, c)
    assert c.project.split.val == 0.15 and button.text() == "Split in use"
