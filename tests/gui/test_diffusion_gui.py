"""Diffusion img2img in the window: the method greyed out with the install command without
the extra; generation in the panel's background job with per-step progress; unreviewed
images first in the QA gallery; the export asks before including them."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from datasets import write_digits
from PySide6.QtCore import Qt, QTimer

from imbalance_studio.core.diffusion_settings import DiffusionSettings
from imbalance_studio.core.generation import awaiting_review
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.project import ClassTarget, Method, Project
from imbalance_studio.core.scanning import scan

INSTALL = 'pip install "imbalance-studio[diffusion]"'


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("digits-diffusion-gui")
    write_digits(root, [12, 6])
    return root


def _diffusion_item(box):
    i = box.findData(Method.DIFFUSION)
    return box.model().item(i), box.itemData(i, Qt.ItemDataRole.ToolTipRole)


def test_without_the_extra_diffusion_is_shown_disabled_with_the_install_command(qtbot, monkeypatch):
    from imbalance_studio.gui.curation.controller import CurationController
    from imbalance_studio.gui.curation.plan_panel import MethodDelegate, PlanPanel
    from imbalance_studio.gui.generation.diffusion_settings import DiffusionSettingsBox

    monkeypatch.setitem(sys.modules, "diffusers", None)  # as if the extra were not installed
    panel = PlanPanel(CurationController())
    qtbot.addWidget(panel)
    item, tip = _diffusion_item(panel.method_box)
    assert item.text().startswith("diffusion") and not item.isEnabled()
    assert INSTALL in tip
    editor = MethodDelegate().createEditor(None, None, None)
    i = editor.findText("diffusion")
    assert i >= 0 and not editor.model().item(i).isEnabled()
    assert INSTALL in editor.itemData(i, Qt.ItemDataRole.ToolTipRole)
    box = DiffusionSettingsBox()
    qtbot.addWidget(box)
    assert INSTALL in box.note.text() and not box.model.isEnabled()

    monkeypatch.delitem(sys.modules, "diffusers")  # the extra is back
    if pytest.importorskip("diffusers"):
        panel2 = PlanPanel(CurationController())
        qtbot.addWidget(panel2)
        item, tip = _diffusion_item(panel2.method_box)
        assert item.isEnabled() and INSTALL not in tip


def test_generation_runs_in_the_job_and_unreviewed_images_come_first(
    qtbot, root, tmp_path, tiny_diffusion_model
):
    from imbalance_studio.gui.curation.controller import CurationController
    from imbalance_studio.gui.export import ExportDialog
    from imbalance_studio.gui.generation import GenerationPanel

    dataset = scan(root)
    project = Project(
        dataset_root=str(root),
        seed=3,
        targets={
            "digit_0": ClassTarget(target=10, method=Method.AUGMENT),
            "digit_1": ClassTarget(target=6, method=Method.DIFFUSION),
        },
    )
    project.generation.diffusion = DiffusionSettings(
        model=str(tiny_diffusion_model), steps=2, size=32
    )
    plan = make_plan(dataset, project)
    controller = CurationController()
    panel = GenerationPanel(workers=1, controller=controller)
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    controller.dataset, controller.project = dataset, project
    controller.project_file = tmp_path / "p.isproj.json"
    panel.set_context(dataset, project, plan, tmp_path / "p.isproj.json")
    assert panel.diffusion.isVisible()
    assert panel.diffusion.model.text() == str(tiny_diffusion_model)

    said: list[str] = []
    real_say = panel._say
    panel._say = lambda text, error=False: (said.append(text), real_say(text, error))
    ticks = []  # the GUI thread keeps running while the model loads and denoises
    timer = QTimer(panel, interval=50)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    started = time.monotonic()
    with qtbot.waitSignal(panel.generationFinished, timeout=300_000) as blocker:
        panel.generate_button.click()
    qtbot.waitUntil(lambda: not panel.busy, timeout=10_000)
    timer.stop()
    elapsed = time.monotonic() - started
    result = blocker.args[0]
    assert result is not None and len(result) == 2 + 2  # 2 augmented, 2 diffusion
    assert any("denoising step" in t for t in said)
    # A blocked GUI thread would tick about once; a free one about every 50 ms (a quick run
    # leaves little time, a loaded machine delays ticks: a quarter of the ideal count).
    assert len(ticks) >= max(2, 0.25 * elapsed / 0.05), (len(ticks), elapsed)

    # The gallery, loaded again from the staging folder: unreviewed diffusion images first.
    panel.set_context(dataset, project, plan, None)
    panel.set_context(dataset, project, plan, tmp_path / "p.isproj.json")
    qtbot.waitUntil(lambda: not panel.loading and panel.model.rowCount() == 4, timeout=30_000)
    shown = panel.model.images()
    assert [g.status for g in shown[:2]] == ["unreviewed", "unreviewed"]
    assert {g.generator for g in shown[2:]} == {"augment"}
    tip = panel.model.data(panel.model.index(0), Qt.ItemDataRole.ToolTipRole)
    assert "prompt: a photo of a digit_1" in tip and shown[0].sources[0] in tip
    panel.compare.show_image(shown[0])
    assert "prompt: a photo of a digit_1" in panel.compare.params.toPlainText()
    assert "Source: " + shown[0].sources[0] == panel.compare.source_label.text()

    # The export asks before including them; "No" exports nothing.
    assert len(awaiting_review(result, project)) == 2
    dialog = ExportDialog(dataset, project, plan, result, staging=tmp_path / "p.staging")
    qtbot.addWidget(dialog)
    assert (
        dialog.review_note.isVisibleTo(dialog) and "2 diffusion images" in dialog.review_note.text()
    )
    asked = []
    dialog.confirm_unreviewed = lambda n: (asked.append(n), False)[1]
    dialog.set_destination(tmp_path / "out")
    dialog.start()
    assert asked == [2] and not dialog.running and not (tmp_path / "out").exists()
    assert "await review" in dialog.status.text()
    dialog.confirm_unreviewed = lambda n: (asked.append(n), True)[1]
    with qtbot.waitSignal(dialog.exportFinished, timeout=60_000):
        dialog.start()
    assert asked == [2, 2] and (tmp_path / "out" / "manifest.csv").exists()
    panel.shutdown()


def test_the_settings_box_edits_the_project(qtbot):
    from imbalance_studio.gui.generation.diffusion_settings import DiffusionSettingsBox

    project = Project(dataset_root="/nonexistent")
    box = DiffusionSettingsBox()
    qtbot.addWidget(box)
    box.set_project(project)
    assert box.steps.value() == 30 and box.strength.value() == 0.5 and box.size.value() == 512
    with qtbot.waitSignal(box.changed):
        box.model.setText("/models/sd")
        box.prompt.setText("a {class} mole")
        box.steps.setValue(12)
        box._apply()
    s = project.generation.diffusion
    assert (s.model, s.prompt, s.steps) == ("/models/sd", "a {class} mole", 12)
    assert s.prompt_for("melanoma") == "a melanoma mole"
    box.steps.setValue(1)
    box.strength.setValue(0.5)
    box._apply()  # 1 step × 0.5 strength: no denoising step at all
    assert "no denoising step" in box.note.text() and project.generation.diffusion.steps == 12
