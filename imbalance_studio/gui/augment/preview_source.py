"""The preview side of `AugmentEditor`: the grid of variants and which image it augments.

By default an image of the class whose stack is edited ("Another image" steps through
them); for the default stack, the gallery's class when it is a minority one; or the image
selected in the gallery when the user asks for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .preview_grid import PreviewGrid


class PreviewSource:
    """The preview half of `AugmentEditor` (which owns `status`, `stack()`, `reroll()`, the
    `previewsUpdated` signal, the edited `_target` and the preview `_seed`, and builds this
    pane with `_build_preview_pane()` after its `status` label)."""

    _target: str | None
    _seed: int

    def _init_preview_source(self) -> None:
        # Which image the previews show: by default one of the class whose stack is edited
        # (`class_images(name)` lists a class's image files; set by the window), else the
        # gallery's selection.
        self.class_images: Any = None
        self.minority: list[str] = []
        self._gallery: tuple[str, str | None] | None = None  # (path, its class)
        self._preview_class: str | None = None
        self._preview_index = 0
        self._use_gallery = False

    def _build_preview_pane(self) -> QWidget:
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("<b>Preview</b>"))
        self.count_combo = QComboBox()
        for n in (8, 16):
            self.count_combo.addItem(f"{n} variants", n)
        self.count_combo.currentIndexChanged.connect(lambda _i: self.preview.request())
        controls.addWidget(self.count_combo)
        self.reroll_button = QPushButton("Re-roll")
        self.reroll_button.setToolTip("Draw new random variants (a new preview seed)")
        self.reroll_button.clicked.connect(self.reroll)
        controls.addWidget(self.reroll_button)
        controls.addStretch(1)
        rv.addLayout(controls)
        source = QHBoxLayout()
        self.preview_label = QLabel("")
        self.preview_label.setWordWrap(True)
        source.addWidget(self.preview_label, 1)
        self.next_image_button = QPushButton("Another image")
        self.next_image_button.setToolTip("Preview another image of the class this stack is for")
        self.next_image_button.clicked.connect(self.next_preview_image)
        source.addWidget(self.next_image_button)
        self.gallery_image_button = QPushButton("Gallery selection")
        self.gallery_image_button.setToolTip("Preview the image selected in the gallery")
        self.gallery_image_button.clicked.connect(self.use_gallery_image)
        source.addWidget(self.gallery_image_button)
        rv.addLayout(source)
        self.preview = PreviewGrid()
        self.preview.set_source(lambda: (self.stack(), self.count_combo.currentData(), self._seed))
        self.preview.updated.connect(self.previewsUpdated)
        self.preview.message.connect(self.status.setText)
        rv.addWidget(self.preview)
        rv.addStretch(1)
        return right

    def set_sample(self, path: Path | str | None) -> None:
        """The image the previews augment (decoded and downscaled in a worker)."""
        self.preview.set_sample(path)
        self.preview_label.setText(f"Previewing {Path(path).name}" if path else "")

    def set_gallery_sample(self, path: Path | str | None, class_name: str | None) -> None:
        """The gallery's selection changed: previewed when it is of the class whose stack is
        edited (or when the user asked for the gallery's image)."""
        self._gallery = (str(path), class_name) if path else None
        self._choose_preview()

    def preview_class(self) -> str | None:
        """The class whose image the previews show: the edited class, or for the default
        stack the gallery's class when it is a minority one, else the first minority class."""
        if self._target is not None:
            return self._target
        if self._gallery is not None and self._gallery[1] in self.minority:
            return self._gallery[1]
        return self.minority[0] if self.minority else None

    def next_preview_image(self) -> None:
        self._use_gallery = False
        self._preview_index += 1
        self._choose_preview()

    def use_gallery_image(self) -> None:
        self._use_gallery = True
        self._choose_preview()

    def _choose_preview(self) -> None:
        cls = self.preview_class()
        if cls != self._preview_class:
            self._preview_class, self._preview_index = cls, 0
        gallery = self._gallery
        if (
            self.class_images is None
            or cls is None
            or (gallery is not None and (self._use_gallery or gallery[1] == cls))
        ):
            if gallery is not None:  # the gallery's image, as the user asked or of the class
                self.set_sample(gallery[0])
                self.preview_label.setText(
                    f"Previewing {Path(gallery[0]).name} ({gallery[1]}), selected in the gallery"
                )
            return
        images = self.class_images(cls)
        if not images:
            return
        path = images[self._preview_index % len(images)]
        self.set_sample(path)
        self.preview_label.setText(
            f"Previewing {Path(path).name}: an image of {cls}, the class this stack is for"
        )
