"""The Evaluate tab on a real digits export: runs in the background with progress, shows the
arms table, the confusion matrix and curves, saves the report; Cancel writes nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from datasets import write_digits

from imbalance_studio.cli import run_cli

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("evaluate-gui")
    write_digits(base / "digits", [40, 20, 10, 8])
    out = base / "out"
    args = ["export", str(base / "digits"), str(out), "--policy", "oversample", "--seed", "2"]
    assert run_cli([*args, "--quiet", "--workers", "1"]) == 0
    return out


@pytest.fixture
def panel(qtbot, export, tmp_path):
    from imbalance_studio.gui.evaluate.panel import EvaluatePanel

    p = EvaluatePanel()
    qtbot.addWidget(p)
    copy = tmp_path / "export"
    shutil.copytree(export, copy)
    p.set_export(copy, load=False)
    p.size_box.setValue(16)
    p.steps_box.setValue(8)
    p.device_box.setCurrentText("cpu")
    p.show()
    return p


def test_evaluate_shows_the_arms_and_saves_the_report(qtbot, panel):
    assert "up to 5 arms (those the export allows) × 8 steps at 16 px" in panel.estimate.text()
    seen: list[str] = []
    panel.start()
    assert not panel.run_button.isEnabled() and panel.cancel_button.isEnabled()
    assert panel.progress.isVisible()
    qtbot.waitUntil(lambda: seen.append(panel.status.text()) or panel.results.isVisible(),
                    timeout=120_000)  # fmt: skip
    qtbot.waitUntil(lambda: panel.run_button.isEnabled(), timeout=10_000)
    report = json.loads((panel.export_path / "evaluation.json").read_text())
    assert panel.report["best"] == report["best"]
    t = panel.table
    assert t.rowCount() == len(report["arms"]) == 5
    names = [t.item(r, 0).text() for r in range(t.rowCount())]
    assert names[list(report["arms"]).index(report["best"])].endswith("★ best")
    for arm, name in zip(report["arms"], names, strict=True):  # the split cannot tell these
        assert name.endswith("≈ best (within noise)") == (arm in report["tied_with_best"])
    heads = [t.horizontalHeaderItem(c).text() for c in range(t.columnCount())]
    assert heads[2] == "Balanced accuracy" and heads[5].startswith("Accuracy (majority")
    assert heads[6:] == [f"Recall digit_{i}" for i in range(4)]
    raw = report["arms"]["raw"]
    assert t.item(0, 2).text() == f"{raw['balanced_accuracy']:.3f}"
    assert t.item(0, 5).foreground().color().name() == "#8a8a8a"  # plain accuracy greyed
    assert panel.summary.text() == report["summary"]
    assert "validation images" in panel.baseline.text()
    assert panel.arm_box.currentText() == report["best"]
    assert panel.confusion_plot is not None and panel.curve_plot is not None
    assert (panel.export_path / "evaluation.png").is_file()
    # Another folder: these results are not its results.
    panel.set_export(panel.export_path.parent)
    assert not panel.results.isVisible() and panel.report is None


def test_cancel_writes_nothing_and_reenables(qtbot, panel):
    panel.steps_box.setValue(2000)
    panel.start()
    qtbot.waitUntil(lambda: "Training" in panel.status.text(), timeout=60_000)
    panel.cancel()
    assert panel.run_button.isEnabled() and "Cancelled" in panel.status.text()
    assert not panel.progress.isVisible()
    qtbot.waitUntil(lambda: not panel.job.running, timeout=30_000)
    assert not (panel.export_path / "evaluation.json").exists()
    assert not panel.results.isVisible()


def test_the_window_has_an_evaluate_tab_and_action(window, export):
    bench = window.workbench
    tabs = [window.panels.tabText(i) for i in range(window.panels.count())]
    assert "Evaluate" in tabs
    window.action("tools.evaluate").trigger()
    assert window.panels.currentWidget() is bench.evaluate.tab
    assert bench.evaluate.tab.widget is bench.evaluate.panel  # built on showing
    # A finished export becomes the one to evaluate.
    bench.evaluate.exported(type("Report", (), {"out": export})())
    assert bench.evaluate.panel.export_path == export
