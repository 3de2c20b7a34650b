"""The Generate panel: background run with Cancel, the gallery, accept and reject."""

from __future__ import annotations

from pathlib import Path

import pytest
from datasets import write_digits
from PySide6.QtCore import Qt, QTimer

from imbalance_studio.core.generation import load_staging
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.project import ClassTarget, Project
from imbalance_studio.core.scanning import scan
from imbalance_studio.gui.generation import GenerationPanel


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("digits3")
    write_digits(root, [30, 12, 6])
    return root


def context(root: Path, tmp_path: Path, **targets: int):
    dataset = scan(root)
    project = Project(
        dataset_root=str(root),
        targets={
            k: ClassTarget(target=v) for k, v in (targets or {"digit_1": 12, "digit_2": 10}).items()
        },
    )
    return dataset, project, make_plan(dataset, project), tmp_path / "p.isproj.json"


def with_controller(p: GenerationPanel) -> GenerationPanel:
    """As in the window: the curation controller holds the project the panel shows, and
    QA decisions are its (undoable) edits."""
    real = p.set_context

    def set_context(dataset, project, plan, project_file):
        c = p.controller
        c.dataset, c.project = dataset, project
        c.project_file = Path(project_file) if project_file else None
        real(dataset, project, plan, project_file)

    p.set_context = set_context
    return p


@pytest.fixture
def panel(qtbot):
    from imbalance_studio.gui.curation.controller import CurationController

    p = with_controller(GenerationPanel(workers=1, controller=CurationController()))
    qtbot.addWidget(p)
    p.resize(900, 600)
    p.show()
    yield p
    p.cancel()
    qtbot.waitUntil(lambda: not p.busy, timeout=10_000)


def run_to_end(qtbot, panel) -> object:
    with qtbot.waitSignal(panel.generationFinished, timeout=60_000) as blocker:
        panel.generate_button.click()
    qtbot.waitUntil(lambda: not panel.busy, timeout=10_000)
    return blocker.args[0]


def test_generate_fills_the_gallery_and_filters_by_class(qtbot, panel, root, tmp_path):
    ctx = context(root, tmp_path)
    panel.set_context(*ctx)
    assert panel.generate_button.isEnabled()
    result = run_to_end(qtbot, panel)
    assert len(result) == 4 + 6 and panel.model.rowCount() == 10
    assert "10 of 10 images ready" in panel.status.text()
    assert panel.progress.value() == panel.progress.maximum() == 10
    panel.class_filter.setCurrentIndex(panel.class_filter.findData("digit_2"))
    assert panel.proxy.rowCount() == 6
    # A second panel on the same project shows what is staged without generating.
    other = GenerationPanel(workers=1)
    qtbot.addWidget(other)
    other.set_context(*ctx)
    qtbot.waitUntil(lambda: other.model.rowCount() == 10, timeout=10_000)
    assert "0 to generate" in other.status.text()


def test_click_shows_source_and_result_with_parameters(qtbot, panel, root, tmp_path):
    panel.set_context(*context(root, tmp_path))
    run_to_end(qtbot, panel)
    panel.view.setCurrentIndex(panel.proxy.index(0, 0))
    image = panel.compare.image
    assert image is not None and image.sources[0] in panel.compare.source_label.text()

    def shown(box):
        pm = box.pixmap()
        return pm is not None and not pm.isNull()

    qtbot.waitUntil(lambda: shown(panel.compare.source_box) and shown(panel.compare.result_box))
    assert panel.compare.params.toPlainText()


def test_keyboard_accept_and_reject_with_replacement(qtbot, panel, root, tmp_path):
    dataset, project, plan, project_file = context(root, tmp_path)
    panel.set_context(dataset, project, plan, project_file)
    run_to_end(qtbot, panel)
    panel.view.setFocus()
    panel.view.setCurrentIndex(panel.proxy.index(0, 0))
    first = panel.current_image()
    qtbot.keyClick(panel.view, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: _status(panel, first.id) == "accepted")
    assert panel.current_image().id != first.id, "the selection moves on"
    victim = panel.current_image()
    with (
        qtbot.waitSignal(panel.controller.decisionChanged),
        qtbot.waitSignal(panel.generationFinished, timeout=60_000),
    ):
        qtbot.keyClick(panel.view, Qt.Key.Key_R)
    assert project.generation.rejected == [victim.id]
    qtbot.waitUntil(lambda: panel.model.rowCount() == 11 and not panel.busy)
    assert panel.model.image(victim.id).status == "rejected"
    new = [g for g in panel.model.images() if g.status == "pending" and g.ordinal == victim.ordinal
           and g.class_name == victim.class_name and g.id != victim.id]  # fmt: skip
    assert len(new) == 1 and new[0].seed != victim.seed and new[0].file.is_file()
    assert _status(panel, victim.id) == "rejected"


def test_reject_with_reduce_lowers_the_count(qtbot, panel, root, tmp_path):
    dataset, project, plan, project_file = context(root, tmp_path)
    panel.set_context(dataset, project, plan, project_file)
    run_to_end(qtbot, panel)
    panel.reject_mode.setCurrentIndex(panel.reject_mode.findData("reduce"))
    assert project.generation.on_reject == "reduce"
    panel.view.setCurrentIndex(panel.proxy.index(0, 0))
    victim = panel.current_image()
    panel.reject_image(victim)
    assert project.targets[victim.class_name].target == 11
    assert panel.wanted() == 9
    qtbot.waitUntil(lambda: _status(panel, victim.id) == "rejected")
    assert panel.model.rowCount() == 10 and not panel.busy, "no replacement is made"
    assert make_plan(dataset, project).to_json() == panel.plan.to_json()


def test_cancel_keeps_finished_files_and_the_gui_stays_responsive(qtbot, panel, root, tmp_path):
    dataset, project, plan, project_file = context(root, tmp_path, digit_2=3000)
    panel.workers = 2
    panel.set_context(dataset, project, plan, project_file)
    ticks = []
    timer = QTimer(panel, interval=10)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    panel.generate_button.click()
    assert panel.busy and panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: panel.progress.value() >= 20, timeout=60_000)
    # While images are being made the event loop keeps running: the timer fires, a
    # filter change repaints. (A second, not a blink: on a busy 2-core machine the worker
    # processes share the cores with this one.)
    before = len(ticks)
    qtbot.wait(1000)
    assert len(ticks) - before >= 15
    panel.class_filter.setCurrentIndex(panel.class_filter.findData("digit_2"))
    with qtbot.waitSignal(panel.generationFinished, timeout=5_000) as blocker:
        panel.cancel_button.click()
    assert blocker.args == [None]
    qtbot.waitUntil(lambda: not panel.busy, timeout=5_000)
    assert "cancelled" in panel.status.text()
    staged = load_staging(panel.staging)
    assert 20 <= len(staged) < 2996
    assert all(g.file.is_file() for g in staged)
    shown = {g.id for g in panel.model.images()}
    assert shown <= {g.id for g in staged}


def _status(panel, image_id: str) -> str | None:
    return next((g.status for g in load_staging(panel.staging) if g.id == image_id), None)


def test_replanning_window_keeps_the_selection(qtbot, panel, root, tmp_path):
    """As in the main window: every project change replans and calls set_context again."""
    dataset, project, plan, project_file = context(root, tmp_path)

    def replan(*_args):
        if not panel.busy:
            panel.set_context(dataset, project, make_plan(dataset, project), project_file)

    panel.controller.decisionChanged.connect(replan)
    panel.generationFinished.connect(replan)
    panel.set_context(dataset, project, plan, project_file)
    run_to_end(qtbot, panel)
    panel.view.setFocus()
    panel.view.setCurrentIndex(panel.proxy.index(2, 0))
    victim = panel.current_image()
    qtbot.keyClick(panel.view, Qt.Key.Key_Delete)
    nxt = panel.current_image()
    assert nxt.id != victim.id
    qtbot.waitUntil(lambda: panel.model.rowCount() == 11 and not panel.busy, timeout=30_000)
    qtbot.waitUntil(lambda: not panel.loading)  # the last gallery reload has landed
    assert panel.current_image().id == nxt.id, "reloads keep the selection"
    assert panel.model.image(victim.id).status == "rejected"
    assert panel.compare.image.id == nxt.id


def test_generation_finished_arrives_when_the_panel_is_no_longer_busy(qtbot, panel, root, tmp_path):
    """The window refreshes the panel's context on generationFinished and skips a busy panel:
    emitted while still busy, that refresh was lost (and a gallery reload could land over the
    newest images)."""
    panel.set_context(*context(root, tmp_path))
    busy_then: list[bool] = []
    panel.generationFinished.connect(lambda _r: busy_then.append(panel.busy))
    result = run_to_end(qtbot, panel)
    assert result is not None and busy_then == [False]


def test_the_tab_fits_beside_the_class_list(panel):
    """The window gives the Generate tab about 950 px at its default size (1366 px wide):
    the panel must not need more (the badge legend beside the filters once needed 1,290, and
    the tab scrolled sideways with the compare view cut off)."""
    assert panel.minimumSizeHint().width() <= 900
    assert panel.width() <= 900 and not panel.compare.isHidden()


def test_with_nothing_planned_the_tab_says_where_targets_are_set(qtbot, panel, root, tmp_path):
    dataset, project, _plan, pfile = context(root, tmp_path)
    project.targets = {}
    panel.set_context(dataset, project, make_plan(dataset, project), pfile)
    qtbot.waitUntil(lambda: "Nothing to generate" in panel.status.text(), timeout=10_000)
    assert "Balance tab" in panel.status.text()
    assert panel.progress.text() == "nothing planned"  # not "0 / 1"
    assert not panel.generate_button.isEnabled()


def test_parameters_applied_leave_out_what_nobody_drew():
    """Interpolation, fill and box bookkeeping are settings, not draws: the comparison and
    the preview tooltips show what the transform drew."""
    import albumentations as A
    import numpy as np

    from imbalance_studio.core.augment import apply_stack
    from imbalance_studio.gui.augment.preview_grid import params_text
    from imbalance_studio.gui.generation.compare import describe_params

    stack = A.to_dict(A.Compose([A.Affine(rotate=(10, 10), p=1.0)]))
    image = (np.random.default_rng(0).random((48, 48, 3)) * 255).astype(np.uint8)
    _out, params = apply_stack(stack, image, seed=1)
    for text in (describe_params(params), params_text(params)):
        assert text.startswith("Affine") and "rotate" in text, text
        assert not any(k in text for k in ("interpolation", "fill_mask", "bbox_matrix")), text
