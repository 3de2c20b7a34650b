"""The window opens real datasets and shows their facts, images and problems."""

from pathlib import Path

import pytest
from datasets import DIGIT_COUNTS
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QPixmap

from imbalance_studio.core.dataset import ProblemReason
from imbalance_studio.gui import app as app_facts
from imbalance_studio.gui.models.class_list import MinorityRole
from imbalance_studio.gui.models.gallery import ClassIndexRole, PathRole


def test_digits_folder_fills_class_list_chart_gallery_and_viewer(
    qtbot, window, wait_scanned, digits_root
):
    window.open_folder(digits_root)
    wait_scanned(window)

    model = window.class_model
    assert model.rowCount() == len(DIGIT_COUNTS)
    names = [model.index(r, 0).data() for r in range(model.rowCount())]
    counts = [int(model.index(r, 1).data().replace(",", "")) for r in range(model.rowCount())]
    assert names == [f"digit_{i}" for i in range(10)]
    assert counts == DIGIT_COUNTS
    minority = [model.index(r, 0).data(MinorityRole) for r in range(model.rowCount())]
    assert minority == [n < DIGIT_COUNTS[0] / 2 for n in DIGIT_COUNTS]

    # The chart: one bar per class, largest first, and the headline numbers.
    assert [c.count for c in window.chart.order] == sorted(DIGIT_COUNTS, reverse=True)
    assert list(window.chart.bars.opts["width"]) == sorted(DIGIT_COUNTS, reverse=True)
    assert "18.8 : 1" in window.chart.ratio_label.text()
    assert f"{150 / sum(DIGIT_COUNTS):.1%}" in window.chart.baseline_label.text()

    # All classes are selected by default, so the gallery holds every image.
    gallery = window.gallery_model
    assert gallery.rowCount() == sum(DIGIT_COUNTS)
    first = gallery.index(0, 0)
    qtbot.waitUntil(lambda: isinstance(first.data(Qt.ItemDataRole.DecorationRole), QPixmap))
    assert first.data(Qt.ItemDataRole.DecorationRole).width() > 0

    # Selecting one class filters the gallery to it.
    window.class_list.select_classes([9])
    assert gallery.rowCount() == DIGIT_COUNTS[9]
    assert {gallery.index(r, 0).data(ClassIndexRole) for r in range(gallery.rowCount())} == {9}
    window.class_list.select_classes([])
    assert gallery.rowCount() == 0

    # The viewer decodes off the GUI thread and shows the facts of the current image.
    window.class_list.select_classes([3])
    window.gallery.set_current_row(0)
    qtbot.waitUntil(lambda: window.viewer.fields["Pixels"].text().startswith("32 × 32"))
    assert window.viewer.fields["Path"].text() == gallery.index(0, 0).data(PathRole)
    assert window.viewer.fields["Mode"].text().startswith("L")

    # The folder is remembered for the start page and the File menu.
    assert str(digits_root) in app_facts.recent_folders()


def test_viewer_keys_move_through_the_gallery(qtbot, window, wait_scanned, digits_root):
    window.open_folder(digits_root)
    wait_scanned(window)
    window.class_list.select_classes([9])
    window.gallery.set_current_row(0)
    viewer = window.viewer
    for key, row in [
        (Qt.Key.Key_Right, 1),
        (Qt.Key.Key_PageDown, 2),
        (Qt.Key.Key_Left, 1),
        (Qt.Key.Key_PageUp, 0),
        (Qt.Key.Key_Left, 0),
        (Qt.Key.Key_End, DIGIT_COUNTS[9] - 1),
    ]:
        qtbot.keyClick(viewer, key)
        assert viewer.row == row
        assert window.gallery.currentIndex().row() == row
    qtbot.waitUntil(lambda: not viewer.busy)


def test_bad_corpus_lists_each_problem_and_keeps_working(qtbot, window, wait_scanned, bad_corpus):
    root, expected = bad_corpus
    window.open_folder(root)
    wait_scanned(window)
    problems = window.problems_model
    shown = {
        problems.problem(r).path: problems.problem(r).reason for r in range(problems.rowCount())
    }
    for rel, reason in expected.items():
        if reason is not None:
            assert shown.get(rel) == reason, rel
    usable = {
        window.gallery_model.index(r, 0).data(PathRole)
        for r in range(window.gallery_model.rowCount())
    }
    assert "bad/truncated.jpg" not in usable
    assert "odd names/naïve café 画像.png" in usable
    assert (
        window.panels.tabText(window.panels.indexOf(window.problems)) == f"Problems ({len(shown)})"
    )

    # A note says what it means for the file: a hidden one is not used, a mismatched
    # extension is.
    texts = {
        problems.problem(r).path: problems.index(r, 1).data() for r in range(problems.rowCount())
    }
    assert (
        texts["bad/.DS_Store"]
        == "hidden file skipped (note; hidden files are not part of the dataset)"
    )
    assert all("still used" not in t for p, t in texts.items() if p.rpartition("/")[2][:1] == ".")

    # Clicking a problem says which file it is.
    row = next(r for r in range(problems.rowCount()) if problems.problem(r).path == "bad/bomb.png")
    window.problems.table.clicked.emit(problems.index(row, 0))
    assert str(root / "bad" / "bomb.png") in window.problems.location.text()
    assert ProblemReason.TOO_LARGE in window.problems.location.text()

    # The empty class is listed with no images; every thumbnail request ends (shown or failed).
    counts = {
        window.class_model.index(r, 0).data(): window.class_model.index(r, 1).data()
        for r in range(window.class_model.rowCount())
    }
    assert counts["empty class"] == "0"
    window.gallery.grab()
    qtbot.waitUntil(window.loader.is_idle)


@pytest.mark.parametrize("make", ["missing", "no class folders"])
def test_unusable_folder_shows_a_message_not_a_traceback(
    qtbot, window, wait_scanned, tmp_path, make
):
    folder = tmp_path / "data"
    if make == "no class folders":
        folder.mkdir()
        (folder / "a.jpg").write_bytes(b"x")
    window.open_folder(folder)
    qtbot.waitUntil(lambda: window.start_page.error.isVisible())
    text = window.start_page.error.text()
    assert str(folder) in text
    assert ("no such folder" if make == "missing" else "no class folders") in text
    assert window.stack.currentWidget() is window.start_page


def test_dropping_a_folder_opens_it(qtbot, window, wait_scanned, digits_root):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(digits_root))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    wait_scanned(window)
    assert window.session.root == Path(digits_root)
    assert window.class_model.rowCount() == len(DIGIT_COUNTS)


def test_demo_is_made_in_a_worker_and_labelled_synthetic(qtbot, window, wait_scanned, monkeypatch):
    import imbalance_studio.core.demo as demo

    monkeypatch.setattr(demo, "DEMO_COUNTS", {"normal": 30, "scratch": 6, "dent": 2})
    window.open_demo()
    wait_scanned(window)
    assert window.session.is_demo
    assert "synthetic" in window.windowTitle()
    assert window.banner.isVisible() and "synthetic" in window.banner.text()
    assert [i.count for i in window.class_model.infos] == [2, 30, 6]
