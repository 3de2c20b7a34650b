"""`imbalance-studio generate`: headless runs, resume after a killed run, refusals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from datasets import write_digits

from imbalance_studio.cli import run_cli
from imbalance_studio.core.generation import load_staging
from imbalance_studio.core.project import ClassTarget, Project


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("digits3")
    write_digits(root, [30, 12, 6])
    return root


def save_project(root: Path, folder: Path, **targets: int) -> Path:
    project = Project(
        dataset_root=str(root),
        targets={k: ClassTarget(target=v) for k, v in (targets or {"digit_2": 12}).items()},
    )
    path = folder / "p.isproj.json"
    project.save(path)
    return path


def test_generate_then_rerun_reuses_everything(root, tmp_path, capsys):
    project = save_project(root, tmp_path, digit_1=15, digit_2=12)
    assert run_cli(["generate", str(project), "--workers", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    staging = tmp_path / "p.staging"
    assert f"15 of 15 images ready in {staging}" in out and "all 15 made now" in out
    assert "digit_2: 8 of 8" in out
    assert len(load_staging(staging)) == 15
    assert out.splitlines()[0] == "will make 15 images for 2 classes"
    assert run_cli(["generate", str(project), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "all 15 made earlier and reused" in out
    # Said before generating: nothing is made again.
    assert out.splitlines()[0] == "all 15 planned images for 2 classes are already made: reused"
    # One more image wanted: only it is made, and the line says so.
    project = save_project(root, tmp_path, digit_1=15, digit_2=13)
    out_dir = tmp_path / "out"
    assert run_cli(["export", str(project), str(out_dir), "--quiet", "--workers", "1"]) == 0
    assert "16 planned images for 2 classes: 15 already made (reused), 1 to make" in (
        capsys.readouterr().out
    )


def test_a_rerun_that_cannot_generate_is_a_one_line_refusal(root, tmp_path, capsys):
    """Counting what is already made reads the project's generation settings as generation
    does: a class switched to diffusion with no model is refused in one line, not a bug."""
    from imbalance_studio.core.project import Method

    project = save_project(root, tmp_path, digit_2=12)
    assert run_cli(["generate", str(project), "--workers", "1", "--quiet"]) == 0
    capsys.readouterr()
    saved = Project.load(project)
    saved.targets["digit_2"] = ClassTarget(target=12, method=Method.DIFFUSION)
    saved.save(project)
    assert run_cli(["generate", str(project), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "unexpected" not in err and "bug" not in err
    assert len(err.strip().splitlines()) == 1


def test_augment_option_sets_the_stack(root, tmp_path, capsys):
    from imbalance_studio.core.augment import PRESETS, save_stack_file

    project = save_project(root, tmp_path)
    stack_file = tmp_path / "heavy.json"
    save_stack_file(PRESETS["heavy"], stack_file)
    assert run_cli(["generate", str(project), "--workers", "1", "--quiet"]) == 0
    assert run_cli(["generate", str(project), "--quiet", "--augment", str(stack_file)]) == 0
    assert "all 8 made now" in capsys.readouterr().out.split("images ready")[-1]


def test_refusals_are_one_line_errors(root, tmp_path, capsys):
    assert run_cli(["generate", str(tmp_path / "missing.isproj.json")]) == 2
    assert "no such project file" in capsys.readouterr().err
    project = Project(
        dataset_root=str(root),
        targets={"digit_2": ClassTarget(target=12)},
        staging_dir=str(root / "inside"),
    )
    project.save(tmp_path / "bad.isproj.json")
    assert run_cli(["generate", str(tmp_path / "bad.isproj.json"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "inside the dataset" in err and len(err.strip().splitlines()) == 1
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    project.staging_dir = str(blocker / "staging")
    project.save(tmp_path / "ro.isproj.json")
    assert run_cli(["generate", str(tmp_path / "ro.isproj.json"), "--quiet"]) == 2
    assert "not writable" in capsys.readouterr().err


def test_nothing_to_generate(root, tmp_path, capsys):
    project = Project(dataset_root=str(root))
    project.save(tmp_path / "p.isproj.json")
    assert run_cli(["generate", str(tmp_path / "p.isproj.json"), "--quiet"]) == 0
    assert "nothing to generate" in capsys.readouterr().out


def _state(staging: Path) -> dict[str, tuple[int, int]]:
    return {
        p.name: (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in staging.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }


def test_resume_after_a_killed_run(root, tmp_path):
    # Enough small images that the run is still going when it is killed.
    project = save_project(root, tmp_path, digit_2=600)
    staging = tmp_path / "p.staging"
    cmd = [sys.executable, "-m", "imbalance_studio", "generate", str(project), "--quiet"]
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1"}
    proc = subprocess.Popen([*cmd, "--workers", "1"], env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(list(staging.glob("*/*.json"))) < 50:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    finished = {p.stem for p in staging.glob("*/*.json") if json.loads(p.read_text())["bytes"] > 0}
    assert 50 <= len(finished) < 596
    # What a crash can leave: a half-written temp file and an image without its record.
    folder = staging / "digit_2"
    (folder / ".00999-deadbeef.png.x1.tmp").write_bytes(b"\x89PNG trunc")
    orphan = next(p for p in folder.glob("*.png") if p.stem in finished)
    orphan.with_suffix(".json").unlink()
    finished.discard(orphan.stem)
    # The crash was a while ago: what it left is stale (a fresh temp file may be a write in
    # progress and is left alone).
    long_ago = time.time() - 3600
    for temp in staging.rglob(".*.tmp"):
        os.utime(temp, (long_ago, long_ago))
    before = _state(staging)
    done = subprocess.run(
        [*cmd, "--workers", "2"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "596 of 596 images ready" in done.stdout
    assert f"{len(finished):,} made earlier and reused" in done.stdout
    assert not list(folder.glob(".*.tmp"))
    after = _state(staging)
    for stem in finished:
        for ext in (".png", ".json"):
            assert after[stem + ext] == before[stem + ext], "a finished file was redone"
    assert orphan.with_suffix(".json").is_file()
    assert len(load_staging(staging)) == 596
