"""The gallery's list model: one row per sample of the selected classes.

A million rows must cost no Python object per row: rows are a numpy array of indices into
`Dataset.samples`, and `data()` looks a sample up only when a view paints it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from ...core.dataset import Dataset, Sample

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


def class_index_array(samples: Sequence[Sample]) -> np.ndarray:
    """Class index of every sample as one int32 array (built once per listing)."""
    import numpy as np

    return np.fromiter((s.class_index for s in samples), dtype=np.int32, count=len(samples))


class GalleryModel(QAbstractListModel):
    """Samples of the selected classes of a `Dataset`, in dataset order."""

    def __init__(self, loader: ThumbnailLoader | None = None, parent=None) -> None:
        super().__init__(parent)
        self.loader = loader
        self._dataset: Dataset | None = None
        self._samples: Sequence[Sample] = ()  # the dataset's own (immutable) samples
        self._prefix = ""
        self._class_array: np.ndarray | None = None
        self._rows: np.ndarray | None = None
        self._selected: tuple[int, ...] | None = None
        self._mask: np.ndarray | None = None  # extra filter over samples (e.g. by mark)

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
        self._rows = self._compute_rows()
        self.endResetModel()
        # Samples live as long as the dataset: move them out of the cyclic GC's reach, or each
        # full collection walks a million objects on the GUI thread (a visible stall). They
        # hold no cycles, so reference counting still frees them with the dataset.
        gc.freeze()

    def set_classes(self, class_indices: Iterable[int] | None) -> None:
        """Show the samples of these classes (None: all classes; empty: none)."""
        selected = None if class_indices is None else tuple(sorted(set(class_indices)))
        if selected == self._selected:
            return
        self.beginResetModel()
        self._selected = selected
        self._rows = self._compute_rows()
        self.endResetModel()

    def set_sample_mask(self, mask: np.ndarray | None) -> None:
        """Show only samples where `mask` (bool, parallel to dataset.samples) is True;
        None removes the filter. Used by the curation filter (by mark, by split)."""
        self.beginResetModel()
        self._mask = mask
        self._rows = self._compute_rows()
        self.endResetModel()

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
        selected = np.isin(self._class_array, np.asarray(self._selected, dtype=np.int32))
        return np.flatnonzero(selected if mask is None else selected & mask)

    # -- queries ---------------------------------------------------------------------
    @property
    def dataset(self) -> Dataset | None:
        return self._dataset

    @property
    def selected_classes(self) -> tuple[int, ...] | None:
        return self._selected

    def sample(self, row: int) -> Sample:
        assert self._rows is not None
        return self._samples[int(self._rows[row])]

    def samples(self, rows: Iterable[int]) -> list[Sample]:
        return [self.sample(r) for r in rows]

    def abspath(self, row: int) -> str:
        return self._prefix + self.sample(row).path

    def row_of(self, rel_path: str) -> int | None:
        """Row showing `rel_path`, or None (a linear search: for single look-ups)."""
        if self._rows is None:
            return None
        for sample_index, sample in enumerate(self._samples):
            if sample.path == rel_path:
                import numpy as np

                hits = np.flatnonzero(self._rows == sample_index)
                return int(hits[0]) if len(hits) else None
        return None

    # -- Qt model API ----------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() or self._rows is None:
            return 0
        return len(self._rows)

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
