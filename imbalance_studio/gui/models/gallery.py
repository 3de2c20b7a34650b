"""The gallery's list model: one row per sample of the selected classes.

A million rows must cost no Python object per row: rows are a numpy array of indices into
`Dataset.samples`, and `data()` looks a sample up only when a view paints it. The dataset's
path -> sample index (`Dataset.path_index`, made in a worker when the dataset is large) lets
`row_of` and the mark filter find a sample in O(1).

Nor may a million rows cost a call into Python per row. QListView lays its rows out in
batches, and for every row it asks the model for an index, which in a QAbstractListModel
asks `rowCount()`: a Python method, so one call from C++ into Python per row, each taking
the GIL back. Behind a worker busy in Python each of those waits for the GIL (~0.75 ms), and
laying out 300,000 rows took 8 s instead of 0.65 s, in batches that each froze the window
for 100-900 ms. So the model is a QIdentityProxyModel over a QStandardItemModel that has
the right number of rows and no items (a null pointer per row, never filled): `index()`
and `rowCount()` are answered in C++, and only `data()` and `flags()`, asked for the tiles a
view paints, run Python. A reset costs ~10 ms at a million rows (a QSortFilterProxyModel
over a Python row count rebuilt its row mapping in 40-50 ms each time). The proxy's own
reset and removal signals are sent here; the source's are blocked while its row count
changes.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QIdentityProxyModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QStandardItemModel

from ...core.dataset import Dataset, PathIndex, Sample

if TYPE_CHECKING:
    import numpy as np

    from ..thumbnail_loader import ThumbnailLoader

Index = QModelIndex | QPersistentModelIndex

# Data roles (besides DisplayRole = file name, ToolTipRole = relative path,
# DecorationRole = thumbnail QPixmap or None while it loads).
PathRole = Qt.ItemDataRole.UserRole + 1  # str: POSIX path relative to the dataset root
AbsPathRole = Qt.ItemDataRole.UserRole + 2  # str: absolute path
SampleRole = Qt.ItemDataRole.UserRole + 3  # core.dataset.Sample
SampleIndexRole = Qt.ItemDataRole.UserRole + 4  # int: index in Dataset.samples
ClassIndexRole = Qt.ItemDataRole.UserRole + 5  # int: ImageFolder class index
ClassNameRole = Qt.ItemDataRole.UserRole + 6  # str
ThumbnailFailureRole = Qt.ItemDataRole.UserRole + 7  # str reason, or None

# Up to this many samples the path index is built on the spot (a few ms); above, in a worker.
INLINE_INDEX_LIMIT = 50_000
# A mask change removing more separate row runs than this resets the model instead of
# removing run by run (each run copies the row array once).
MAX_ROW_RUNS = 16


def class_index_array(samples: Sequence[Sample]) -> np.ndarray:
    """Class index of every sample as one int32 array (built once per listing)."""
    import numpy as np

    return np.fromiter((s.class_index for s in samples), dtype=np.int32, count=len(samples))


class GalleryModel(QIdentityProxyModel):
    """Samples of the selected classes of a `Dataset`, in dataset order."""

    indexReady = Signal()  # the path index of the current dataset can be used

    def __init__(self, loader: ThumbnailLoader | None = None, parent=None) -> None:
        super().__init__(parent)
        self._source = QStandardItemModel(0, 1, self)  # rows without items (module doc)
        self.setSourceModel(self._source)
        self.loader = loader
        self._dataset: Dataset | None = None
        self._samples: Sequence[Sample] = ()  # the dataset's own (immutable) samples
        self._prefix = ""
        self._class_array: np.ndarray | None = None
        self._rows: np.ndarray | None = None
        self._selected: tuple[int, ...] | None = None
        self._mask: np.ndarray | None = None  # extra filter over samples (e.g. by mark)
        self._paths: Sequence[str] = ()
        self._index: PathIndex | None = None  # path -> sample index, once built
        self._row_of_sample: np.ndarray | None = None  # inverse of _rows, built when asked

    # -- configuration ---------------------------------------------------------------
    def set_dataset(self, dataset: Dataset | None, class_array: np.ndarray | None = None) -> None:
        """Show `dataset` (or nothing); keeps the class selection when classes match."""
        self.beginResetModel()
        keep = (
            self._dataset is not None
            and dataset is not None
            and dataset.classes == self._dataset.classes
        )
        self._dataset = dataset
        self._samples = dataset.samples if dataset is not None else ()
        self._prefix = str(dataset.root).rstrip("/") + "/" if dataset is not None else ""
        if dataset is not None and class_array is None:
            class_array = dataset.label_array()  # made once per dataset, ideally in a worker
        self._class_array = class_array
        if not keep:
            self._selected = None
        self._set_rows(self._compute_rows())
        self.endResetModel()
        self._paths = dataset.paths if dataset is not None else ()
        self._index = None
        self._build_index()
        # Samples live as long as the dataset: move them out of the cyclic GC's reach, or each
        # full collection walks a million objects on the GUI thread (a visible stall). They
        # hold no cycles, so reference counting still frees them with the dataset.
        gc.freeze()

    def set_classes(self, class_indices: Iterable[int] | None) -> None:
        """Show the samples of these classes (None: all classes; empty: none)."""
        selected = None if class_indices is None else tuple(sorted(set(class_indices)))
        n_classes = len(self._dataset.classes) if self._dataset is not None else -1
        if selected is not None and selected == tuple(range(n_classes)):
            selected = None  # every class is "all classes": the same rows, no reset
        if selected == self._selected:
            return
        self.beginResetModel()
        self._selected = selected
        self._set_rows(self._compute_rows())
        self.endResetModel()

    def set_sample_mask(self, mask: np.ndarray | None) -> None:
        """Show only samples where `mask` (bool, parallel to dataset.samples) is True;
        None removes the filter. Used by the curation filter (by mark, by split)."""
        self.beginResetModel()
        self._mask = mask
        self._set_rows(self._compute_rows())
        self.endResetModel()

    def update_sample_mask(self, indices: np.ndarray, values: np.ndarray) -> None:
        """Change the mask set with `set_sample_mask` at these sample indices only. Rows that
        leave go by contiguous runs (the view keeps its place and selection); rows that join,
        or a scattered change, reset the model."""
        import numpy as np

        mask = self._mask
        if mask is None or len(mask) != len(self._samples) or self._rows is None:
            return
        indices = np.asarray(indices, dtype=np.int64)
        values = np.asarray(values, dtype=bool)
        flipped = mask[indices] != values
        indices, values = indices[flipped], values[flipped]
        if self._selected is not None and len(indices):
            shown = self._selected_lookup()[self._class_array[indices]]
            mask[indices[~shown]] = values[~shown]  # not in view: nothing to tell the view
            indices, values = indices[shown], values[shown]
        if not len(indices):
            return
        from ...core.arrays import sorted_unique  # np.unique would import numpy.ma

        leaving, joining = sorted_unique(indices[~values]), sorted_unique(indices[values])
        if len(leaving) and len(joining):
            self.set_sample_mask(_with(mask, indices, values))
            return
        if len(leaving):
            positions = np.searchsorted(self._rows, leaving)
            runs = _runs(positions)
            if len(runs) > MAX_ROW_RUNS:
                self.set_sample_mask(_with(mask, indices, values))
                return
            for first, last in reversed(runs):  # from the end: earlier positions stay valid
                self.beginRemoveRows(QModelIndex(), first, last)
                self._set_rows(np.delete(self._rows, np.s_[first : last + 1]))
                self.endRemoveRows()
            mask[indices] = values
            return
        # Rows joining: QListView answers rowsInserted by laying out every row at once (0.9 s
        # at a million rows), a reset in batches between events (~10 ms): reset.
        self.set_sample_mask(_with(mask, indices, values))

    def _set_rows(self, rows: np.ndarray | None) -> None:
        self._rows = rows
        self._row_of_sample = None
        # Inside this model's own reset or removal: the source's signals would be a second,
        # row-by-row account of the same change.
        blocked = self._source.blockSignals(True)
        self._source.setRowCount(0 if rows is None else len(rows))
        self._source.blockSignals(blocked)

    def _build_index(self) -> None:
        # The dataset's own index (made once, shared with the plan): not a second million-entry
        # dict.
        paths, dataset = self._paths, self._dataset
        if dataset is None or len(paths) <= INLINE_INDEX_LIMIT:
            self._index = dataset.path_index() if dataset is not None else PathIndex(())
            self.indexReady.emit()
            return
        from ..jobs import start_job

        start_job(
            dataset.path_index,
            owner=self,
            key=("gallery-path-index", id(self)),
            done=lambda index, p=paths: self._index_built(p, index),
            serial=True,
        )

    def _index_built(self, paths: Sequence[str], index: PathIndex) -> None:
        if paths is self._paths:  # else made for a dataset shown before this one
            self._index = index
            self.indexReady.emit()

    def _compute_rows(self) -> np.ndarray | None:
        if self._class_array is None:
            return None
        import numpy as np

        mask = (
            self._mask if self._mask is not None and len(self._mask) == len(self._samples) else None
        )
        if self._selected is None:
            if mask is None:
                return np.arange(len(self._samples), dtype=np.int64)
            return np.flatnonzero(mask)
        selected = self._selected_lookup()[self._class_array]
        return np.flatnonzero(selected if mask is None else selected & mask)

    def _selected_lookup(self) -> np.ndarray:
        """True at each selected class index: indexing it with the class array is one gather
        (~2 ms at a million samples), where `np.isin` took 50-100 ms on the GUI thread."""
        import numpy as np

        n = len(self._dataset.classes) if self._dataset is not None else 0
        lookup = np.zeros(max(n, int(self._class_array.max(initial=-1)) + 1), bool)
        lookup[list(self._selected or ())] = True
        return lookup

    # -- queries ---------------------------------------------------------------------
    @property
    def dataset(self) -> Dataset | None:
        return self._dataset

    @property
    def sample_mask(self) -> np.ndarray | None:
        """The mask set with `set_sample_mask` (the model updates it in place)."""
        return self._mask

    @property
    def selected_classes(self) -> tuple[int, ...] | None:
        return self._selected

    def sample(self, row: int) -> Sample:
        assert self._rows is not None
        return self._samples[int(self._rows[row])]

    def samples(self, rows: Iterable[int]) -> list[Sample]:
        return [self.sample(r) for r in rows]

    def paths(self, rows: Sequence[int]) -> list[str]:
        """The relative paths shown at `rows`: through numpy and the dataset's path list, with
        no Sample per row (10,000 selected rows cost ~30 ms that way on the GUI thread)."""
        import numpy as np

        if self._rows is None or not len(rows):
            return []
        picked = self._rows[np.asarray(rows, dtype=np.int64)]
        return [self._paths[i] for i in picked.tolist()]

    def abspath(self, row: int) -> str:
        return self._prefix + self.sample(row).path

    @property
    def index_ready(self) -> bool:
        """True once `sample_index_of` is a dict look-up (see `indexReady`)."""
        return self._index is not None

    def sample_index_of(self, rel_path: str) -> int | None:
        """Index in `Dataset.samples` of `rel_path`, or None. O(1) once the index is built;
        until then a scan in C (tens of ms at a million samples)."""
        if self._index is not None:
            return self._index.get(rel_path)
        try:
            return self._paths.index(rel_path)
        except ValueError:
            return None

    def sample_indices(self, rel_paths: Iterable[str]) -> list[int | None]:
        """`sample_index_of` of many paths in one call (marking 10,000 images looks each up)."""
        if self._index is not None:
            return self._index.lookup(rel_paths)
        return [self.sample_index_of(p) for p in rel_paths]

    def row_of(self, rel_path: str) -> int | None:
        """Row showing `rel_path`, or None (not in the dataset, or filtered out)."""
        if self._rows is None:
            return None
        sample_index = self.sample_index_of(rel_path)
        if sample_index is None:
            return None
        if self._row_of_sample is None:
            import numpy as np

            inverse = np.full(len(self._samples), -1, dtype=np.int64)
            inverse[self._rows] = np.arange(len(self._rows), dtype=np.int64)
            self._row_of_sample = inverse
        row = int(self._row_of_sample[sample_index])
        return row if row >= 0 else None

    # -- Qt model API (rowCount and index are the proxy's, in C++) ---------------------
    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._rows is None:
            return None
        sample_index = int(self._rows[index.row()])
        sample = self._samples[sample_index]
        if role == Qt.ItemDataRole.DisplayRole:
            return sample.path.rsplit("/", 1)[-1]
        if role == Qt.ItemDataRole.DecorationRole:
            return self.loader.pixmap(self._prefix + sample.path) if self.loader else None
        if role == ThumbnailFailureRole:
            return self.loader.failure(self._prefix + sample.path) if self.loader else None
        if role in (PathRole, Qt.ItemDataRole.ToolTipRole):
            return sample.path
        if role == AbsPathRole:
            return self._prefix + sample.path
        if role == SampleRole:
            return sample
        if role == SampleIndexRole:
            return sample_index
        if role == ClassIndexRole:
            return sample.class_index
        if role == ClassNameRole and self._dataset is not None:
            return self._dataset.classes[sample.class_index]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )


def _runs(positions: np.ndarray) -> list[tuple[int, int]]:
    """Sorted positions as (first, last) runs of consecutive values."""
    import numpy as np

    if not len(positions):
        return []
    breaks = np.flatnonzero(np.diff(positions) != 1)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(positions) - 1]))
    return [(int(positions[a]), int(positions[b])) for a, b in zip(starts, ends, strict=True)]


def _with(mask: np.ndarray, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
    mask[indices] = values
    return mask
