"""Diffusion img2img on real digits with a tiny random Stable Diffusion model (no download):
plan → generate → review → export through the CLI, provenance, determinism, training-only
sources, the review gate, Cancel within one step, model and extra failures."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from datasets import write_digits
from export_helpers import read_manifest, tree_state
from PIL import Image

from imbalance_studio.cli import run_cli
from imbalance_studio.core.diffusion_settings import DiffusionSettings
from imbalance_studio.core.generation import (
    GenerateError,
    accept,
    awaiting_review,
    iter_generate,
    load_staging,
    reject,
    staged_for_plan,
)
from imbalance_studio.core.generation import diffusion as diff
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.project import ClassTarget, Method, Project
from imbalance_studio.core.scanning import drive, scan

pytestmark = pytest.mark.timeout(600)

# Training split of digit_1 is 4 images; target 6 → 2 diffusion images (few steps each).
COUNTS = [12, 6]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("digits-diffusion")
    write_digits(root, COUNTS)
    return root


def make_project(root: Path, model: Path, seed: int = 5, target: int = 6, **kw) -> Project:
    settings = {"model": str(model), "steps": 2, "size": 32, **kw}
    project = Project(
        dataset_root=str(root),
        seed=seed,
        targets={"digit_1": ClassTarget(target=target, method=Method.DIFFUSION)},
    )
    project.generation.diffusion = DiffusionSettings(**settings)
    return project


def generate(root: Path, project: Project, staging: Path, events=None):
    dataset = scan(root)
    plan = make_plan(dataset, project)
    return plan, drive(iter_generate(dataset, project, plan, staging), events)


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def test_generate_records_provenance_steps_and_training_sources(
    root, tiny_diffusion_model, tmp_path
):
    project = make_project(root, tiny_diffusion_model, negative_prompt="blurry")
    events: list = []
    plan, result = generate(root, project, tmp_path / "staging", events.append)
    wanted = len(plan.splits["train"][1].generate)
    assert wanted == 2 and len(result) == result.made == 2
    for g in result:
        assert g.generator == "diffusion-img2img" and g.status == "unreviewed"
        # Training images only: never a val/test original, and one the plan keeps.
        assert [plan.split_of(s) for s in g.sources] == ["train"]
        assert g.sources[0] in plan.splits["train"][1].kept
        p = g.params
        assert p["prompt"] == "a photo of a digit_1" and p["negative_prompt"] == "blurry"
        assert (p["strength"], p["steps"], p["guidance"], p["size"]) == (0.5, 2, 7.5, 32)
        assert p["model"]["path"] == str(tiny_diffusion_model)
        assert p["model"]["fingerprint"] == diff.model_fingerprint(tiny_diffusion_model)
        assert p["device"] == "cpu" and p["dtype"] == "float32"
        assert pixels(g.file).shape == (32, 32, 3)
    # Round-robin over the kept training images, as augmentation does.
    assert len({g.sources[0] for g in result}) == 2
    # Progress per denoising step, rising within an image.
    steps = [(e.step, e.steps) for e in events if e.steps]
    assert steps and all(0 < s <= n for s, n in steps)
    assert max(s for s, _n in steps) == steps[0][1]
    # Records on disk say the same; a second run reuses both.
    assert {g.id: g.status for g in load_staging(tmp_path / "staging")} == {
        g.id: "unreviewed" for g in result
    }
    _plan, again = generate(root, project, tmp_path / "staging")
    assert again.reused == 2 and again.made == 0


def test_same_project_and_seed_give_the_same_pixels(root, tiny_diffusion_model, tmp_path):
    a = generate(root, make_project(root, tiny_diffusion_model, target=5), tmp_path / "a")[1]
    b = generate(root, make_project(root, tiny_diffusion_model, target=5), tmp_path / "b")[1]
    c = generate(root, make_project(root, tiny_diffusion_model, 6, 5), tmp_path / "c")[1]
    assert [g.id for g in a] == [g.id for g in b] and len(a) == 1
    assert np.array_equal(pixels(a[0].file), pixels(b[0].file))
    assert a[0].seed != c[0].seed
    assert not np.array_equal(pixels(a[0].file), pixels(c[0].file))
    # Another prompt is another image: the staged one is not reused for it.
    other = make_project(root, tiny_diffusion_model, target=5, prompt="{class} x")
    dataset = scan(root)
    assert staged_for_plan(dataset, other, make_plan(dataset, other), tmp_path / "a") == ([], 1)


def test_cancel_stops_within_one_step_and_keeps_nothing_half_made(
    root, tiny_diffusion_model, tmp_path
):
    # strength 1 and 4 steps: several denoising steps per image to stop in between.
    project = make_project(root, tiny_diffusion_model, target=5, steps=4, strength=1.0)
    dataset = scan(root)
    plan = make_plan(dataset, project)
    staging = tmp_path / "staging"
    gen = iter_generate(dataset, project, plan, staging)
    seen = None
    for event in gen:
        if event.steps and 1 <= event.step < event.steps:
            seen = event
            break
    assert seen is not None and seen.done == 0
    t0 = time.monotonic()
    gen.close()
    closed_in = time.monotonic() - t0
    assert closed_in < 15  # one step of the tiny model, on a loaded machine
    folder = staging / "digit_1"
    assert [p.name for p in folder.iterdir()] == []  # no image, record or temp file
    # The next run makes the image from the start.
    _plan, result = generate(root, project, staging)
    assert result.made == 1 and all(g.status == "unreviewed" for g in result)


def test_review_gate_and_export_through_the_cli(root, tiny_diffusion_model, tmp_path, capsys):
    before = tree_state(root)
    p = tmp_path / "p.isproj.json"
    rc = run_cli([
        "plan", str(root), "--method", "diffusion", "--diffusion-model",
        str(tiny_diffusion_model), "--policy", "target:6", "--prompt",
        "a photo of a {class} digit", "--strength",
        "0.5", "--steps", "2", "--guidance", "5", "--size", "32", "--seed", "7",
        "--save-project", str(p),
    ])  # fmt: skip
    assert rc == 0
    saved = Project.load(p)
    assert saved.targets["digit_1"].method == Method.DIFFUSION
    assert saved.generation.diffusion.model == str(tiny_diffusion_model)
    assert run_cli(["generate", str(p), "--quiet", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "2 diffusion images await review" in out
    staging = tmp_path / "p.staging"
    images = load_staging(staging)
    assert len(awaiting_review(images)) == 2

    assert run_cli(["export", str(p), str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "2 diffusion images await review" in err and "--accept-unreviewed" in err
    assert not (tmp_path / "out").exists()

    # Reviewing: one accepted, one rejected (its replacement is unreviewed again).
    accept(staging, images[0])
    project = Project.load(p)
    reject(staging, images[1], "replace", project=project)
    project.save(p)
    assert run_cli(["export", str(p), str(tmp_path / "out"), "--quiet"]) == 2
    assert "1 diffusion image awaits review" in capsys.readouterr().err
    assert run_cli(["export", str(p), str(tmp_path / "out"), "--quiet", "--accept-unreviewed"]) == 0
    rows = [r for r in read_manifest(tmp_path / "out") if r["origin"] == "synthetic"]
    assert len(rows) == 2 and {r["split"] for r in rows} == {"train"}
    import json

    for r in rows:
        assert r["generator"] == "diffusion-img2img" and r["seed"].isdigit()
        params = json.loads(r["params"])
        assert params["prompt"] == "a photo of a digit_1 digit" and params["guidance"] == 5
        assert {"negative_prompt", "strength", "steps", "size", "model"} <= params.keys()
        assert params["model"]["fingerprint"].startswith("blake2b-")
    assert images[1].id not in {Path(r["path"]).stem.split("_", 1)[1] for r in rows}
    assert tree_state(root) == before


def test_export_a_folder_with_diffusion_in_one_run(root, tiny_diffusion_model, tmp_path, capsys):
    args = [
        "export", str(root), str(tmp_path / "out"), "--method", "diffusion",
        "--diffusion-model", str(tiny_diffusion_model), "--steps", "2", "--size", "32",
        "--policy", "target:5", "--quiet", "--workers", "1",
    ]  # fmt: skip
    assert run_cli(args) == 2
    assert "1 diffusion image awaits review" in capsys.readouterr().err
    assert run_cli([*args, "--accept-unreviewed"]) == 0
    rows = read_manifest(tmp_path / "out")
    assert sum(r["origin"] == "synthetic" for r in rows) == 1


def test_an_incomplete_or_missing_model_is_named(root, tiny_diffusion_model, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_diffusion_model, broken)
    for f in (broken / "unet").glob("*.safetensors"):
        f.unlink()
    shutil.rmtree(broken / "tokenizer")
    with pytest.raises(diff.DiffusionError, match=r"missing tokenizer/, unet/ weights"):
        diff.check_model(broken)
    rc = run_cli(["plan", str(root), "--method", "diffusion", "--diffusion-model", str(broken)])
    assert rc == 2 and "is incomplete: missing tokenizer/" in capsys.readouterr().err
    with pytest.raises(GenerateError, match="is incomplete"):
        generate(root, make_project(root, broken), tmp_path / "s")
    with pytest.raises(GenerateError, match="no such folder"):
        generate(root, make_project(root, tmp_path / "nowhere"), tmp_path / "s")
    assert run_cli(["plan", str(root), "--method", "diffusion"]) == 2
    assert "needs --diffusion-model" in capsys.readouterr().err


def test_a_model_that_fails_to_load_stops_the_job(root, tiny_diffusion_model, tmp_path):
    corrupt = tmp_path / "corrupt"
    shutil.copytree(tiny_diffusion_model, corrupt)
    (next((corrupt / "unet").glob("*.safetensors"))).write_bytes(b"not a safetensors file")
    with pytest.raises(GenerateError, match="could not be loaded"):
        generate(root, make_project(root, corrupt), tmp_path / "s")
    assert list((tmp_path / "s" / "digit_1").iterdir()) == []


def test_running_out_of_memory_stops_the_job_and_keeps_finished_images(
    root, tiny_diffusion_model, tmp_path, monkeypatch
):
    real = diff.img2img
    calls = []

    def second_fails(*a, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise diff.DiffusionError("out of memory making a 32-px diffusion image")
        return real(*a, **kw)

    monkeypatch.setattr(diff, "img2img", second_fails)
    with pytest.raises(GenerateError, match=r"out of memory.*finished images are kept"):
        generate(root, make_project(root, tiny_diffusion_model, seed=11), tmp_path / "s")
    assert len(load_staging(tmp_path / "s")) == 1


def test_without_the_extra_the_install_command_is_said(root, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "diffusers", None)  # `import diffusers` now fails
    hint = diff.missing_extra()
    assert hint is not None and 'pip install "imbalance-studio[diffusion]"' in hint
    assert "\n" not in hint
    model = tmp_path / "m"
    model.mkdir()
    rc = run_cli(["plan", str(root), "--method", "diffusion", "--diffusion-model", str(model)])
    assert rc == 2 and 'pip install "imbalance-studio[diffusion]"' in capsys.readouterr().err
    with pytest.raises(GenerateError, match=r"imbalance-studio\[diffusion\]"):
        generate(root, make_project(root, model), tmp_path / "s")
