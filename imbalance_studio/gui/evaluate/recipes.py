"""The Evaluate tab's recipe search: "Find the best recipe" tries a small fixed grid of
balancing recipes on the open dataset in the background (progress per recipe, Cancel), shows
the table, and "Use this recipe" applies the winner to the project as one undoable step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ...core.recipes import DEFAULT_BUDGET_MIN
from ..jobs import start_job
from ..views.progress_bar import ProgressBar

if TYPE_CHECKING:
    from ..curation.controller import CurationController

STEPS, SIZE, SEEDS = 200, 64, (1, 2)
BUDGET_S = 60 * DEFAULT_BUDGET_MIN
BEST = QColor("#e3f1e0")
COLUMNS = ("recipe", "bal. acc.", "spread", "macro-F1", "rarest recall", "vs best", "what")


class RecipeSearch(QGroupBox):
    def __init__(self, controller: CurationController) -> None:
        super().__init__("Find the best recipe for this dataset")
        self.controller = controller
        self.job: Any = None
        self.table_data: dict | None = None
        intro = QLabel(
            "Tries re-weighting, the sampler, duplication, augmentation (the default preset safe, "
            "medium, your own stack), CutMix for the smallest classes, and the best of these with the "
            "largest classes capped mildly, on the open dataset, each trained the same way and "
            "judged on its validation split. Temporary files only: the project changes only when you "
            "click <i>Use this recipe</i> (undoable)."
        )
        intro.setWordWrap(True)
        self.find_button = QPushButton("Find the best recipe")
        self.find_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.use_button = QPushButton("Use this recipe")
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self.use_winner)
        row = QHBoxLayout()
        for b in (self.find_button, self.cancel_button, self.use_button):
            row.addWidget(b)
        row.addStretch(1)
        self.progress = ProgressBar()
        self.progress.hide()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.table)

    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.running

    def start(self) -> None:
        from ...core.evaluate.model import resolve_device
        from ...core.recipes import estimate, fit_budget, iter_recipes, search_size

        c = self.controller
        groups = c.split_groups()
        if c.dataset is None or c.project is None or groups is None:
            self.status.setText("Open a dataset first (and wait for its plan).")
            return
        project = c.project.model_copy(deep=True)
        n = search_size(project)
        device = resolve_device("auto")
        images = len(c.dataset.samples)
        steps, n_seeds, _ = fit_budget(n, STEPS, SIZE, len(SEEDS), BUDGET_S, device, images)
        seconds = estimate(n, steps, SIZE, n_seeds, device, images)
        self.find_button.setEnabled(False)
        self.use_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status.setText(
            f"Up to {n} recipes, {n_seeds} seed(s), {steps} steps each: about "
            f"{max(1, round(seconds / 60))} minute(s)…"
        )
        self.job = start_job(
            iter_recipes, c.dataset, project, groups, seeds=SEEDS[:n_seeds], steps=steps,
            size=SIZE, device=device, owner=self, key=("recipes", id(self)),
            progress=self._on_progress, done=self.show_table, error=self._on_error,
            finished=self._on_finished,
        )  # fmt: skip

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
        self.status.setText("Cancelled: the project is unchanged.")
        self._on_finished()

    def _on_progress(self, event: Any) -> None:
        self.progress.setRange(0, max(1, event.total))
        self.progress.setValue(event.done)
        self.status.setText(
            f"Recipe {event.index + 1} of {event.count}: <b>{event.recipe}</b> — {event.phase}"
        )

    def _on_error(self, exc: BaseException) -> None:
        self.status.setText(f"Could not search: {exc}")

    def _on_finished(self) -> None:
        self.find_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.hide()

    def show_table(self, table: dict) -> None:
        self.table_data = table
        rows = table["recipes"]
        self.table.setRowCount(len(rows))
        for i, (name, r) in enumerate(rows.items()):
            if name == table["winner"]:
                verdict = "winner"
            elif name == table["best_on_validation"]:
                verdict = "best on val"
            else:
                verdict = "within noise" if r["within_noise_of_best"] else "worse"
            cells = (
                name, f"{r['balanced_accuracy']:.3f}", spread(r),
                f"{r['macro_f1']:.3f}", f"{r['rarest_recall']:.2f}", verdict, r["what"],
            )  # fmt: skip
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if name == table["winner"]:
                    item.setBackground(QBrush(BEST))
                self.table.setItem(i, j, item)
        self.table.show()
        self.table.setMinimumHeight(self.table.sizeHintForRow(0) * (len(rows) + 2))
        gain = table["gain_over_raw"]
        line = f"Winner: <b>{table['winner']}</b>"
        if gain is not None:
            line += f", {100 * gain:+.1f} balanced-accuracy points over raw"
        rare = ", ".join(table["rarest_classes"])
        small = ", ".join(table.get("cutmix_classes") or ()) or "none"
        caution = f"<br><b>Caution:</b> {table['caution']}." if table.get("caution") else ""
        self.status.setText(
            f"{line} — {table['winner_why']} (validation split; rarest classes: {rare}; "
            f"CutMix tried for: {small}).{caution}"
        )
        self.use_button.setEnabled(True)

    def use_winner(self) -> None:
        if self.table_data is None:
            return
        name = self.table_data["winner"]
        apply = self.table_data["winner_apply"]
        c = self.controller
        # One undoable step: targets, policy and stack, then CutMix exactly where the recipe
        # has it (a recipe without CutMix switches it off: recipes were judged that way).
        c.undo_stack.beginMacro(f"Recipe {name}")
        try:
            c.apply_recipe(apply, name)
            if c.project is not None:
                want = set(apply.get("cutmix_classes") or ())
                for cls in sorted(set(c.project.generation.cutmix_classes) | want):
                    c.set_cutmix(cls, cls in want)
        finally:
            c.undo_stack.endMacro()
        self.status.setText(
            f"Applied recipe <b>{name}</b>: {describe(apply)}. Edit ▸ Undo reverts it."
        )


def spread(row: dict) -> str:
    """Half the spread over seeds; a dash with one seed (nothing to spread)."""
    return f"±{row['spread'] / 2:.3f}" if len(row["per_seed"]) > 1 else "—"


def describe(apply: dict) -> str:
    """What a recipe's "apply" sets, in words."""
    policy = apply["policy"]
    if not policy:
        return f"no targets; train with the export's weights.json ({apply['loss']})"
    if policy.startswith("cap:") and apply.get("loss"):
        what = f"policy {policy} (the largest classes undersampled)"
    else:
        what = f"policy {policy} by {apply['method']}"
    if apply["stack"] and apply["stack"] != "own":
        what += f" with the {apply['stack']} preset"
    if apply.get("cutmix_classes"):
        what += f", CutMix for {', '.join(apply['cutmix_classes'])}"
    if apply.get("loss"):
        what += f"; train with the export's weights.json ({apply['loss']})"
    return what
