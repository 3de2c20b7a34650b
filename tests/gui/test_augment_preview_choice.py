"""The Augment tab previews an image of the class whose stack is edited (another one, or the
gallery's, on request), warns in one line when a stack flips, and keeps numbers as shown
whether dragged or typed; a saved stack says where it went."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from imbalance_studio.core.augment import entries_from_stack


@pytest.fixture
def editor(qtbot, digits_root):
    from imbalance_studio.gui.augment import AugmentEditor

    ed = AugmentEditor()
    ed.set_classes(["digit_0", "digit_9"], minority={"digit_9"})
    ed.class_images = lambda name: [str(p) for p in sorted((digits_root / name).iterdir())]
    qtbot.addWidget(ed)
    ed.show()
    qtbot.waitUntil(lambda: bool(ed._infos), timeout=60_000)
    return ed


def previewed(ed) -> Path:
    return Path(ed.preview._path)


def test_the_preview_shows_an_image_of_the_class_whose_stack_is_edited(editor, digits_root):
    majority = sorted((digits_root / "digit_0").iterdir())[3]
    editor.set_gallery_sample(majority, "digit_0")  # the gallery shows the majority class
    # The default stack is for the minority classes: one of them is previewed.
    assert previewed(editor).parent.name == "digit_9"
    assert "digit_9" in editor.preview_label.text()
    first = previewed(editor)
    editor.next_preview_image()
    assert previewed(editor) != first and previewed(editor).parent.name == "digit_9"
    editor.use_gallery_image()  # the user can still pick the gallery's image
    assert previewed(editor) == majority
    # Editing digit_0's stack: the gallery's digit_0 image is an image of that class.
    editor.select_class("digit_0")
    assert previewed(editor) == majority
    editor.select_class("digit_9")
    assert previewed(editor).parent.name == "digit_9"


def test_a_stack_with_flips_warns_in_one_line(qtbot, editor):
    editor.add_transform("RandomBrightnessContrast")
    assert not editor.flip_warning.isVisible()
    editor.add_transform("HorizontalFlip")
    assert editor.flip_warning.isVisible()
    text = editor.flip_warning.text()
    assert "HorizontalFlip" in text and "digits" in text and "\n" not in text
    editor.remove_current()
    assert not editor.flip_warning.isVisible()


def limit_of(editor) -> list[float]:
    entry = next(e for e in entries_from_stack(editor.stack()) if e.name == "Rotate")
    return entry.params["limit"]


def test_numbers_keep_the_value_shown_whether_dragged_or_typed(qtbot, editor):
    editor.add_transform("Rotate")
    slider = editor.params.editors["limit"].widget
    slider.setValue((-14.9987, 15.0012))  # where a drag stops between two shown values
    assert limit_of(editor) == [-15.0, 15.0]
    box = slider._max_label  # the editable box at the slider's end
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, "42.5")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert limit_of(editor) == [-15.0, 42.5]
    editor.add_transform("GaussianBlur")
    editor.stack_list.setCurrentRow(0)  # back to Rotate: the form shows what was stored
    assert editor.params.editors["limit"].widget.value() == (-15.0, 42.5)


def test_a_saved_stack_says_where_and_how_to_load_it(qtbot, editor, tmp_path):
    editor.add_transform("MotionBlur")
    path = tmp_path / "minority.json"
    editor.save_to(path)
    qtbot.waitUntil(lambda: "saved" in editor.status.text(), timeout=10_000)
    assert str(path) in editor.status.text() and "A.load" in editor.status.text()


def test_the_catalogue_lists_every_transform_grouped_and_searchable(qtbot, editor):
    from imbalance_studio.core.augment.catalogue import catalogue

    view = editor.catalogue
    assert view.names() == list(catalogue())
    groups = [view.tree.topLevelItem(i).text(0) for i in range(view.tree.topLevelItemCount())]
    assert groups[0].startswith("geometric (") and any(g.startswith("weather") for g in groups)
    view.search.setText("rain")  # by description as well as by name
    assert "RandomRain" in view.names() and "Rotate" not in view.names()
    view.search.setText("")
    editor.add_transform("Solarize")  # beyond the article's twenty
    assert [e.name for e in entries_from_stack(editor.stack())] == ["Solarize"]


def test_stack_file_dialogs_start_beside_the_dataset(editor, digits_root, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    asked = []
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName",
        staticmethod(lambda _p, _c, start="", _f="": (asked.append(start), ("", ""))[1]),
    )  # fmt: skip
    editor.dataset_root = digits_root
    editor.select_class("digit_9")
    editor._ask_save()
    assert asked == [str(digits_root.parent / "augment-digit_9.json")]
