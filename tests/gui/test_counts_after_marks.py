"""The class list and the distribution chart show each class's count after the marks beside
the original: two removals from a class of 12 read "12 → 10", not "12"."""

from __future__ import annotations

from datasets import write_digits
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt

from imbalance_studio.core.mark_counts import MarkTally
from imbalance_studio.core.project import Mark
from imbalance_studio.gui.models.class_list import COUNT


def count_text(window, row: int) -> str:
    model = window.class_model
    return model.data(model.index(row, COUNT), Qt.ItemDataRole.DisplayRole)


def select_rows(window, rows: list[int]) -> None:
    gallery = window.gallery
    selection = QItemSelection()
    for r in rows:
        index = gallery.model().index(r, 0)
        selection.select(index, index)
    gallery.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    gallery.setFocus()


def test_marks_show_in_the_class_list_and_the_chart(qtbot, window, wait_scanned, tmp_path):
    root = tmp_path / "digits"
    write_digits(root, [12, 6])
    window.open_folder(root)
    wait_scanned(window)
    c = window.curation.controller
    qtbot.waitUntil(lambda: c.project is not None, timeout=30_000)
    assert [count_text(window, r) for r in (0, 1)] == ["12", "6"]
    # Two removals from digit_0 (gallery rows 0 and 1 are digit_0's first images).
    select_rows(window, [0, 1])
    qtbot.keyClick(window.gallery, Qt.Key.Key_Delete)
    assert count_text(window, 0) == "12 → 10"
    assert "10 after your marks" in window.class_model.data(
        window.class_model.index(0, 0), Qt.ItemDataRole.ToolTipRole
    )
    # The chart follows on the next turn of the event loop; bars in count order, digit_0 first.
    qtbot.waitUntil(lambda: window.chart.labels[0] == "12 → 10")
    widths = list(window.chart.bars.opts["width"])
    assert widths[0] == 10, "the solid bar is the count after marks"
    # Two copies of one digit_1 image: 6 → 8.
    select_rows(window, [12])
    qtbot.keyClick(window.gallery, Qt.Key.Key_D)
    qtbot.keyClick(window.gallery, Qt.Key.Key_D)
    assert count_text(window, 1) == "6 → 8"
    c.undo_stack.undo()
    assert count_text(window, 1) == "6 → 7"
    select_rows(window, [0, 1, 12])
    qtbot.keyClick(window.gallery, Qt.Key.Key_U)  # clear every mark
    assert [count_text(window, r) for r in (0, 1)] == ["12", "6"]
    qtbot.waitUntil(lambda: window.chart.labels == ["12", "6"])
    # A duplicate mark on a validation image makes no copy (the plan ignores it): no count.
    qtbot.waitUntil(lambda: c.plan is not None and not c.busy and window.gallery_model.index_ready,
                    timeout=30_000)  # fmt: skip
    held_out = next(p for p in c.dataset.paths if p.startswith("digit_1/")
                    and c.plan.split_of(p) != "train")  # fmt: skip
    train = next(p for p in c.dataset.paths if p.startswith("digit_1/")
                 and c.plan.split_of(p) == "train")  # fmt: skip
    select_rows(window, [window.gallery_model.row_of(held_out)])
    qtbot.keyClick(window.gallery, Qt.Key.Key_D)
    assert c.project.marks[held_out].duplicate == 1 and count_text(window, 1) == "6"
    select_rows(window, [window.gallery_model.row_of(train)])
    qtbot.keyClick(window.gallery, Qt.Key.Key_D)
    assert count_text(window, 1) == "6 → 7"


def test_the_tally_follows_each_changed_mark():
    tally = MarkTally(["a", "b"])
    marks = {"a/1.png": Mark(remove=True), "b/1.png": Mark(duplicate=2)}
    tally.reset(marks)
    assert tally.after([5, 3]) == [4, 5]
    marks["a/1.png"] = Mark(duplicate=1)  # a removed image marked for one copy instead
    del marks["b/1.png"]
    tally.update(["a/1.png", "b/1.png"], marks)
    assert tally.after([5, 3]) == [6, 3]
    tally.update(["zz/unknown.png"], {"zz/unknown.png": Mark(remove=True)})
    assert tally.delta == [1, 0]
    # With the split known, copies of held-out images count nothing; removals still do.
    held_out = {"a/val.png", "b/test.png"}
    tally = MarkTally(["a", "b"], is_train=lambda p: p not in held_out)
    tally.reset({"a/val.png": Mark(duplicate=3), "b/test.png": Mark(remove=True),
                 "b/1.png": Mark(duplicate=1)})  # fmt: skip
    assert tally.delta == [0, 0] and tally.after([5, 3]) == [5, 3]


def test_the_chart_keeps_the_marks_when_the_folder_is_shown_again(qtbot, window, wait_scanned,
                                                                   tmp_path):  # fmt: skip
    """Reopening (rescanning) a folder draws its chart a moment after the listing, once the
    marks are counted: the chart must still show them, not the bare counts."""
    root = tmp_path / "digits"
    write_digits(root, [12, 6])
    window.open_folder(root)
    wait_scanned(window)
    c = window.curation.controller
    qtbot.waitUntil(lambda: c.project is not None, timeout=30_000)
    select_rows(window, [0, 1])
    qtbot.keyClick(window.gallery, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: window.chart.labels[:1] == ["12 → 10"])
    window.open_folder(root)  # the same folder again: the project and its marks stay
    wait_scanned(window)
    qtbot.waitUntil(lambda: not window.chart_pending and count_text(window, 0) == "12 → 10")
    qtbot.wait(100)  # any redraw still queued
    assert window.chart.labels[0] == "12 → 10"
    assert window.chart.bars.opts["width"][0] == 10
