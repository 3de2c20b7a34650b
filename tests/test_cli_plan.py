"""`imbalance-studio plan` in a subprocess, on the real digits dataset."""

import json
import math
import os
import subprocess
import sys

import pytest
from datasets import DIGIT_COUNTS

from imbalance_studio.core.inspect import iter_split_groups
from imbalance_studio.core.plan import make_plan, train_counts
from imbalance_studio.core.policies import apply_policy
from imbalance_studio.core.progress import drive
from imbalance_studio.core.project import Method, Project, SplitSettings
from imbalance_studio.core.scanning import scan


def cli(*args, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_ALBUMENTATIONS_UPDATE="1")
    return subprocess.run(
        [sys.executable, "-m", "imbalance_studio", "plan", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )


def plan_json(*args) -> dict:
    out = cli(*args, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_json_matches_the_core_plan(digits_root):
    got = plan_json(digits_root, "--policy", "oversample", "--seed", "3", "--split",
                    "0.8,0.1,0.1", "--list-files")  # fmt: skip
    ds = scan(digits_root)
    project = Project(dataset_root=str(digits_root), seed=3, policy="oversample")
    project.split = SplitSettings(train=0.8, val=0.1, test=0.1)
    # The CLI keeps identical and near-duplicate images in one split (core.inspect).
    groups = drive(iter_split_groups(ds, workers=1)).groups
    project.targets = apply_policy("oversample", train_counts(ds, project, groups=groups))
    assert got == make_plan(ds, project, groups=groups).to_json(list_files=True)
    train = got["splits"]["train"]
    # Filled by augmentation: every class to 1.5 x the largest (rounded half up), which gets
    # new images too.
    assert {row["final"] for row in train.values()} == {
        math.floor(1.5 * train["digit_0"]["original"] + 0.5)
    }
    assert all(row["duplicated"] == 0 for row in train.values())  # augment by default
    assert got["classes"] == [f"digit_{i}" for i in range(10)]
    held = {p for s in ("val", "test") for files in got["files"][s].values() for p in files}
    assert not held & {p for files in got["files"]["train"].values() for p in files}
    assert sum(len(f) for s in got["files"].values() for f in s.values()) == sum(DIGIT_COUNTS)


def test_duplicate_method_and_undersample(digits_root):
    dup = plan_json(digits_root, "--policy", "target:30", "--method", "duplicate")
    for name, row in dup["splits"]["train"].items():
        assert row["final"] == 30, name
        assert row["generate"] == 0
    assert dup["splits"]["train"]["digit_9"]["duplicated"] == 30 - 6
    assert dup["splits"]["train"]["digit_0"]["removed"] == 104 - 30


def test_save_project_then_plan_the_project_gives_the_same_plan(digits_root, tmp_path):
    proj = tmp_path / "digits.isproj.json"
    first = cli(digits_root, "--policy", "median", "--seed", "11", "--json",
                "--save-project", proj)  # fmt: skip
    assert first.returncode == 0, first.stderr
    saved = Project.load(proj)
    assert saved.seed == 11 and saved.policy == "median" and saved.snapshot is not None
    assert saved.targets["digit_9"].method == Method.AUGMENT
    again = plan_json(proj)
    assert again == json.loads(first.stdout)
    # a stack file given on the command line is stored as the default stack
    stack = tmp_path / "stack.json"
    stack.write_text(json.dumps({"__version__": "2.0.8", "transform": {
        "__class_fullname__": "Compose", "p": 1.0, "transforms": []}}))  # fmt: skip
    out = cli(proj, "--augment", stack, "--save-project", proj)
    assert out.returncode == 0, out.stderr
    assert Project.load(proj).augment.default_stack["transform"]["transforms"] == []


def test_text_output_shows_splits_and_before_after(digits_root):
    out = cli(digits_root, "--policy", "undersample")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for word in ("train", "val", "test", "digit_9", "final"):
        assert word in text
    assert "imbalance ratio (largest / smallest): 17.33 → 1.00" in text
    assert "baseline accuracy: 27.9% → 10.0%" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"version": 1, "dataset_root": "/d", "marks": {"a', "truncated JSON"),
        ('{"version": 3, "dataset_root": "/d"}', "newer Imbalance Studio"),
        ('{"version": 1, "dataset_root": "/d", "marks": {"../../x": {"remove": true}}}',
         "escapes the dataset root"),
        ('{"version": 1, "dataset_root": "/d", "seed": [1]}', "seed: Input should be"),
    ],
)  # fmt: skip
def test_bad_project_files_exit_2_with_one_line(tmp_path, content, message):
    bad = tmp_path / "bad.isproj.json"
    bad.write_text(content)
    out = cli(bad, "--json")
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in out.stderr


def test_bad_options_exit_2(digits_root, tmp_path):
    for args, message in [
        (("--policy", "balance"), "unknown policy"),
        (("--split", "0.9,0.2,0.1"), "add up to 1"),
        (("--augment", tmp_path / "missing.json"), "missing.json"),
    ]:
        out = cli(digits_root, *args)
        assert out.returncode == 2, out.stderr
        assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_list_files_without_json_is_refused_not_ignored(digits_root, capsys):
    from imbalance_studio.cli import run_cli

    assert run_cli(["plan", str(digits_root), "--list-files"]) == 2
    assert "--list-files lists the kept files in the JSON output: add --json" in (
        capsys.readouterr().err
    )
