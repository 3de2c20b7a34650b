"""ExportDialog: export from the GUI, cancel one export, complete another."""

from __future__ import annotations

import json
import time

import pytest
from export_helpers import curated, read_manifest, tree_state

from imbalance_studio.core.export import run as export_mod
from imbalance_studio.core.export.destination import PARTIAL_TAG


@pytest.fixture
def dialog(qtbot, digits_root):
    from imbalance_studio.gui.export import ExportDialog

    dataset, project, plan = curated(digits_root)
    dlg = ExportDialog(dataset, project, plan, [])
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.plan = plan
    return dlg


def test_an_export_that_leaves_the_imbalance_says_so_before_and_after(qtbot, digits_root, tmp_path):
    from imbalance_studio.core.plan import make_plan
    from imbalance_studio.core.project import Project
    from imbalance_studio.core.scanning import check, scan
    from imbalance_studio.gui.export import ExportDialog

    dataset = check(scan(digits_root))
    project = Project(dataset_root=str(digits_root))  # no targets: the counts stay
    dlg = ExportDialog(dataset, project, make_plan(dataset, project), [])
    qtbot.addWidget(dlg)
    dlg.show()
    note = dlg.imbalance_note.text()
    assert dlg.imbalance_note.isVisible() and note.startswith("The training split stays imbalanced")
    assert "Balance tab" in note and "weights.json" in note
    dlg.set_destination(tmp_path / "out")
    with qtbot.waitSignal(dlg.exportFinished, timeout=60_000):
        dlg.start()
    assert "The training split is still imbalanced" in dlg.status.text()


def test_a_balanced_export_says_nothing_of_imbalance(qtbot, dialog):
    assert dialog.imbalance_note.text() == "" and not dialog.imbalance_note.isVisible()


def _slow_writes(monkeypatch):
    """Write in small, slow steps so a Cancel lands in the middle of the writing."""
    real = export_mod.write_all

    def slow(writer, srcs, dsts, links, step=512, pool=None, **kw):
        for n in real(writer, srcs, dsts, links, step=8, pool=None, **kw):
            time.sleep(0.02)
            yield n

    monkeypatch.setattr(export_mod, "write_all", slow)


def test_export_from_the_dialog(qtbot, dialog, digits_root, tmp_path):
    from PySide6.QtCore import Qt

    before = tree_state(digits_root)
    out = tmp_path / "balanced"
    assert not dialog.export_button.isEnabled()
    dialog.set_destination(out)
    dialog.link_button.setChecked(True)
    with qtbot.waitSignal(dialog.exportFinished, timeout=60_000) as blocker:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    report = blocker.args[0]
    qtbot.waitUntil(lambda: not dialog.running)  # `finished` follows `returned`
    assert report.out == out and report.linked == report.files
    w = json.loads((out / "weights.json").read_text())
    assert w["counts"]["train"]["after"] == dialog.plan.final_counts("train")
    assert len(read_manifest(out)) == report.files
    assert dialog.open_button.isVisible() and f"{report.files:,} files" in dialog.status.text()
    assert dialog.progress.value() == dialog.progress.maximum()
    assert dialog.export_button.isEnabled() and not dialog.cancel_button.isEnabled()
    assert tree_state(digits_root) == before


def test_cancel_one_export_then_complete_another(qtbot, dialog, tmp_path, monkeypatch):
    _slow_writes(monkeypatch)
    out = tmp_path / "balanced"
    dialog.set_destination(out)
    dialog.start()
    assert dialog.running and dialog.cancel_button.isEnabled()
    # Cancel once files are being written.
    qtbot.waitUntil(
        lambda: (
            any(PARTIAL_TAG in p.name for p in tmp_path.iterdir()) and dialog.progress.value() > 0
        ),
        timeout=30_000,
    )
    with qtbot.waitSignal(dialog.exportCancelled, timeout=30_000):
        qtbot.mouseClick(dialog.cancel_button, _left())
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # temporary folder removed too
    assert "cancelled" in dialog.status.text()
    assert dialog.report is None and not dialog.running

    monkeypatch.undo()
    with qtbot.waitSignal(dialog.exportFinished, timeout=60_000):
        dialog.start()
    assert (out / "manifest.csv").is_file() and dialog.report.files > 0


def test_a_refused_destination_is_shown(qtbot, dialog, digits_root):
    before = tree_state(digits_root)
    dialog.set_destination(digits_root / "inside")
    with qtbot.waitSignal(dialog.exportFailed, timeout=30_000) as blocker:
        dialog.start()
    assert "inside the dataset folder" in blocker.args[0]
    assert "inside the dataset folder" in dialog.status.text()
    assert "b00020" in dialog.status.styleSheet()
    qtbot.waitUntil(lambda: not dialog.running)
    assert dialog.export_button.isEnabled()
    assert tree_state(digits_root) == before


def test_closing_while_running_cancels_and_cleans_up(qtbot, dialog, tmp_path, monkeypatch):
    _slow_writes(monkeypatch)
    out = tmp_path / "balanced"
    dialog.set_destination(out)
    dialog.start()
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=30_000)
    with qtbot.waitSignal(dialog.rejected, timeout=30_000):
        dialog.reject()
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == []


def _left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_replacing_a_previous_export_keeps_added_files_unless_told(qtbot, dialog, tmp_path):
    out = tmp_path / "balanced"
    dialog.set_destination(out)
    with qtbot.waitSignal(dialog.exportFinished, timeout=60_000):
        dialog.start()
    qtbot.waitUntil(lambda: not dialog.running)
    (out / "model.pt").write_bytes(b"\x80weights")
    assert not dialog.overwrite_all.isEnabled()  # only offered with "Replace"
    dialog.overwrite_all.setChecked(True)  # a disabled box does not count
    with qtbot.waitSignal(dialog.exportFailed, timeout=30_000) as blocker:
        dialog.start()
    assert "holds a previous export" in blocker.args[0] and (out / "model.pt").is_file()
    # The dialog names its own box, not the command line's option.
    assert "(tick “Replace a previous export in this folder”)" in blocker.args[0]
    assert "--overwrite" not in blocker.args[0]
    qtbot.waitUntil(lambda: not dialog.running)
    dialog.overwrite.setChecked(True)
    assert dialog.overwrite_all.isEnabled()
    dialog.overwrite_all.setChecked(False)
    with qtbot.waitSignal(dialog.exportFailed, timeout=30_000) as blocker:
        dialog.start()
    assert "model.pt" in blocker.args[0] and (out / "model.pt").is_file()
    assert "(tick “Also delete files added" in blocker.args[0]
    assert "--overwrite" not in blocker.args[0]
    qtbot.waitUntil(lambda: not dialog.running)
    dialog.overwrite_all.setChecked(True)
    with qtbot.waitSignal(dialog.exportFinished, timeout=60_000):
        dialog.start()
    assert not (out / "model.pt").exists() and (out / "manifest.csv").is_file()


def test_the_dialog_writes_rotated_originals_upright_unless_told_to_keep_them(qtbot, tmp_path):
    import io

    import numpy as np
    from PIL import Image
    from PySide6.QtCore import Qt

    from imbalance_studio.core.plan import make_plan
    from imbalance_studio.core.project import Project, SplitSettings
    from imbalance_studio.core.scanning import check, scan
    from imbalance_studio.gui.export import ExportDialog

    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 255, (12, 20, 3), np.uint8)).save(
                root / cls / f"{i}.png"
            )
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (12, 20, 3), np.uint8)).save(
        buf, "JPEG", exif=exif.tobytes()
    )
    (root / "a" / "turned.jpg").write_bytes(buf.getvalue())
    dataset = check(scan(root))
    project = Project(dataset_root=str(root), split=SplitSettings(train=1.0, val=0.0, test=0.0))
    plan = make_plan(dataset, project)
    for keep, out in ((False, tmp_path / "upright"), (True, tmp_path / "kept")):
        dlg = ExportDialog(dataset, project, plan, [])
        qtbot.addWidget(dlg)
        dlg.show()
        assert not dlg.keep_exif.isChecked()  # upright is the default
        dlg.keep_exif.setChecked(keep)
        dlg.set_destination(out)
        with qtbot.waitSignal(dlg.exportFinished, timeout=60_000) as blocker:
            qtbot.mouseClick(dlg.export_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda d=dlg: not d.running)
        report = blocker.args[0]
        with Image.open(out / "train" / "a" / "turned.jpg") as written:
            size = written.size
        if keep:
            assert report.upright == 0 and size == (20, 12)
            assert (out / "train/a/turned.jpg").read_bytes() == buf.getvalue()
        else:
            assert report.upright == 1 and size == (12, 20)  # stored upright now
            assert "written upright" in dlg.status.text()
