"""Originals found unusable by generation, in the GUI: they reach the dataset's problems
(Problems tab, plan) and stay out of exports made from the dialog."""

from __future__ import annotations

import csv

from datasets import tree_hash, write_digits
from export_helpers import curated, read_manifest
from PySide6.QtCore import Qt

CORRUPT = b"\x89PNG\r\n\x1a\n" + b"\x00" * 50


def _export(qtbot, dialog, out):
    dialog.set_destination(out)
    with qtbot.waitSignal(dialog.exportFinished, timeout=60_000) as blocker:
        dialog.start()
    qtbot.waitUntil(lambda: not dialog.running)
    return blocker.args[0]


def test_the_dialog_keeps_the_generators_bad_sources(qtbot, digits_root, tmp_path):
    from imbalance_studio.core.generation import GenerateResult
    from imbalance_studio.gui.export import ExportDialog

    dataset, project, plan = curated(digits_root)
    bad = plan.splits["train"][3].kept[0]
    result = GenerateResult([])
    result.bad_sources[bad] = "truncated: image file is truncated"
    dialog = ExportDialog(dataset, project, plan, result)
    qtbot.addWidget(dialog)
    report = _export(qtbot, dialog, tmp_path / "out")
    assert bad not in {r["sources"] for r in read_manifest(tmp_path / "out")}
    assert bad in dict(report.problems)
    said = dialog.status.text()
    assert "marked for removal" in said and "1 problem file (each in left_out.csv)" in said


def test_the_dialog_reads_the_staging_record(qtbot, digits_root, tmp_path):
    from imbalance_studio.core.generation.badsources import record_bad_sources
    from imbalance_studio.gui.export import ExportDialog

    dataset, project, plan = curated(digits_root)
    bad = plan.splits["val"][0].kept[0]
    staging = tmp_path / "staging"
    staging.mkdir()
    record_bad_sources(staging, digits_root, {bad: "corrupt: found by an earlier run"})
    dialog = ExportDialog(dataset, project, plan, [], staging=staging)
    qtbot.addWidget(dialog)
    report = _export(qtbot, dialog, tmp_path / "out")
    assert bad not in {r["sources"] for r in read_manifest(tmp_path / "out")}
    assert bad in dict(report.problems)


def test_a_source_that_breaks_after_the_scan_becomes_a_problem(
    qtbot, window, wait_scanned, tmp_path
):
    root = tmp_path / "digits"
    write_digits(root, counts=[40, 12, 8])
    window.open_folder(root)
    wait_scanned(window)
    cur = window.curation
    qtbot.waitUntil(lambda: cur.controller.plan is not None and not cur.controller.busy)
    cur.plan_panel.policy_box.setCurrentText("Oversample every class (augment: 1.5 × the largest)")
    qtbot.mouseClick(cur.plan_panel.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not cur.controller.busy, timeout=30_000)
    bad = cur.controller.plan.splits["train"][2].generate[0].source
    (root / bad).write_bytes(CORRUPT)  # after the scan checked it
    before = tree_hash(root)

    bench = window.workbench
    bench.generate_action.trigger()
    panel = bench.generate_tab.widget
    qtbot.waitUntil(lambda: not panel.busy and panel.last_result is not None, timeout=120_000)
    assert bad in panel.last_result.bad_sources
    session = window.session
    qtbot.waitUntil(lambda: bad not in session.dataset.paths, timeout=10_000)
    assert bad in {p.path for p in session.dataset.problems if p.excludes}
    rows = window.problems_model.rowCount()
    assert bad in {window.problems_model.problem(i).path for i in range(rows)}
    assert window.panels.tabText(window.panels.indexOf(window.problems)) == f"Problems ({rows})"
    qtbot.waitUntil(lambda: cur.controller.plan is not None and not cur.controller.busy)
    plan = cur.controller.plan
    assert plan.split_of(bad) is None  # planned without it from now on

    bench.export_action.trigger()
    qtbot.waitUntil(lambda: bench.export_dialog is not None, timeout=120_000)
    out = tmp_path / "export"
    _export(qtbot, bench.export_dialog, out)
    with open(out / "manifest.csv", newline="", encoding="utf-8") as fh:
        sources = {s for r in csv.DictReader(fh) for s in r["sources"].split(";")}
    assert bad not in sources
    assert tree_hash(root) == before
