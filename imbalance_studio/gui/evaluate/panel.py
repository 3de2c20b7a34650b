"""The Evaluate tab: did balancing help? Pick an export (the last one by default), train the
same small CNN several ways in the background, and compare the arms with the metrics that
do not lie about imbalance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.names import display_name
from ..jobs import start_job
from ..views.progress_bar import ProgressBar

ARMS_SHOWN = 5  # the estimate assumes every arm applies
MAX_RECALL_COLUMNS = 30
GREY = QColor("#8a8a8a")
BEST = QColor("#e3f1e0")
INTRO = (
    "<b>Did balancing help?</b> The same small image classifier is trained several ways on an "
    "export — <i>raw</i> (your original training images), <i>balanced</i> (the exported "
    "training split), <i>weighted</i> (originals, weighted loss), <i>sampler</i> (originals, "
    "weighted sampling), <i>balanced+weights</i> (both corrections at once) — with the same "
    "seed and steps, and judged on the export's validation split. The test split stays "
    "untouched for your final number."
)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes = seconds / 60
    return f"{minutes:.0f} min" if minutes >= 10 else f"{minutes:.1f} min"


def _heat(v: float) -> QColor:
    v = min(1.0, max(0.0, v))
    return QColor(int(255 - 120 * v), int(255 - 60 * v), int(255 - 20 * v))


class EvaluatePanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report: dict | None = None
        self.job: Any = None
        self.confusion_plot: Any = None
        self.curve_plot: Any = None

        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("an export folder (File ▸ Export… makes one)")
        self.path_edit.editingFinished.connect(self._load_saved)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.size_box = QSpinBox()
        self.size_box.setRange(8, 512)
        self.size_box.setValue(64)
        self.size_box.setSuffix(" px")
        self.size_box.setToolTip("Images are resized to this square size: larger is slower")
        self.steps_box = QSpinBox()
        self.steps_box.setRange(1, 100_000)
        self.steps_box.setSingleStep(50)
        self.steps_box.setValue(200)
        self.steps_box.setToolTip("Gradient steps per arm (batches of 32): more is slower and "
                                  "closer to a real training")  # fmt: skip
        self.device_box = QComboBox()
        self.device_box.addItems(["auto", "cpu", "cuda"])
        self.device_box.setToolTip("auto: a CUDA GPU when torch sees one, else the CPU "
                                   "(on the CPU the same export and seed give the same numbers)")  # fmt: skip
        self.estimate = QLabel()
        for box in (self.size_box, self.steps_box):
            box.valueChanged.connect(self._update_estimate)
        self.device_box.currentIndexChanged.connect(self._update_estimate)
        self.run_button = QPushButton("Evaluate")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = ProgressBar()
        self.progress.setTextVisible(False)
        self.progress.hide()  # shown while a run goes on
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.estimate.setWordWrap(True)

        form = QVBoxLayout()
        row = QHBoxLayout()
        row.addWidget(QLabel("Export:"))
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form.addLayout(row)
        row = QHBoxLayout()
        for text, box in (("Input size:", self.size_box), ("Steps per arm:", self.steps_box),
                          ("Device:", self.device_box)):  # fmt: skip
            row.addWidget(QLabel(text))
            row.addWidget(box)
            row.addSpacing(12)
        row.addStretch(1)
        form.addLayout(row)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.estimate, 1)

        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.summary.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.summary.setFont(font)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.baseline = QLabel("")
        self.baseline.setWordWrap(True)
        self.baseline.setStyleSheet("color:#666")
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color:#8a5a00")
        self.arm_box = QComboBox()
        self.arm_box.currentTextChanged.connect(self._draw_confusion)
        self.confusion_title = QLabel("Confusion matrix of")
        self.confusion_title.setToolTip("Rows: true class; columns: predicted class; each row "
                                        "shaded by its share of that class's images")  # fmt: skip
        self.plots = QHBoxLayout()
        self._confusion_box = QVBoxLayout()
        head = QHBoxLayout()
        head.addWidget(self.confusion_title)
        head.addWidget(self.arm_box)
        head.addStretch(1)
        self._confusion_box.addLayout(head)
        self._curve_box = QVBoxLayout()
        self._curve_box.addWidget(QLabel("Training loss per step"))
        self.plots.addLayout(self._confusion_box, 1)
        self.plots.addLayout(self._curve_box, 1)
        self.results = QWidget()
        rl = QVBoxLayout(self.results)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.summary)
        rl.addWidget(self.table)
        rl.addWidget(self.baseline)
        rl.addWidget(self.warnings)
        rl.addLayout(self.plots, 1)
        self.results.hide()

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.results, 1)
        # Until there are results, the rest of the height goes below the controls, not
        # between them (a hidden widget's stretch counts for nothing).
        layout.addStretch(1)
        self._update_estimate()

    # -- choosing the export ------------------------------------------------------------
    @property
    def export_path(self) -> Path | None:
        text = self.path_edit.text().strip()
        return Path(text) if text else None

    def set_export(self, folder: str | Path, load: bool = True) -> None:
        self.path_edit.setText(str(folder))
        if load:
            self._load_saved()

    def offer_export(self, folder: str | Path) -> None:
        """A newer export: take it unless the user is evaluating one now."""
        if not self.busy:
            self.set_export(folder)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Export folder to evaluate", self.path_edit.text()
        )
        if folder:
            self.set_export(folder)

    def _load_saved(self) -> None:
        """Show the evaluation saved in the export, if any (read in the background)."""
        from ...core.evaluate import read_saved

        path = self.export_path
        if path is None or self.busy:
            return
        if self.report is not None and Path(self.report.get("export", "")) != path:
            self.report = None  # another export's results must not pass for this one's
            self._show_results(False)
            self.status.setText("")
        start_job(read_saved, path, owner=self, key=("evaluate-load", id(self)),
                  done=lambda rep: self.show_report(rep, saved=True) if rep else None)  # fmt: skip

    def _update_estimate(self) -> None:
        from ...core.evaluate.run import estimate_seconds

        steps, size = self.steps_box.value(), self.size_box.value()
        device = self.device_box.currentText()
        cpu = estimate_seconds(ARMS_SHOWN, steps, size, "cpu")
        if device == "cuda":
            text = f"about {_duration(estimate_seconds(ARMS_SHOWN, steps, size, 'cuda'))} on a GPU"
        else:
            text = f"about {_duration(cpu)} on one CPU core"
            if device == "auto":
                text += " (much less when a GPU is found)"
        self.estimate.setText(
            f"Time: {text} — up to {ARMS_SHOWN} arms (those the export allows) × {steps} steps "
            f"at {size} px"
        )

    # -- running --------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.running

    def start(self) -> None:
        from ...core.evaluate import evaluate_and_save

        path = self.export_path
        if path is None:
            self.status.setText("Choose an export folder first (File ▸ Export… makes one).")
            return
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status.setText("Reading the export…")
        self.job = start_job(
            evaluate_and_save, path, seed=1, device=self.device_box.currentText(),
            steps=self.steps_box.value(), size=self.size_box.value(),
            owner=self, key=("evaluate", id(self)), progress=self._on_progress,
            done=self.show_report, error=self._on_error, finished=self._on_finished,
        )  # fmt: skip

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
        self.status.setText("Cancelled: nothing was written.")
        self._on_finished()

    def _on_progress(self, event: Any) -> None:
        if event.arms:  # one bar over every arm: the time left is the whole run's
            self.progress.setRange(0, max(1, event.total * event.arms))
            self.progress.setValue((event.arm_number - 1) * event.total + event.done)
        else:
            self.progress.setRange(0, max(1, event.total))
            self.progress.setValue(event.done)
        if event.arm:
            left = f" — about {_duration(event.eta_s)} left" if event.eta_s is not None else ""
            self.status.setText(
                f"Training arm {event.arm_number} of {event.arms}, <b>{event.arm}</b>: step "
                f"{event.step} of {event.total}, loss {event.loss:.3f}{left}"
            )
        else:
            self.status.setText(f"Loading images: {event.done} of {event.total}")

    def _on_error(self, exc: BaseException) -> None:
        self.status.setText(f"Could not evaluate: {exc}")

    def _on_finished(self) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.hide()

    # -- showing a report -----------------------------------------------------------------
    def show_report(self, report: dict, saved: bool = False) -> None:
        self.report = report
        arms = report["arms"]
        self.summary.setText(report["summary"])
        self._fill_table(report)
        base = report["majority_baseline"]
        n_val = sum(report["val_counts"])
        self.baseline.setText(
            f"Judged on {n_val} validation images. Plain accuracy (grey) flatters the majority: "
            f"always answering “{display_name(base['class'])}” scores "
            f"{base['accuracy']:.1%}. Balanced accuracy is the mean recall over classes."
        )
        # Written for the export's README (Markdown): the code quotes are dropped here.
        lines = [f"⚠ {w}".replace("`", "") for w in report.get("warnings", [])]
        lines += [f"Note: {n}".replace("`", "") for n in report.get("notes", [])]
        self.warnings.setText("\n".join(lines))
        self.warnings.setVisible(bool(lines))
        self.arm_box.blockSignals(True)
        self.arm_box.clear()
        self.arm_box.addItems(list(arms))
        self.arm_box.setCurrentText(report["best"])
        self.arm_box.blockSignals(False)
        self._ensure_plots()
        from .charts import draw_curves

        self._draw_confusion(report["best"])
        draw_curves(self.curve_plot, arms)
        m = report["model"]
        if saved:  # Evaluate again with the same settings unless the user changes them
            self.size_box.setValue(int(m.get("input_size", self.size_box.value())))
            self.steps_box.setValue(int(m.get("steps", self.steps_box.value())))
        where = "saved earlier" if saved else "done"
        self.status.setText(
            f"Evaluation {where}: {m['input_size']} px, {m['steps']} steps per arm, seed "
            f"{report['seed']}, on {m['device']}. Saved as evaluation.json and .png in the export."
        )
        self._show_results(True)

    def _show_results(self, visible: bool) -> None:
        self.results.setVisible(visible)
        layout = self.layout()
        layout.setStretch(layout.count() - 1, 0 if visible else 1)  # the trailing stretch

    def _fill_table(self, report: dict) -> None:
        classes = report["classes"][:MAX_RECALL_COLUMNS]
        base = report["majority_baseline"]["accuracy"]
        heads = ["Arm", "Trained on", "Balanced accuracy", "95% interval", "Macro-F1",
                 f"Accuracy (majority {base:.2f})"]  # fmt: skip
        heads += [f"Recall {display_name(c)}" for c in classes]
        t = self.table
        t.clear()
        t.setColumnCount(len(heads))
        t.setHorizontalHeaderLabels(heads)
        t.setRowCount(len(report["arms"]))
        bold = QFont(t.font())
        bold.setBold(True)
        for row, (name, arm) in enumerate(report["arms"].items()):
            lo, hi = report["interval"]["balanced_accuracy"][name]
            cells = [
                name + _rank_mark(name, report),
                f"{arm['n_train']:,} images",
                f"{arm['balanced_accuracy']:.3f}",
                f"{lo:.3f} – {hi:.3f}",
                f"{arm['macro_f1']:.3f}",
                f"{arm['accuracy']:.3f}",
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(arm.get("what", ""))
                if col == 5:
                    item.setForeground(QBrush(GREY))
                    item.setToolTip("Plain accuracy: misleading on imbalanced data")
                if name == report["best"]:
                    item.setFont(bold)
                    item.setBackground(QBrush(BEST))
                t.setItem(row, col, item)
            for j, r in enumerate(arm["per_class_recall"][: len(classes)]):
                item = QTableWidgetItem("–" if r is None else f"{r:.2f}")
                n = report["val_counts"][j]
                item.setToolTip(f"{display_name(classes[j])}: {n} validation images")
                if r is not None:
                    item.setBackground(QBrush(_heat(r)))
                t.setItem(row, 6 + j, item)
        t.resizeColumnsToContents()
        t.resizeRowsToContents()
        t.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        # Every arm visible without scrolling: height of the rows, header and scroll bar.
        rows = sum(t.rowHeight(r) for r in range(t.rowCount()))
        extra = t.horizontalHeader().height() + t.horizontalScrollBar().sizeHint().height()
        t.setFixedHeight(rows + extra + 2 * t.frameWidth() + 2)

    def _ensure_plots(self) -> None:
        if self.confusion_plot is None:
            from .charts import make_confusion_plot, make_curve_plot

            self.confusion_plot = make_confusion_plot(self)
            self.curve_plot = make_curve_plot(self)
            self._confusion_box.addWidget(self.confusion_plot, 1)
            self._curve_box.addWidget(self.curve_plot, 1)

    def _draw_confusion(self, arm: str) -> None:
        if self.report is None or arm not in self.report["arms"] or self.confusion_plot is None:
            return
        from .charts import draw_confusion

        draw_confusion(self.confusion_plot, self.report["classes"],
                       self.report["arms"][arm]["confusion"])  # fmt: skip


def _rank_mark(name: str, report: dict) -> str:
    """★ on the best arm; an arm the validation split cannot tell from it says so (on a tie
    the best is raw: balancing did not beat the originals)."""
    if name == report["best"]:
        return "  ★ best"
    if name in report.get("tied_with_best", ()):
        return "  ≈ best (within noise)"
    return ""
