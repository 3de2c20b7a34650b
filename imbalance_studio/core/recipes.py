"""Recipe search: which way of balancing helps THIS dataset? A small fixed grid of recipes,
each made with the ordinary plan -> generate -> export code into a temporary folder and judged
with the Evaluate code (same small CNN, seed, steps and input size) on the validation split
only. Exports are shared between recipes that need the same files (raw, reweight and sampler
all train on the originals). The project is never changed: every recipe works on a copy, and
staging and exports live in a temporary folder deleted at the end (or on Cancel).

The grid (RECIPES, in this order):
- raw: the original training images, plain loss (the baseline every recipe is compared to);
- reweight: originals, loss weighted by balanced_original_train (Evaluate's `weighted` arm);
- sampler: originals drawn by WeightedRandomSampler (Evaluate's `sampler` arm);
- duplicate: `--policy oversample --method duplicate` (plain copies);
- augment-safe / augment-medium: `--policy oversample` with the safe / medium preset;
- augment-own: `--policy oversample` with the project's own default stack, when it has one.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .evaluate.metrics import bootstrap_balanced_accuracy, interval, scores
from .evaluate.model import DEFAULT_STEPS
from .evaluate.run import estimate_seconds
from .project import Method, Project

FORMAT = "imbalance-studio-recipes"
RAREST = 2  # the recall of this many rarest classes is reported per recipe
# The product's default recipe (oversample by label-safe augmentation, what the article
# recommends): it stays the recommendation unless another recipe beats it beyond noise. A
# validation split of a long-tailed folder is small (one or two images of the rarest class),
# so "best on validation" alone would often swap recipes on one image.
DEFAULT_RECIPE = "augment-safe"


class RecipeError(Exception):
    """A search that cannot run; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class Recipe:
    name: str
    what: str
    method: str | None  # None: the originals (no policy); else how oversample closes gaps
    stack: str | None  # a preset name, "own" (the project's stack) or None
    arm: str  # the Evaluate arm that trains it

    @property
    def export_key(self) -> str:
        return "originals" if self.method is None else f"{self.method}-{self.stack or 'none'}"

    def apply(self) -> dict:
        """What applying this recipe to a project sets: policy, method, stack."""
        if self.method is None:
            return {"policy": None, "method": None, "stack": None, "loss": self.arm}
        return {"policy": "oversample", "method": self.method, "stack": self.stack, "loss": None}


RECIPES = (
    Recipe("raw", "the original training images, plain loss (baseline)", None, None, "raw"),
    Recipe("reweight", "originals, loss weighted by balanced_original_train", None, None,
           "weighted"),
    Recipe("sampler", "originals drawn by WeightedRandomSampler (1 / class count)", None,
           None, "sampler"),
    Recipe("duplicate", "oversample by plain copies", Method.DUPLICATE.value, None, "balanced"),
    Recipe("augment-safe", "oversample by augmentation, label-safe preset (no flips)",
           Method.AUGMENT.value, "safe", "balanced"),
    Recipe("augment-medium", "oversample by augmentation, medium preset (with flips)",
           Method.AUGMENT.value, "medium", "balanced"),
    Recipe("augment-own", "oversample by augmentation, the project's own stack",
           Method.AUGMENT.value, "own", "balanced"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RecipeProgress:
    """One event: `recipe` being made or judged, `phase` ("RECIPE: make generate", "RECIPE:
    train ARM", ...), done/total within the phase, `index`/`count` the recipe's place in the grid."""

    recipe: str
    phase: str
    done: int
    total: int
    index: int
    count: int


def recipes_for(project: Project) -> tuple[Recipe, ...]:
    """The grid for this project (augment-own only when the project has its own stack)."""
    own = project.augment.default_stack is not None
    return tuple(r for r in RECIPES if r.stack != "own" or own)


def estimate(n_recipes: int, steps: int, size: int, seeds: int, device: str = "cpu") -> float:
    """Seconds of training for the search (generation and export of a few hundred images
    add a little)."""
    return estimate_seconds(n_recipes * seeds, steps, size, device)


def fit_budget(
    n_recipes: int, steps: int, size: int, seeds: int, budget_s: float | None, device: str
) -> tuple[int, int, list[str]]:
    """(steps, seeds) that fit `budget_s`: first one seed, then fewer steps (at least 20)."""
    notes: list[str] = []
    if budget_s is None:
        return steps, seeds, notes
    if seeds > 1 and estimate(n_recipes, steps, size, seeds, device) > budget_s:
        seeds = 1
        notes.append("one seed instead of two, to fit the budget")
    per_step = estimate(n_recipes, 1, size, seeds, device)
    fit = max(20, int(budget_s / per_step))
    if fit < steps:
        notes.append(f"{fit} steps instead of {steps}, to fit the budget")
        steps = fit
    return steps, seeds, notes


def _project_for(base: Project, recipe: Recipe, counts: dict[str, int]) -> Project:
    from .augment import PRESETS
    from .policies import apply_policy

    p = base.model_copy(deep=True)
    p.staging_dir = None
    if recipe.method is None:
        p.targets, p.policy = {}, None
        return p
    p.targets = apply_policy("oversample", counts, Method(recipe.method))
    p.policy = "oversample"
    if recipe.stack in PRESETS:
        p.augment.default_stack = PRESETS[recipe.stack]
        p.augment.class_stacks = {}
    return p


def _make_export(dataset, project, groups, folder: Path, workers: int) -> Generator:
    """Plan, generate (into folder/staging) and export (into folder/export) as the CLI does."""
    from .export.run import ExportError, iter_export
    from .generation import GenerateError, as_problem, iter_generate
    from .plan import make_plan

    plan = make_plan(dataset, project, groups=groups)
    staging = folder / "staging"
    generated: list = []
    try:
        if any(cp.generate for cp in plan.splits["train"]):
            generated = yield from iter_generate(dataset, project, plan, staging, workers)
            dataset = dataset.without(as_problem(p, r) for p, r in generated.bad_sources.items())
        yield from iter_export(dataset, project, plan, generated, folder / "export", True)
    except (GenerateError, ExportError) as exc:
        raise RecipeError(f"cannot make the recipe's training images: {exc}") from exc
    return folder / "export"


def iter_recipes(
    dataset,
    project: Project,
    groups: dict[str, str] | None = None,
    *,
    seeds: tuple[int, ...] = (1,),
    steps: int = DEFAULT_STEPS,
    size: int = 64,
    device: str = "cpu",
    workers: int = 1,
    threads: int | None = None,
    workdir: Path | None = None,
) -> Generator[RecipeProgress, None, dict]:
    """Make and judge every recipe of `recipes_for(project)`; return the table (a JSON-able
    dict: see `_table`). Writes only in a temporary folder (under `workdir` if given), which is
    removed at the end or when the generator is closed (Cancel)."""
    from .evaluate import EvaluateError, iter_evaluate
    from .plan import train_counts

    grid = recipes_for(project)
    if not seeds:
        raise RecipeError("at least one seed is needed")
    counts = train_counts(dataset, project, groups=groups)
    tmp = Path(tempfile.mkdtemp(prefix="recipes-", dir=workdir))
    start = time.monotonic()
    try:
        exports: dict[str, Path] = {}
        runs: dict[str, list[dict]] = {r.name: [] for r in grid}
        for i, recipe in enumerate(grid):
            key = recipe.export_key
            if key not in exports:  # one export per distinct set of training files
                folder = tmp / key
                folder.mkdir()
                steps_gen = _make_export(
                    dataset, _project_for(project, recipe, counts), groups, folder, workers
                )
                exports[key] = yield from _relay(steps_gen, recipe.name, "make", i, len(grid))
            for seed in seeds:
                try:
                    gen = iter_evaluate(
                        exports[key], seed=seed, device=device, steps=steps, size=size,
                        arms=(recipe.arm,), threads=threads, keep_predictions=True,
                    )  # fmt: skip
                    report = yield from _relay(gen, recipe.name, "", i, len(grid))
                except EvaluateError as exc:
                    raise RecipeError(f"recipe {recipe.name}: {exc}") from exc
                runs[recipe.name].append(report)
        return _table(grid, runs, seeds, steps, size, time.monotonic() - start)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _relay(gen: Generator, recipe: str, prefix: str, index: int, count: int) -> Generator:
    """Yield `gen`'s events as RecipeProgress; return its value. Closing closes `gen`."""
    try:
        while True:
            try:
                ev = next(gen)
            except StopIteration as stop:
                return stop.value
            phase = getattr(ev, "phase", None) or getattr(ev, "stage", None) or type(ev).__name__
            done = int(getattr(ev, "done", 0) or 0)
            total = int(getattr(ev, "total", 0) or 0)
            yield RecipeProgress(
                recipe, f"{recipe}: {prefix} {phase}".strip(), done, total, index, count
            )
    finally:
        gen.close()


def _table(grid, runs, seeds, steps, size, seconds) -> dict:
    """Per recipe: mean balanced accuracy / macro-F1 / rarest recall over seeds, their spread
    (max - min), a paired bootstrap interval of the gap to the best, and the winner: the best
    on validation, or DEFAULT_RECIPE when the best's lead over it is within noise."""
    first = runs[grid[0].name][0]
    paths = first["predictions"]["paths"]
    for name, reports in runs.items():
        if any(r["predictions"]["paths"] != paths for r in reports):
            raise RecipeError(f"recipe {name}: judged on other validation images")  # never
    classes = first["classes"]
    k = len(classes)
    train = first["train_original_counts"]
    present = [c for c in range(k) if first["val_counts"][c]]
    rarest = sorted(present, key=lambda c: (train[c], c))[:RAREST]
    y = np.tile(np.asarray(first["predictions"]["labels"], np.int64), len(seeds))
    preds, rows = {}, {}
    for recipe in grid:
        reports = runs[recipe.name]
        per_seed = [next(iter(r["arms"].values())) for r in reports]
        bal = [a["balanced_accuracy"] for a in per_seed]
        f1 = [a["macro_f1"] for a in per_seed]
        rare = [float(np.mean([a["per_class_recall"][c] for c in rarest])) for a in per_seed]
        preds[recipe.name] = np.concatenate(
            [np.asarray(r["predictions"]["arms"][recipe.arm], np.int64) for r in reports]
        )
        cm_total = np.sum([a["confusion"] for a in per_seed], axis=0)
        rows[recipe.name] = {
            "what": recipe.what,
            "arm": recipe.arm,
            "apply": recipe.apply(),
            "n_train": per_seed[0]["n_train"],
            "balanced_accuracy": float(np.mean(bal)),
            "macro_f1": float(np.mean(f1)),
            "rarest_recall": float(np.mean(rare)),
            "spread": float(max(bal) - min(bal)),
            "per_seed": bal,
            "per_class_recall": scores(cm_total)["per_class_recall"],
        }
    # Ties go to the simpler recipe (the grid's order: raw first).
    best = max(rows, key=lambda n: (round(rows[n]["balanced_accuracy"], 9), -list(rows).index(n)))
    boot = bootstrap_balanced_accuracy(y, preds, seeds[0])
    for name, row in rows.items():
        lo, hi = interval(boot[best] - boot[name])
        row["gap_to_best_interval"] = [lo, hi]
        row["within_noise_of_best"] = name == best or lo <= 0
    winner, why = best, "the best balanced accuracy on validation"
    if best != DEFAULT_RECIPE and rows.get(DEFAULT_RECIPE, {}).get("within_noise_of_best"):
        winner = DEFAULT_RECIPE
        why = (
            f"the default recipe: {best} scored higher on validation, but within noise "
            "(the paired bootstrap interval of the gap reaches 0)"
        )
    raw = rows.get("raw", {}).get("balanced_accuracy")
    return {
        "format": FORMAT,
        "version": 1,
        "split": "val",
        "classes": classes,
        "val_counts": first["val_counts"],
        "train_original_counts": train,
        "rarest_classes": [classes[c] for c in rarest],
        "seeds": list(seeds),
        "steps": steps,
        "size": size,
        "model": first["model"],
        "recipes": rows,
        "best_on_validation": best,
        "winner": winner,
        "winner_why": why,
        "winner_apply": rows[winner]["apply"],
        "gain_over_raw": None if raw is None else rows[winner]["balanced_accuracy"] - raw,
        "seconds": round(seconds, 1),
    }
