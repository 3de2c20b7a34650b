"""The augmentation editor: add a transform, move a slider, see the previews change, re-roll."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt

from imbalance_studio.core.augment import STUDIO_KEY, entries_from_stack, stack_from_entries
from imbalance_studio.core.augment.stack import StackEntry


@pytest.fixture
def editor(qtbot):
    from imbalance_studio.gui.augment import AugmentEditor

    ed = AugmentEditor(classes=["digit_0", "digit_9"])
    qtbot.addWidget(ed)
    ed.show()
    qtbot.waitUntil(lambda: bool(ed._infos), timeout=60_000)  # albumentations loaded
    return ed


@pytest.fixture
def sample(digits_root):
    return sorted((digits_root / "digit_9").iterdir())[0]


def settle(qtbot, ed):
    """Wait until the newest requested grid is the one on screen and the entries are checked."""
    grid = ed.preview
    qtbot.waitUntil(
        lambda: not grid.busy and grid.shown_generation == grid.generation and not ed.validating,
        timeout=30_000,
    )


def pixels(ed) -> list[np.ndarray]:
    assert ed.preview.tiles, "no tiles on screen"
    assert all(t.error is None for t in ed.preview.tiles), ed.preview.tiles[0].error
    return [t.image.copy() for t in ed.preview.tiles]


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_add_transform_move_slider_reroll_and_seeded_repeat(qtbot, editor, sample):
    editor.set_sample(sample)
    editor.add_transform("Rotate")
    assert [e.name for e in entries_from_stack(editor.stack())] == ["Rotate"]
    assert editor.stack_list.currentRow() == 0
    p = editor.params.editors["p"].widget
    with qtbot.waitSignal(editor.stackChanged):
        p.setValue(1.0)
    settle(qtbot, editor)
    first = pixels(editor)
    assert len(first) == 8 and first[0].shape == (32, 32)  # grayscale in, grayscale out
    assert not np.array_equal(first[0], first[1])
    view = editor.preview.views[0]
    assert not view.pixmap().isNull() and "Rotate: " in view.toolTip()
    assert "matrix=[[" in view.toolTip()

    limit = editor.params.editors["limit"].widget
    limit.setValue((-180.0, -150.0))
    settle(qtbot, editor)
    assert entries_from_stack(editor.stack())[0].params["limit"] == [-180.0, -150.0]
    moved = pixels(editor)
    assert not same(first, moved)

    seed = editor.preview_seed()
    editor.reroll()
    settle(qtbot, editor)
    assert editor.preview_seed() != seed
    rerolled = pixels(editor)
    assert not same(moved, rerolled)

    editor.set_settings({**editor.settings(), "preview_seed": seed})
    settle(qtbot, editor)
    assert same(pixels(editor), moved)  # same stack + same seed: the same variants


def test_invalid_value_is_shown_inline_and_on_the_tiles(qtbot, editor, sample):
    bad = stack_from_entries([StackEntry("GridDistortion", {"num_steps": 0}, 1.0)])
    editor.set_sample(sample)
    editor.set_stack(bad)
    settle(qtbot, editor)
    assert "num_steps" in editor.entry_errors()[0]
    error = editor.params.editors["num_steps"].error
    assert not error.isHidden() and "greater than or equal to 1" in error.text()
    assert editor.preview.views[0].pixmap().isNull()
    assert "num_steps" in editor.preview.views[0].text()
    assert editor.stack_list.item(0).foreground().color().name() == "#c0392b"

    editor.params.editors["num_steps"].widget.setValue(4)  # the user fixes it
    settle(qtbot, editor)
    assert error.isHidden() and editor.entry_errors() == {}
    assert len(pixels(editor)) == 8


def test_disable_reorder_and_per_class_override(qtbot, editor):
    editor.add_transform("HorizontalFlip")
    editor.add_transform("GaussianBlur")
    editor.stack_list.item(0).setCheckState(Qt.CheckState.Unchecked)
    stack = editor.stack()
    assert [t["__class_fullname__"] for t in stack["transform"]["transforms"]] == ["GaussianBlur"]
    assert stack[STUDIO_KEY]["disabled"][0]["index"] == 0
    editor._order_changed(list(reversed(editor._ids)))  # what a drag and drop reports
    assert [e.name for e in entries_from_stack(editor.stack())] == [
        "GaussianBlur",
        "HorizontalFlip",
    ]
    default = editor.stack()

    editor.select_class("digit_9")
    assert not editor.stack_list.isEnabled()  # uses the default until it gets its own
    editor.own_stack.setChecked(True)
    editor.add_transform("CLAHE")
    settings = editor.settings()
    assert settings["default_stack"] == default
    own = [e.name for e in entries_from_stack(settings["class_stacks"]["digit_9"])]
    assert own == ["GaussianBlur", "HorizontalFlip", "CLAHE"]
    editor.own_stack.setChecked(False)
    assert "digit_9" not in editor.settings()["class_stacks"]


def test_save_and_load_stack_files(qtbot, editor, tmp_path):
    import albumentations as A

    editor.add_transform("MotionBlur")
    path = tmp_path / "augment.json"
    editor.save_to(path)
    qtbot.waitUntil(path.exists, timeout=10_000)
    assert [type(t).__name__ for t in A.load(str(path)).transforms] == ["MotionBlur"]
    editor.remove_current()
    assert entries_from_stack(editor.stack()) == []
    with qtbot.waitSignal(editor.stackChanged, timeout=10_000):
        editor.load_from(path)
    assert [e.name for e in entries_from_stack(editor.stack())] == ["MotionBlur"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"transforms": []}))
    editor.load_from(broken)
    qtbot.waitUntil(lambda: "not a usable" in editor.status.text(), timeout=10_000)


def test_the_stack_dry_run_never_runs_on_the_gui_thread(qtbot, editor, monkeypatch):
    """Checking an entry applies the transform to an image: that runs in a background job."""
    import threading

    import imbalance_studio.core.augment.stack as stack_mod

    real, threads = stack_mod._dry_run, []

    def recording(*args):
        threads.append(threading.get_ident())
        return real(*args)

    monkeypatch.setattr(stack_mod, "_dry_run", recording)
    editor.add_transform("GaussianBlur")
    editor.params.editors["p"].widget.setValue(0.9)
    editor.set_stack(stack_from_entries([StackEntry("GridDistortion", {"num_steps": 3}, 1.0)]))
    settle(qtbot, editor)
    assert threads and threading.get_ident() not in threads
    assert editor.entry_errors() == {}


def test_the_catalogue_shows_whole_names_at_the_window_width(qtbot):
    """At the width the Augment tab has in a default window, the catalogue pane fits its
    longest name once albumentations is loaded (RandomBrightnessContrast and the like were
    cut off at 220 px)."""
    from imbalance_studio.gui.augment import AugmentEditor

    ed = AugmentEditor(classes=["digit_0", "digit_9"])
    qtbot.addWidget(ed)
    ed.resize(945, 700)
    ed.show()
    qtbot.waitUntil(lambda: bool(ed._infos), timeout=60_000)  # the whole catalogue is in
    qtbot.wait(50)
    tree = ed.catalogue.tree
    fm = tree.fontMetrics()
    names = [tree.topLevelItem(i).child(j)
             for i in range(tree.topLevelItemCount())
             for j in range(tree.topLevelItem(i).childCount())]  # fmt: skip
    assert len(names) > 50  # the whole catalogue, not the featured groups only
    for item in names:
        rect = tree.visualItemRect(item)
        if rect.isEmpty():  # scrolled out of view: its indentation is that of its siblings
            rect = tree.visualItemRect(tree.topLevelItem(0).child(0))
        needed = rect.left() + fm.horizontalAdvance(item.text(0))
        assert needed <= tree.viewport().width(), (item.text(0), needed, tree.viewport().width())
    assert ed.preview.width() >= 300  # the previews keep their room
