"""The Generate panel's bar and the line under it say the same numbers (one count), before
and after the window's replan reloads the gallery, and a cancelled run says so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from datasets import write_digits

from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.project import ClassTarget, Project
from imbalance_studio.core.scanning import scan
from imbalance_studio.gui.generation import GenerationPanel


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("digits-counts")
    write_digits(root, [30, 12, 6])
    return root


def make_panel(qtbot, root: Path, tmp_path: Path, **targets: int) -> GenerationPanel:
    from imbalance_studio.gui.curation.controller import CurationController

    dataset = scan(root)
    project = Project(
        dataset_root=str(root), targets={k: ClassTarget(target=v) for k, v in targets.items()}
    )
    c = CurationController()
    c.dataset, c.project, c.project_file = dataset, project, tmp_path / "p.isproj.json"
    panel = GenerationPanel(workers=1, controller=c)
    qtbot.addWidget(panel)
    panel.show()

    def replan(*_args) -> None:  # as the window does when a run ends
        if not panel.busy:
            panel.set_context(dataset, project, make_plan(dataset, project), c.project_file)

    panel.generationFinished.connect(replan)
    replan()
    qtbot.waitUntil(lambda: not panel.loading, timeout=10_000)
    return panel


def said(panel) -> tuple[int, int]:
    found = re.search(r"(\d+) of (\d+) (?:images )?ready", panel.status.text())
    assert found, panel.status.text()
    return int(found.group(1)), int(found.group(2))


def test_after_a_full_run_the_bar_and_the_text_agree(qtbot, root, tmp_path):
    panel = make_panel(qtbot, root, tmp_path, digit_1=14, digit_2=9)
    n = panel.wanted()
    assert n > 0 and said(panel) == (0, n) and panel.progress.value() == 0
    assert panel.progress.maximum() == n
    with qtbot.waitSignal(panel.generationFinished, timeout=60_000):
        panel.generate_button.click()
    qtbot.waitUntil(lambda: not panel.busy and not panel.loading, timeout=10_000)
    assert said(panel) == (n, n)
    assert (panel.progress.value(), panel.progress.maximum()) == (n, n)
    assert "cancelled" not in panel.status.text() + panel.progress.text()


def test_a_cancelled_run_says_cancelled_and_shows_what_is_ready(qtbot, root, tmp_path):
    panel = make_panel(qtbot, root, tmp_path, digit_2=3000)
    panel.generate_button.click()
    qtbot.waitUntil(lambda: panel.progress.value() >= 10, timeout=60_000)
    with qtbot.waitSignal(panel.generationFinished, timeout=10_000):
        panel.cancel_button.click()
    qtbot.waitUntil(lambda: not panel.busy and not panel.loading, timeout=10_000)
    ready, total = said(panel)
    assert ready >= 10 and total == panel.wanted()
    assert (panel.progress.value(), panel.progress.maximum()) == (ready, total)
    assert "cancelled" in panel.status.text().lower()
    assert "cancelled" in panel.progress.text()
    # Starting again clears it.
    panel.generate_button.click()
    assert "cancelled" not in panel.progress.text()
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.busy, timeout=10_000)
