"""One way through the house: every save adopts the staging folder, and QA decisions (accept,
reject, reject-and-reduce) are undoable steps like every other edit of the project."""

from __future__ import annotations

from pathlib import Path

from datasets import write_digits

from imbalance_studio.core.generate import iter_generate, load_staging
from imbalance_studio.core.project import ClassTarget, Project


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
    qtbot.waitUntil(lambda: not c.busy and bool(c.plan.splits["train"][1].generate))
    cache_staging = c.project.staging_path(None)
    made = drain(iter_generate(c.dataset, c.project, c.plan, cache_staging, workers=1))
    assert made and c.dirty and c.project_file is None

    chosen = tmp_path / "saved" / "digits"  # no suffix typed: it is added
    chosen.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(chosen), ""))
    assert window.curation._save_before_close()

    project_file = chosen.with_name("digits.isproj.json")
    assert c.project_file == project_file and not c.dirty
    assert Project.load(project_file).targets["digit_1"].target == 8
    staging = c.project.staging_path(project_file)
    assert staging == tmp_path / "saved" / "digits.staging"
    assert not cache_staging.exists(), "the cache copy is moved, not left behind"
    assert {g.id for g in load_staging(staging)} == {g.id for g in made}
