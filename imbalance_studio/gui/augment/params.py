"""Parameter editors generated from the catalogue's ParamSpecs, with inline error text.
Numbers can be dragged or typed (the boxes beside each slider are editable); either way the
value kept is the one shown."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from superqt import (
    QLabeledDoubleRangeSlider,
    QLabeledDoubleSlider,
    QLabeledRangeSlider,
    QLabeledSlider,
)
from superqt.utils import signals_blocked

from ...core.augment.catalogue import ParamSpec, TransformInfo
from ...core.augment.stack import StackEntry

ERROR_STYLE = "color: #c0392b;"


def _decimals(spec: ParamSpec) -> int:
    span = float(spec.max) - float(spec.min)
    return 3 if span <= 2 else 2 if span <= 20 else 1


def _widen(spec: ParamSpec, values: tuple[float, ...]) -> tuple[float, float]:
    """Slider bounds: the spec's, stretched to show a loaded value that lies outside them."""
    lo, hi = float(spec.min), float(spec.max)
    nums = [float(v) for v in values if isinstance(v, int | float)]
    return min([lo, *nums]), max([hi, *nums])


class ParamEditor(QWidget):
    """One parameter: a widget chosen by `spec.kind`; emits `changed(name, value)`."""

    changed = Signal(str, object)

    def __init__(self, spec: ParamSpec, value: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        self.widget = self._make_widget(spec, spec.coerce(value))
        layout.addWidget(self.widget)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        if spec.help:
            self.setToolTip(spec.help)

    def _make_widget(self, spec: ParamSpec, value: Any) -> QWidget:
        kind = spec.kind
        if kind == "bool":
            w = QCheckBox()
            w.setChecked(bool(value))
            w.toggled.connect(lambda v: self._emit(bool(v)))
        elif kind == "choice":
            w = QComboBox()
            choices = list(spec.choices)
            if value not in choices:
                choices.append(value)  # a loaded value the schema does not list
            for c in choices:
                w.addItem(spec.label_of(c), c)
            w.setCurrentIndex(choices.index(value))
            w.currentIndexChanged.connect(lambda i: self._emit(w.itemData(i)))
        elif kind == "pair_int":
            w = QWidget()
            row = QHBoxLayout(w)
            row.setContentsMargins(0, 0, 0, 0)
            self._spins = []
            for v in value:
                spin = QSpinBox()
                spin.setRange(int(min(spec.min, v)), int(max(spec.max, v)))
                spin.setValue(int(v))
                spin.valueChanged.connect(lambda _v: self._emit([s.value() for s in self._spins]))
                row.addWidget(spin)
                self._spins.append(spin)
        elif kind in ("float", "int"):
            w = QLabeledDoubleSlider(Qt.Orientation.Horizontal) if kind == "float" else (
                QLabeledSlider(Qt.Orientation.Horizontal)
            )  # fmt: skip
            lo, hi = _widen(spec, (value,))
            if kind == "float":
                w.setDecimals(_decimals(spec))
                w.setRange(lo, hi)
                w.setValue(float(value))
            else:
                w.setRange(int(lo), int(hi))
                w.setValue(int(value))
            w.valueChanged.connect(self._emit)
        else:  # range_float / range_int
            is_float = kind == "range_float"
            w = QLabeledDoubleRangeSlider(Qt.Orientation.Horizontal) if is_float else (
                QLabeledRangeSlider(Qt.Orientation.Horizontal)
            )  # fmt: skip
            lo, hi = _widen(spec, tuple(value))
            if is_float:
                w.setDecimals(_decimals(spec))
                w.setRange(lo, hi)
            else:
                w.setRange(int(lo), int(hi))
            w.setValue(tuple(value))
            # Editable low/high boxes at the ends; labels over the handles would overlap.
            w.setHandleLabelPosition(w.LabelPosition.NoLabel)
            w.setEdgeLabelMode(w.EdgeLabelMode.LabelIsValue)
            w.setToolTip(f"{spec.help}\nrange {spec.min} … {spec.max}".strip())
            w.valueChanged.connect(lambda v: self._emit(list(v)))
        return w

    def _emit(self, value: Any) -> None:
        # A dragged slider stands between two shown values (14.9987 shown as "15.0"): keep
        # the value the user sees, typed or dragged.
        if self.spec.kind in ("float", "range_float"):
            digits = _decimals(self.spec)
            if isinstance(value, list | tuple):
                value = [round(float(v), digits) for v in value]
            else:
                value = round(float(value), digits)
        self.changed.emit(self.spec.name, value)

    def set_value(self, value: Any) -> None:
        """Show a value without emitting `changed`."""
        value = self.spec.coerce(value)
        w = self.widget
        with signals_blocked(w):
            if isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QComboBox):
                i = w.findData(value)
                if i >= 0:
                    w.setCurrentIndex(i)
            elif self.spec.kind == "pair_int":
                for spin, v in zip(self._spins, value, strict=True):
                    with signals_blocked(spin):
                        spin.setValue(int(v))
            else:
                w.setValue(tuple(value) if isinstance(value, list | tuple) else value)

    def set_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setVisible(bool(message))


class ParamPanel(QWidget):
    """Editors for one stack entry: `p` first, then every parameter of its catalogue entry."""

    paramChanged = Signal(str, object)  # (name or "p", value)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self._layout.addWidget(self.title)
        self.entry_error = QLabel()
        self.entry_error.setStyleSheet(ERROR_STYLE)
        self.entry_error.setWordWrap(True)
        self.entry_error.hide()
        self._layout.addWidget(self.entry_error)
        self._form_host = QWidget()
        self._layout.addWidget(self._form_host)
        self._layout.addStretch(1)
        self.editors: dict[str, ParamEditor] = {}
        self.show_entry(None, None)

    def show_entry(self, entry: StackEntry | None, info: TransformInfo | None) -> None:
        """Rebuild the editors for `entry` (None: an empty panel with a hint)."""
        self._form_host.deleteLater()
        self._form_host = QWidget()
        form = QFormLayout(self._form_host)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._layout.insertWidget(2, self._form_host)
        self.editors = {}
        self.set_errors({})
        if entry is None:
            self.title.setText("<i>Select a transform of the stack to edit its parameters.</i>")
            return
        summary = info.summary if info else "Not in the catalogue: parameters are kept as loaded."
        self.title.setText(f"<b>{entry.name}</b><br><small>{summary}</small>")
        specs = [info.p] if info else []
        if info is None:
            from ...core.augment.catalogue import ParamSpec

            specs = [ParamSpec("p", "float", 0.5, 0.0, 1.0, help="probability of applying")]
        specs += list(info.params) if info else []
        for spec in specs:
            value = entry.p if spec.name == "p" else entry.params.get(spec.name, spec.default)
            editor = ParamEditor(spec, value)
            editor.changed.connect(self.paramChanged)
            label = QLabel(spec.name)
            label.setToolTip(spec.help)
            form.addRow(label, editor)
            self.editors[spec.name] = editor

    def set_errors(self, errors: dict[str, str]) -> None:
        """Show validation messages next to their parameters ('' = the transform as a whole)."""
        for name, editor in self.editors.items():
            editor.set_error(errors.get(name))
        general = [f"{k}: {v}" if k else v for k, v in errors.items() if k not in self.editors]
        self.entry_error.setText("\n".join(general))
        self.entry_error.setVisible(bool(general))
