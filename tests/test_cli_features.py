"""`imbalance-studio features` as a user runs it: files, refusals, the dataset untouched."""

from __future__ import annotations

import json

import numpy as np
from clirun import run_cli
from datasets import tree_hash, write_digits


def test_features_command_writes_loadable_files_and_refuses_cleanly(tmp_path):
    root = tmp_path / "digits"
    write_digits(root, counts=[40, 30, 12, 5])
    before = tree_hash(root)
    out = tmp_path / "out"
    r = run_cli("features", root, out, "--size", "32", "--sampler", "smote", "--seed", "2")
    assert r.returncode == 0, r.stderr
    assert "324-value HOG vectors" in r.stdout
    for split in ("train", "val", "test"):
        with np.load(out / f"{split}.npz", allow_pickle=False) as f:
            assert {"X", "y", "synthetic", "path"} <= set(f.files)
    info = json.loads((out / "features.json").read_text())
    assert info["sampler"]["seed"] == 2 and info["classes"][0] == "digit_0"
    assert len(set(info["counts"]["train"]["after"])) == 1
    assert "SVC().fit" in (out / "README.md").read_text()
    assert tree_hash(root) == before

    again = run_cli("features", root, out, "--size", "32")
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert "Traceback" not in again.stderr
    replaced = run_cli("features", root, out, "--size", "32", "--sampler", "none", "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    with np.load(out / "train.npz", allow_pickle=False) as f:
        assert not f["synthetic"].any()

    bad = run_cli("features", root, tmp_path / "x", "--size", "8")
    assert bad.returncode == 2 and "between 16 and 512" in bad.stderr
    inside = run_cli("features", root, root / "out")
    assert inside.returncode == 2 and "inside the dataset" in inside.stderr
    assert tree_hash(root) == before


def test_features_from_a_saved_project_follow_its_policy(tmp_path):
    root = tmp_path / "digits"
    write_digits(root, counts=[40, 30, 12, 5])
    project = tmp_path / "p.isproj.json"
    r = run_cli("plan", root, "--policy", "median", "--save-project", project)
    assert r.returncode == 0, r.stderr
    plan = json.loads(run_cli("plan", project, "--json").stdout)
    out = tmp_path / "out"
    r = run_cli("features", project, out, "--size", "32", "--quiet")
    assert r.returncode == 0, r.stderr
    info = json.loads((out / "features.json").read_text())
    finals = [c["final"] for c in plan["splits"]["train"].values()]
    assert info["counts"]["train"]["after"] == finals and info["policy"] == "median"


def test_bare_oversample_fills_feature_rows_to_the_largest_class_only(tmp_path):
    """Export's oversample fills every class to 1.5 x the largest with augmented images;
    SMOTE rows have no augmented look to hide, so features fill to the largest."""
    root = tmp_path / "digits"
    write_digits(root, counts=[40, 30, 12, 5])
    out = tmp_path / "out"
    r = run_cli("features", root, out, "--size", "32", "--policy", "oversample", "--quiet")
    assert r.returncode == 0, r.stderr
    info = json.loads((out / "features.json").read_text())
    before, after = info["counts"]["train"]["before"], info["counts"]["train"]["after"]
    assert after == [max(before)] * 4 and info["policy"] == "oversample:1"
    wide = run_cli("features", root, tmp_path / "wide", "--size", "32", "--policy",
                   "oversample:2", "--quiet")  # fmt: skip
    assert wide.returncode == 0, wide.stderr
    info = json.loads((tmp_path / "wide" / "features.json").read_text())
    assert info["counts"]["train"]["after"] == [2 * max(before)] * 4
