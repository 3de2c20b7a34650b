"""The gallery model over an in-memory dataset: rows, filtering and roles."""

from pathlib import Path

from PySide6.QtCore import Qt

from imbalance_studio.core.dataset import Dataset, Problem, ProblemReason, Sample
from imbalance_studio.gui.models.gallery import (
    AbsPathRole,
    ClassIndexRole,
    ClassNameRole,
    GalleryModel,
    PathRole,
    SampleIndexRole,
    SampleRole,
)


def make_dataset() -> Dataset:
    samples = [Sample(f"a/{i}.png", 0) for i in range(5)] + [
        Sample(f"b/sub/{i}.png", 1) for i in range(3)
    ]
    samples += [Sample("c/only.png", 2)]
    return Dataset(root=Path("/data/set"), classes=("a", "b", "c"), samples=samples)


def test_rows_follow_the_class_selection(qtmodeltester):
    model = GalleryModel()
    assert model.rowCount() == 0
    ds = make_dataset()
    model.set_dataset(ds)
    assert model.rowCount() == 9
    model.set_classes([2, 1])
    assert [model.index(r, 0).data(PathRole) for r in range(model.rowCount())] == [
        "b/sub/0.png",
        "b/sub/1.png",
        "b/sub/2.png",
        "c/only.png",
    ]
    qtmodeltester.check(model)
    model.set_classes([])
    assert model.rowCount() == 0
    model.set_classes(None)
    assert model.rowCount() == 9


def test_roles_describe_the_sample(qtbot):
    model = GalleryModel()
    ds = make_dataset()
    model.set_dataset(ds)
    model.set_classes([1])
    index = model.index(1, 0)
    assert index.data(Qt.ItemDataRole.DisplayRole) == "1.png"
    assert index.data(Qt.ItemDataRole.ToolTipRole) == "b/sub/1.png"
    assert index.data(AbsPathRole) == "/data/set/b/sub/1.png"
    assert index.data(SampleRole) == ds.samples[6]
    assert index.data(SampleIndexRole) == 6
    assert index.data(ClassIndexRole) == 1
    assert index.data(ClassNameRole) == "b"
    assert index.data(Qt.ItemDataRole.DecorationRole) is None  # no loader: no thumbnail
    assert model.row_of("b/sub/2.png") == 2
    assert model.row_of("a/0.png") is None  # not in the selected classes


def test_a_rescan_of_the_same_classes_keeps_the_selection(qtbot):
    model = GalleryModel()
    ds = make_dataset()
    model.set_dataset(ds)
    model.set_classes([0])
    # What the check phase does with a corrupt file: a new dataset without it.
    model.set_dataset(ds.with_problems([Problem("a/3.png", ProblemReason.CORRUPT)]))
    assert model.selected_classes == (0,)
    assert model.rowCount() == 4
