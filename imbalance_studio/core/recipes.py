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
- augment-own: `--policy oversample` with the project's own default stack, when it has one;
- augment-safe+cutmix: augment-safe with intra-class CutMix on for the smallest classes (every
  other new image of those classes a CutMix of two of its originals), when a class is small;
- BEST+cap: after the others, their winner (see `_table`) with the majority undersampled
  mildly (`cap:K`: no class above 3/4 of the largest), when that caps anything.
"""

from __future__ import annotations

import math
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
# raw's balanced accuracy within this of chance (1 / classes): the models had not learnt yet
CHANCE_MARGIN = 0.02
# The product's default recipe (oversample by label-safe augmentation, what the article
# recommends). A validation split of a long-tailed folder is small (one or two images of the
# rarest class), so "best on validation" alone swaps recipes on one image: raw once won the
# search on 83 validation digits and was the worst recipe on 1,258 held-out ones. So the
# winner is the best on validation only when it beats these, in this order, beyond noise:
# the recipes that did best on held-out long-tailed digits (benchmarks/bench_recipes.py;
# CutMix for the smallest classes on top of the default stack scored highest there). One of
# them that scored below raw on validation is never the pick.
DEFAULT_RECIPE = "augment-safe"
PREFERRED = ("augment-safe+cutmix", DEFAULT_RECIPE)
# Two seeds of the whole grid (8 recipes, 200 steps at 64 px) fit in it on a 2-core CPU: a
# second seed halves the training noise the search's choice rests on (CLI and window).
DEFAULT_BUDGET_MIN = 6.0
# The mild cap: the largest class keeps this share of its training images (cap:K, K chosen so).
CAP_SHARE = 0.75


class RecipeError(Exception):
    """A search that cannot run; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class Recipe:
    name: str
    what: str
    method: str | None  # None: the originals (no policy); else how gaps are closed
    stack: str | None  # a preset name, "own" (the project's stack) or None
    arm: str  # the Evaluate arm that trains it
    cutmix: bool = False  # intra-class CutMix on for the smallest classes
    policy: str | None = None  # None: "oversample" when there is a method, else no targets

    @property
    def plan_policy(self) -> str | None:
        return self.policy or ("oversample" if self.method else None)

    @property
    def export_key(self) -> str:
        if self.method is None and self.policy is None:
            return "originals"
        key = f"{self.plan_policy}-{self.method or 'none'}-{self.stack or 'none'}"
        return key.replace(":", "_") + ("-cutmix" if self.cutmix else "")

    def apply(self, cutmix_classes: list[str] = ()) -> dict:
        """What applying this recipe to a project sets: policy, method (how a policy closes
        gaps; for cap:K alone it closes none), stack, the classes with CutMix on, and the loss
        to train with (an Evaluate arm: "weighted" and "sampler" are chosen at training time,
        from the export's weights.json)."""
        return {
            "policy": self.plan_policy,
            "method": self.method or (Method.AUGMENT.value if self.policy else None),
            "stack": self.stack,
            "cutmix_classes": list(cutmix_classes) if self.cutmix else [],
            "loss": None if self.arm == "balanced" else self.arm,
        }


RECIPES = (
    Recipe("raw", "the original training images, plain loss (baseline)", None, None, "raw"),
    Recipe("reweight", "originals, loss weighted by balanced_original_train", None, None,
           "weighted"),
    Recipe("sampler", "originals drawn by WeightedRandomSampler (1 / class count)", None,
           None, "sampler"),
    Recipe("duplicate", "oversample by plain copies", Method.DUPLICATE.value, None, "balanced"),
    Recipe("augment-safe", "oversample by augmentation, the default preset safe (no flips)",
           Method.AUGMENT.value, "safe", "balanced"),
    Recipe("augment-medium", "oversample by augmentation, medium preset (with flips)",
           Method.AUGMENT.value, "medium", "balanced"),
    Recipe("augment-own", "oversample by augmentation, the project's own stack",
           Method.AUGMENT.value, "own", "balanced"),
    Recipe("augment-safe+cutmix", "augment-safe, and intra-class CutMix for the smallest "
           "classes", Method.AUGMENT.value, "safe", "balanced", cutmix=True),
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


# "The smallest classes" CutMix is tried on: at most this share of the largest class. On
# long-tailed digits (150 down to 8 images a class, 8 training seeds, held-out digits), with
# the default stack: CutMix for the classes at most a quarter of the largest (5 of 10)
# +2.6 to +2.9 balanced-accuracy points over raw; at most an eighth (the 3 rarest) +3.5 on
# seeds 2-9 and +3.1 on seeds 10-17 (the stack alone: +2.3).
CUTMIX_SHARE = 0.125


def smallest_classes(counts: dict[str, int]) -> list[str]:
    """The smallest classes: at most CUTMIX_SHARE of the largest, with two images or more
    (CutMix needs a donor)."""
    largest = max(counts.values(), default=0)
    return sorted(c for c, n in counts.items() if 2 <= n <= CUTMIX_SHARE * largest)


def mild_cap(counts: dict[str, int]) -> tuple[str, int] | None:
    """("cap:K", the cap) that keeps CAP_SHARE of the largest class, or None when it would
    cap nothing (or cut a class below the smallest)."""
    present = [n for n in counts.values() if n > 0]
    if not present:
        return None
    small, large = min(present), max(present)
    k = math.floor(100 * CAP_SHARE * large / small) / 100
    if k < 1:
        return None
    cap = math.floor(k * small)
    if cap >= large or cap < small:
        return None
    return f"cap:{k:g}", cap


def capped(best: Recipe, policy: str, cap: int) -> Recipe:
    """`best` with the majority capped: cap:K alone for a recipe of the originals; with an
    oversampling recipe every class goes to the cap (target:CAP: the big ones undersampled,
    the others filled by its method)."""
    what = f"{best.name}, the largest classes undersampled to {cap} images ({policy})"
    if best.method is not None:
        what += f", the others filled to {cap}"
    combined = policy if best.method is None else f"target:{cap}"
    return Recipe(
        f"{best.name}+cap", what, best.method, best.stack, best.arm, best.cutmix, combined
    )


def recipes_for(project: Project, counts: dict[str, int] | None = None) -> tuple[Recipe, ...]:
    """The grid for this project before the cap recipe (augment-own only when the project
    has its own stack; the CutMix recipe only when `counts`, if given, has a small class)."""
    own = project.augment.default_stack is not None
    small = counts is None or bool(smallest_classes(counts))
    return tuple(r for r in RECIPES if (r.stack != "own" or own) and (not r.cutmix or small))


def search_size(project: Project) -> int:
    """How many recipes a search may train (the grid and the cap recipe): for estimates."""
    return len(recipes_for(project)) + 1


# Making one recipe's images and export, per image of the dataset (generation, copies, the
# export's files): 11 s for 8 recipes of 227 digits of 32 px on a 2-core CPU. Larger pictures
# take longer; training, not this, dominates any search worth its budget.
PREP_S_PER_IMAGE = 0.006
# What a search pays whatever its steps: importing torch, torchvision and albumentations once
# (5.2 s for torch and torchvision alone on a 2-core CPU), then per trained run building the
# model, loading the images and judging. A 5-step search of 181 images took 18 s where
# training and making alone said 6 s; at 45 steps, 24 s.
START_S = 7.0
RUN_S = 0.2


def estimate(
    n_recipes: int, steps: int, size: int, seeds: int, device: str = "cpu", images: int = 0
) -> float:
    """Seconds for the search: the training, making each recipe's images and export
    (`images`: how many the dataset has), and what it pays whatever the steps."""
    training = estimate_seconds(n_recipes * seeds, steps, size, device)
    return training + _fixed(n_recipes, seeds, images)


def _prep(n_recipes: int, images: int) -> float:
    return n_recipes * images * PREP_S_PER_IMAGE


def _fixed(n_recipes: int, seeds: int, images: int) -> float:
    """Seconds that do not depend on the steps: imports, each run's set-up, the making."""
    return START_S + n_recipes * seeds * RUN_S + _prep(n_recipes, images)


def fit_budget(
    n_recipes: int,
    steps: int,
    size: int,
    seeds: int,
    budget_s: float | None,
    device: str,
    images: int = 0,
) -> tuple[int, int, list[str]]:
    """(steps, seeds) that fit `budget_s`: first one seed, then fewer steps (at least 20).
    What the search pays whatever its steps (imports, set-up, making the recipes' images
    and exports) comes out of the budget first."""
    notes: list[str] = []
    if budget_s is None:
        return steps, seeds, notes
    if seeds > 1 and estimate(n_recipes, steps, size, seeds, device, images) > budget_s:
        seeds = 1
        notes.append("one seed instead of two, to fit the budget")
    per_step = estimate_seconds(n_recipes * seeds, 1, size, device)
    fit = max(20, int((budget_s - _fixed(n_recipes, seeds, images)) / per_step))
    if fit < steps:
        notes.append(f"{fit} steps instead of {steps}, to fit the budget")
        steps = fit
    return steps, seeds, notes


def _project_for(base: Project, recipe: Recipe, counts: dict[str, int]) -> Project:
    from .augment import PRESETS
    from .policies import apply_policy

    p = base.model_copy(deep=True)
    p.staging_dir = None
    # Recipes differ only in what the grid names: CutMix only where the recipe says.
    cutmix = smallest_classes(counts) if recipe.cutmix else []
    p.generation = p.generation.model_copy(update={"cutmix_classes": cutmix})
    policy = recipe.plan_policy
    if policy is None:
        p.targets, p.policy = {}, None
        return p
    p.targets = apply_policy(policy, counts, Method(recipe.method or Method.AUGMENT.value))
    p.policy = policy
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

    if not seeds:
        raise RecipeError("at least one seed is needed")
    counts = train_counts(dataset, project, groups=groups)
    grid = list(recipes_for(project, counts))
    cap = mild_cap(counts)
    count = len(grid) + (cap is not None)
    tmp = Path(tempfile.mkdtemp(prefix="recipes-", dir=workdir))
    start = time.monotonic()
    exports: dict[str, Path] = {}
    runs: dict[str, list[dict]] = {}

    def judge(i: int, recipe: Recipe) -> Generator:
        key = recipe.export_key
        if key not in exports:  # one export per distinct set of training files
            folder = tmp / key
            folder.mkdir()
            try:
                recipe_project = _project_for(project, recipe, counts)
            except ValueError as exc:  # a target above the limit on a huge dataset
                raise RecipeError(f"recipe {recipe.name}: {exc}") from exc
            steps_gen = _make_export(dataset, recipe_project, groups, folder, workers)
            exports[key] = yield from _relay(steps_gen, recipe.name, "make", i, count)
        runs[recipe.name] = []
        for seed in seeds:
            try:
                gen = iter_evaluate(
                    exports[key], seed=seed, device=device, steps=steps, size=size,
                    arms=(recipe.arm,), threads=threads, keep_predictions=True,
                )  # fmt: skip
                report = yield from _relay(gen, recipe.name, "", i, count)
            except EvaluateError as exc:
                raise RecipeError(f"recipe {recipe.name}: {exc}") from exc
            runs[recipe.name].append(report)

    try:
        for i, recipe in enumerate(grid):
            yield from judge(i, recipe)
        small = smallest_classes(counts)
        if cap is not None:  # the mild cap, combined with the winner of the rest
            of = _table(grid, runs, seeds, steps, size, 0.0, small)["winner"]
            grid.append(capped(next(r for r in grid if r.name == of), *cap))
            yield from judge(len(grid) - 1, grid[-1])
        table = _table(grid, runs, seeds, steps, size, time.monotonic() - start, small)
        table["cutmix_classes"] = small
        table["cap"] = None if cap is None else {"policy": cap[0], "cap": cap[1], "of": of}
        return table
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _best_index(scores: list[float]) -> int:
    """The best score; ties go to the simpler recipe (the grid's order: raw first)."""
    return max(range(len(scores)), key=lambda i: (round(scores[i], 9), -i))


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


def _table(grid, runs, seeds, steps, size, seconds, small) -> dict:
    """Per recipe: mean balanced accuracy / macro-F1 / rarest recall over seeds, their spread
    (max - min), a paired bootstrap interval (over the validation images) of the gap to the
    best, and the winner: the first of PREFERRED within noise of the best and not below raw,
    else the best."""
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
    y = np.asarray(first["predictions"]["labels"], np.int64)
    preds, rows = {}, {}
    for recipe in grid:
        reports = runs[recipe.name]
        per_seed = [next(iter(r["arms"].values())) for r in reports]
        bal = [a["balanced_accuracy"] for a in per_seed]
        f1 = [a["macro_f1"] for a in per_seed]
        rare = [float(np.mean([a["per_class_recall"][c] for c in rarest])) for a in per_seed]
        preds[recipe.name] = np.stack(  # seeds x images
            [np.asarray(r["predictions"]["arms"][recipe.arm], np.int64) for r in reports]
        )
        cm_total = np.sum([a["confusion"] for a in per_seed], axis=0)
        rows[recipe.name] = {
            "what": recipe.what,
            "arm": recipe.arm,
            "apply": recipe.apply(small),
            "n_train": per_seed[0]["n_train"],
            "balanced_accuracy": float(np.mean(bal)),
            "macro_f1": float(np.mean(f1)),
            "rarest_recall": float(np.mean(rare)),
            "spread": float(max(bal) - min(bal)) if len(bal) > 1 else None,  # one seed: none
            "per_seed": bal,
            "per_class_recall": scores(cm_total)["per_class_recall"],
        }
    names = list(rows)
    best = names[_best_index([rows[n]["balanced_accuracy"] for n in names])]
    boot = bootstrap_balanced_accuracy(y, preds, seeds[0])
    for name, row in rows.items():
        lo, hi = interval(boot[best] - boot[name])
        row["gap_to_best_interval"] = [lo, hi]
        row["within_noise_of_best"] = name == best or lo <= 0
    raw = rows.get("raw", {}).get("balanced_accuracy")

    def preferable(name: str) -> bool:
        # Within noise of the best, and not below doing nothing: on a validation split too
        # small to tell recipes apart everything is "within noise", and a recipe that scored
        # under raw there is no recommendation, whatever it did elsewhere.
        row = rows.get(name)
        return (
            row is not None
            and row["within_noise_of_best"]
            and (raw is None or row["balanced_accuracy"] >= raw)
        )

    # The first preferable of PREFERRED (the best itself when it is the first), else the best.
    winner = next((n for n in PREFERRED if preferable(n)), best)
    why = "the best balanced accuracy on validation"
    if winner != best:
        score = rows[winner]["balanced_accuracy"]
        how = (
            f"tied with {best} for the best balanced accuracy on validation"
            if round(score, 9) == round(rows[best]["balanced_accuracy"], 9)
            else f"{best} scored higher on validation, but within noise (the paired bootstrap "
            "interval of the gap reaches 0)"
        )
        why = (
            f"{how}, so {winner} wins: of the recipes within noise and not below raw, the one "
            "that did best on held-out long-tailed digits"
        )
    caution = None
    if raw is not None and raw <= 1 / len(present) + CHANCE_MARGIN:
        # Without this the table reads as a verdict: "+44 points over raw" from a raw model
        # that learnt nothing yet says how fast recipes learn, not which one helps.
        caution = (
            f"raw scored {raw:.3f}, chance level for {len(present)} classes "
            f"({1 / len(present):.3f}): at {steps} steps the models had barely begun to "
            "learn, so the gains over raw say little; give more steps (or a larger budget)"
        )
    elif len(rows) > 1 and all(row["within_noise_of_best"] for row in rows.values()):
        caution = (
            f"every recipe is within noise of the best on these {len(y)} validation images: "
            "this search cannot tell them apart, so its pick is weak evidence; give more "
            "steps or seeds, or a larger validation split"
        )
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
        "caution": caution,
        "seconds": round(seconds, 1),
    }
