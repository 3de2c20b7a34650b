"""Recipe search on a long-tailed folder of scikit-learn's digits: every recipe in the table,
each recipe's numbers equal to `evaluate` on the same export made by `export`, the same table
twice, the project and the dataset untouched, Cancel leaves nothing. Tiny inputs and few
steps: these prove the bookkeeping, not a gain."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from datasets import tree_hash, write_digits

from imbalance_studio.cli import run_cli
from imbalance_studio.core.augment import PRESETS
from imbalance_studio.core.evaluate import iter_evaluate
from imbalance_studio.core.inspect import iter_split_groups
from imbalance_studio.core.progress import drive
from imbalance_studio.core.project import Project
from imbalance_studio.core.recipes import (
    PREFERRED,
    RECIPES,
    Recipe,
    RecipeProgress,
    capped,
    iter_recipes,
    mild_cap,
    recipes_for,
    smallest_classes,
)
from imbalance_studio.core.scanning import iter_scan

pytest.importorskip("torch")

COUNTS = [56, 24, 14, 6]  # the rarest, at most an eighth of the largest: CutMix
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
    base = table["cap"]["of"]
    # augment-own included; the cap recipe last, made from the winner of the others
    assert list(table["recipes"]) == [r.name for r in RECIPES] + [f"{base}+cap"]
    assert [r.name for r in recipes_for(_project(folder, False))] == [
        r.name for r in RECIPES if r.stack != "own"
    ]
    rows = table["recipes"]
    assert table["winner"] in rows
    best = max(r["balanced_accuracy"] for r in rows.values())
    assert rows[table["best_on_validation"]]["balanced_accuracy"] == best
    # The winner: the first of PREFERRED within noise of the best, else the best.
    assert rows[table["winner"]]["within_noise_of_best"]
    fallback = [n for n in PREFERRED if rows[n]["within_noise_of_best"]]
    assert table["winner"] == (fallback or [table["best_on_validation"]])[0]
    if table["winner"] != table["best_on_validation"]:
        assert "within noise" in table["winner_why"]
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
    train = table["train_original_counts"]
    # Duplicates fill every class to the largest; new images to 1.5 x (the largest too).
    assert rows["duplicate"]["n_train"] == max(train) * len(COUNTS)
    for name in ("augment-safe", "augment-medium", "augment-own", "augment-safe+cutmix"):
        assert rows[name]["n_train"] == math.floor(1.5 * max(train) + 0.5) * len(COUNTS)
    assert table["rarest_classes"] == ["digit_3", "digit_2"]
    assert table["split"] == "val"
    # CutMix on the smallest class only (4 of 40: at most an eighth); the cap keeps 3/4 of 40.
    assert table["cutmix_classes"] == ["digit_3"]
    assert rows["augment-safe+cutmix"]["apply"]["cutmix_classes"] == ["digit_3"]
    assert rows["augment-safe"]["apply"]["cutmix_classes"] == []
    assert table["cap"] == {"policy": "cap:7.5", "cap": 30, "of": base}
    capped_row = rows[f"{base}+cap"]
    if rows[base]["apply"]["policy"] is None:  # originals: the majority capped, no more
        assert capped_row["n_train"] == sum(min(n, 30) for n in train)
        assert capped_row["apply"]["policy"] == "cap:7.5"
        assert capped_row["arm"] == rows[base]["arm"]
    else:  # oversampling: every class at the cap
        assert capped_row["n_train"] == 30 * len(COUNTS)
        assert capped_row["apply"]["policy"] == "target:30"


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


def _export_recipe(folder: Path, out: Path, apply: dict) -> Path:
    """What a user does by hand: plan with the recipe's policy, method and stack, save the
    project, switch CutMix on for its classes, export."""
    project = out.parent / f"{out.name}.isproj.json"
    args = ["plan", str(folder), "--policy", apply["policy"], "--method", apply["method"]]
    if apply["stack"]:
        args += ["--augment", apply["stack"]]
    args += ["--save-project", str(project), "--seed", "3", "--workers", "1", "--json"]
    assert run_cli(args) == 0
    saved = json.loads(project.read_text())
    saved["generation"]["cutmix_classes"] = apply["cutmix_classes"]
    project.write_text(json.dumps(saved))
    assert run_cli(["export", str(project), str(out), "--quiet", "--workers", "1"]) == 0
    return out


def test_cutmix_and_cap_recipes_score_as_their_ordinary_exports(table, folder, tmp_path, capsys):
    """augment-safe = `export` of a project with CutMix switched off; augment-safe+cutmix =
    `export` of a project with CutMix on for the smallest class;
    BEST+cap = `export` with `--policy cap:K` (originals) or `target:CAP` (oversampling),
    each judged by evaluate: the grid reuses the generators and the plan's policies."""
    cap_name = next(n for n in table["recipes"] if n.endswith("+cap"))
    for name in ("augment-safe", "augment-safe+cutmix", cap_name):
        row = table["recipes"][name]
        out = _export_recipe(folder, tmp_path / name, row["apply"])
        capsys.readouterr()
        manifest = (out / "manifest.csv").read_text()
        assert ("cutmix" in manifest) == bool(row["apply"]["cutmix_classes"])
        for i, seed in enumerate(SEEDS):
            rep = drive(iter_evaluate(out, seed=seed, arms=(row["arm"],), **QUICK))
            assert row["per_seed"][i] == rep["arms"][row["arm"]]["balanced_accuracy"], name


def test_smallest_classes_and_the_mild_cap():
    counts = {"a": 100, "b": 40, "c": 13, "d": 12, "e": 1}
    assert smallest_classes(counts) == ["d"]  # at most 100/8; e: one image, no donor
    assert mild_cap({"a": 100, "b": 10}) == ("cap:7.5", 75)
    assert mild_cap({"a": 10, "b": 9}) is None  # 3/4 of 10 is below the smallest: no cap
    assert mild_cap({"a": 4, "b": 4}) is None
    raw = next(r for r in RECIPES if r.name == "reweight")
    safe = next(r for r in RECIPES if r.name == "augment-safe")
    cap_raw, cap_safe = capped(raw, "cap:7.5", 75), capped(safe, "cap:7.5", 75)
    assert cap_raw.apply() == {"policy": "cap:7.5", "method": "augment", "stack": None,
                               "cutmix_classes": [], "loss": "weighted"}  # fmt: skip
    assert cap_safe.apply() == {"policy": "target:75", "method": "augment", "stack": "safe",
                                "cutmix_classes": [], "loss": None}  # fmt: skip
    assert cap_raw.export_key != raw.export_key != cap_safe.export_key
    cm = Recipe("x", "", "augment", "safe", "balanced", cutmix=True)
    assert cm.apply(["d"])["cutmix_classes"] == ["d"] and cm.export_key != safe.export_key


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
    names = {r.name for r in RECIPES if r.stack != "own"}
    assert set(table["recipes"]) - names == {f"{table['cap']['of']}+cap"}
    for row in table["recipes"].values():
        assert {"balanced_accuracy", "macro_f1", "rarest_recall", "spread"} <= set(row)
    assert table["winner"] in table["recipes"] and table["seeds"] == [4]
    assert "minutes (making each recipe's images and export, and training)" in out.err


def test_cli_table_and_budget(folder, capsys):
    """An estimate over the budget: one seed, then fewer steps (the table says how many)."""
    args = ["recipes", str(folder), "--steps", "2000", "--size", "12", "--workers", "1"]
    assert run_cli([*args, "--budget", "0.01", "--quiet"]) == 0
    out = capsys.readouterr()
    assert "one seed instead of two" in out.err
    # Making the recipes alone takes more than 0.6 s: training gets the floor of 20 steps.
    assert "20 steps instead of 2000" in out.err and "seeds [1], 20 steps" in out.out
    assert "winner: " in out.out and "augment-safe" in out.out
    # One seed measures no spread, and a cut run says its ranking is provisional.
    assert "(spread: n/a with one seed" in out.out
    assert "caution: 20 steps instead of 2000, to fit the budget" in out.out


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
