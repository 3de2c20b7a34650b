"""The diffusion img2img settings of a project, in the Generate tab (shown while a class's
method is diffusion): local model, prompt template, negative prompt, strength, steps,
guidance and size. Nothing is checked or loaded here: the generation job checks the model
and says what is missing."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ...core.diffusion_settings import DEFAULT_PROMPT, SIZE_MULTIPLE, DiffusionSettings


class DiffusionSettingsBox(QGroupBox):
    changed = Signal()  # the project's diffusion settings were replaced

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Diffusion img2img (classes whose method is diffusion)", parent)
        from ...core.extras import missing_diffusion as missing_extra

        self.project: Any = None
        self.hint = missing_extra()
        self.model = QLineEdit()
        self.model.setPlaceholderText("a local diffusers model folder or .safetensors/.ckpt file")
        self.model.setToolTip("Loaded from the disk only: nothing is ever downloaded")
        self.browse = QPushButton("Folder…")
        self.browse.clicked.connect(self._browse)
        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText(DEFAULT_PROMPT)
        self.prompt.setToolTip("{class} becomes the class name")
        self.negative = QLineEdit()
        self.negative.setPlaceholderText("negative prompt (optional)")
        self.strength = _double(0.01, 1.0, 0.05, "How far from the source image (1: ignore it)")
        self.steps = QSpinBox(minimum=1, maximum=1000, toolTip="Denoising steps")
        self.guidance = _double(0.0, 50.0, 0.5, "Classifier-free guidance scale")
        self.size = QSpinBox(minimum=SIZE_MULTIPLE, maximum=2048, singleStep=SIZE_MULTIPLE)
        self.size.setToolTip("Output size in pixels (the centred square of the source, resized)")
        self.note = QLabel(self.hint or "")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #b00020;")

        grid = QGridLayout(self)
        row = QHBoxLayout()
        row.addWidget(self.model, 1)
        row.addWidget(self.browse)
        grid.addWidget(QLabel("Model"), 0, 0)
        grid.addLayout(row, 0, 1, 1, 7)
        grid.addWidget(QLabel("Prompt"), 1, 0)
        grid.addWidget(self.prompt, 1, 1, 1, 3)
        grid.addWidget(self.negative, 1, 4, 1, 4)
        for i, (label, w) in enumerate(
            (("strength", self.strength), ("steps", self.steps),
             ("guidance", self.guidance), ("size", self.size))
        ):  # fmt: skip
            grid.addWidget(QLabel(label), 2, 2 * i)
            grid.addWidget(w, 2, 2 * i + 1)
        grid.addWidget(self.note, 3, 0, 1, 8)

        for edit in (self.model, self.prompt, self.negative):
            edit.editingFinished.connect(self._apply)
        for spin in (self.strength, self.steps, self.guidance, self.size):
            spin.editingFinished.connect(self._apply)
        self._inputs = (self.model, self.browse, self.prompt, self.negative, self.strength,
                        self.steps, self.guidance, self.size)  # fmt: skip
        if self.hint:  # without the extra nothing here can run
            for w in self._inputs:
                w.setEnabled(False)

    def set_project(self, project: Any) -> None:
        self.project = project
        s = project.generation.diffusion if project is not None else DiffusionSettings()
        for w in self._inputs:
            w.blockSignals(True)
        self.model.setText(s.model or "")
        self.prompt.setText("" if s.prompt == DEFAULT_PROMPT else s.prompt)
        self.negative.setText(s.negative_prompt)
        self.strength.setValue(s.strength)
        self.steps.setValue(s.steps)
        self.guidance.setValue(s.guidance)
        self.size.setValue(s.size)
        for w in self._inputs:
            w.blockSignals(False)
        if not self.hint:
            self.note.setText("")

    def settings(self) -> DiffusionSettings:
        """The settings the widgets show (ValueError when they are not valid together)."""
        old = self.project.generation.diffusion if self.project is not None else None
        return DiffusionSettings(
            model=self.model.text().strip() or None,
            prompt=self.prompt.text().strip() or DEFAULT_PROMPT,
            prompts=dict(old.prompts) if old is not None else {},
            negative_prompt=self.negative.text().strip(),
            strength=round(self.strength.value(), 4),
            steps=self.steps.value(),
            guidance=round(self.guidance.value(), 4),
            size=self.size.value() - self.size.value() % SIZE_MULTIPLE,
        )

    def _apply(self) -> None:
        if self.project is None:
            return
        try:
            new = self.settings()
        except ValueError as exc:  # pydantic's ValidationError: say its first reason
            errors = getattr(exc, "errors", None)
            msg = errors()[0]["msg"] if callable(errors) else str(exc)
            self.note.setText(str(msg).removeprefix("Value error, "))
            return
        self.note.setText("")
        if new != self.project.generation.diffusion:
            self.project.generation.diffusion = new
            self.changed.emit()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Diffusion model folder", self.model.text())
        if folder:
            self.model.setText(folder)
            self._apply()


def _double(low: float, high: float, step: float, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox(minimum=low, maximum=high, singleStep=step, decimals=2)
    box.setToolTip(tip)
    return box
