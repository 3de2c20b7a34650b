"""File ▸ Export features…: compute, look (PCA scatter, counts, SVC check), try another
sampler, export; pixel-space SMOTE is refused with the reason."""

from __future__ import annotations

import json

import numpy as np
import pytest
from datasets import tree_hash, write_digits
from PySide6.QtCore import Qt


@pytest.fixture
def dialog(qtbot, tmp_path):
    from imbalance_studio.core.plan import make_plan
    from imbalance_studio.core.project import Project
    from imbalance_studio.core.scanning import check, scan
    from imbalance_studio.gui.features.dialog import FeaturesDialog

    root = tmp_path / "digits"
    write_digits(root, counts=[60, 40, 20, 10])
    dataset = check(scan(root))
    project = Project(dataset_root=str(root), seed=0)
    dlg = FeaturesDialog(dataset, project, make_plan(dataset, project), workers=1)
    dlg.root = root
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def test_pixel_space_smote_is_refused_with_the_reason(dialog):
    assert not dialog.pixels_button.isEnabled() and dialog.hog_button.isChecked()
    text = dialog.pixels_refusal.text()
    assert dialog.pixels_refusal.isVisible()
    assert "refused" in text and "spatial structure" in text and "augmentation" in text


def test_compute_show_try_another_sampler_and_export(qtbot, dialog, tmp_path):
    untouched = tree_hash(dialog.root)
    dialog.size_box.setValue(32)
    assert not dialog.export_button.isEnabled()
    with qtbot.waitSignal(dialog.computed, timeout=120_000) as got:
        qtbot.mouseClick(dialog.compute_button, Qt.MouseButton.LeftButton)
    trial = got.args[0]
    qtbot.waitUntil(lambda: not dialog.running)
    res = trial.resampled
    assert trial.sampler == "smote" and res.synthetic.any()
    largest = max(len(cp.kept) for cp in dialog._plan.splits["train"])
    assert np.bincount(res.y).tolist() == [largest] * 4
    # Both scatters are drawn: real dots in both, synthetic crosses only after.
    after = dialog.after_plot.getPlotItem().listDataItems()
    before = dialog.before_plot.getPlotItem().listDataItems()
    crosses = [i for i in after if i.opts["symbol"] == "x"]
    assert len(crosses) == 3 and sum(len(i.data) for i in crosses) == res.synthetic.sum()
    assert len(before) == 4 and all(i.opts["symbol"] == "o" for i in before)
    assert sum(len(i.data) for i in before) == len(trial.features.splits["train"].y)
    assert dialog.counts_table.rowCount() == 5  # four classes and "all"
    assert dialog.check_table.item(0, 0).text() == "balanced accuracy"
    assert dialog.check_table.rowCount() == 3 + 4  # three scores, one recall per class
    assert "SVC()" in dialog.check_title.text()

    with qtbot.waitSignal(dialog.computed, timeout=60_000) as got:
        dialog.set_sampler("random")
    assert got.args[0].sampler == "random" and got.args[0].features is trial.features
    qtbot.waitUntil(lambda: not dialog.running)

    out = tmp_path / "vectors"
    dialog.set_destination(out)
    assert dialog.export_button.isEnabled()
    with qtbot.waitSignal(dialog.exported, timeout=60_000):
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    info = json.loads((out / "features.json").read_text())
    assert info["sampler"]["name"] == "random" and info["preprocess"]["size"] == [32, 32]
    assert "Exported" in dialog.status.text()
    # Again into the same folder: refused, in the dialog's words, until "Replace" is ticked.
    with qtbot.waitSignal(dialog.failed, timeout=60_000) as refused:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert "(tick “Replace a previous export in this folder”)" in refused.args[0]
    assert "--overwrite" not in refused.args[0]
    qtbot.waitUntil(lambda: not dialog.running)
    # A file added to that export: the dialog has no box to delete it, so it says what to do.
    (out / "notes.txt").write_text("mine")
    dialog.overwrite.setChecked(True)
    with qtbot.waitSignal(dialog.failed, timeout=60_000) as refused:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert "(move them out of the folder)" in refused.args[0] and "--" not in refused.args[0]
    qtbot.waitUntil(lambda: not dialog.running)
    (out / "notes.txt").unlink()
    with qtbot.waitSignal(dialog.exported, timeout=60_000):
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert tree_hash(dialog.root) == untouched


def test_the_window_declares_export_features_in_the_file_menu(
    qtbot, window, wait_scanned, tmp_path
):
    write_digits(tmp_path / "d", counts=[30, 8])
    window.open_folder(tmp_path / "d")
    wait_scanned(window)
    c = window.curation.controller
    qtbot.waitUntil(lambda: c.plan is not None and not c.busy, timeout=30_000)
    action = window.action("file.export_features")
    file_menu = window.layout_of_actions.menus["File"]
    assert action in file_menu.actions() and action.isEnabled()
    action.trigger()
    dialog = window.workbench.features_panel.dialog
    assert dialog is not None and dialog.isVisible()
    dialog.close()


def test_cancel_stops_the_featurizing(qtbot, tmp_path):
    from imbalance_studio.core.plan import make_plan
    from imbalance_studio.core.project import Project
    from imbalance_studio.core.scanning import check, scan
    from imbalance_studio.gui.features.dialog import FeaturesDialog

    root = tmp_path / "digits"
    write_digits(root, counts=[150, 60, 20])  # enough images for the process pool
    dataset = check(scan(root))
    project = Project(dataset_root=str(root))
    dlg = FeaturesDialog(dataset, project, make_plan(dataset, project), workers=2)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.compute()
    assert dlg.running and dlg.cancel_button.isEnabled()
    dlg.cancel()
    qtbot.waitUntil(lambda: not dlg.running, timeout=60_000)
    assert dlg.trial is None and "Cancelled" in dlg.status.text()
    assert dlg.compute_button.isEnabled() and not dlg.export_button.isEnabled()
