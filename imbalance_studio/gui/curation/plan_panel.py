"""The "Balance" tab: split settings, a policy in one click, the editable target table, the
plan's warnings and the before/after chart."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStyledItemDelegate,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...core.plan import Plan
from ...core.policies import NEARLY_LEVEL, NEW_IMAGES_FACTOR
from ...core.project import MAX_TARGET, Method, SplitSettings
from .compare_chart import CompareChart
from .controller import CurationController
from .targets_model import COL_CLASS, COL_METHOD, METHODS, TargetsModel

# Label shown -> (policy name, spin-box range and default of its number, or None)
POLICIES = {
    f"Oversample every class (augment: {NEW_IMAGES_FACTOR:g} × the largest)": ("oversample", None),
    "Undersample every class to the smallest": ("undersample", None),
    "Meet at the median": ("median", None),
    "Fixed target N per class": ("target", (1, MAX_TARGET, 100)),
    "Cap every class at K × the smallest": ("cap", (1, 1000, 3)),
}


def disable_diffusion_without_extra(box: QComboBox) -> None:
    """Without the [diffusion] extra the diffusion entry stays listed, greyed out, and its
    tooltip gives the one-line install command."""
    from ...core.extras import missing_diffusion as missing_extra

    hint = missing_extra()
    i = box.findData(Method.DIFFUSION)
    if i < 0:
        i = box.findText(Method.DIFFUSION.value)
    if i < 0:
        return
    if hint:
        box.model().item(i).setEnabled(False)
        box.setItemData(i, hint, Qt.ItemDataRole.ToolTipRole)
    else:
        box.setItemData(
            i,
            "New images by diffusion img2img from a local model (set it in the Generate tab); "
            "they are reviewed before export",
            Qt.ItemDataRole.ToolTipRole,
        )


class MethodDelegate(QStyledItemDelegate):
    def createEditor(self, parent, option, index):
        box = QComboBox(parent)
        box.addItems(METHODS)
        disable_diffusion_without_extra(box)
        return box

    def setEditorData(self, editor, index):
        editor.setCurrentText(index.data(Qt.ItemDataRole.EditRole))

    def setModelData(self, editor, model, index):
        model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)


class PlanPanel(QWidget):
    def __init__(self, controller: CurationController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller

        # Split
        self.val_spin = self._fraction_spin(0.15)
        self.test_spin = self._fraction_spin(0.15)
        self.train_label = QLabel("train 70%")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setMaximumWidth(110)
        self.seed_spin.setToolTip("The seed fixes the split, undersampling and generation")
        self.split_button = QPushButton("Apply split")
        self.split_button.setToolTip(
            "The split is made before any balancing; validation and test keep the original "
            "distribution and hold only original images"
        )
        self.split_button.clicked.connect(self._apply_split)
        self.val_spin.valueChanged.connect(self._update_train_label)
        self.test_spin.valueChanged.connect(self._update_train_label)
        self.seed_spin.valueChanged.connect(self._update_train_label)
        split_box = QGroupBox("1. Split first (stratified by class)")
        sl = QHBoxLayout(split_box)
        for w in (
            self.train_label,
            QLabel("validation"),
            self.val_spin,
            QLabel("test"),
            self.test_spin,
            QLabel("seed"),
            self.seed_spin,
            self.split_button,
        ):
            sl.addWidget(w)
        sl.addStretch(1)

        # Policy
        self.policy_box = QComboBox()
        self.policy_box.addItems(list(POLICIES))
        self.policy_box.setItemData(
            0,
            f"Filled by augmentation: every class to {NEW_IMAGES_FACTOR:g} × the largest, so the "
            "largest gets new images too and a new image is no sign of a rare class (classes "
            f"within {1 - NEARLY_LEVEL:.0%} of each other: to the largest). Filled by duplicates "
            "or diffusion: every class to the largest. (Fixed target N = the largest fills to "
            "the largest only.)",
            Qt.ItemDataRole.ToolTipRole,
        )
        self.policy_arg = QSpinBox()
        self.method_box = QComboBox()
        self.method_box.addItem("augment (new views)", Method.AUGMENT)
        self.method_box.addItem("duplicate (exact copies)", Method.DUPLICATE)
        self.method_box.addItem("diffusion img2img (local model)", Method.DIFFUSION)
        disable_diffusion_without_extra(self.method_box)
        self.method_box.setToolTip("How a class below its target is filled")
        self.apply_button = QPushButton("Fill targets")
        self.apply_button.clicked.connect(self._apply_policy)
        self.clear_button = QPushButton("Clear targets")
        self.clear_button.clicked.connect(controller.clear_targets)
        self.policy_box.currentTextChanged.connect(self._policy_changed)
        self._policy_changed(self.policy_box.currentText())
        policy_group = QGroupBox("2. Set training targets with a policy, then edit any cell")
        pl = QVBoxLayout(policy_group)
        row1, row2 = QHBoxLayout(), QHBoxLayout()
        row1.addWidget(self.policy_box)
        row1.addWidget(self.policy_arg)
        row1.addStretch(1)
        for w in (QLabel("fill gaps by"), self.method_box, self.apply_button, self.clear_button):
            row2.addWidget(w)
        row2.addStretch(1)
        pl.addLayout(row1)
        pl.addLayout(row2)

        # Targets table
        self.model = TargetsModel(controller, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setItemDelegateForColumn(COL_METHOD, MethodDelegate(self.table))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableView.EditTrigger.AllEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_CLASS, QHeaderView.ResizeMode.Stretch)
        # How many images the plan will make, said before anything is made.
        self.generation_total = QLabel("")
        self.generation_total.setToolTip(
            "New training images the plan makes (augmentation, CutMix) before export"
        )
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color:#8a4b00;")
        self.chart = CompareChart()

        table_box = QWidget()
        tl = QVBoxLayout(table_box)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.table, 1)
        tl.addWidget(self.generation_total)
        tl.addWidget(self.warnings)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(table_box)
        splitter.addWidget(self.chart)
        splitter.setSizes([260, 300])

        layout = QVBoxLayout(self)
        layout.addWidget(split_box)
        layout.addWidget(policy_group)
        layout.addWidget(splitter, 1)

        controller.planChanged.connect(self._on_plan)
        self._form_of: object = None  # the project the policy form was last set from
        controller.projectChanged.connect(self._on_project)
        # A recipe applied or undone (not any edit: a policy chosen but not yet applied stays).
        controller.stacksChanged.connect(
            lambda: controller.project is not None and self._show_policy(controller.project)
        )
        self._on_project()

    @staticmethod
    def _fraction_spin(value: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(0.0, 0.9)
        spin.setSingleStep(0.05)
        spin.setDecimals(2)
        spin.setValue(value)
        return spin

    def _update_train_label(self) -> None:
        train = 1 - self.val_spin.value() - self.test_spin.value()
        self.train_label.setText(f"train {train:.0%}")
        # The split is always in use (the project's, 70/15/15 by default): the button asks
        # only for a change, and says when there is none, so the counts shown are not taken
        # for a split still to be applied.
        project = self.controller.project
        same = project is not None and (
            abs(self.val_spin.value() - project.split.val) < 1e-6
            and abs(self.test_spin.value() - project.split.test) < 1e-6
            and self.seed_spin.value() == project.seed
        )
        self.split_button.setText("Split in use" if same else "Apply split")
        self.split_button.setEnabled(train > 0 and not same)

    def _policy_changed(self, label: str) -> None:
        _, arg = POLICIES[label]
        self.policy_arg.setVisible(arg is not None)
        if arg is not None:
            lo, hi, default = arg
            self.policy_arg.setRange(lo, hi)
            self.policy_arg.setValue(default)
            self.policy_arg.setPrefix("N = " if POLICIES[label][0] == "target" else "K = ")

    def policy_text(self) -> str:
        name, arg = POLICIES[self.policy_box.currentText()]
        return name if arg is None else f"{name}:{self.policy_arg.value()}"

    def _apply_policy(self) -> None:
        try:
            self.controller.apply_policy(self.policy_text(), self.method_box.currentData())
        except ValueError as exc:
            self.controller.error.emit(str(exc))

    def _apply_split(self) -> None:
        val, test = round(self.val_spin.value(), 4), round(self.test_spin.value(), 4)
        try:
            split = SplitSettings(train=round(1 - val - test, 4), val=val, test=test)
        except ValueError as exc:
            self.controller.error.emit(str(exc))
            return
        self.controller.set_split(split, self.seed_spin.value())

    def _on_project(self) -> None:
        project = self.controller.project
        self.setEnabled(project is not None)
        if project is None:
            return
        for spin, value in (
            (self.val_spin, project.split.val),
            (self.test_spin, project.split.test),
        ):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        self.seed_spin.setValue(project.seed)
        self._update_train_label()
        if project is not self._form_of:  # another project (not a save: keep a pending choice)
            self._form_of = project
            self._show_policy(project)

    def _show_policy(self, project) -> None:
        """The form shows the policy and method the targets were last filled with (by a
        recipe, an undo, a project opened): "fill gaps by augment" beside rows filled by
        duplicates would contradict itself, and Fill targets repeats what the form says."""
        if project.policy:
            name, _, arg = project.policy.partition(":")
            label = next((k for k, (n, _a) in POLICIES.items() if n == name), None)
            takes_arg = label is not None and POLICIES[label][1] is not None
            if label is not None and (takes_arg or not arg):  # oversample:2 has no entry
                self.policy_box.blockSignals(True)  # (the arg is set below, not to its default)
                self.policy_box.setCurrentText(label)
                self.policy_box.blockSignals(False)
                self._policy_changed(label)
                if takes_arg and arg:
                    self.policy_arg.setValue(int(float(arg)))
        # The methods that fill a gap (undersampled classes are not filled by anything).
        box = self.method_box
        methods = {t.method for t in project.targets.values() if t is not None}
        filling = [i for i in range(box.count()) if box.itemData(i) in methods]
        if len(filling) == 1 and box.model().item(filling[0]).isEnabled():
            box.setCurrentIndex(filling[0])

    def _on_plan(self, plan: Plan) -> None:
        self.chart.set_plan(plan)
        summary = plan.generation_summary()
        self.generation_total.setText(summary[:1].upper() + summary[1:])
        self.warnings.setText("\n".join(f"⚠ {w}" for w in plan.warnings))
        self.warnings.setVisible(bool(plan.warnings))
