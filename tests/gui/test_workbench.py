"""The panels working together in the window: CutMix per class, Generate, Export."""

import csv

import pytest
from datasets import tree_hash
from PySide6.QtCore import Qt

from imbalance_studio.gui.curation.targets_model import COL_CUTMIX


def ready(qtbot, window, wait_scanned, root):
    cur = window.curation
    window.open_folder(root)
    wait_scanned(window)
    qtbot.waitUntil(
        lambda: cur.controller.plan is not None and not window.workbench.busy, timeout=60_000
    )  # the plan made with the inspection's duplicate groups
    return cur


def test_cutmix_column_is_an_undoable_per_class_switch(qtbot, window, wait_scanned, tmp_path):
    from datasets import write_digits

    write_digits(tmp_path / "d", counts=[30, 6])
    cur = ready(qtbot, window, wait_scanned, tmp_path / "d")
    model = cur.plan_panel.model
    index = model.index(1, COL_CUTMIX)
    assert model.setData(index, Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert cur.controller.project.generation.cutmix_classes == ["digit_1"]
    assert index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    cur.controller.undo_stack.undo()
    assert cur.controller.project.generation.cutmix_classes == []


def test_generate_then_export_from_the_window(qtbot, window, wait_scanned, tmp_path):
    from datasets import write_digits

    root = tmp_path / "digits"
    write_digits(root, counts=[40, 12, 8])
    before = tree_hash(root)
    cur = ready(qtbot, window, wait_scanned, root)
    bench = window.workbench
    cur.plan_panel.policy_box.setCurrentText("Oversample every class (augment: 1.5 × the largest)")
    qtbot.mouseClick(cur.plan_panel.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not cur.controller.busy, timeout=30_000)
    plan = cur.controller.plan
    wanted = sum(len(cp.generate) for cp in plan.splits["train"])
    assert wanted > 0 and bench.generate_action.isEnabled()
    # The scan's hint ("… then set targets in the Balance tab") moves on with the targets.
    status = window.scan_status.message.full_text()
    assert status.startswith("Scan complete") and "set targets" not in status, status
    assert f"Generate (Ctrl+G) makes the {wanted:,} planned new images" in status

    bench.generate_action.trigger()
    panel = bench.generate_tab.widget
    assert window.panels.currentWidget() is bench.generate_tab
    qtbot.waitUntil(lambda: not panel.busy and panel.last_result is not None, timeout=120_000)
    assert len(panel.last_result) == wanted
    # The status bar's next step follows the work: no longer the scan's "mark images…".
    status = window.scan_status.message.full_text()
    assert status.startswith(f"Generation done: {wanted:,} new images ready"), status
    assert "Export (Ctrl+E)" in status and "Scan complete" not in status
    assert f"(all {wanted:,} made now)" in status

    bench.export_action.trigger()
    qtbot.waitUntil(lambda: bench.export_dialog is not None, timeout=60_000)
    dialog = bench.export_dialog
    kept = sum(len(cp.kept) for cp in plan.splits["train"])
    summary = dialog.summary.text()
    assert f"Train: {kept:,} originals, {wanted:,} generated" in summary, summary
    out = tmp_path / "export"
    with qtbot.waitSignal(dialog.exportFinished, timeout=120_000):
        dialog.set_destination(str(out))
        dialog.start()
    with open(out / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    train = [r for r in rows if r["split"] == "train"]
    largest = max(cp.final for cp in plan.splits["train"])
    for ci, name in enumerate(plan.classes):
        assert sum(r["class"] == name for r in train) == largest
        assert len(list((out / "train" / name).iterdir())) == largest, name
        assert plan.splits["val"][ci].final == len(list((out / "val" / name).iterdir()))
    assert {r["origin"] for r in rows if r["split"] != "train"} == {"original"}
    assert tree_hash(root) == before


def test_export_asks_the_generate_tab_and_cancel_opens_no_dialog(
    qtbot, window, wait_scanned, tmp_path, monkeypatch
):
    """Export with nothing generated runs the Generate tab's own job (progress bar, Cancel),
    with Generate and a second Export off meanwhile; Cancel stops it and opens no dialog;
    a later Export that succeeds opens the dialog with what was made."""
    import time

    from datasets import write_digits

    import imbalance_studio.core.generation as generate_mod

    real = generate_mod.iter_generate

    def slow(*args, **kwargs):  # each step waits, so a Cancel lands in the middle
        inner = real(*args, **kwargs)
        try:
            while True:
                time.sleep(0.05)
                try:
                    event = next(inner)
                except StopIteration as stop:
                    return stop.value
                yield event
        finally:
            inner.close()

    monkeypatch.setattr(generate_mod, "iter_generate", slow)
    root = tmp_path / "digits"
    write_digits(root, counts=[40, 8])
    cur = ready(qtbot, window, wait_scanned, root)
    bench = window.workbench
    cur.plan_panel.policy_box.setCurrentText("Oversample every class (augment: 1.5 × the largest)")
    qtbot.mouseClick(cur.plan_panel.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not cur.controller.busy, timeout=30_000)
    wanted = sum(len(cp.generate) for cp in cur.controller.plan.splits["train"])
    assert wanted > 5 and bench.export_action.isEnabled()

    bench.export_action.trigger()
    panel = bench.generate_tab.widget
    assert panel is not None and panel.busy, "the Generate tab's job makes the images"
    assert window.panels.currentWidget() is bench.generate_tab
    assert panel.progress.maximum() == wanted and panel.cancel_button.isEnabled()
    assert not panel.generate_button.isEnabled() and not bench.generate_action.isEnabled()
    assert not bench.export_action.isEnabled(), "no second export meanwhile"
    said = window.statusBar().currentMessage()
    assert f"the plan asks for {wanted:,} new images" in said and "stops the export" in said
    qtbot.waitUntil(lambda: panel.progress.value() >= 2, timeout=30_000)
    with qtbot.waitSignal(panel.generationFinished, timeout=30_000) as blocker:
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert blocker.args == [None]
    qtbot.waitUntil(lambda: not panel.busy, timeout=10_000)
    qtbot.wait(100)
    assert bench.export_dialog is None, "a cancelled generation opens no export dialog"
    assert "Export stopped" in window.statusBar().currentMessage()
    assert bench.generate_action.isEnabled() and bench.export_action.isEnabled()

    monkeypatch.setattr(generate_mod, "iter_generate", real)
    bench.export_action.trigger()
    assert panel.busy
    qtbot.waitUntil(lambda: bench.export_dialog is not None, timeout=60_000)
    assert len(bench.export_dialog._generated) == wanted
    assert not panel.busy and bench.generate_action.isEnabled()


@pytest.fixture
def gated_check(monkeypatch):
    """An Event: until it is set, every image the scan decodes waits (the window stays in
    its "checking" phase)."""
    import threading

    import imbalance_studio.core.scanning as scanning

    gate, real_check = threading.Event(), scanning.check_file

    def gated(path: str):
        # Never a verdict of the gate's own: a wait that timed out (a slow machine) would
        # otherwise fail the scan, and the test with a misleading timeout.
        gate.wait(120)
        return real_check(path)

    monkeypatch.setattr(scanning, "check_file", gated)
    yield gate
    gate.set()


def ask_export_while_checking(qtbot, window, root) -> None:
    cur = window.curation
    window.open_folder(root)
    qtbot.waitUntil(
        lambda: window.session.phase == "checking" and cur.controller.plan is not None
        and not cur.controller.busy, timeout=30_000,
    )  # fmt: skip
    window.workbench.export_action.trigger()
    assert "being checked" in window.statusBar().currentMessage()


def test_an_export_asked_for_while_images_are_checked_waits_for_the_check(
    qtbot, window, tmp_path, gated_check
):
    from datasets import write_digits

    root = tmp_path / "digits"
    write_digits(root, counts=[30, 10])
    bad = "digit_1/digit_1_000.png"
    (root / bad).write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    bench = window.workbench
    ask_export_while_checking(qtbot, window, root)
    qtbot.wait(50)
    assert bench.export_dialog is None, "no export of images the check has not passed"
    gated_check.set()
    c = window.curation.controller
    try:
        qtbot.waitUntil(lambda: bench.export_dialog is not None, timeout=60_000)
    except qtbot.TimeoutError:
        raise AssertionError(
            f"no export dialog: phase {window.session.phase!r}, checked "
            f"{window.session.checked}, planning {c.planning}, busy {c.busy}, inspecting "
            f"{bench.inspection.busy}, status {window.statusBar().currentMessage()!r}"
        ) from None
    assert window.session.checked
    assert bad not in bench.export_dialog._dataset.paths  # the checked dataset, planned anew


def test_a_waiting_export_is_dropped_on_cancel_and_on_another_folder(
    qtbot, window, wait_scanned, tmp_path, gated_check
):
    from datasets import write_digits

    first, second = tmp_path / "first", tmp_path / "second"
    write_digits(first, counts=[30, 10])
    write_digits(second, counts=[12, 6])
    bench = window.workbench
    ask_export_while_checking(qtbot, window, first)
    window.session.cancel_check()
    assert "check was cancelled" in window.statusBar().currentMessage()
    gated_check.set()
    qtbot.wait(200)
    assert bench.export_dialog is None  # not with images the check never passed

    gated_check.clear()
    again = first / "digit_0" / "digit_0_000.png"
    again.write_bytes(again.read_bytes())  # a new mtime: this reopen decodes it again
    ask_export_while_checking(qtbot, window, first)
    window.open_folder(second)  # the export asked for was the first folder's
    gated_check.set()
    wait_scanned(window)
    qtbot.wait(200)
    assert bench.export_dialog is None and window.session.dataset.root == second


def test_export_opens_while_an_autosave_is_pending(qtbot, window, wait_scanned, tmp_path):
    """An edit that needs no new plan (a threshold, a QA decision) leaves an autosave pending:
    Export must not wait for a plan that is not coming."""
    from datasets import write_digits

    root = tmp_path / "digits"
    write_digits(root, counts=[30, 10])
    cur = ready(qtbot, window, wait_scanned, root)
    cur.controller.project_edited(replan=False)
    assert cur.controller.busy and not cur.controller.planning
    window.workbench.export_action.trigger()
    qtbot.waitUntil(lambda: window.workbench.export_dialog is not None, timeout=10_000)


def test_an_export_asked_for_while_duplicates_are_searched_keeps_them_together(
    qtbot, window, wait_scanned, tmp_path, monkeypatch, request
):
    """Export waits for the inspection: a plan made before the near-duplicate groups were
    known would put copies of one picture in train and in val."""
    import threading

    from photo_corpus import build_corpus

    import imbalance_studio.core.inspect as inspect_mod

    corpus = build_corpus(tmp_path / "photos", n_base=30, n_groups=12)
    gate, real = threading.Event(), inspect_mod.iter_split_groups
    request.addfinalizer(gate.set)

    def gated(*args, **kwargs):
        gate.wait(120)
        return (yield from real(*args, **kwargs))

    monkeypatch.setattr(inspect_mod, "iter_split_groups", gated)
    bench = window.workbench
    window.open_folder(corpus.root)
    wait_scanned(window)
    c = bench.controller
    qtbot.waitUntil(lambda: c.plan is not None and not c.busy, timeout=30_000)
    assert bench.inspection.busy
    bench.export_action.trigger()
    assert "near duplicates" in window.statusBar().currentMessage()
    qtbot.wait(100)
    assert bench.export_dialog is None, "no export of a split made without the groups"
    gate.set()
    qtbot.waitUntil(lambda: bench.export_dialog is not None, timeout=90_000)
    assert bench.inspection.report.groups
    leak = bench.export_dialog._leak_check
    assert leak is not None and leak["near_duplicate_pairs_across_splits"] == 0


def test_a_delivered_plan_is_no_longer_awaited(qtbot, window, wait_scanned, tmp_path):
    """When `planChanged` arrives, no plan is still coming: an export woken by it must not wait
    again (the plan's job is still winding down in its thread at that moment)."""
    from datasets import write_digits

    root = tmp_path / "digits"
    write_digits(root, counts=[30, 10])
    cur = ready(qtbot, window, wait_scanned, root)
    c = cur.controller
    seen: list[bool] = []
    c.planChanged.connect(lambda _plan: seen.append(c.planning))
    c.schedule_plan(now=True)
    assert c.planning
    qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
    assert seen == [False]


def test_planning_spans_a_folder_opened_while_the_last_one_is_compared(
    qtbot, window, wait_scanned, tmp_path, monkeypatch, request
):
    """The first folder's identical-file search ending (for a folder no longer shown) does
    not end the wait for the second folder's plan."""
    import threading

    from datasets import write_digits

    import imbalance_studio.gui.curation.controller as controller_mod

    first, second = tmp_path / "first", tmp_path / "second"
    write_digits(first, counts=[30, 10])
    write_digits(second, counts=[12, 6])
    gate, real = threading.Event(), controller_mod.iter_content_groups
    request.addfinalizer(gate.set)
    started: list[str] = []

    def gated(dataset, *args, **kwargs):
        started.append(dataset.root.name)
        if dataset.root.name == "first":
            gate.wait(120)
        return (yield from real(dataset, *args, **kwargs))

    monkeypatch.setattr(controller_mod, "iter_content_groups", gated)
    c = window.workbench.controller
    window.open_folder(first)
    qtbot.waitUntil(lambda: started == ["first"], timeout=30_000)
    window.open_folder(second)
    wait_scanned(window)
    assert c.planning and c.dataset.root == second
    events: list[str] = []
    c.planChanged.connect(lambda _plan: events.append("plan"))
    c.planningEnded.connect(lambda: events.append("ended"))
    gate.set()
    qtbot.waitUntil(lambda: not c.planning and "ended" in events, timeout=30_000)
    assert events[:2] == ["plan", "ended"], events  # no end before the second folder's plan
    assert sum(c.plan.original_counts("train") + c.plan.original_counts("val")
               + c.plan.original_counts("test")) == 18  # fmt: skip


def test_a_second_export_click_raises_the_open_dialog(qtbot, window, wait_scanned, tmp_path):
    from datasets import write_digits

    root = tmp_path / "digits"
    write_digits(root, counts=[30, 10])
    ready(qtbot, window, wait_scanned, root)
    bench = window.workbench
    bench.export_action.trigger()
    qtbot.waitUntil(lambda: bench.export_dialog is not None, timeout=10_000)
    first = bench.export_dialog
    bench.export_action.trigger()
    qtbot.wait(100)
    assert bench.export_dialog is first and first.isVisible()


def test_export_is_not_opened_with_the_plan_from_before_a_failed_replan(
    qtbot, window, wait_scanned, tmp_path, monkeypatch
):
    from datasets import write_digits

    import imbalance_studio.gui.curation.controller as controller_mod

    root = tmp_path / "digits"
    write_digits(root, counts=[30, 10])
    cur = ready(qtbot, window, wait_scanned, root)
    c, bench = cur.controller, window.workbench

    def broken(*args, **kwargs):
        raise RuntimeError("no plan today")
        yield

    monkeypatch.setattr(controller_mod, "iter_replan", broken)
    c.schedule_plan(now=True)  # as an edit does
    bench.export_action.trigger()
    assert "Updating the plan" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not c.planning, timeout=30_000)
    qtbot.wait(100)
    assert bench.export_dialog is None, "not with the plan made before the edit"
    assert "Export not opened" in window.statusBar().currentMessage()
    assert not c.plan_current


def _with_images_to_make(qtbot, window, wait_scanned, tmp_path):
    from datasets import write_digits

    root = tmp_path / "digits"
    write_digits(root, counts=[30, 10])
    cur = ready(qtbot, window, wait_scanned, root)
    cur.plan_panel.policy_box.setCurrentText("Oversample every class (augment: 1.5 × the largest)")
    qtbot.mouseClick(cur.plan_panel.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not cur.controller.busy, timeout=30_000)
    assert any(cp.generate for cp in cur.controller.plan.splits["train"])
    return cur.controller, window.workbench


def test_generate_waits_for_the_plan_of_an_edit(qtbot, window, wait_scanned, tmp_path):
    """Images made for the plan from before an edit are wasted and ask for a review: the
    Generate button, like the action and Export, waits for the edit's plan."""
    c, bench = _with_images_to_make(qtbot, window, wait_scanned, tmp_path)
    panel = bench.generate_tab.ensure()
    old = c.plan
    c.schedule_plan(now=True)  # as an edit does
    assert c.planning
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    assert "Updating the plan" in window.statusBar().currentMessage()
    assert not panel.busy and panel.last_result is None
    assert panel.status.text() == "Waiting: Updating the plan…"
    assert panel.cancel_button.isEnabled()  # the wait can be called off
    qtbot.waitUntil(lambda: panel.busy or panel.last_result is not None, timeout=30_000)
    assert c.plan is not old and panel.plan is c.plan, "generated for the new plan"
    assert window.statusBar().currentMessage() == ""  # no stale "Updating the plan…"
    qtbot.waitUntil(lambda: not panel.busy and panel.last_result is not None, timeout=120_000)
    assert len(panel.last_result) == sum(len(cp.generate) for cp in c.plan.splits["train"])
    assert "Generation done" in window.scan_status.message.full_text()


def test_cancel_calls_off_a_generation_waiting_for_the_plan(qtbot, window, wait_scanned, tmp_path):
    c, bench = _with_images_to_make(qtbot, window, wait_scanned, tmp_path)
    panel = bench.generate_tab.ensure()
    c.schedule_plan(now=True)
    bench.generate_action.trigger()
    assert panel.cancel_button.isEnabled() and not panel.busy
    window.panels.setCurrentIndex(0)  # the user moves on
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert not panel.cancel_button.isEnabled()
    assert "Updating the plan" not in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not c.planning, timeout=30_000)
    qtbot.wait(100)
    assert not panel.busy and panel.last_result is None, "called off"
    assert window.panels.currentIndex() == 0


def test_generate_leaves_an_export_waiting_for_the_plan_alone(
    qtbot, window, wait_scanned, tmp_path
):
    """Export waits for the plan, then makes the images itself: a Generate click meanwhile
    must not replace its wait (the export dialog would never open)."""
    c, bench = _with_images_to_make(qtbot, window, wait_scanned, tmp_path)
    c.schedule_plan(now=True)
    bench.export_action.trigger()
    assert "Updating the plan" in window.statusBar().currentMessage()
    bench.generate_action.trigger()
    assert "Export is waiting for the plan" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: bench.export_dialog is not None, timeout=120_000)
    # The export asked for the images: its dialog is next, not "review, then Export".
    assert "Generation done" not in window.scan_status.message.full_text()


def test_generate_is_not_started_with_the_plan_from_before_a_failed_replan(
    qtbot, window, wait_scanned, tmp_path, monkeypatch
):
    import imbalance_studio.gui.curation.controller as controller_mod

    c, bench = _with_images_to_make(qtbot, window, wait_scanned, tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("no plan today")
        yield

    monkeypatch.setattr(controller_mod, "iter_replan", broken)
    c.schedule_plan(now=True)
    bench.generate_action.trigger()
    panel = bench.generate_tab.widget
    assert window.panels.currentWidget() is bench.generate_tab
    assert "Updating the plan" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not c.planning, timeout=30_000)
    qtbot.wait(100)
    assert not panel.busy and panel.last_result is None, "not with the plan made before the edit"
    assert "Generation not started" in window.statusBar().currentMessage()
    assert not panel.status.text().startswith("Waiting") and not panel.cancel_button.isEnabled()
