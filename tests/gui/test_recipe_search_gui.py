"""The Evaluate tab's recipe search on a real digits folder opened in the window: runs in the
background, shows every recipe with the winner, Cancel leaves the project alone, and "Use this
recipe" applies a recipe's policy, method and stack as one undoable step."""

from __future__ import annotations

import pytest
from datasets import write_digits

from imbalance_studio.core.augment import PRESETS
from imbalance_studio.core.project import Method
from imbalance_studio.core.recipes import RECIPES

pytest.importorskip("torch")


@pytest.fixture
def opened(qtbot, window, wait_scanned, tmp_path, monkeypatch):
    from imbalance_studio.gui.evaluate import recipes

    monkeypatch.setattr(recipes, "STEPS", 8)
    monkeypatch.setattr(recipes, "SIZE", 12)
    monkeypatch.setattr(recipes, "SEEDS", (1,))
    write_digits(tmp_path / "digits", [56, 16, 10, 5])  # digit_3: at most an eighth: CutMix
    window.session.open_folder(tmp_path / "digits")
    wait_scanned(window)
    c = window.workbench.controller
    qtbot.waitUntil(
        lambda: c.plan is not None and c.split_groups() is not None and not c.busy,
        timeout=30_000,
    )
    return window.workbench.evaluate.recipes, c


def test_find_shows_every_recipe_and_use_applies_the_winner(qtbot, opened):
    box, c = opened
    before = c.project.model_dump()
    box.find_button.click()
    assert box.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: box.use_button.isEnabled(), timeout=120_000)
    names = [box.table.item(i, 0).text() for i in range(box.table.rowCount())]
    grid = [r.name for r in RECIPES if r.stack != "own"]
    assert names[:-1] == grid and names[-1].endswith("+cap")  # the cap recipe last
    assert names[-1].removesuffix("+cap") in grid
    winner = box.table_data["winner"]
    assert "Winner: <b>" + winner in box.status.text()
    assert c.project.model_dump() == before  # searching changed nothing
    box.use_button.click()
    assert c.undo_stack.undoText() == f"Recipe {winner}"
    assert c.project.policy == box.table_data["winner_apply"]["policy"]
    c.undo_stack.undo()
    assert c.project.model_dump() == before


def test_a_recipe_sets_policy_method_and_stack_undoably(opened):
    _box, c = opened
    before = c.project.model_dump()
    apply = {"policy": "oversample", "method": "duplicate", "stack": None, "loss": None}
    c.apply_recipe(apply, "duplicate")
    counts = c.train_counts
    assert {t.method.value for t in c.project.targets.values()} >= {"duplicate"}
    assert {t.target for t in c.project.targets.values()} == {max(counts.values())}
    apply = {"policy": "oversample", "method": "augment", "stack": "medium", "loss": None}
    c.apply_recipe(apply, "augment-medium")
    assert c.project.augment.default_stack == PRESETS["medium"]
    assert c.project.policy == "oversample"
    c.undo_stack.undo()
    c.undo_stack.undo()
    assert c.project.model_dump() == before


def test_use_this_recipe_sets_cutmix_and_the_cap_in_one_undoable_step(qtbot, opened):
    """The CutMix recipe switches CutMix on for exactly its classes; a capped recipe of the
    originals sets cap:K targets; each is one Undo away from the project before."""
    box, c = opened
    c.set_cutmix("digit_0", True)  # the user's own choice, which the recipe replaces
    before = c.project.model_dump()
    box.find_button.click()
    qtbot.waitUntil(lambda: box.use_button.isEnabled(), timeout=120_000)
    table = box.table_data
    assert table["cutmix_classes"] == ["digit_3"]
    box.table_data = {**table, "winner": "augment-safe+cutmix",
                      "winner_apply": table["recipes"]["augment-safe+cutmix"]["apply"]}  # fmt: skip
    box.use_button.click()
    assert c.project.generation.cutmix_classes == ["digit_3"]
    assert c.project.policy == "oversample" and c.project.augment.default_stack == PRESETS["safe"]
    assert "CutMix for digit_3" in box.status.text()
    assert c.undo_stack.undoText() == "Recipe augment-safe+cutmix"
    c.undo_stack.undo()
    assert c.project.model_dump() == before
    cap = {"policy": table["cap"]["policy"], "method": "augment", "stack": None,
           "cutmix_classes": [], "loss": "weighted"}  # fmt: skip
    box.table_data = {**table, "winner": "reweight+cap", "winner_apply": cap}
    box.use_button.click()
    limit = table["cap"]["cap"]
    assert {t.target for t in c.project.targets.values() if t.target is not None} == {limit}
    assert c.project.generation.cutmix_classes == []
    assert "weights.json (weighted)" in box.status.text()
    c.undo_stack.undo()
    assert c.project.model_dump() == before


def test_cancel_reenables_and_leaves_the_project(qtbot, opened):
    box, c = opened
    before = c.project.model_dump()
    box.find_button.click()
    qtbot.waitUntil(lambda: "Recipe" in box.status.text(), timeout=60_000)
    box.cancel_button.click()
    assert box.find_button.isEnabled() and not box.use_button.isEnabled()
    qtbot.waitUntil(lambda: not box.job.running, timeout=30_000)
    assert c.project.model_dump() == before


def test_the_balance_form_shows_what_a_recipe_filled_the_targets_with(opened, window):
    """After "Use this recipe" (and its undo) the Balance tab's policy and "fill gaps by"
    show what the rows were filled with, not the form's last choice."""
    _box, c = opened
    panel = window.curation.plan_panel
    panel.method_box.setCurrentIndex(panel.method_box.findData(Method.AUGMENT))
    c.apply_recipe({"policy": "oversample", "method": "duplicate", "stack": None}, "duplicate")
    assert panel.method_box.currentData() == Method.DUPLICATE
    assert panel.policy_text() == "oversample"
    c.apply_recipe({"policy": "target:40", "method": "augment", "stack": "safe"}, "safe")
    assert panel.method_box.currentData() == Method.AUGMENT  # not the undersampled classes'
    assert panel.policy_text() == "target:40"
    c.undo_stack.undo()  # back to the duplicate recipe's targets
    assert panel.method_box.currentData() == Method.DUPLICATE
    assert panel.policy_text() == "oversample"
