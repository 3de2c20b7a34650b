"""`imbalance-studio export`: one run from a folder or a project file to a finished export."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from export_helpers import read_manifest, tree_state

from imbalance_studio.cli import run_cli
from imbalance_studio.core.augment import PRESETS
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.policies import apply_policy
from imbalance_studio.core.project import Method, Project
from imbalance_studio.core.scanning import scan


def test_export_a_folder_in_one_run(digits_root, tmp_path, capsys):
    before = tree_state(digits_root)
    out = tmp_path / "out"
    args = ["export", str(digits_root), str(out), "--policy", "median", "--method", "duplicate"]
    rc = run_cli([*args, "--seed", "4", "--augment", "light", "--quiet", "--workers", "1"])
    assert rc == 0
    stdout = capsys.readouterr().out
    assert f"to {out}" in stdout and "0 hard-linked" in stdout
    assert "by origin: original " in stdout and ", duplicate " in stdout
    assert "still imbalanced" not in stdout  # the median policy balanced it
    w = json.loads((out / "weights.json").read_text())
    # The same plan as the core makes from the same options.
    dataset = scan(digits_root)
    project = Project(dataset_root=str(digits_root), seed=4)
    from imbalance_studio.core.plan import train_counts

    project.targets = apply_policy("median", train_counts(dataset, project), Method.DUPLICATE)
    plan = make_plan(dataset, project)
    for split in ("train", "val", "test"):
        assert w["counts"][split]["after"] == plan.final_counts(split)
    train = Counter(r["class_index"] for r in read_manifest(out) if r["split"] == "train")
    assert [train[str(i)] for i in range(10)] == plan.final_counts("train")
    stack = json.loads((out / "augment.json").read_text())
    assert stack["transform"] == PRESETS["light"]["transform"]
    assert tree_state(digits_root) == before


def test_export_a_project_file_with_links_and_overwrite(digits_root, tmp_path, capsys):
    project = Project(dataset_root=str(digits_root), seed=2)
    pfile = tmp_path / "digits.isproj.json"
    project.save(pfile)
    out = tmp_path / "out"
    assert run_cli(["export", str(pfile), str(out), "--link", "--quiet"]) == 0
    assert "0 copied" in capsys.readouterr().out
    assert run_cli(["export", str(pfile), str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "(--overwrite)" in err
    assert run_cli(["export", str(pfile), str(out), "--copy", "--overwrite", "--quiet"]) == 0
    assert json.loads((out / ".imbalance-studio-export.json").read_text())["seed"] == 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--policy", "sideways"], "unknown policy"),
        (["--split", "0.5,0.5,0.5"], "add up to 1"),
        (["--augment", "no-such-stack"], "no-such-stack"),
    ],
)
def test_bad_options_exit_2_with_one_line(digits_root, tmp_path, capsys, extra, message):
    rc = run_cli(["export", str(digits_root), str(tmp_path / "out"), "--quiet", *extra])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and message in err and "\n" not in err
    assert not (tmp_path / "out").exists()


def test_refusals_exit_2_before_scanning(digits_root, tmp_path, capsys):
    before = tree_state(digits_root)
    assert run_cli(["export", str(digits_root), str(digits_root / "x"), "--quiet"]) == 2
    assert "inside the dataset folder" in capsys.readouterr().err
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    assert run_cli(["export", str(digits_root), str(foreign), "--overwrite", "--quiet"]) == 2
    assert "not an export" in capsys.readouterr().err
    assert run_cli(["export", str(tmp_path / "nowhere"), str(tmp_path / "o"), "--quiet"]) == 2
    assert "no such folder or project file" in capsys.readouterr().err
    assert tree_state(digits_root) == before


def test_a_folder_is_planned_generated_and_exported_in_one_run(digits_root, tmp_path):
    out = tmp_path / "out"
    rc = run_cli(
        ["export", str(digits_root), str(out), "--policy", "target:20", "--augment", "light",
         "--workers", "1", "--quiet"]
    )  # fmt: skip
    assert rc == 0
    rows = read_manifest(out)
    made = [r for r in rows if r["origin"] == "augmented"]
    assert made and all(r["split"] == "train" and r["seed"] for r in made)
    w = json.loads((out / "weights.json").read_text())
    assert w["counts"]["train"]["after"] == [20] * 10
    # Staging went to the user cache, not into the dataset or the export.
    assert not any("staging" in p.name for p in digits_root.rglob("*"))
    assert not any("staging" in p.name for p in out.rglob("*"))


def test_an_export_whose_splits_lack_a_class_says_which_and_loads_as_documented(
    tmp_path, capsys, monkeypatch
):
    """digit_2 (3 images) is too small to reach validation or test: the command and the README
    name the split and the class, and every split loads with torchvision the README's way."""
    from datasets import write_digits

    root, out = tmp_path / "digits", tmp_path / "out"
    write_digits(root, [40, 12, 3])
    assert run_cli(["export", str(root), str(out), "--quiet", "--workers", "1"]) == 0
    stdout = capsys.readouterr().out
    assert (
        "note: val/ has no image of digit_2; test/ has no image of digit_2: load the splits "
        "with torchvision's ImageFolder(..., allow_empty=True), as README.md shows"
    ) in stdout
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "`val/` has no image of `digit_2`" in readme
    # Load every split exactly as the README's snippet does (its `load` function).
    snippet = readme.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(out)
    scope: dict = {"__name__": "readme_snippet"}
    exec(compile(snippet, str(out / "README.md"), "exec"), scope)
    weights = json.loads((out / "weights.json").read_text())
    for split in ("train", "val", "test"):
        folder = scope["load"](split, None)
        assert folder.class_to_idx == weights["class_to_idx"]
        assert [folder.targets.count(i) for i in range(3)] == weights["counts"][split]["after"]
        for _ in folder:  # every image decodes
            pass
    assert scope["test"].targets.count(2) == 0 and scope["train"].targets.count(2) > 0


def test_exporting_a_folder_without_a_policy_says_it_stays_imbalanced(
    digits_root, tmp_path, capsys
):
    out = tmp_path / "out"
    assert run_cli(["export", str(digits_root), str(out), "--quiet", "--workers", "1"]) == 0
    stdout = capsys.readouterr().out
    assert "note: the training split is still imbalanced (imbalance ratio " in stdout
    assert "--policy oversample" in stdout
    assert (out / "README.md").read_text(encoding="utf-8").startswith("# Export of `")


def test_the_summary_tells_copied_originals_from_generated_images(digits_root, tmp_path, capsys):
    out = tmp_path / "over"
    assert run_cli(["export", str(digits_root), str(out), "--policy", "oversample", "--quiet",
                    "--copy", "--workers", "1"]) == 0  # fmt: skip
    said = capsys.readouterr().out
    origins = Counter(r["origin"] for r in read_manifest(out))
    made = sum(n for o, n in origins.items() if o not in ("original", "duplicate"))
    from_dataset = origins["original"] + origins["duplicate"]
    assert made > 0
    assert f"0 hard-linked, {from_dataset} copied from the dataset, {made} generated " in said
