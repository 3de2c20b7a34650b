"""Generation on real digits: counts, sourcing, determinism, resume, rejections, failures."""

from __future__ import annotations

import errno
import os
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from datasets import write_digits
from PIL import Image

from imbalance_studio.core.augment import PRESETS, apply_stack
from imbalance_studio.core.augment.apply import redraw_seed
from imbalance_studio.core.generation import (
    GenerateError,
    GenerateProgress,
    iter_generate,
    load_staging,
    reject,
)
from imbalance_studio.core.imageio import load_array
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.project import ClassTarget, Project
from imbalance_studio.core.scanning import drive, scan

COUNTS = [30, 12, 6]  # digit_0 .. digit_2; training split about 20 / 8 / 4
TARGETS = {"digit_1": 15, "digit_2": 12}


@pytest.fixture(scope="module")
def small_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("digits3")
    write_digits(root, COUNTS)
    return root


def make_project(root: Path, **targets: int) -> Project:
    targets = targets or TARGETS
    return Project(
        dataset_root=str(root),
        targets={name: ClassTarget(target=n) for name, n in targets.items()},
    )


def generate(root: Path, project: Project, staging: Path, workers: int = 1, events=None):
    dataset = scan(root)
    plan = make_plan(dataset, project)
    result = drive(iter_generate(dataset, project, plan, staging, workers=workers), events)
    return dataset, plan, result


def by_class(images) -> dict[str, list]:
    out: dict[str, list] = {}
    for g in images:
        out.setdefault(g.class_name, []).append(g)
    return out


def files_state(staging: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(staging)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in staging.rglob("*")
        if p.is_file()
    }


def test_counts_per_class_and_records(small_root, tmp_path):
    staging = tmp_path / "staging"
    events: list[GenerateProgress] = []
    _, plan, result = generate(small_root, make_project(small_root), staging, events=events.append)
    groups = by_class(result)
    for cp in plan.splits["train"]:
        name = plan.classes[cp.class_index]
        assert len(groups.get(name, [])) == len(cp.generate)
    assert sorted(groups) == ["digit_1", "digit_2"]
    assert result.made == len(result) == 7 + 8 and result.reused == 0
    assert events[-1].done == events[-1].total == len(result)
    assert sum(bool(g.params["applied"]) for g in result) > len(result) // 2
    staged = {g.id: g for g in load_staging(staging)}
    for g in result:
        assert g.file.is_file() and g.file.parent == staging / g.class_name
        assert g.file.name == f"{g.id}.png" and g.record_file.is_file()
        assert staged[g.id].sources == g.sources and staged[g.id].seed == g.seed
        assert staged[g.id].params == g.params
        # The seed that made the pixels: the image's own, or one derived from it when draws
        # that applied nothing were redrawn.
        assert g.params["seed"] == redraw_seed(g.seed, g.params["redraws"])
        assert g.status == "pending" and g.generator == "augment"
        with Image.open(g.file) as im:
            assert im.format == "PNG" and im.size == (32, 32)


def test_round_robin_over_training_sources_only(small_root, tmp_path):
    _, plan, result = generate(small_root, make_project(small_root), tmp_path / "s")
    for name, images in by_class(result).items():
        cp = plan.splits["train"][plan.classes.index(name)]
        uses = Counter(g.sources[0] for g in images)
        assert set(uses) <= set(cp.kept)
        for g in images:
            assert plan.split_of(g.sources[0]) == "train"
        if len(images) >= len(cp.kept):
            assert set(uses) == set(cp.kept), "every source contributes"
        n, k = len(images), len(cp.kept)
        assert set(uses.values()) <= {n // k, -(-n // k)}, uses
    held_out = {p for s in ("val", "test") for cp in plan.splits[s] for p in cp.kept}
    assert held_out and not held_out & {s for g in result for s in g.sources}


def test_plan_with_a_held_out_source_is_refused(small_root, tmp_path):
    import dataclasses

    dataset = scan(small_root)
    project = make_project(small_root)
    plan = make_plan(dataset, project)
    train = list(plan.splits["train"])
    cp = train[1]
    val_file = plan.splits["val"][1].kept[0]
    bad_task = dataclasses.replace(cp.generate[0], source=val_file)
    train[1] = dataclasses.replace(cp, generate=(bad_task, *cp.generate[1:]))
    doctored = dataclasses.replace(plan, splits={**plan.splits, "train": tuple(train)})
    with pytest.raises(GenerateError, match="not a kept training image"):
        drive(iter_generate(dataset, project, doctored, tmp_path / "s"))
    assert not list((tmp_path / "s").rglob("*.png"))


def test_same_project_and_seed_same_pixels(small_root, tmp_path):
    project = make_project(small_root)
    project.generation.cutmix_classes = ["digit_2"]
    _, _, one = generate(small_root, project, tmp_path / "a", workers=1)
    _, _, two = generate(small_root, project, tmp_path / "b", workers=2)
    assert [g.id for g in one] == [g.id for g in two]
    for a, b in zip(one, two, strict=True):
        assert a.sources == b.sources and a.seed == b.seed
        assert np.array_equal(load_array(a.file), load_array(b.file))
    # The pixels are exactly the class stack applied with the image's seed (no stack was
    # chosen: the default preset safe).
    g = next(g for g in one if g.generator == "augment")
    expected, _ = apply_stack(PRESETS["safe"], load_array(small_root / g.sources[0]), g.seed)
    assert np.array_equal(load_array(g.file), expected)
    # Another project seed gives other images.
    other = make_project(small_root)
    other.seed = 1
    _, _, three = generate(small_root, other, tmp_path / "c")
    assert not {g.id for g in three} & {g.id for g in one}


def test_cutmix_uses_two_training_images_of_the_class(small_root, tmp_path):
    project = make_project(small_root)
    project.generation.cutmix_classes = ["digit_2"]
    _, plan, result = generate(small_root, project, tmp_path / "s")
    mixed = [g for g in result if g.generator == "cutmix"]
    assert mixed and all(g.class_name == "digit_2" for g in mixed)
    kept = set(plan.splits["train"][2].kept)
    for g in mixed:
        source, donor = g.sources
        assert source != donor and {source, donor} <= kept
        x, y, w, h = g.params["applied"][0]["params"]["box"]
        out = load_array(g.file)
        src = load_array(small_root / source)
        dst = load_array(small_root / donor)
        assert np.array_equal(out[y : y + h, x : x + w], dst[y : y + h, x : x + w])
        outside = np.ones(out.shape, bool)
        outside[y : y + h, x : x + w] = False
        assert np.array_equal(out[outside], src[outside])


def test_resume_redoes_only_what_is_broken(small_root, tmp_path):
    staging = tmp_path / "s"
    project = make_project(small_root)
    _, _, first = generate(small_root, project, staging)
    a, b, c = first[0], first[3], first[9]
    pixels = {g.id: load_array(g.file) for g in (a, b, c)}  # before the damage
    a.record_file.unlink()  # image without its record
    b.file.write_bytes(b.file.read_bytes()[:100])  # truncated image under a valid record
    c.file.unlink()  # record without its image
    leftover = staging / c.class_name / f".{c.id}.png.abc123.tmp"
    leftover.write_bytes(b"\x89PNG partial")
    an_hour_ago = time.time() - 3600
    os.utime(leftover, (an_hour_ago, an_hour_ago))  # a killed run's, from a while ago
    # A fresh one may be a write in progress (a QA decision saved meanwhile): left alone.
    in_progress = staging / a.class_name / f".{a.id}.json.def456.tmp"
    in_progress.write_bytes(b"{")
    before = files_state(staging)
    _, _, again = generate(small_root, project, staging)
    assert again.made == 3 and again.reused == len(first) - 3
    assert [g.id for g in again] == [g.id for g in first]
    assert not leftover.exists() and in_progress.exists()
    in_progress.unlink()
    after = files_state(staging)
    redone = {f"{g.class_name}/{g.id}.{ext}" for g in (a, b, c) for ext in ("png", "json")}
    for rel, state in after.items():
        if rel not in redone:
            assert before[rel] == state, f"{rel} was rewritten"
    for g in (a, b, c):
        # Made again in full, with the same pixels as before (same seed, same source).
        assert np.array_equal(load_array(g.file), pixels[g.id])
        assert g.file.stat().st_size > 100


def test_stack_change_regenerates_only_that_class(small_root, tmp_path):
    staging = tmp_path / "s"
    project = make_project(small_root)
    _, _, first = generate(small_root, project, staging)
    project.augment.class_stacks = {"digit_2": PRESETS["heavy"]}
    _, _, second = generate(small_root, project, staging)
    old = {g.id for g in first}
    assert {g.id for g in second if g.class_name == "digit_1"} <= old
    assert not {g.id for g in second if g.class_name == "digit_2"} & old
    assert second.made == 8 and second.reused == 7


def test_reject_and_replace(small_root, tmp_path):
    staging = tmp_path / "s"
    project = make_project(small_root)
    _, _, first = generate(small_root, project, staging)
    victim = first[2]
    updated = reject(staging, victim.id, "replace", project=project)
    assert updated.status == "rejected" and project.generation.rejected == [victim.id]
    assert project.targets["digit_1"].target == 15
    # The rejection survives a save and load of the project.
    project.save(tmp_path / "p.isproj.json")
    project = Project.load(tmp_path / "p.isproj.json")
    _, _, second = generate(small_root, project, staging)
    assert second.made == 1 and len(second) == len(first)
    new = next(g for g in second if g.id not in {g.id for g in first})
    assert victim.id not in {g.id for g in second}
    assert (new.ordinal, new.sources, new.class_name) == (
        victim.ordinal,
        victim.sources,
        victim.class_name,
    )
    assert new.seed != victim.seed
    assert not np.array_equal(load_array(new.file), load_array(victim.file))
    statuses = {g.id: g.status for g in load_staging(staging)}
    assert statuses[victim.id] == "rejected" and statuses[new.id] == "pending"


def test_reject_and_reduce(small_root, tmp_path):
    staging = tmp_path / "s"
    project = make_project(small_root)
    _, _, first = generate(small_root, project, staging)
    victim = next(g for g in first if g.class_name == "digit_2" and g.ordinal == 3)
    reject(staging, victim, "reduce", project=project)
    assert project.targets["digit_2"].target == 11
    _, plan, second = generate(small_root, project, staging)
    assert second.made == 0, "reduce makes no new image"
    kept = [g for g in second if g.class_name == "digit_2"]
    assert len(kept) == len(plan.splits["train"][2].generate) == 8 - 1
    assert victim.id not in {g.id for g in second}
    assert {g.id for g in kept} < {g.id for g in first}


def _copy_digits(tmp_path: Path) -> Path:
    root = tmp_path / "ds"
    write_digits(root, COUNTS)
    return root


def test_bad_source_is_skipped_and_count_still_met(tmp_path):
    root = _copy_digits(tmp_path)
    project = make_project(root)
    dataset = scan(root)  # listed only: the corrupt file below is not known yet
    plan = make_plan(dataset, project)
    bad = plan.splits["train"][2].generate[0].source
    (root / bad).write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    events: list[GenerateProgress] = []
    result = drive(iter_generate(dataset, project, plan, tmp_path / "s"), events.append)
    mine = [g for g in result if g.class_name == "digit_2"]
    assert len(mine) == 8
    assert bad not in {s for g in result for s in g.sources}
    assert bad in result.bad_sources
    assert any(bad in p for p in result.problems)
    assert any(e.problem and bad in e.problem for e in events)
    uses = Counter(g.sources[0] for g in mine)
    assert sorted(uses.values()) == [2, 3, 3], "the bad source's share goes round-robin"


def test_class_without_usable_source_is_reported(tmp_path):
    root = _copy_digits(tmp_path)
    project = make_project(root)
    dataset = scan(root)
    plan = make_plan(dataset, project)
    for rel in plan.splits["train"][2].kept:
        (root / rel).write_bytes(b"not an image")
    result = drive(iter_generate(dataset, project, plan, tmp_path / "s"))
    assert {g.class_name for g in result} == {"digit_1"} and len(result) == 7
    assert any("class digit_2" in p and "none of its 4" in p for p in result.problems)


def test_staging_inside_dataset_or_unwritable_is_refused(small_root, tmp_path):
    dataset = scan(small_root)
    project = make_project(small_root)
    plan = make_plan(dataset, project)
    with pytest.raises(GenerateError, match="inside the dataset"):
        drive(iter_generate(dataset, project, plan, small_root / "staging"))
    assert not (small_root / "staging").exists()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(GenerateError, match="not writable"):
        drive(iter_generate(dataset, project, plan, blocker / "staging"))


def test_disk_full_stops_with_nothing_half_written(small_root, tmp_path, monkeypatch):
    from imbalance_studio.core.generation import records

    staging = tmp_path / "s"
    dataset = scan(small_root)
    project = make_project(small_root)
    plan = make_plan(dataset, project)
    real_fsync = os.fsync
    calls = {"n": 0}

    def fsync(fd):
        calls["n"] += 1
        if calls["n"] > 5:  # the probe and four images fit, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(records.os, "fsync", fsync)
    with pytest.raises(GenerateError, match="disk full"):
        drive(iter_generate(dataset, project, plan, staging))
    monkeypatch.setattr(records.os, "fsync", real_fsync)
    pngs = list(staging.rglob("*.png"))
    assert len(pngs) == 4 and not list(staging.rglob("*.tmp"))
    assert all(p.with_suffix(".json").is_file() for p in pngs)
    result = drive(iter_generate(dataset, project, plan, staging))
    assert result.reused == 4 and result.made == 11


def test_closing_the_generator_keeps_finished_files(small_root, tmp_path):
    staging = tmp_path / "s"
    dataset = scan(small_root)
    project = make_project(small_root)
    plan = make_plan(dataset, project)
    gen = iter_generate(dataset, project, plan, staging, workers=2)
    made = []
    for event in gen:
        if event.image is not None:
            made.append(event.image)
        if len(made) == 3:
            break
    gen.close()
    assert all(g.file.is_file() and g.record_file.is_file() for g in made)
    result = drive(iter_generate(dataset, project, plan, staging, workers=2))
    assert len(result) == 15 and result.reused >= 3
    assert {g.id for g in made} <= {g.id for g in result}


def test_reduced_plan_is_the_plan_of_the_lower_target(small_root, tmp_path):
    from imbalance_studio.core.generation import reduced_plan, staged_for_plan

    dataset = scan(small_root)
    project = make_project(small_root)
    plan = make_plan(dataset, project)
    lower = make_plan(dataset, make_project(small_root, digit_1=15, digit_2=11))
    assert reduced_plan(plan, "digit_2").splits == lower.splits
    # Before anything is made, the plan lacks every image; afterwards none.
    assert staged_for_plan(dataset, project, plan, tmp_path / "s") == ([], 15)
    made = drive(iter_generate(dataset, project, plan, tmp_path / "s"))
    images, missing = staged_for_plan(dataset, project, plan, tmp_path / "s")
    assert missing == 0 and [g.id for g in images] == [g.id for g in made]


def test_a_pool_let_go_without_waiting_is_joined_before_exit():
    """The window lets the pool go without waiting (its thread must not block); the exit
    joins it first, so Python's own exit clean-up cannot race it (a 'Bad file descriptor'
    traceback on Python 3.11)."""
    import multiprocessing

    from imbalance_studio.core.generation import run

    pool = run.shared_pool(1)
    assert pool.submit(abs, -3).result(timeout=60) == 3
    children = set(multiprocessing.active_children())
    assert children
    run.shutdown_pool()  # returns at once
    assert run._LETTING_GO
    run.join_pool()
    assert not run._LETTING_GO
    assert not children & set(multiprocessing.active_children())  # the workers are gone
