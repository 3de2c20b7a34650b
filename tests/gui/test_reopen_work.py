"""Reopening work: recent projects and folders on the start page and in File ▸ Open Recent,
an Open Project button, the offer to reopen a folder's saved project, file dialogs that start
near the work, and one title rule (the project's name, `*` while unsaved)."""

from __future__ import annotations

from pathlib import Path

import pytest
from datasets import write_digits
from PySide6.QtWidgets import QFileDialog

from imbalance_studio.core.project import Mark

WAIT = 60_000


@pytest.fixture
def saved(qtbot, window, wait_scanned, tmp_path):
    """A folder opened, one image marked, saved as work/mine.isproj.json."""
    from imbalance_studio.gui.app import RECENT_PROJECTS_KEY, settings

    settings().remove(RECENT_PROJECTS_KEY)  # what other tests of the session saved
    root = tmp_path / "digits"
    write_digits(root, [10, 5])
    window.open_folder(root)
    wait_scanned(window)
    c = window.curation.controller
    qtbot.waitUntil(lambda: c.project is not None and not c.busy, timeout=WAIT)
    c.set_marks([c.dataset.paths[0]], Mark(remove=True), "Remove 1 image")
    assert window.windowTitle() == "*digits — Imbalance Studio"
    (tmp_path / "work").mkdir()
    file = tmp_path / "work" / "mine.isproj.json"
    c.save(file)
    qtbot.waitUntil(lambda: c.project_file == file and not c.dirty, timeout=WAIT)
    return window, root, file


def test_a_saved_project_is_listed_on_the_start_page_and_in_open_recent(saved):
    window, root, _file = saved
    assert window.windowTitle() == "mine — Imbalance Studio"
    page = window.start_page
    assert page.projects.count() == 1 and page.projects.isVisibleTo(page)
    assert page.projects.item(0).text().startswith("mine")
    assert str(root) in page.projects.item(0).text()
    entries = [a.text() for a in window.recent_menu.actions()]
    assert entries[:2] == ["Projects", f"mine — {root}"]
    assert "Folders" in entries and str(root) in entries
    assert page.open_project_button.isVisibleTo(page)


def test_the_title_names_the_project_after_open_project_too(qtbot, saved, wait_scanned):
    window, _root, file = saved
    c = window.curation.controller
    c.set_marks([c.dataset.paths[1]], Mark(remove=True), "Remove 1 image")
    assert window.windowTitle() == "*mine — Imbalance Studio"
    c.undo_stack.undo()
    assert window.windowTitle() == "mine — Imbalance Studio"
    # Reopening rescans the folder (from the check cache: too fast to poll for "busy").
    with qtbot.waitSignal(window.session.scanFinished, timeout=WAIT):
        window.app_session.open_project(file)
    wait_scanned(window)
    qtbot.waitUntil(lambda: not c.busy, timeout=WAIT)
    assert window.windowTitle() == "mine — Imbalance Studio"


def test_opening_the_folder_offers_its_saved_project(qtbot, saved, wait_scanned, tmp_path):
    window, root, file = saved
    other = tmp_path / "other"
    write_digits(other, [4, 4])
    window.open_folder(other)
    wait_scanned(window)
    c = window.curation.controller
    qtbot.waitUntil(lambda: c.project is not None and c.project_file is None, timeout=WAIT)
    bar = window.app_session.offer_bar()
    assert not bar.isVisible(), "no project of that folder: no offer"
    window.open_folder(root)
    qtbot.waitUntil(bar.isVisible, timeout=WAIT)
    assert "mine" in bar.label.text()
    bar.accept_button.click()
    qtbot.waitUntil(lambda: c.project_file == file and not c.busy, timeout=WAIT)
    wait_scanned(window)
    assert c.project.marks == {c.dataset.paths[0]: Mark(remove=True)}
    assert window.windowTitle() == "mine — Imbalance Studio"
    assert not bar.isVisible()


def test_the_start_page_opens_a_project_and_dialogs_start_near_the_work(qtbot, saved, monkeypatch):
    window, root, file = saved
    asked: list[str] = []

    def get_open(_parent, _caption, folder="", _filter=""):
        asked.append(folder)
        return str(file), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(get_open))
    window.start_page.open_project_button.click()
    assert asked == [str(file.parent)], "by the open project"
    c = window.curation.controller
    c.project_file = None  # a project not saved yet: beside its dataset folder
    assert window.app_session.dialog_folder() == str(root.parent)
    saves: list[str] = []
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName",
        staticmethod(lambda _p, _c, start="", _f="": (saves.append(start), ("", ""))[1]),
    )  # fmt: skip
    window.app_session.ask_save_path()
    assert saves == [str(root.parent / "digits.isproj.json")]


def test_a_click_on_a_recent_project_opens_it(qtbot, saved, wait_scanned, tmp_path):
    window, root, file = saved
    other = tmp_path / "other"
    write_digits(other, [4, 4])
    window.open_folder(other)
    wait_scanned(window)
    page = window.start_page
    page.projects.itemClicked.emit(page.projects.item(0))
    c = window.curation.controller
    qtbot.waitUntil(lambda: c.project_file == file and not c.busy, timeout=WAIT)
    wait_scanned(window)
    assert window.session.root == Path(root)
    assert window.windowTitle() == "mine — Imbalance Studio"


def test_a_folder_opened_at_launch_offers_its_saved_project_too(qtbot, saved, wait_scanned):
    from imbalance_studio.gui.main_window import MainWindow

    _window, root, _file = saved
    again = MainWindow()  # as launch does: the folder's scan starts before the panels exist
    qtbot.addWidget(again)
    again.show()
    again.open_folder(root)
    assert again._workbench is None
    bar = again.app_session.offer_bar()
    qtbot.waitUntil(bar.isVisible, timeout=WAIT)
    assert "mine" in bar.label.text()
    wait_scanned(again)


def test_a_reopened_project_with_targets_says_what_comes_next(qtbot, saved, wait_scanned):
    """The scan's "then set targets" hint must not stand over a project whose targets are
    set: reopening it plans before the check ends, and the hint follows the targets."""
    from imbalance_studio.core.plan import train_counts
    from imbalance_studio.core.policies import apply_policy

    window, _root, file = saved
    c = window.curation.controller
    c.project.targets = apply_policy("oversample", train_counts(c.dataset, c.project))
    c.project_edited()
    qtbot.waitUntil(lambda: not c.busy, timeout=WAIT)
    c.save(file)
    qtbot.waitUntil(lambda: not c.dirty, timeout=WAIT)
    with qtbot.waitSignal(window.session.scanFinished, timeout=WAIT):
        window.app_session.open_project(file)
    qtbot.waitUntil(lambda: not c.busy and c.plan is not None, timeout=WAIT)
    planned = sum(len(cp.generate) for cp in c.plan.splits["train"])
    status = window.scan_status.message.full_text()
    assert planned and f"Next: Generate (Ctrl+G) makes the {planned:,} planned" in status, status
    # Targets cleared: the scan's own step again, not a stale "Generate".
    c.project.targets = {}
    c.project_edited()
    qtbot.waitUntil(lambda: not c.busy, timeout=WAIT)
    assert window.scan_status.message.full_text().endswith("then set targets in the Balance tab.")
