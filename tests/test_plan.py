"""The plan: split first, stratified, seeded, stable and leak-free; targets met exactly."""

import math
import shutil
from collections import Counter

import pytest
from datasets import DIGIT_COUNTS, write_digits
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imbalance_studio.core.dataset import Dataset, Sample
from imbalance_studio.core.duplicates import content_groups
from imbalance_studio.core.plan import SPLITS, make_plan, train_counts
from imbalance_studio.core.policies import apply_policy
from imbalance_studio.core.project import ClassTarget, Mark, Method, Project, SplitSettings
from imbalance_studio.core.scanning import scan
from imbalance_studio.core.split import held_out_counts, make_split, min_splittable

FRACTIONS = [
    SplitSettings(),
    SplitSettings(train=0.8, val=0.2, test=0.0),
    SplitSettings(train=0.5, val=0.25, test=0.25),
]


def synthetic(sizes: list[int]) -> Dataset:
    classes = [f"class_{i}" for i in range(len(sizes))]
    samples = [
        Sample(f"{c}/img_{j:04d}.png", i)
        for i, (c, n) in enumerate(zip(classes, sizes, strict=True))
        for j in range(n)
    ]
    return Dataset("/nonexistent/synthetic", classes, samples)


@st.composite
def curations(draw, max_classes: int = 5, max_size: int = 60):
    sizes = draw(st.lists(st.integers(0, max_size), min_size=1, max_size=max_classes))
    ds = synthetic(sizes)
    paths = [s.path for s in ds.samples]
    marks = {}
    if paths:
        for p in draw(st.lists(st.sampled_from(paths), max_size=len(paths), unique=True)):
            marks[p] = draw(
                st.sampled_from([Mark(remove=True), Mark(duplicate=1), Mark(duplicate=3)])
            )
    targets = {}
    for name in ds.classes:
        if draw(st.booleans()):
            method = draw(st.sampled_from(list(Method)))
            targets[name] = ClassTarget(target=draw(st.integers(0, 2 * max_size)), method=method)
    project = Project(
        dataset_root="/nonexistent/synthetic",
        seed=draw(st.integers(0, 2**32)),
        split=draw(st.sampled_from(FRACTIONS)),
        marks=marks,
        targets=targets,
    )
    return ds, project


def originals_of(ds: Dataset, class_index: int) -> list[str]:
    return [s.path for s in ds.samples if s.class_index == class_index]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(curations())
def test_final_counts_equal_targets(case):
    ds, project = case
    plan = make_plan(ds, project)
    before = train_counts(ds, project)
    for cp in plan.splits["train"]:
        name = ds.classes[cp.class_index]
        goal = project.targets.get(name)
        current = before[name]
        if goal is None or goal.target is None or goal.method == Method.KEEP:
            assert cp.final == current
        elif goal.target <= current or (goal.method != Method.UNDERSAMPLE and cp.kept):
            assert cp.final == goal.target, (name, goal, current)
        else:  # nothing to grow from, or undersample asked to grow: nothing made, and said so
            assert cp.final == current and not cp.generate
            assert any(name in w for w in plan.warnings)


@settings(max_examples=150, deadline=None)
@given(curations())
def test_leak_free_and_nothing_both_removed_and_duplicated(case):
    ds, project = case
    plan = make_plan(ds, project)
    for split in SPLITS:
        for cp in plan.splits[split]:
            originals = originals_of(ds, cp.class_index)
            mine = [p for p in originals if plan.split_of(p) == split]
            assert sorted(cp.kept + cp.removed) == sorted(mine) and cp.original == len(mine)
            assert not set(cp.kept) & set(cp.removed)
            if split != "train":
                # val / test: originals only, minus remove marks, nothing else dropped or made
                assert not cp.duplicates and not cp.generate
                assert {p for p in cp.removed} == {
                    p for p in mine if p in project.marks and project.marks[p].remove
                }
                continue
            sources = {d.source for d in cp.duplicates} | {g.source for g in cp.generate}
            assert sources <= set(cp.kept)  # kept train originals of this class only
            assert all(plan.split_of(s) == "train" for s in sources)
            assert not sources & set(cp.removed)
            assert not any(project.marks.get(p, Mark()).remove for p in cp.kept)
            # copies of one source are numbered 1..N
            per_source = Counter(d.source for d in cp.duplicates)
            for d in cp.duplicates:
                assert 1 <= d.copy <= per_source[d.source]
            assert len(set(cp.duplicates)) == len(cp.duplicates)
            # generation sources are round-robin: usage differs by at most one
            use = Counter(g.source for g in cp.generate)
            if use:
                assert max(use.values()) - min(use.values()) <= 1
                assert [g.ordinal for g in cp.generate] == list(range(len(cp.generate)))


@settings(max_examples=100, deadline=None)
@given(curations(max_size=80))
def test_split_is_stratified_with_the_small_class_rule(case):
    ds, project = case
    plan = make_plan(ds, project)
    for ci, _name in enumerate(ds.classes):
        n = len(originals_of(ds, ci))
        sizes = {s: plan.splits[s][ci].original for s in SPLITS}
        quotas = held_out_counts(n, project.split)
        if quotas is None:
            assert sizes["train"] == n  # too small to split: all to train
            if n:
                assert any(
                    "too few images to split" in w and f"class_{ci} ({n})" in w
                    for w in plan.warnings
                )
            continue
        assert n >= min_splittable(project.split)
        assert abs(sizes["val"] - project.split.val * n) <= 1
        assert abs(sizes["test"] - project.split.test * n) <= 1
        assert sizes["train"] >= 1


@settings(max_examples=60, deadline=None)
@given(curations(), st.data())
def test_same_seed_same_plan_and_adding_a_mark_never_moves_a_sample(case, data):
    ds, project = case
    plan = make_plan(ds, project)
    assert make_plan(ds, project.model_copy(deep=True)) == plan
    paths = [s.path for s in ds.samples]
    if not paths:
        return
    marked = project.model_copy(deep=True)
    path = data.draw(st.sampled_from(paths))
    marked.set_mark(path, data.draw(st.sampled_from([Mark(remove=True), Mark(duplicate=2)])))
    after = make_plan(ds, marked)
    assert all(after.split_of(p) == plan.split_of(p) for p in paths)


def test_different_seed_different_split_on_a_big_class():
    ds = synthetic([300, 20])
    a = make_plan(ds, Project(dataset_root="/x", seed=1))
    b = make_plan(ds, Project(dataset_root="/x", seed=2))
    assert a.splits["val"][0].kept != b.splits["val"][0].kept
    assert a.to_json()["splits"] == b.to_json()["splits"]  # same counts, other files


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=4), st.data())
def test_exact_duplicates_land_in_the_same_split(sizes, data):
    ds = synthetic(sizes)
    paths = [s.path for s in ds.samples]
    # Random groups of identical files, some spread over several classes.
    group_of = data.draw(st.lists(st.integers(0, 12), min_size=len(paths), max_size=len(paths)))
    groups = {p: f"g{g}" for p, g in zip(paths, group_of, strict=True) if g < 6}
    project = Project(dataset_root="/x", seed=data.draw(st.integers(0, 1000)))
    plan = make_plan(ds, project, groups=groups)
    by_group: dict[str, set[str | None]] = {}
    for p, g in groups.items():
        by_group.setdefault(g, set()).add(plan.split_of(p))
    assert all(len(s) == 1 for s in by_group.values()), by_group


def test_undersampling_drops_marked_for_duplication_last_and_removal_wins():
    ds = synthetic([40])
    project = Project(dataset_root="/x", seed=5)
    train = list(make_plan(ds, project).splits["train"][0].kept)  # 28 images
    marked = train[:3]
    for p in marked:
        project.set_mark(p, Mark(duplicate=2))
    project.set_mark(train[3], Mark(remove=True, duplicate=4))  # remove wins
    assert project.marks[train[3]] == Mark(remove=True)
    # 24 unmarked + 3 marked + 6 copies = 33; target 8: all 24 unmarked go, then 1 copy.
    project.targets = {"class_0": ClassTarget(target=8, method=Method.UNDERSAMPLE)}
    cp = make_plan(ds, project).splits["train"][0]
    assert set(cp.kept) == set(marked) and cp.final == 8 and len(cp.duplicates) == 5
    assert train[3] in cp.removed
    # target 2: every copy and one marked original gone as well
    project.targets["class_0"] = ClassTarget(target=2, method=Method.AUGMENT)
    cp = make_plan(ds, project).splits["train"][0]
    assert len(cp.kept) == 2 and set(cp.kept) < set(marked) and not cp.duplicates


def test_duplicate_marks_in_val_or_test_are_reported_not_applied():
    ds = synthetic([40])
    project = Project(dataset_root="/x")
    held = make_plan(ds, project).splits["val"][0].kept[0]
    project.set_mark(held, Mark(duplicate=3))
    project.set_mark("class_0/gone.png", Mark(remove=True))
    plan = make_plan(ds, project)
    assert not plan.splits["val"][0].duplicates and held in plan.splits["val"][0].kept
    assert any("1 sample marked for duplication is in val/test" in w for w in plan.warnings)
    assert any("1 mark refers to files not in the dataset" in w for w in plan.warnings)


def test_duplicate_method_spreads_copies_round_robin_after_marked_ones():
    ds = synthetic([14])  # 2 val, 2 test, 10 train
    project = Project(
        dataset_root="/x", targets={"class_0": ClassTarget(target=25, method=Method.DUPLICATE)}
    )
    first = make_plan(ds, project).splits["train"][0].kept[0]
    project.set_mark(first, Mark(duplicate=2))
    cp = make_plan(ds, project).splits["train"][0]
    copies = Counter(d.source for d in cp.duplicates)
    assert len(cp.kept) == 10 and cp.final == 25 and not cp.generate
    assert sum(copies.values()) == 15  # 2 marked + 13 to reach the target
    extra = Counter({p: copies[p] - (2 if p == first else 0) for p in cp.kept})
    assert sum(extra.values()) == 13 and max(extra.values()) - min(extra.values()) <= 1
    numbers = sorted(d.copy for d in cp.duplicates if d.source == first)
    assert numbers == list(range(1, copies[first] + 1))


def test_generation_seeds_are_stable_and_distinct():
    ds = synthetic([30, 5])
    project = Project(dataset_root="/x", seed=9, targets={"class_1": ClassTarget(target=40)})
    tasks = make_plan(ds, project).splits["train"][1].generate  # 5 = 3 train + 1 + 1
    assert len(tasks) == 37 and len({t.seed for t in tasks}) == 37
    assert all(0 <= t.seed < 2**32 for t in tasks)
    assert make_plan(ds, project).splits["train"][1].generate == tasks
    other = project.model_copy(update={"seed": 10})
    assert [t.seed for t in make_plan(ds, other).splits["train"][1].generate] != [
        t.seed for t in tasks
    ]


def test_precomputed_split_must_match_the_project():
    ds = synthetic([30])
    project = Project(dataset_root="/x", seed=3)
    split = make_split(ds, 3, project.split)
    assert make_plan(ds, project, split=split) == make_plan(ds, project)
    with pytest.raises(ValueError, match="another seed"):
        make_plan(ds, project.model_copy(update={"seed": 4}), split=split)


def test_to_json_shape(digits_root):
    ds = scan(digits_root)
    project = Project(dataset_root=str(digits_root), policy="median")
    project.targets = apply_policy("median", train_counts(ds, project))
    plan = make_plan(ds, project)
    out = plan.to_json(list_files=True)
    assert list(out) == ["seed", "policy", "classes", "splits", "files", "warnings"]
    assert out["classes"] == [f"digit_{i}" for i in range(10)]
    keys = ["original", "removed", "kept", "duplicated", "generate", "final"]
    for split in SPLITS:
        for name in out["classes"]:
            row = out["splits"][split][name]
            assert list(row) == keys
            assert row["kept"] == len(out["files"][split][name])
            assert row["final"] == row["kept"] + row["duplicated"] + row["generate"]
    finals = {out["splits"]["train"][c]["final"] for c in out["classes"]}
    assert len(finals) == 1  # everyone met at the median
    assert "files" not in plan.to_json()


def test_digits_split_counts(digits_root):
    ds = scan(digits_root)
    plan = make_plan(ds, Project(dataset_root=str(digits_root)))
    for ci, n in enumerate(DIGIT_COUNTS):
        val, test = (plan.splits[s][ci].original for s in ("val", "test"))
        assert val == math.floor(0.15 * n + 0.5) and test == val
        assert plan.splits["train"][ci].original == n - val - test
    # Only the held-out splits of the two smallest classes (12 and 8 images) deserve a word.
    assert plan.warnings and all("metrics will be noisy" in w for w in plan.warnings)
    small = {w.split(":")[0] for w in plan.warnings}
    assert small == {"class digit_8", "class digit_9"}


def test_drastic_plans_are_explained(digits_root):
    from imbalance_studio.core.policies import apply_policy

    ds = scan(digits_root)
    project = Project(dataset_root=str(digits_root))
    counts = dict(zip(ds.classes, make_plan(ds, project).final_counts("train"), strict=True))
    project.targets = apply_policy("target:200", counts)
    text = "\n".join(make_plan(ds, project).warnings)
    assert "class digit_9: 194 of 200 training images will be synthetic" in text
    project.targets = apply_policy("undersample", counts)
    text = "\n".join(make_plan(ds, project).warnings)
    assert "class digit_0: 6 of 104 training originals are kept" in text


def test_content_groups_find_identical_files_and_keep_them_together(tmp_path):
    root = tmp_path / "data"
    write_digits(root, counts=[30, 12])
    # an exact copy inside a class and one across classes (a labelling mistake)
    shutil.copy(root / "digit_0/digit_0_000.png", root / "digit_0/copy_of_000.png")
    shutil.copy(root / "digit_0/digit_0_005.png", root / "digit_1/also_005.png")
    ds = scan(root)
    events = []
    groups = content_groups(ds, events.append)
    assert {e.phase for e in events} >= {"sizing", "hashing"}
    assert groups["digit_0/digit_0_000.png"] == groups["digit_0/copy_of_000.png"]
    assert groups["digit_0/digit_0_005.png"] == groups["digit_1/also_005.png"]
    assert len(groups) == 4
    for seed in range(20):
        plan = make_plan(ds, Project(dataset_root=str(root), seed=seed), groups=groups)
        assert plan.split_of("digit_0/digit_0_000.png") == plan.split_of("digit_0/copy_of_000.png")
        assert plan.split_of("digit_0/digit_0_005.png") == plan.split_of("digit_1/also_005.png")


def test_split_ranking_is_by_keyed_hash_then_key_also_when_hashes_collide(monkeypatch):
    from imbalance_studio.core import split as split_module
    from imbalance_studio.core.progress import drive

    keys = [f"c/{i}.png" for i in (5, 3, 9, 1, 7)]
    prefix = "0\x1fc\x1f"
    expected = sorted(keys, key=lambda k: (split_module.keyed_hash(0, "c", k), k))
    assert drive(split_module._ranked(keys, prefix)) == expected  # numpy argsort, no tuples
    monkeypatch.setattr(split_module, "_hash8", lambda _text: 7)  # every hash the same
    assert drive(split_module._ranked(keys, prefix)) == sorted(keys)  # ties go by key


def test_one_group_across_classes_is_named_in_the_singular(tmp_path):
    root = tmp_path / "digits"
    write_digits(root, [20, 20])
    ds = scan(root)
    a, b = ds.paths[0], ds.paths[-1]  # one image of each class
    assert ds.labels[ds.paths.index(a)] != ds.labels[ds.paths.index(b)]
    warnings = make_split(ds, 3, SplitSettings(), {a: "g", b: "g"}).warnings
    assert any(
        w.startswith("1 group of identical or near-duplicate images appears in more than one")
        for w in warnings
    ), warnings


def test_replan_reuses_a_fitting_split_and_remakes_one_that_no_longer_fits(tmp_path):
    """What the window runs after every edit: the split (the costly part at a million samples)
    is reused while seed, fractions and sample count match, and the result is the same as
    planning from scratch; a new seed makes a new split."""
    from imbalance_studio.core.plan import replan

    write_digits(tmp_path / "d")
    ds = scan(tmp_path / "d")
    project = Project(dataset_root=str(ds.root), seed=3)
    _, counts, split = replan(ds, project, {})
    project.update_marks({ds.paths[0]: Mark(remove=True), ds.paths[-1]: Mark(duplicate=2)})
    again, counts_again, same = replan(ds, project, {}, split)
    assert same is split  # reused, not remade
    fresh, counts_fresh, remade = replan(ds, project, {})
    assert remade.splits == split.splits and counts_again == counts_fresh
    assert again.to_json() == fresh.to_json()
    assert counts_again != counts  # the marks count
    project.seed = 4
    _, _, reseeded = replan(ds, project, {}, split)
    assert reseeded is not split and reseeded.seed == 4


def test_the_plan_in_short_steps_is_the_same_plan(tmp_path, monkeypatch):
    """The window runs `iter_replan` a step at a time (so it can pause or drop it): steps of
    a few samples give the same split and plan as one go, and each step says how far it is."""
    from imbalance_studio.core import split as split_module
    from imbalance_studio.core.plan import iter_replan, replan

    write_digits(tmp_path / "d")
    ds = scan(tmp_path / "d")
    project = Project(dataset_root=str(ds.root), seed=5)
    project.update_marks({ds.paths[1]: Mark(remove=True), ds.paths[-2]: Mark(duplicate=1)})
    groups = {ds.paths[0]: "g", ds.paths[3]: "g"}
    whole_plan, whole_counts, whole_split = replan(ds, project, groups)
    monkeypatch.setattr(split_module, "STEP", 3)
    gen, events = iter_replan(ds, project, groups), []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            plan, counts, split = stop.value
            break
    assert split.splits == whole_split.splits and counts == whole_counts
    assert plan.to_json() == whole_plan.to_json()
    assert len(events) > len(ds.paths) // 3  # every few samples, not once at the end
    assert {"grouping", "ranking", "planning"} <= {e.stage for e in events}
    assert all(0 <= e.done <= e.total for e in events)


def test_a_plan_without_validation_says_what_it_costs(tmp_path):
    root = tmp_path / "digits"
    write_digits(root, [12, 6])
    dataset = scan(root)
    none = Project(dataset_root=str(root), split=SplitSettings(train=0.8, val=0, test=0.2))
    assert any(w.startswith("no validation split") for w in make_plan(dataset, none).warnings)
    usual = Project(dataset_root=str(root))
    assert not any("validation split" in w for w in make_plan(dataset, usual).warnings)


def test_a_class_left_without_validation_images_is_warned_loudest(tmp_path):
    """Removing a class's only val image must not silence its warning: nothing of it is
    measured there any more."""
    from imbalance_studio.core.project import Mark, Project
    from imbalance_studio.core.scanning import check, scan

    root = tmp_path / "d"
    write_digits(root, counts=[30, 12, 4])
    dataset = check(scan(root))
    project = Project(dataset_root=str(root))
    plan = make_plan(dataset, project)
    val = plan.splits["val"][2]
    assert val.final == 1 and any("digit_2: the val split holds only 1 image" in w
                                  for w in plan.warnings)  # fmt: skip
    project.set_mark(val.kept[0], Mark(remove=True))
    plan = make_plan(dataset, project)
    assert plan.splits["val"][2].final == 0
    said = [w for w in plan.warnings if w.startswith("class digit_2: the val split holds no")]
    assert said and "its 1 val image is marked removed" in said[0], plan.warnings
    assert "cannot be measured" in said[0]
    # Too few images to give a split one: said too.
    write_digits(tmp_path / "e", counts=[30, 2])
    two = check(scan(tmp_path / "e"))
    plan = make_plan(two, Project(dataset_root=str(tmp_path / "e")))
    empty = [s for s in ("val", "test") if plan.splits[s][1].final == 0]
    assert empty and all(any(w.startswith(f"class digit_1: the {s} split holds no") and
                             "too few images" in w for w in plan.warnings) for s in empty)  # fmt: skip
