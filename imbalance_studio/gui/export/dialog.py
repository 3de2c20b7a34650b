"""ExportDialog: choose where to export, run it with a progress bar and Cancel, show the
result (or the reason it was refused)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ..job_dialog import JobDialog
from ..jobs import Job, start_job
from ..views.progress_bar import ProgressBar

ERROR_STYLE = "color: #b00020;"


class ExportDialog(JobDialog):
    """Export `plan` over `dataset` (with the accepted `generated` images) to a folder.

    Signals: exportFinished(ExportReport), exportFailed(str message), exportCancelled().
    """

    exportFinished = Signal(object)
    exportFailed = Signal(str)
    exportCancelled = Signal()

    def __init__(
        self,
        dataset: Any,
        project: Any,
        plan: Any,
        generated: list | None = None,
        parent: QWidget | None = None,
        *,
        staging: Path | None = None,
        leak_check: dict | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export balanced dataset")
        self._leak_check = leak_check  # near-duplicate pairs across splits (core.inspect)
        self.setMinimumWidth(720)  # the hard-link option's note must not be cut off
        self._dataset = dataset
        self._project = project
        self._plan = plan
        self._generated = list(generated or [])
        # Originals generation found unusable (a GenerateResult carries them) and the staging
        # folder that records earlier ones: the export leaves them out and lists them.
        self._bad_sources = dict(getattr(generated, "bad_sources", None) or {})
        self._staging = staging
        self._job: Job | None = None
        self.report: Any = None
        self.error: str = ""

        counts = {s: sum(plan.final_counts(s)) for s in ("train", "val", "test")}
        self.summary = summary = QLabel(
            f"{sum(counts.values()):,} files: train {counts['train']:,}, val {counts['val']:,}, "
            f"test {counts['test']:,} · {len(plan.classes)} classes · seed {plan.seed}\n"
            + _train_origins_text(plan)
            + "Validation and test hold original images only. The dataset folder is not changed."
        )
        summary.setWordWrap(True)
        # Said before anything is written: an export with no targets keeps the imbalance, and
        # only the README said so afterwards.
        self.imbalance_note = QLabel(_still_imbalanced_text(
            plan.original_counts("train"), plan.final_counts("train"), "stays"
        ))  # fmt: skip
        self.imbalance_note.setWordWrap(True)
        self.imbalance_note.setStyleSheet(ERROR_STYLE)
        self.imbalance_note.setVisible(bool(self.imbalance_note.text()))
        from ...core.generation import awaiting_review

        # Diffusion images no one has accepted: the export asks before including them.
        self.unreviewed = len(awaiting_review(self._generated, project))
        self.review_note = QLabel(
            f"{self.unreviewed} diffusion images await review (Generate tab): you will be "
            "asked before they are exported"
        )
        self.review_note.setWordWrap(True)
        self.review_note.setStyleSheet(ERROR_STYLE)
        self.review_note.setVisible(self.unreviewed > 0)

        self.destination = QLineEdit()
        self.destination.setPlaceholderText("A new or empty folder outside the dataset")
        self.destination.textChanged.connect(self._update_buttons)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.destination, 1)
        row.addWidget(browse)

        self.copy_button = QRadioButton("Copy originals")
        self.link_button = QRadioButton(
            "Hard-link originals (same disk only: instant, no extra space)"
        )
        # Wrapped under the choice, not in its text: a radio button does not wrap, and the
        # dialog cut this warning off at its usual width.
        self.link_note = QLabel(
            "A hard-linked original is the dataset's own file: editing it in the export "
            "in place edits the dataset too."
        )
        self.link_note.setWordWrap(True)
        self.link_note.setEnabled(False)  # greyed: a note on the choice above
        self.copy_button.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.copy_button)
        group.addButton(self.link_button)
        # Off: originals stored rotated are written upright, as the viewer shows them and as
        # loaders that ignore EXIF orientation (torchvision's default, Keras) need them.
        self.keep_exif = QCheckBox(
            "Keep originals stored rotated as they are (for loaders that apply EXIF orientation)"
        )
        self.overwrite = QCheckBox("Replace a previous export in this folder")
        self.overwrite.toggled.connect(self._update_buttons)
        # Replacing keeps (and refuses over) files the user added to the old export; this
        # stronger choice deletes them too, so it is a separate, explicit box.
        self.overwrite_all = QCheckBox(
            "Also delete files added to that export since (a trained model, notes)"
        )

        form = QFormLayout()
        form.addRow("Export to", row)
        form.addRow("Originals", self.copy_button)
        form.addRow("", self.link_button)
        form.addRow("", self.link_note)
        form.addRow("", self.keep_exif)
        form.addRow("", self.overwrite)
        form.addRow("", self.overwrite_all)

        self.progress = ProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel("")
        self.status.setWordWrap(True)

        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.open_button = QPushButton("Open folder")
        self.open_button.clicked.connect(self._open_folder)
        self.open_button.setVisible(False)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(self.imbalance_note)
        layout.addWidget(self.review_note)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self._update_buttons()

    # -- public ---------------------------------------------------------------------------

    def set_destination(self, path: str | Path) -> None:
        self.destination.setText(str(path))

    def start(self) -> None:
        """Start the export as a background job (refusals arrive as exportFailed); the
        export's cleanup (its temporary folder) runs in the job's thread."""
        from ...core.export.run import iter_export

        text = self.destination.text().strip()
        if self.running or not text:
            return
        if self.unreviewed and not self.confirm_unreviewed(self.unreviewed):
            self._say(
                f"Not exported: {self.unreviewed} diffusion images await review; accept or "
                "reject them in the Generate tab"
            )
            return
        self.report, self.error = None, ""
        self.open_button.setVisible(False)
        self._say("Checking the destination…")
        self.progress.setRange(0, 0)  # busy until the first count arrives
        # `overwrite_all` also deletes files the user added to the previous export; the
        # staging folder's record of unusable originals is read in the job.
        gen = iter_export(
            self._dataset,
            self._project,
            self._plan,
            self._generated,
            Path(text).expanduser(),
            self.link_button.isChecked(),
            overwrite=self.overwrite.isChecked(),
            overwrite_all=self.overwrite.isChecked() and self.overwrite_all.isChecked(),
            bad_sources=self._bad_sources,
            staging=self._staging,
            leak_check=self._leak_check,
            keep_exif_orientation=self.keep_exif.isChecked(),
        )
        self._job = start_job(
            gen,
            owner=self,
            progress=self._on_progress,
            done=self._on_done,
            error=self._on_error,
            finished=self._on_finished,
        )
        self._update_buttons()

    def confirm_unreviewed(self, n: int) -> bool:
        """Ask whether to export `n` diffusion images no one has reviewed (default: no)."""
        answer = QMessageBox.question(
            self,
            "Export unreviewed images?",
            f"{n} diffusion images have not been reviewed. Generated images can carry "
            "artefacts a model learns to rely on.\n\nExport them anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def cancel(self) -> None:
        """Stop the export; its temporary folder is removed and no OUT is left."""
        if self._job is not None:
            self._say("Cancelling…")
            self.cancel_button.setEnabled(False)
            self._job.cancel()

    # -- job callbacks --------------------------------------------------------------------

    def _on_progress(self, event: Any) -> None:
        if event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)
        else:
            self.progress.setRange(0, 0)
        if event.message:
            self._say(event.message[:1].upper() + event.message[1:])

    def _on_done(self, report: Any) -> None:
        self.report = report
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        sizes = ", ".join(f"{s} {sum(c['after']):,}" for s, c in report.counts.items())
        lines = [f"Exported {report.files:,} files to {report.out} ({sizes})."]
        from ...core.export.report import left_out_text
        from ...core.text import summarize

        if report.left_out:
            lines.append(f"Left out: {left_out_text(report.left_out)} (each in left_out.csv).")
        train = report.counts["train"]
        still = _still_imbalanced_text(train["before"], train["after"], "is still")
        lines += [still] if still else []
        lines += report.notes

        for split, names in getattr(report, "empty_classes", {}).items():
            lines.append(f"{split}/ has no image of {summarize(names)} (see README.md to load it).")
        self._say("\n".join(lines))
        self.open_button.setVisible(True)
        self.exportFinished.emit(report)

    def _on_error(self, exc: BaseException) -> None:
        from ..views.option_words import in_dialog_words

        boxes = {"--overwrite": self.overwrite, "--overwrite-all": self.overwrite_all}
        self.error = in_dialog_words(str(exc) or type(exc).__name__, boxes)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self._say(self.error, error=True)
        self.exportFailed.emit(self.error)

    def _on_finished(self) -> None:
        job, self._job = self._job, None
        self._update_buttons()
        if job is not None and job.cancelled:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self._say("Export cancelled; nothing was written.")
            # Emitted after the job closed the export, so its temporary folder is gone.
            self.exportCancelled.emit()
        self._job_ended()

    # -- helpers --------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        running = self.running
        self.export_button.setEnabled(not running and bool(self.destination.text().strip()))
        self.cancel_button.setEnabled(running)
        widgets = (self.destination, self.copy_button, self.link_button, self.keep_exif)
        for w in (*widgets, self.overwrite):
            w.setEnabled(not running)
        self.overwrite_all.setEnabled(not running and self.overwrite.isChecked())

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to folder", self.destination.text())
        if folder:
            self.set_destination(folder)

    def _open_folder(self) -> None:
        if self.report is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.report.out)))


def _still_imbalanced_text(before: list[int], after: list[int], verb: str) -> str:
    """What to do about a training split the export leaves imbalanced ("" when it does not)."""
    from ...core.export.report import imbalance_text, left_imbalanced

    if not left_imbalanced(before, after):
        return ""
    return (
        f"The training split {verb} imbalanced ({imbalance_text(after)}): no class target "
        "rebalances it. Set targets in the Balance tab, or correct for it in training with "
        "the class or sampler weights every export writes (weights.json, sampler_weights.csv)."
    )


def _train_origins_text(plan: Any) -> str:
    """Where the training images come from, when not all are originals ("" otherwise)."""
    train = plan.splits["train"]
    kept = sum(len(cp.kept) for cp in train)
    copies = sum(len(cp.duplicates) for cp in train)
    made, _classes = plan.generation_total()
    if not copies and not made:
        return ""
    parts = [f"{kept:,} originals"]
    if copies:
        parts.append(f"{copies:,} exact copies")
    if made:
        parts.append(f"{made:,} generated (staged in the Generate tab)")
    return "Train: " + ", ".join(parts) + ".\n"
