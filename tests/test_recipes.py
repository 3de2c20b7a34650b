"""Recipe search on a long-tailed folder of scikit-learn's digits: every recipe in the table,
each recipe's numbers equal to `evaluate` on the same export made by `export`, the same table
twice, the project and the dataset untouched, Cancel leaves nothing. Tiny inputs and few
steps: these prove the bookkeeping, not a gain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import tree_hash, write_digits

from imbalance_studio.cli import run_cli
from imbalance_studio.core.augment import PRESETS
from imbalance_studio.core.evaluate import iter_evaluate
from imbalance_studio.core.inspect import iter_split_groups
from imbalance_studio.core.progress import drive
from imbalance_studio.core.project import Project
from imbalance_studio.core.recipes import RECIPES, RecipeProgress, iter_recipes, recipes_for
from imbalance_studio.core.scanning import iter_scan

pytest.importorskip("torch")

COUNTS = [40, 24, 14, 8]
QUICK = {"steps": 8, "size": 12}
SEEDS = (1, 2)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("recipes") / "digits"
    write_digits(root, COUNTS)
    return root


@pytest.fixture(scope="module")
def dataset(folder):
    return drive(iter_scan(str(folder), workers=1))


@pytest.fixture(scope="module")
def groups(dataset):
    """The duplicate groups every plan of the CLI is made with (project defaults)."""
    return drive(iter_split_groups(dataset, group_duplicates=True, near_threshold=10)).groups


def _project(folder: Path, own: bool) -> Project:
    p = Project(dataset_root=str(folder), seed=3)
    if own:
        p.augment.default_stack = PRESETS["light"]
    return p


@pytest.fixture(scope="module")
def table(dataset, groups, folder, tmp_path_factory):
    work = tmp_path_factory.mktemp("work")
    project = _project(folder, True)
    return drive(iter_recipes(dataset, project, groups, seeds=SEEDS, workdir=work, **QUICK))


def test_the_table_has_every_recipe_and_a_winner(table, folder):
    assert list(table["recipes"]) == [r.name for r in RECIPES]  # augment-own included
    assert [r.name for r in recipes_for(_project(folder, False))] == [
        r.name for r in RECIPES if r.stack != "own"
    ]
    rows = table["recipes"]
    assert table["winner"] in rows
    best = max(r["balanced_accuracy"] for r in rows.values())
    assert rows[table["best_on_validation"]]["balanced_accuracy"] == best
    # The winner: the best, or the default recipe when the best's lead over it is noise.
    assert rows[table["winner"]]["within_noise_of_best"]
    if table["winner"] != table["best_on_validation"]:
        assert table["winner"] == "augment-safe" and "within noise" in table["winner_why"]
    else:
        assert (
            not rows["augment-safe"]["within_noise_of_best"]
            or best == rows["augment-safe"]["balanced_accuracy"]
        )
    for row in rows.values():
        assert len(row["per_seed"]) == len(SEEDS)
        assert row["spread"] == pytest.approx(max(row["per_seed"]) - min(row["per_seed"]))
        assert row["balanced_accuracy"] == pytest.approx(sum(row["per_seed"]) / len(SEEDS))
        lo, hi = row["gap_to_best_interval"]
        is_best = row is rows[table["best_on_validation"]]
        assert lo <= hi and row["within_noise_of_best"] == (lo <= 0 or is_best)
    # Originals train raw / reweight / sampler; every oversampling recipe has equal classes.
    n_orig = rows["raw"]["n_train"]
    assert rows["reweight"]["n_train"] == rows["sampler"]["n_train"] == n_orig
    for name in ("duplicate", "augment-safe", "augment-medium", "augment-own"):
        assert rows[name]["n_train"] == max(table["train_original_counts"]) * len(COUNTS)
    assert table["rarest_classes"] == ["digit_3", "digit_2"]
    assert table["split"] == "val"


def test_recipes_score_as_evaluate_does_on_the_same_export(table, folder, tmp_path):
    """raw / reweight / sampler = evaluate's arms on `export --seed 3` (no policy);
    augment-safe = evaluate's balanced arm on `export --policy oversample` (the default
    stack): the search makes and judges recipes the product's ordinary way."""
    plain, over = tmp_path / "plain", tmp_path / "over"
    base = ["--seed", "3", "--quiet", "--workers", "1"]
    assert run_cli(["export", str(folder), str(plain), *base]) == 0
    assert run_cli(["export", str(folder), str(over), "--policy", "oversample", *base]) == 0
    for i, seed in enumerate(SEEDS):
        arms = ("raw", "weighted", "sampler")
        rep = drive(iter_evaluate(plain, seed=seed, arms=arms, **QUICK))
        for recipe, arm in zip(("raw", "reweight", "sampler"), arms, strict=True):
            got = table["recipes"][recipe]["per_seed"][i]
            assert got == rep["arms"][arm]["balanced_accuracy"], recipe
        rep = drive(iter_evaluate(over, seed=seed, arms=("balanced",), **QUICK))
        got = table["recipes"]["augment-safe"]["per_seed"][i]
        assert got == rep["arms"]["balanced"]["balanced_accuracy"]


def test_same_project_and_seed_give_the_same_table(table, dataset, groups, folder, tmp_path):
    project = _project(folder, True)
    again = drive(iter_recipes(dataset, project, groups, seeds=SEEDS, workdir=tmp_path, **QUICK))
    assert {k: v for k, v in again.items() if k != "seconds"} == {
        k: v for k, v in table.items() if k != "seconds"
    }
    assert list(tmp_path.iterdir()) == []  # its temporary folder is gone


def test_cli_json_leaves_project_and_dataset_untouched(folder, tmp_path, capsys):
    project = tmp_path / "p.isproj.json"
    args = ["plan", str(folder), "--save-project", str(project), "--seed", "3", "--json"]
    assert run_cli([*args, "--workers", "1"]) == 0
    capsys.readouterr()
    before = (tree_hash(folder), project.read_bytes(), sorted(tmp_path.iterdir()))
    args = ["recipes", str(project), "--json", "--seeds", "1", "--steps", "8", "--size", "12"]
    assert run_cli([*args, "--workers", "1"]) == 0
    out = capsys.readouterr()
    table = json.loads(out.out)
    assert (tree_hash(folder), project.read_bytes(), sorted(tmp_path.iterdir())) == before
    assert set(table["recipes"]) == {r.name for r in RECIPES if r.stack != "own"}
    for row in table["recipes"].values():
        assert {"balanced_accuracy", "macro_f1", "rarest_recall", "spread"} <= set(row)
    assert table["winner"] in table["recipes"] and table["seeds"] == [4]
    assert "minutes of training" in out.err  # the estimate comes first


def test_cli_table_and_budget(folder, capsys):
    """An estimate over the budget: one seed, then fewer steps (the table says how many)."""
    args = ["recipes", str(folder), "--steps", "2000", "--size", "12", "--workers", "1"]
    assert run_cli([*args, "--budget", "0.01", "--quiet"]) == 0
    out = capsys.readouterr()
    assert "one seed instead of two" in out.err
    assert "28 steps instead of 2000" in out.err and "seeds [1], 28 steps" in out.out
    assert "winner: " in out.out and "augment-safe" in out.out


def test_cancel_stops_and_removes_its_temporary_folder(dataset, folder, tmp_path):
    gen = iter_recipes(dataset, _project(folder, False), seeds=(1,), workdir=tmp_path, **QUICK)
    seen = []
    for event in gen:
        assert isinstance(event, RecipeProgress)
        seen.append(event.recipe)
        if event.recipe == "duplicate":
            break
    gen.close()
    assert seen[0] == "raw" and "duplicate" in seen
    assert list(tmp_path.iterdir()) == []
