"""AugmentEditor: a view over the core stack model, with a live preview grid.

Holds an AugmentSettings-like state (a default stack for minority classes, per-class
overrides, the preview seed) and edits one stack at a time: the default, or one class's (its
entries and their parameter form: `stack_editing.py`; the previews and which image they
show: `preview_source.py`). albumentations loads in a background job when the editor is
built, so the window never waits for it; stack files are read and written in background
jobs too.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import signals_blocked

from ...core.augment.catalogue import TransformInfo
from ...core.augment.stack import (
    FLIP_WARNING,
    StackEntry,
    entries_from_stack,
    flips_in,
    stack_from_entries,
)
from ..jobs import start_job
from .lists import CatalogueView, StackList
from .params import ERROR_STYLE, ParamPanel
from .preview_source import PreviewSource
from .stack_editing import StackEditing

DEFAULT_TARGET = None  # the default stack (for every minority class without its own)
FILE_FILTER = "albumentations pipeline (*.json *.yaml *.yml)"


def _load_catalogue() -> dict[str, TransformInfo]:
    from ...core.augment.catalogue import catalogue

    return catalogue()


class AugmentEditor(StackEditing, PreviewSource, QWidget):
    stackChanged = Signal(object)  # the edited stack dict (the default or the selected class's)
    settingsChanged = Signal(object)  # settings(): default_stack, class_stacks, preview_seed
    previewsUpdated = Signal(int)  # a new grid is on screen (its generation number)
    catalogueReady = Signal()

    def __init__(
        self, classes: list[str] | None = None, settings: Any = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._infos: dict[str, TransformInfo] = {}
        self.dataset_root: Path | None = None  # stack files are never written inside it
        self.dataset_dirs: tuple[str, ...] = ()  # nor in the real folders a scan read
        self._default: dict | None = None
        self._class_stacks: dict[str, dict] = {}
        self._seed = 0
        self._target: str | None = DEFAULT_TARGET
        self._entries: list[StackEntry] = []
        self._ids: list[int] = []
        self.files_folder: Any = None  # () -> the folder file dialogs start in (the window's)
        self._init_preview_source()
        self._build_ui()
        self.set_classes(classes or [])
        if settings is not None:
            self.set_settings(settings)
        self._start(_load_catalogue, self._on_catalogue)

    # ----------------------------------------------------------------- layout
    def _build_ui(self) -> None:
        outer = QHBoxLayout(self)
        split = self._split = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(split)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(QLabel("<b>Stack for</b>"))
        self.target_combo = QComboBox()
        self.target_combo.currentIndexChanged.connect(self._target_changed)
        lv.addWidget(self.target_combo)
        self.own_stack = QCheckBox("This class has its own stack")
        self.own_stack.toggled.connect(self._own_stack_toggled)
        lv.addWidget(self.own_stack)
        lv.addWidget(QLabel("<b>Catalogue</b> (double-click to add)"))
        self.catalogue = CatalogueView()
        self.catalogue.addRequested.connect(self.add_transform)
        self.catalogue.setEnabled(False)
        self.catalogue.search.setPlaceholderText("Loading albumentations…")
        lv.addWidget(self.catalogue, 1)
        split.addWidget(left)

        mid = QWidget()
        mv = QVBoxLayout(mid)
        mv.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.presets = QComboBox()
        self.presets.addItem("Apply a preset…", None)
        from ...core.augment.presets import PRESETS

        for name in PRESETS:
            self.presets.addItem(name, name)
        row.addWidget(self.presets, 1)
        self.load_button = QPushButton("Load…")
        self.load_button.clicked.connect(self._ask_load)
        self.save_button = QPushButton("Save…")
        self.save_button.clicked.connect(self._ask_save)
        row.addWidget(self.load_button)
        row.addWidget(self.save_button)
        mv.addLayout(row)
        self.stack_list = StackList()
        mv.addWidget(self.stack_list, 1)
        self.flip_warning = QLabel()
        self.flip_warning.setWordWrap(True)
        self.flip_warning.setStyleSheet("color: #8a5300;")
        self.flip_warning.hide()
        mv.addWidget(self.flip_warning)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add")
        self.remove_button = QPushButton("Remove")
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        mv.addLayout(buttons)
        self.params = ParamPanel()
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(self.params)
        mv.addWidget(scroll, 2)
        self.status = QLabel()
        self.status.setWordWrap(True)
        mv.addWidget(self.status)
        split.addWidget(mid)

        split.addWidget(self._build_preview_pane())
        split.setSizes([max(220, self.catalogue.wanted_width()), 380, 640])
        self._install_stack_editing()
        self._refresh_target_ui()

    # ------------------------------------------------------------ public API
    def stack(self) -> dict:
        """The stack being edited, as an A.to_dict dict."""
        return stack_from_entries(self._entries)

    def set_stack(self, stack: dict | None) -> None:
        """Replace the stack being edited (the default, or the selected class's own); no signal."""
        self._set_entries(entries_from_stack(stack))
        self._store()

    def settings(self) -> dict[str, Any]:
        return {
            "default_stack": copy.deepcopy(self._default),
            "class_stacks": copy.deepcopy(self._class_stacks),
            "preview_seed": self._seed,
        }

    def set_settings(self, settings: Any) -> None:
        """Take an AugmentSettings (or a dict with the same fields)."""
        get = (
            settings.get
            if isinstance(settings, dict)
            else lambda k, d=None: getattr(settings, k, d)
        )
        self._default = copy.deepcopy(get("default_stack", None))
        self._class_stacks = copy.deepcopy(dict(get("class_stacks", None) or {}))
        self._seed = int(get("preview_seed", 0) or 0)
        self._show_target()

    def set_classes(self, classes: list[str], minority: set[str] | None = None) -> None:
        """Classes offered for per-class overrides (minority ones are marked)."""
        minority = minority or set()
        self.minority = [name for name in classes if name in minority]
        with signals_blocked(self.target_combo):
            self.target_combo.clear()
            # Every class that grows by augmentation uses it (oversample grows the largest
            # one too), not only the minority ones; said in full in the tooltip.
            self.target_combo.addItem("Default stack", DEFAULT_TARGET)
            self.target_combo.setItemData(
                0, "Used by every class without a stack of its own", Qt.ItemDataRole.ToolTipRole
            )
            for name in classes:
                self.target_combo.addItem(
                    f"{name}{'  (minority)' if name in minority else ''}", name
                )
            i = self.target_combo.findData(self._target)
            self.target_combo.setCurrentIndex(max(i, 0))
        self._target = self.target_combo.currentData()
        self._refresh_target_ui()

    def select_class(self, name: str | None) -> None:
        self.target_combo.setCurrentIndex(max(self.target_combo.findData(name), 0))

    def preview_seed(self) -> int:
        return self._seed

    def reroll(self) -> None:
        self._seed = random.getrandbits(31)
        self.settingsChanged.emit(self.settings())
        self.preview.request_now()

    def save_to(self, path: Path | str) -> None:
        """Write the edited stack as an A.save file (in a worker; atomic)."""
        from ...core.augment.io import save_stack_file

        self._start(
            save_stack_file,
            lambda _r: self._say(
                f"Stack saved to {path}: training code loads it with A.load({Path(path).name!r})."
            ),
            self.stack(),
            Path(path),
            self.dataset_root,
            self.dataset_dirs,
        )

    def load_from(self, path: Path | str) -> None:
        """Read an A.save JSON/YAML file (in a worker) into the edited stack."""
        from ...core.augment.io import load_stack_file

        if not self._editable():
            return
        self._start(load_stack_file, self._on_loaded, Path(path))

    # -------------------------------------------------------------- internals
    def _start(self, fn: Any, on_done: Any, *args: Any) -> None:
        # The editor may be gone (window closed) when the job ends: the runner drops it then.
        start_job(fn, *args, owner=self, done=on_done,
                  error=lambda exc: self._say(str(exc), error=True))  # fmt: skip

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)

    def _on_catalogue(self, infos: dict[str, TransformInfo]) -> None:
        self._infos = infos
        self.catalogue.set_infos(infos)
        self.catalogue.search.setPlaceholderText("Search transforms…")
        self._fit_catalogue()
        self._refresh_target_ui()
        self._revalidate()
        self._row_selected(self.stack_list.currentRow())
        self.catalogueReady.emit()

    def _fit_catalogue(self) -> None:
        """Widen the catalogue pane to its longest name, taken from the preview pane (the
        widest): the whole catalogue is known only now."""
        sizes = self._split.sizes()
        short = self.catalogue.wanted_width() - sizes[0]
        if short > 0 and sum(sizes) > 0:
            give = min(short, max(0, sizes[2] - 320))  # keep the previews usable
            self._split.setSizes([sizes[0] + give, sizes[1], sizes[2] - give])

    def _on_loaded(self, stack: dict) -> None:
        self.set_stack(stack)
        self._changed()  # a user action, unlike set_stack() from the window
        self._say("Stack loaded.")

    def _editable(self) -> bool:
        return bool(self._infos) and (self._target is None or self._target in self._class_stacks)

    def _current_stack_dict(self) -> dict | None:
        if self._target is not None and self._target in self._class_stacks:
            return self._class_stacks[self._target]
        return self._default

    def _show_target(self) -> None:
        self._set_entries(entries_from_stack(self._current_stack_dict()))
        self._refresh_target_ui()

    def _refresh_target_ui(self) -> None:
        is_class = self._target is not None
        with signals_blocked(self.own_stack):
            self.own_stack.setChecked(is_class and self._target in self._class_stacks)
        self.own_stack.setVisible(is_class)
        editable = self._editable()
        self.catalogue.setEnabled(editable)
        for w in (self.stack_list, self.params, self.add_button, self.remove_button):
            w.setEnabled(editable)
        for w in (self.presets, self.load_button):
            w.setEnabled(editable)
        if is_class and not editable and self._infos:
            self._say(f"{self._target} uses the default stack; tick the box to give it its own.")

    def _target_changed(self, _index: int) -> None:
        self._target = self.target_combo.currentData()
        self._use_gallery = False
        self._say("")
        self._show_target()
        self._choose_preview()

    def _update_flip_warning(self) -> None:
        flips = flips_in(self._entries)
        self.flip_warning.setText(f"⚠ {', '.join(flips)}: {FLIP_WARNING}" if flips else "")
        self.flip_warning.setVisible(bool(flips))

    def _own_stack_toggled(self, on: bool) -> None:
        if self._target is None:
            return
        if on:
            self._class_stacks[self._target] = copy.deepcopy(self._default) or self.stack()
        else:
            self._class_stacks.pop(self._target, None)
        self._show_target()
        self._changed()

    def _store(self) -> None:
        stack = self.stack()
        if self._target is None:
            self._default = stack
        elif self._target in self._class_stacks:
            self._class_stacks[self._target] = stack

    def _changed(self) -> None:
        self._store()
        self.stackChanged.emit(self.stack())
        self.settingsChanged.emit(self.settings())
        self.preview.request()

    def dialog_folder(self) -> str:
        """Where the stack file dialogs start: by the project (set by the window), else beside
        the dataset folder (never inside it), else the platform's choice."""
        if self.files_folder is not None:
            return str(self.files_folder())
        return str(self.dataset_root.parent) if self.dataset_root is not None else ""

    def _ask_load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Load augmentation stack", self.dialog_folder(), FILE_FILTER
        )
        if path:
            self.load_from(path)

    def _ask_save(self) -> None:
        name = f"augment-{self._target}.json" if self._target else "augment.json"
        start = str(Path(self.dialog_folder()) / name) if self.dialog_folder() else name
        path, _ = QFileDialog.getSaveFileName(self, "Save augmentation stack", start, FILE_FILTER)
        if path:
            self.save_to(path)
