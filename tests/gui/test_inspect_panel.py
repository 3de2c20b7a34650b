"""The Inspect tab: started by the scan, groups and flags shown, marks undoable, and the
plan's split keeps every group together."""

from __future__ import annotations

import pytest
from photo_corpus import build_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("gui-photos") / "data", n_base=30, n_groups=12)


def _inspected(qtbot, window, wait_scanned, root):
    inspection = window.workbench.inspection
    window.open_folder(root)
    wait_scanned(window)
    qtbot.waitUntil(lambda: inspection.report is not None and not inspection.busy, timeout=90_000)
    c = window.workbench.controller
    qtbot.waitUntil(lambda: c.plan is not None and not c.busy, timeout=30_000)
    return inspection, c


def test_opening_a_folder_shows_its_duplicates_and_flags(qtbot, window, wait_scanned, corpus):
    inspection, c = _inspected(qtbot, window, wait_scanned, corpus.root)
    report, panel = inspection.report, inspection.panel
    assert report.groups and panel.groups_model.rowCount() == len(report.groups)
    rows = [panel.groups_model.groups[r].conflict for r in range(len(report.groups))]
    assert rows == sorted(rows, reverse=True) and rows[0]  # conflicts first
    flagged = {f.path for f in panel.flags_model.items}
    assert set(corpus.flagged) <= flagged
    index = window.panels.indexOf(panel)
    n, n_flagged = len(report.groups), len(panel.flags_model.items)
    assert window.panels.tabText(index) == f"Inspect ({n + n_flagged})"
    groups = f"{n} duplicate group" if n == 1 else f"{n} duplicate groups"
    images = f"{n_flagged} image" if n_flagged == 1 else f"{n_flagged} images"
    assert window.panels.tabToolTip(index) == f"{groups} · {images} flagged"
    assert panel.groups_warning.isHidden()  # real copies make small groups: no warning
    # The split keeps every group together.
    for group in report.groups:
        assert len({c.plan.split_of(p) for p in group.paths}) == 1, group.paths

    # Filter and thresholds: only dark images, then none.
    panel.issue_filter.setCurrentIndex(panel.issue_filter.findData("dark"))
    assert panel.flags_model.items and all("dark" in f.issues for f in panel.flags_model.items)
    panel.thresholds["dark"].setValue(0.0)
    assert panel.flags_model.rowCount() == 0
    assert c.project.inspect.quality_thresholds["dark"] == 0.0  # kept in the project


def test_mark_all_but_one_and_mark_flagged_undo(qtbot, window, wait_scanned, corpus):
    inspection, c = _inspected(qtbot, window, wait_scanned, corpus.root)
    report = inspection.report
    inspection.mark_all_but_one(True)
    removed = {p for p, m in c.project.marks.items() if m.remove}
    settled = [g for g in report.groups if not g.conflict]
    conflicts = [g for g in report.groups if g.conflict]
    assert settled and conflicts
    # Which label of a conflict is right is the user's to say: one image of each class stays
    # (the extra copies within a class go, as in any group).
    assert len(removed) == sum(len(g.paths) - len(set(g.classes)) for g in report.groups)
    for group in conflicts:
        kept = {c for p, c in zip(group.paths, group.classes, strict=True) if p not in removed}
        assert kept == set(group.classes)
    said = window.statusBar().currentMessage()
    assert f"{len(conflicts)} label-conflict group" in said and "yours to say" in said
    assert "label-conflict" in inspection.panel.groups_counts.text()
    for group in settled:
        kept = [p for p in group.paths if p not in removed]
        assert len(kept) == 1
        sizes = {p: report.features[report.index[p]] for p in group.paths}
        assert sizes[kept[0]].width * sizes[kept[0]].height == max(
            f.width * f.height for f in sizes.values()
        )  # the largest stays
    c.undo_stack.undo()
    assert not c.project.marks
    inspection.mark_flagged()
    shown = {f.path for f in inspection.panel.flags_model.items}
    assert shown and {p for p, m in c.project.marks.items() if m.remove} == shown
    c.undo_stack.undo()
    assert not c.project.marks


def test_grouping_off_and_threshold_go_to_the_project(qtbot, window, wait_scanned, corpus):
    inspection, c = _inspected(qtbot, window, wait_scanned, corpus.root)
    n = len(inspection.report.groups)
    inspection.panel.grouping.setChecked(False)
    assert c.project.inspect.group_duplicates is False and c._near_groups is None
    inspection.panel.near.setValue(0)
    qtbot.waitUntil(lambda: not inspection.busy and inspection.report.near_threshold == 0,
                    timeout=60_000)  # fmt: skip
    assert len(inspection.report.groups) < n
    assert inspection.report.cached == len(inspection.report.paths)  # nothing decoded again


def test_the_export_counts_pairs_across_splits(qtbot, window, wait_scanned, corpus, tmp_path):
    import json

    from imbalance_studio.gui.export import ExportDialog

    inspection, c = _inspected(qtbot, window, wait_scanned, corpus.root)
    check = inspection.leak_check(c.plan)
    assert check["near_duplicate_pairs_across_splits"] == 0
    inspection.panel.grouping.setChecked(False)  # the split no longer keeps groups together
    qtbot.waitUntil(lambda: not c.busy, timeout=30_000)
    check = inspection.leak_check(c.plan)
    assert check["near_duplicate_pairs_across_splits"] > 0 and "warning" in check
    dialog = ExportDialog(window.current_dataset(), c.project, c.plan, leak_check=check)
    qtbot.addWidget(dialog)
    dialog.set_destination(tmp_path / "out")
    with qtbot.waitSignal(dialog.exportFinished, timeout=60_000):
        dialog.start()
    weights = json.loads((tmp_path / "out" / "weights.json").read_text())
    said = ("warning", "copies_note")  # sentences go to "warnings"
    assert weights["leak_check"] == {k: v for k, v in check.items() if k not in said}
    assert check["warning"] in weights["warnings"]


def test_the_inspect_tab_never_widens_the_window(qtbot, window, wait_scanned, corpus):
    """A tab's minimum width is the window's, hidden or not: while an inspection ran, its
    progress row beside the settings asked for 731 px, and with a folder of long class names
    beside it the window grew to 1387 px, past a 1366 px screen."""
    from imbalance_studio.gui.main_window import DEFAULT_SIZE

    inspection, _c = _inspected(qtbot, window, wait_scanned, corpus.root)
    panel = inspection.panel
    assert "Duplicate groups: " in panel.groups_title.text()  # the long, filled-in title
    window.panels.setCurrentWidget(panel)
    panel.show_running(True)
    try:
        qtbot.wait(10)  # the layouts take in the shown progress row
        assert panel.progress.isVisible()
        # What the default window leaves a tab once the class list and the viewer have
        # their minimum widths (about 650 px with long class names).
        assert panel.minimumSizeHint().width() <= DEFAULT_SIZE.width() - 700
        assert window.minimumSizeHint().width() <= DEFAULT_SIZE.width()
    finally:
        panel.show_running(False)


def test_chains_of_alike_digits_are_flagged_before_marking(
    qtbot, window, wait_scanned, digits_root
):
    inspection, _c = _inspected(qtbot, window, wait_scanned, digits_root)
    panel = inspection.panel
    assert not panel.groups_warning.isHidden()
    assert "the pictures are small" in panel.groups_warning.text()
    # Traits are said once in the title and flag no image.
    assert "not flagged, as most images have it: " in panel.flags_title.text()
    assert "grayscale (" in panel.flags_title.text()
    assert not any("grayscale" in f.issues for f in panel.flags_model.items)


def test_identical_files_are_searched_once_per_open(
    qtbot, window, wait_scanned, corpus, monkeypatch
):
    import imbalance_studio.core.inspect.split_groups as split_groups
    import imbalance_studio.gui.curation.controller as controller
    from imbalance_studio.core.duplicates import iter_content_groups

    searched = []

    def counted(dataset, *a, **kw):
        searched.append(dataset.root)
        return (yield from iter_content_groups(dataset, *a, **kw))

    monkeypatch.setattr(controller, "iter_content_groups", counted)
    monkeypatch.setattr(split_groups, "iter_content_groups", counted)
    _, c = _inspected(qtbot, window, wait_scanned, corpus.root)
    qtbot.waitUntil(lambda: not c.busy, timeout=30_000)
    # The window's controller searched them (every file is stat'ed and its digest looked up:
    # a second at 100,000 files); the inspection did not search them again.
    assert searched == [corpus.root]
    twins = [paths for paths in _twins(c) if len(paths) > 1]
    assert twins and all(len({c.plan.split_of(p) for p in t}) == 1 for t in twins)


def _twins(c):
    by_key = {}
    for path, key in c._groups.items():
        by_key.setdefault(key, []).append(path)
    return by_key.values()


def test_an_inspection_replaced_by_a_newer_one_is_still_running(
    qtbot, window, wait_scanned, corpus, monkeypatch
):
    """A restarted inspection's old job ends while the new one runs, or after it: the tab
    (and an export waiting for the duplicate groups) must not take that for the end."""
    import threading
    import time

    import imbalance_studio.core.inspect as core_inspect

    inspection, _c = _inspected(qtbot, window, wait_scanned, corpus.root)
    real, calls, first_runs = core_inspect.iter_split_groups, [], threading.Event()

    def slow_to_stop_first(*args, **kwargs):
        # The replaced job takes a while to stop (its worker finishes a decode), so its end
        # reaches the window after the newer job's.
        calls.append(1)
        first = len(calls) == 1
        first_runs.set()
        try:
            return (yield from real(*args, **kwargs))
        finally:
            if first:
                time.sleep(1.0)

    monkeypatch.setattr(core_inspect, "iter_split_groups", slow_to_stop_first)
    seen: list[bool] = []
    inspection.changed.connect(lambda: seen.append(inspection.busy))
    inspection.start()
    qtbot.waitUntil(first_runs.is_set, timeout=30_000)
    inspection.start()  # replaces the first
    qtbot.waitUntil(lambda: not inspection.busy, timeout=60_000)
    qtbot.wait(1500)  # the replaced job's end arrives
    assert len(calls) == 2
    assert seen[-1] is False and seen.count(False) == 1, seen  # one end: the newer job's
