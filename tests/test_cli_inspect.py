"""`imbalance-studio inspect` in a subprocess, on photographs with planted problems."""

from __future__ import annotations

import json

import pytest
from clirun import run_cli
from photo_corpus import build_corpus

from imbalance_studio.core.project import InspectSettings, Project


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("cli-photos") / "data", n_groups=12, n_flagged=7)


def test_json_contract(corpus):
    out = run_cli("inspect", corpus.root, "--json", "--workers", "1", timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"root", "duplicates", "quality", "traits"}
    assert data["traits"] == {}  # photos: no issue most of them have
    assert data["root"] == str(corpus.root)
    every = {*corpus.base, *corpus.flagged, *(p for _, g in corpus.groups for p in g)}
    for group in data["duplicates"]:
        assert set(group) == {"kind", "paths", "classes", "identical"}
        assert group["kind"] in ("exact", "near")
        for copies in group["identical"]:  # copies inside a near group
            assert group["kind"] == "near" and len(copies) >= 2
            assert set(copies) <= set(group["paths"])
        assert len(group["paths"]) >= 2 and len(group["classes"]) == len(group["paths"])
        assert set(group["paths"]) <= every  # relative to the root
    planted = {frozenset(g) for _, g in corpus.groups}
    found = {frozenset(g["paths"]) for g in data["duplicates"]}
    assert len(planted & found) >= 0.9 * len(planted)
    assert {q["path"] for q in data["quality"]} == set(corpus.flagged)
    for q in data["quality"]:
        assert q["issues"] and all(q["scores"][i] < 1 for i in q["issues"])
        assert corpus.flagged[q["path"]] in q["issues"]


def test_threshold_options_and_project(corpus, tmp_path):
    strict = run_cli("inspect", corpus.root, "--json", "--near-threshold", "0", timeout=120)
    loose = run_cli("inspect", corpus.root, "--json", "--near-threshold", "10", timeout=120)
    n_strict = len(json.loads(strict.stdout)["duplicates"])
    assert n_strict < len(json.loads(loose.stdout)["duplicates"])
    project = Project(dataset_root=str(corpus.root), inspect=InspectSettings(near_threshold=0))
    path = tmp_path / "p.isproj.json"
    project.save(path)
    from_project = run_cli("inspect", path, "--json", timeout=120)
    assert len(json.loads(from_project.stdout)["duplicates"]) == n_strict
    no_dark = run_cli("inspect", corpus.root, "--json", "--threshold", "dark=0", timeout=120)
    assert not any("dark" in q["issues"] for q in json.loads(no_dark.stdout)["quality"])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--near-threshold", "99"], "must be 0 to 16"),
        (["--threshold", "fuzzy=0.2"], "unknown quality issue"),
        (["--threshold", "dark"], "expected ISSUE=VALUE"),
    ],
)
def test_bad_options_are_one_line(corpus, args, message):
    out = run_cli("inspect", corpus.root, *args)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_missing_folder_is_refused(tmp_path):
    out = run_cli("inspect", tmp_path / "nowhere")
    assert out.returncode == 2 and "no such folder" in out.stderr


def test_text_output_summarises_large_groups_and_names_conflicting_classes(digits_root):
    """8x8 digits chain into large near-duplicate groups: each group stays one readable line,
    and a label conflict says which classes it spans."""
    out = run_cli("inspect", digits_root, "--workers", "1", timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(run_cli("inspect", digits_root, "--json", "--workers", "1").stdout)
    biggest = max(data["duplicates"], key=lambda g: len(g["paths"]))
    assert len(biggest["paths"]) > 10  # the case this test is about
    lines = out.stdout.splitlines()
    assert max(len(line) for line in lines) < 400
    assert f"{len(biggest['paths'])} images: " in out.stdout
    assert f"and {len(biggest['paths']) - 5} more" in out.stdout
    for group in data["duplicates"]:
        if len(set(group["classes"])) > 1:
            assert f"CONFLICT ({', '.join(sorted(set(group['classes'])))})" in out.stdout
