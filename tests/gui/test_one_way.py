"""One way through the house: every save adopts the staging folder, and QA decisions (accept,
reject, reject-and-reduce) are undoable steps like every other edit of the project."""

from __future__ import annotations

from pathlib import Path

from datasets import write_digits

from imbalance_studio.core.generation import iter_generate, load_staging
from imbalance_studio.core.project import ClassTarget, Project
from imbalance_studio.gui.generation.model import ImageRole

WAIT = 60_000  # ms: a shared machine can be slow to start a generation's worker processes


def drain(gen):
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def open_window(qtbot, window, wait_scanned, root: Path):
    window.open_folder(root)
    wait_scanned(window)
    c = window.curation.controller
    qtbot.waitUntil(lambda: c.plan is not None and not c.busy, timeout=30_000)
    return c


def test_save_on_close_moves_the_staging_folder_of_an_untitled_project(
    qtbot, window, wait_scanned, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QFileDialog

    root = tmp_path / "digits"
    write_digits(root, [20, 6])
    c = open_window(qtbot, window, wait_scanned, root)
    c.set_target("digit_1", ClassTarget(target=8))
    qtbot.waitUntil(lambda: not c.busy and bool(c.plan.splits["train"][1].generate), timeout=WAIT)
    cache_staging = c.project.staging_path(None)
    made = drain(iter_generate(c.dataset, c.project, c.plan, cache_staging, workers=1))
    assert made and c.dirty and c.project_file is None

    chosen = tmp_path / "saved" / "digits"  # no suffix typed: it is added
    chosen.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(chosen), ""))
    assert window.app_session.save_before_close()

    project_file = chosen.with_name("digits.isproj.json")
    assert c.project_file == project_file and not c.dirty
    assert Project.load(project_file).targets["digit_1"].target == 8
    staging = c.project.staging_path(project_file)
    assert staging == tmp_path / "saved" / "digits.staging"
    assert not cache_staging.exists(), "the cache copy is moved, not left behind"
    assert {g.id for g in load_staging(staging)} == {g.id for g in made}


def record_status(staging: Path, image_id: str) -> tuple[str, str | None] | None:
    return next(
        ((g.status, g.reject_mode) for g in load_staging(staging) if g.id == image_id), None
    )


def generated_in_window(qtbot, window, wait_scanned, tmp_path):
    root = tmp_path / "digits"
    write_digits(root, [20, 6])
    c = open_window(qtbot, window, wait_scanned, root)
    c.set_target("digit_1", ClassTarget(target=9))  # undo step 1
    qtbot.waitUntil(lambda: not c.busy and bool(c.plan.splits["train"][1].generate), timeout=WAIT)
    bench = window.workbench
    bench.generate_action.trigger()
    panel = bench.generate_tab.widget
    qtbot.waitUntil(lambda: not panel.busy and panel.last_result is not None, timeout=120_000)
    qtbot.waitUntil(lambda: not c.busy and not panel.loading, timeout=30_000)
    return c, panel


def test_undo_takes_back_a_reject_and_the_target_it_lowered_as_one_step(
    qtbot, window, wait_scanned, tmp_path
):
    c, panel = generated_in_window(qtbot, window, wait_scanned, tmp_path)
    panel.reject_mode.setCurrentIndex(panel.reject_mode.findData("reduce"))
    panel.view.setCurrentIndex(panel.proxy.index(0, 0))
    victim, wanted = panel.current_image(), panel.wanted()
    panel.reject_image(victim)
    assert panel.wanted() == wanted - 1
    assert c.project.targets["digit_1"].target == 8
    assert c.project.generation.rejected == [victim.id]
    assert c.dirty and c.undo_stack.count() == 2
    qtbot.waitUntil(
        lambda: record_status(panel.staging, victim.id) == ("rejected", "reduce"), timeout=WAIT
    )

    c.undo_stack.undo()  # the reject, and with it the lowered target
    assert c.project.targets["digit_1"].target == 9
    assert c.project.generation.rejected == []
    assert panel.model.image(victim.id).status == "pending"
    qtbot.waitUntil(
        lambda: record_status(panel.staging, victim.id) == ("pending", None), timeout=WAIT
    )
    qtbot.waitUntil(lambda: not c.busy and panel.wanted() == wanted, timeout=WAIT)  # replanned
    c.undo_stack.undo()  # the target edit
    assert "digit_1" not in c.project.targets

    c.undo_stack.redo()
    assert c.project.targets["digit_1"].target == 9
    c.undo_stack.redo()  # the reject comes back with its lower target
    assert c.project.targets["digit_1"].target == 8
    assert c.project.generation.rejected == [victim.id]
    qtbot.waitUntil(
        lambda: record_status(panel.staging, victim.id) == ("rejected", "reduce"), timeout=WAIT
    )
    qtbot.waitUntil(lambda: not c.busy and not panel.busy and not panel.loading, timeout=WAIT)
    assert panel.model.image(victim.id).status == "rejected"
    assert panel.wanted() == wanted - 1


def test_accept_and_reject_with_replacement_are_undoable_too(qtbot, window, wait_scanned, tmp_path):
    c, panel = generated_in_window(qtbot, window, wait_scanned, tmp_path)
    first, second = (panel.proxy.index(i, 0).data(ImageRole) for i in (0, 1))
    panel.accept_image(first)
    qtbot.waitUntil(
        lambda: record_status(panel.staging, first.id) == ("accepted", None), timeout=WAIT
    )
    panel.reject_image(second)  # "replace": the target stays, a replacement is made
    assert c.project.targets["digit_1"].target == 9
    qtbot.waitUntil(
        lambda: record_status(panel.staging, second.id) == ("rejected", "replace"), timeout=WAIT
    )
    qtbot.waitUntil(lambda: not c.busy and not panel.busy and not panel.loading, timeout=WAIT)
    assert c.undo_stack.undoText() == f"Reject {second.id}"

    c.undo_stack.undo()
    assert c.project.generation.rejected == []
    qtbot.waitUntil(
        lambda: record_status(panel.staging, second.id) == ("pending", None), timeout=WAIT
    )
    c.undo_stack.undo()
    qtbot.waitUntil(
        lambda: record_status(panel.staging, first.id) == ("pending", None), timeout=WAIT
    )
    assert panel.model.image(first.id).status == "pending"
    assert c.undo_stack.undoText() == "Target of digit_1"
    # A rejected image is not decided on again: Undo is the way back.
    c.undo_stack.redo()
    c.undo_stack.redo()
    assert not c.decide(second, "accepted") and not c.decide(second, "rejected", "reduce")
    assert c.project.targets["digit_1"].target == 9


def test_the_preview_grid_shows_what_generation_makes_and_says_when_it_is_scaled(qtbot, tmp_path):
    import numpy as np
    from test_one_way_core import gated_stack, generated_pixels, write_photo

    from imbalance_studio.gui.augment.preview_grid import PreviewGrid

    grid = PreviewGrid()
    qtbot.addWidget(grid)
    grid.show()
    stack = gated_stack()
    grid.set_source(lambda: (stack, 8, 11))

    def shown(path):
        with qtbot.waitSignal(grid.updated, timeout=WAIT):
            grid.set_sample(path)
        qtbot.waitUntil(lambda: not grid.busy, timeout=WAIT)
        assert len(grid.tiles) == 8 and all(t.error is None for t in grid.tiles)

    root = tmp_path / "data"
    write_photo(root / "c" / "small.png", 48, 36)
    shown(root / "c" / "small.png")
    assert grid.note.isHidden()
    for tile in grid.tiles:
        pixels, _ = generated_pixels(root, "c/small.png", stack, tile.variant_seed, tmp_path)
        assert np.array_equal(tile.image, pixels)

    write_photo(root / "c" / "big.png", 1600, 1200)
    shown(root / "c" / "big.png")
    assert grid.note.isVisible() and "1600×1200" in grid.note.text()
    assert all(max(t.image.shape[:2]) <= 256 for t in grid.tiles)
    shown(root / "c" / "small.png")
    assert grid.note.isHidden()


def test_a_job_that_ends_before_run_job_returns_still_runs_its_callbacks(qtbot, monkeypatch):
    """A worker can finish before the line after `run_job` runs (a busy machine pauses the
    GUI thread): here every job runs to its end inside `run_job`. A lost finish signal used
    to leave the autosave (and the QA record writer) waiting forever."""
    from imbalance_studio.gui import jobs
    from imbalance_studio.gui.curation import decisions, files
    from imbalance_studio.gui.curation.controller import CurationController

    c = CurationController()
    monkeypatch.setattr(jobs, "_RUNNER", jobs.JobRunner(synchronous=True))
    c.project = Project(dataset_root="/nowhere/data")
    written = []
    monkeypatch.setattr(files, "write_autosave", lambda *a: written.append(a))
    c._write_autosave()
    c._write_autosave()
    assert len(written) == 2 and not c._autosave_running and not c.busy

    batches = []
    monkeypatch.setattr(decisions, "write_statuses", batches.append)
    c._write_status(None, "accepted", None)  # any image: the writer is replaced
    c._write_status(None, "rejected", "reduce")
    assert [[w[2] for w in b] for b in batches] == [["accepted"], ["rejected"]]
    assert not c._status_running and not c.busy
