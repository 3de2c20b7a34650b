"""FeaturesDialog (File ▸ Export features…): HOG vectors for SVMs, the training split
resampled with SMOTE & co., shown before they are written.

Compute runs `core.features.preview.iter_preview` as one job (featurize every split in the
pool, resample, PCA, the SVC check); another sampler re-runs only `try_sampler`; Export
writes the computed vectors with `iter_write`. Every job goes through `gui.jobs.start_job`;
Cancel closes it. Pixel-space SMOTE is offered as a choice only to say why it is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.features.hog import DEFAULT_SIZE, MAX_SIZE, MIN_SIZE
from ...core.features.resample import DEFAULT_SAMPLER, SAMPLERS
from ...core.text import plural
from ..job_dialog import JobDialog
from ..jobs import Job, start_job
from ..views.progress_bar import ProgressBar
from . import views

ERROR_STYLE = "color: #b00020;"
# The article's reason, in one sentence, for refusing SMOTE on raw pixels.
PIXELS_REFUSAL = (
    "SMOTE on raw pixels is refused: interpolating between two images in pixel space "
    "destroys the spatial structure convolutional layers depend on and gives a blurry, "
    "unrealistic hybrid; for CNNs balance with augmentation instead (Augment and Generate "
    "tabs, then File ▸ Export…)."
)


class FeaturesDialog(JobDialog):
    """Signals: computed(SamplerTrial), exported(FeaturesReport), failed(str)."""

    computed = Signal(object)
    exported = Signal(object)
    failed = Signal(str)

    def __init__(self, dataset: Any, project: Any, plan: Any, parent: QWidget | None = None,
                 *, workers: int | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.setWindowTitle("Export feature vectors (HOG + SMOTE) for SVMs")
        self.resize(1180, 900)
        self._dataset, self._project, self._plan = dataset, project, plan
        self._workers = workers
        self._job: Job | None = None
        self._job_kind = ""
        self.trial: Any = None  # the latest SamplerTrial
        self.report: Any = None

        n = {s: sum(len(cp.kept) for cp in plan.splits[s]) for s in ("train", "val", "test")}
        summary = QLabel(
            f"One HOG descriptor per kept original image: train {n['train']:,}, val "
            f"{n['val']:,}, test {n['test']:,} · {len(plan.classes)} classes · seed "
            f"{plan.seed}. Only the <b>training</b> split is resampled; validation and test "
            "keep original vectors only. For SVMs and other classical models working on flat "
            "vectors."
        )
        summary.setWordWrap(True)

        self.hog_button = QRadioButton("HOG descriptors (skimage.feature.hog, grayscale)")
        self.hog_button.setChecked(True)
        self.pixels_button = QRadioButton("Raw pixels")
        self.pixels_button.setEnabled(False)
        self.pixels_button.setToolTip(PIXELS_REFUSAL)
        self.pixels_refusal = QLabel("⚠ " + PIXELS_REFUSAL)
        self.pixels_refusal.setWordWrap(True)
        self.pixels_refusal.setStyleSheet("color: #8a4b00;")
        kinds = QHBoxLayout()
        kinds.addWidget(self.hog_button)
        kinds.addWidget(self.pixels_button)
        kinds.addStretch(1)

        self.size_box = QSpinBox()
        self.size_box.setRange(MIN_SIZE, MAX_SIZE)
        self.size_box.setSingleStep(8)
        self.size_box.setValue(DEFAULT_SIZE)
        self.size_box.setSuffix(" px square")
        self.size_box.valueChanged.connect(self._on_size)
        self.sampler_box = QComboBox()
        for name, text in SAMPLERS.items():
            self.sampler_box.addItem(name, name)
            self.sampler_box.setItemData(
                self.sampler_box.count() - 1, text, Qt.ItemDataRole.ToolTipRole
            )
        self.sampler_box.setCurrentIndex(list(SAMPLERS).index(DEFAULT_SAMPLER))
        self.sampler_box.currentIndexChanged.connect(self._on_sampler)
        self.sampler_note = QLabel(SAMPLERS[DEFAULT_SAMPLER])
        self.compute_button = QPushButton("Compute vectors")
        self.compute_button.clicked.connect(self.compute)
        sampler_row = QHBoxLayout()
        sampler_row.addWidget(self.sampler_box)
        sampler_row.addWidget(self.sampler_note, 1)
        size_row = QHBoxLayout()
        size_row.addWidget(self.size_box)
        size_row.addWidget(QLabel("grayscale, bilinear resize, then HOG (9 orientations, "
                                  "8 × 8-px cells, 2 × 2-cell blocks, L2-Hys)"), 1)  # fmt: skip
        size_row.addWidget(self.compute_button)

        form = QFormLayout()
        form.addRow("Features", kinds)
        form.addRow("", self.pixels_refusal)
        form.addRow("Image size", size_row)
        form.addRow("Sampler (train)", sampler_row)

        self.before_plot = views.make_scatter("Training vectors before (PCA, 2-D)")
        self.after_plot = views.make_scatter("After resampling: ● real  × synthetic")
        plots = QHBoxLayout()
        plots.addWidget(self.before_plot, 1)
        plots.addWidget(self.after_plot, 1)
        self.counts_table = views.make_table()
        self.check_table = views.make_table()
        self.check_title = QLabel("<b>Quick check</b>: SVC() with default settings, judged on "
                                  "the validation vectors")  # fmt: skip
        self.check_title.setWordWrap(True)
        tables = QHBoxLayout()
        left, right = QVBoxLayout(), QVBoxLayout()
        left.addWidget(QLabel("<b>Counts</b> (vectors per class)"))
        left.addWidget(self.counts_table)
        right.addWidget(self.check_title)
        right.addWidget(self.check_table)
        tables.addLayout(left, 1)
        tables.addLayout(right, 1)

        self.destination = QLineEdit()
        self.destination.setPlaceholderText("A new or empty folder outside the dataset")
        self.destination.textChanged.connect(self._update_buttons)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.overwrite = QCheckBox("Replace a previous export in this folder")
        dest = QHBoxLayout()
        dest.addWidget(QLabel("Export to"))
        dest.addWidget(self.destination, 1)
        dest.addWidget(browse)
        dest.addWidget(self.overwrite)

        self.progress = ProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel("Compute the vectors to see them and the SVC check before export.")
        self.status.setWordWrap(True)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.export)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.export_button, self.cancel_button, close):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addLayout(form)
        layout.addLayout(plots, 3)
        layout.addLayout(tables, 2)
        layout.addLayout(dest)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self._update_buttons()

    # -- public -------------------------------------------------------------------------

    @property
    def sampler(self) -> str:
        return self.sampler_box.currentData()

    def set_sampler(self, name: str) -> None:
        self.sampler_box.setCurrentIndex(list(SAMPLERS).index(name))

    def set_destination(self, path: str | Path) -> None:
        self.destination.setText(str(path))

    def compute(self) -> None:
        """Featurize every split (background, both cores), resample, project, check."""
        from ...core.features.hog import FeatureSettings
        from ...core.features.preview import iter_preview

        if self.running:
            return
        settings = FeatureSettings(self.size_box.value())
        gen = iter_preview(self._dataset, self._project, self._plan, self.sampler, settings,
                           self._workers)  # fmt: skip
        self._start("compute", gen, "Computing HOG vectors…")

    def export(self) -> None:
        """Write the computed vectors (atomically) to the destination folder."""
        from ...core.features.run import iter_write

        text = self.destination.text().strip()
        if self.running or not text or self.trial is None or self.trial.resampled is None:
            return
        gen = iter_write(
            self._dataset.root, self.trial.features, self.trial.resampled, self._plan,
            self._project, Path(text).expanduser(), overwrite=self.overwrite.isChecked(),
            real_dirs=getattr(self._dataset, "real_dirs", ()),
        )  # fmt: skip
        self._start("export", gen, "Writing the feature files…")

    def cancel(self) -> None:
        if self._job is not None:
            self._say("Cancelling…")
            self.cancel_button.setEnabled(False)
            self._job.cancel()

    # -- jobs ---------------------------------------------------------------------------

    def _start(self, kind: str, work: Any, message: str, *args: Any) -> None:
        self._job_kind = kind
        self._say(message)
        self.progress.setRange(0, 0)
        self._job = start_job(
            work, *args, owner=self, progress=self._on_progress, done=self._on_done,
            error=self._on_error, finished=self._on_finished,
        )  # fmt: skip
        self._update_buttons()

    def _on_sampler(self, _index: int) -> None:
        self.sampler_note.setText(SAMPLERS[self.sampler])
        if self.trial is None or self.running:
            return
        from ...core.features.preview import try_sampler
        from ...core.features.run import plan_targets

        targets = plan_targets(self._project, self._plan)
        self._start("compute", try_sampler, f"Resampling with {self.sampler}…",
                    self.trial.features, self.sampler, self._plan.seed, targets)  # fmt: skip

    def _on_size(self, _value: int) -> None:
        if self.trial is not None and not self.running:
            self._say("The image size changed: compute the vectors again.")
        self.trial = None
        self._update_buttons()

    def _on_progress(self, event: Any) -> None:
        if event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)
        else:
            self.progress.setRange(0, 0)
        if event.message:
            self._say(event.message[:1].upper() + event.message[1:])

    def _on_done(self, result: Any) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        if self._job_kind == "export":
            self.report = result
            sizes = ", ".join(f"{s} {sum(c['after']):,}" for s, c in result.counts.items())
            self._say(f"Exported {result.dimensions}-value vectors to {result.out} ({sizes}).")
            self.exported.emit(result)
            return
        self.trial = result
        self._show_trial(result)
        self.computed.emit(result)

    def _on_error(self, exc: BaseException) -> None:
        from ..views.option_words import in_dialog_words

        # No "delete the files added" box here: the refusal says to move them out instead.
        words = {"--overwrite": self.overwrite, "--overwrite-all": "move them out of the folder"}
        message = in_dialog_words(str(exc) or type(exc).__name__, words)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self._say(message, error=True)
        self.failed.emit(message)

    def _on_finished(self) -> None:
        job, self._job = self._job, None
        if job is not None and job.cancelled:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self._say("Cancelled; nothing was written.")
        self._update_buttons()
        self._job_ended()

    # -- drawing ------------------------------------------------------------------------

    def _show_trial(self, trial: Any) -> None:
        fs, res = trial.features, trial.resampled
        train = fs.splits["train"]
        if trial.projection is not None:
            import numpy as np

            views.draw_scatter(self.before_plot, trial.projection.before, train.y,
                               np.zeros(len(train.y), bool), fs.classes, legend=True)  # fmt: skip
            views.draw_scatter(self.after_plot, trial.projection.after, res.y, res.synthetic,
                               fs.classes, legend=False)  # fmt: skip
            ex = trial.projection.explained
            self.before_plot.setTitle(
                f"Training vectors before: PCA axes explain {ex[0]:.0%} + {ex[1]:.0%}",
                color="#333",
                size="10pt",
            )
            self.after_plot.setTitle(f"After {trial.sampler}: ● real  × synthetic",
                                     color="#333", size="10pt")  # fmt: skip
        views.fill_table(self.counts_table, views.COUNT_HEADER, views.counts_rows(trial))
        if trial.check is not None:
            views.fill_table(self.check_table, views.CHECK_HEADER,
                             views.check_rows(trial.check, fs.classes))  # fmt: skip
            verdict = "helped" if trial.check.helped else "did not help"
            self.check_title.setText(
                f"<b>Quick check</b>: SVC() with default settings, judged on the "
                f"{trial.check.n_val:,} validation vectors — <b>{trial.sampler} {verdict}</b> "
                "(balanced accuracy)."
            )
        else:
            self.check_table.clear()
            self.check_table.setRowCount(0)
            self.check_title.setText(f"<b>Quick check</b>: {trial.check_error or 'not run'}")
        if trial.error:
            self._say(trial.error, error=True)
            return
        lines = [f"{len(res.y):,} training vectors after {trial.sampler} "
                 f"({int(res.synthetic.sum()):,} synthetic); {fs.settings.dimensions:,} values "
                 "each."]  # fmt: skip
        lines += res.notes
        if fs.problems:
            lines.append(
                f"{plural(len(fs.problems), 'problem file')} left out (the export lists them)."
            )
        self._say("\n".join(lines))

    # -- helpers ------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        running = self.running
        ready = self.trial is not None and self.trial.resampled is not None
        self.export_button.setEnabled(
            not running and ready and bool(self.destination.text().strip())
        )
        self.cancel_button.setEnabled(running)
        self.compute_button.setEnabled(not running)
        for w in (self.size_box, self.sampler_box, self.destination, self.overwrite):
            w.setEnabled(not running)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export features to folder")
        if folder:
            self.set_destination(folder)
