"""Nothing on the GUI thread grows with the dataset when marking or filtering: `row_of` is a
look-up, the mark filter changes only the rows of the samples whose marks changed."""

from pathlib import Path

import numpy as np
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt

from imbalance_studio.core import project as project_mod
from imbalance_studio.core.dataset import Dataset
from imbalance_studio.gui.models import gallery as gallery_mod
from imbalance_studio.gui.models.gallery import GalleryModel, PathRole


class CountingList(list):
    """A path list that counts how often something walks it."""

    walks = 0

    def __iter__(self):
        CountingList.walks += 1
        return super().__iter__()

    def index(self, *args):
        CountingList.walks += 1
        return super().index(*args)


def big_dataset(n=20_000) -> Dataset:
    paths = CountingList(f"c{i % 2}/{i:06d}.png" for i in range(n))
    paths.sort()
    labels = [0 if p.startswith("c0/") else 1 for p in paths]
    return Dataset(Path("/data/big"), ("c0", "c1"), paths=paths, labels=labels)


def rows_of(model):
    return [model.index(r, 0).data(PathRole) for r in range(model.rowCount())]


def test_row_of_is_a_lookup_not_a_walk_over_the_samples(qtbot):
    model = GalleryModel()
    ds = big_dataset()
    model.set_dataset(ds)
    qtbot.waitUntil(lambda: getattr(model, "index_ready", True))  # built in a worker when large
    model.set_classes([1])
    before = CountingList.walks
    assert model.row_of(ds.paths[-1]) == model.rowCount() - 1
    assert [model.row_of(p) for p in ds.paths[10_000:10_100:7]] == list(range(0, 100, 7))
    assert model.row_of(ds.paths[0]) is None  # class 0 is not shown
    assert model.row_of("c1/nope.png") is None
    assert CountingList.walks == before


def test_a_large_dataset_gets_its_index_in_a_worker_and_row_of_works_meanwhile(qtbot, monkeypatch):
    monkeypatch.setattr(gallery_mod, "INLINE_INDEX_LIMIT", 10)
    model = GalleryModel()
    ds = big_dataset(2_000)
    with qtbot.waitSignal(model.indexReady, timeout=10_000):
        model.set_dataset(ds)
        assert model.row_of(ds.paths[5]) == 5  # before the index: still right
    assert model.index_ready and model.row_of(ds.paths[1999]) == 1999


def test_mask_updates_remove_and_insert_rows_without_a_reset(qtbot, qtmodeltester):
    model = GalleryModel()
    ds = big_dataset(400)
    model.set_dataset(ds)
    model.set_sample_mask(np.ones(400, bool))
    resets, removed, inserted = [], [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsRemoved.connect(lambda _p, a, b: removed.append((a, b)))
    model.rowsInserted.connect(lambda _p, a, b: inserted.append((a, b)))
    view_rows_before = rows_of(model)

    gone = np.r_[10:20, 50:53]
    model.update_sample_mask(gone, np.zeros(len(gone), bool))
    assert removed == [(50, 52), (10, 19)] and not resets  # from the end: positions hold
    assert rows_of(model) == [p for i, p in enumerate(ds.paths) if i not in set(gone)]
    assert model.row_of(ds.paths[60]) == 60 - 13
    qtmodeltester.check(model)

    model.update_sample_mask(gone, np.ones(len(gone), bool))  # undo: rows join by a reset
    assert not inserted and len(resets) == 1  # QListView lays out all rows on an insert
    assert rows_of(model) == view_rows_before
    model.update_sample_mask(gone, np.ones(len(gone), bool))  # no change: no signal
    assert len(resets) == 1

    scattered = np.arange(0, 400, 3)  # far more runs than are worth telling one by one
    model.update_sample_mask(scattered, np.zeros(len(scattered), bool))
    assert resets and rows_of(model) == [p for i, p in enumerate(ds.paths) if i % 3]


def test_marking_under_a_mark_filter_changes_only_the_marked_rows(
    qtbot, window, wait_scanned, digits_root, monkeypatch
):
    from imbalance_studio.gui.curation import install_curation

    cur = getattr(window, "curation", None) or install_curation(window)
    window.open_folder(digits_root)
    wait_scanned(window)
    qtbot.waitUntil(lambda: cur.controller.project is not None and not cur.controller.busy)
    c, model, view = cur.controller, window.gallery_model, window.gallery
    everything = rows_of(model)
    c.set_marks(everything[100:400], project_mod.Mark(duplicate=1), "many marks")
    cur.filter_box.setCurrentText("Unmarked")
    unmarked = rows_of(model)
    assert unmarked == everything[:100] + everything[400:]

    checked, resets, removed = [], [], []
    real = project_mod.check_rel_paths
    monkeypatch.setattr(project_mod, "check_rel_paths", lambda p: checked.extend(p) or real(p))
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsRemoved.connect(lambda _p, a, b: removed.append((a, b)))
    selection = QItemSelection(model.index(5, 0), model.index(9, 0))
    view.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert sorted(checked) == sorted(unmarked[5:10])  # not the 300 marks already there
    assert removed == [(5, 9)] and not resets  # the view keeps its place
    assert rows_of(model) == unmarked[:5] + unmarked[10:]
    c.undo_stack.undo()
    assert rows_of(model) == unmarked
    cur.filter_box.setCurrentText("Marked for removal")
    assert rows_of(model) == []
    c.undo_stack.redo()
    assert rows_of(model) == unmarked[5:10]
    cur.filter_box.setCurrentText("Marked for duplication")
    assert rows_of(model) == everything[100:400]
