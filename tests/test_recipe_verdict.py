"""The recipe table's verdict in words, on made-up validation predictions (no training):
a tie is called a tie, and a search whose raw model scored at chance says its gains mean
little."""

from __future__ import annotations

import numpy as np

from imbalance_studio.core.evaluate.metrics import scores
from imbalance_studio.core.recipes import (
    PREP_S_PER_IMAGE,
    RECIPES,
    _table,
    estimate,
    fit_budget,
)

CLASSES = ["a", "b", "c"]
LABELS = np.repeat([0, 1, 2], 10)  # 10 validation images a class


def _runs(correct: dict[str, int]) -> dict:
    """One seed per recipe: the first `correct[name]` images of each class predicted right,
    the rest as the next class."""
    runs = {}
    for recipe in RECIPES:
        n = correct.get(recipe.name, 4)
        preds = np.array([y if i % 10 < n else (y + 1) % 3 for i, y in enumerate(LABELS)])
        cm = np.zeros((3, 3), np.int64)
        np.add.at(cm, (LABELS, preds), 1)
        arm = {**scores(cm), "confusion": cm.tolist(), "n_train": 90}
        runs[recipe.name] = [{
            "classes": CLASSES, "val_counts": [10, 10, 10], "train_original_counts": [60, 20, 10],
            "model": "made up", "arms": {recipe.arm: arm},
            "predictions": {"paths": [f"p{i}" for i in range(30)], "labels": LABELS.tolist(),
                            "arms": {recipe.arm: preds.tolist()}},
        }]  # fmt: skip
    return runs


def _verdict(correct: dict[str, int]) -> dict:
    return _table(list(RECIPES), _runs(correct), (1,), 200, 32, 1.0, [])


def test_a_tie_is_called_a_tie():
    table = _verdict({"augment-safe": 8, "augment-safe+cutmix": 8, "raw": 6})
    assert table["best_on_validation"] != table["winner"] == "augment-safe+cutmix"
    assert table["winner_why"].startswith(
        f"tied with {table['best_on_validation']} for the best balanced accuracy"
    )
    assert "scored higher" not in table["winner_why"]


def test_a_higher_score_within_noise_is_said_so():
    table = _verdict({"augment-medium": 9, "augment-safe+cutmix": 8, "raw": 6})
    assert table["best_on_validation"] == "augment-medium"
    assert table["winner"] == "augment-safe+cutmix"
    assert table["winner_why"].startswith("augment-medium scored higher on validation")


def test_a_raw_model_at_chance_brings_a_caution_and_a_trained_one_none():
    at_chance = _verdict({"raw": 3, "augment-safe": 8})  # 3 in 10: below 1/3
    assert at_chance["recipes"]["raw"]["balanced_accuracy"] < 1 / 3
    assert "chance level for 3 classes" in at_chance["caution"]
    assert "200 steps" in at_chance["caution"]
    trained = _verdict({"raw": 6, "augment-safe": 8})
    assert trained["caution"] is None


def test_one_seed_measures_no_spread():
    table = _verdict({"raw": 6})
    assert all(row["spread"] is None for row in table["recipes"].values())


def test_the_estimate_counts_making_the_recipes_and_the_budget_pays_for_it_first():
    training = estimate(8, 100, 32, 2, "cpu")
    assert estimate(8, 100, 32, 2, "cpu", images=500) == training + 8 * 500 * PREP_S_PER_IMAGE
    # A budget that only the training would fit: the making of 500-image recipes takes
    # its share, so fewer steps (or one seed) are planned than without it.
    budget = estimate(8, 100, 32, 1, "cpu") * 1.05
    steps_alone, _, _ = fit_budget(8, 100, 32, 1, budget, "cpu")
    steps_made, _, notes = fit_budget(8, 100, 32, 1, budget, "cpu", images=500)
    assert steps_alone == 100 and steps_made < 100
    assert f"{steps_made} steps instead of 100, to fit the budget" in notes
    # A tiny search is mostly what it pays whatever its steps: 18 s measured for this one
    # (181 images), where training and making alone were estimated at 6 s.
    assert 12 < estimate(8, 5, 16, 1, "cpu", images=181) < 30


def test_a_preferred_recipe_below_raw_is_never_the_pick():
    table = _verdict({"augment-medium": 6, "raw": 6, "augment-safe+cutmix": 5})
    rows = table["recipes"]
    assert rows["augment-safe+cutmix"]["within_noise_of_best"]  # the prior alone would pick it
    assert rows["augment-safe+cutmix"]["balanced_accuracy"] < rows["raw"]["balanced_accuracy"]
    assert table["winner"] == table["best_on_validation"] and table["gain_over_raw"] == 0


def test_a_validation_split_that_tells_no_recipe_apart_says_so():
    runs = _runs({})
    wrong = {"duplicate": None, "raw": 0}  # the image each recipe gets wrong (none: all right)
    for name, reports in runs.items():  # six validation images; recipes differ on one each
        r, miss = reports[0], wrong.get(name, 3)
        labels = [0, 0, 1, 1, 2, 2]
        preds = [y if i != miss else (y + 1) % 3 for i, y in enumerate(labels)]
        r["predictions"] = {"paths": [f"p{i}" for i in range(6)], "labels": labels,
                            "arms": {a: preds for a in r["predictions"]["arms"]}}  # fmt: skip
    table = _table(list(RECIPES), runs, (1,), 200, 32, 1.0, [])
    assert all(row["within_noise_of_best"] for row in table["recipes"].values())
    assert (
        "cannot tell them apart" in table["caution"] and "6 validation images" in table["caution"]
    )
    clear = _verdict({"augment-safe": 9, "raw": 3})  # raw at chance: that caution instead
    assert "chance level" in clear["caution"]
