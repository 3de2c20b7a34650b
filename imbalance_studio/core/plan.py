"""The curation plan: marks, split, targets and seed resolved to concrete files and counts.

`make_plan(dataset, project)` is a pure function: same inputs, same plan. The rules:

Split first (`core.split.make_split`: stratified by class, seeded, duplicates kept together),
before any balancing.

Validation and test hold originals only, minus remove-marks. Training, per class:
remove-marks drop files; duplicate ×N marks add N copies; then the class target (about the
training count after removals and marked copies) is met: above → `augment` (or `diffusion`) makes
`GenerationTask`s / `duplicate` makes `Duplicate`s, sources taken round-robin over the kept
originals in a seeded (keyed-hash) order; below → undersample: unmarked kept originals are
dropped first (in keyed-hash order, so one more mark never reshuffles the rest), then marked
copies (highest copy numbers first), then the marked originals themselves.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .dataset import Dataset
from .plan_notes import ClassNote, drastic, grouped, note
from .progress import StepProgress, drive
from .project import ClassTarget, Mark, Method, Project
from .split import SplitAssignment, iter_split, keyed_hash
from .text import plural, summarize

__all__ = [
    "SPLITS", "ClassSplitPlan", "Duplicate", "GenerationTask", "Plan", "iter_plan",
    "iter_replan", "make_plan", "replan", "task_seed", "train_counts",
]  # fmt: skip

SPLITS = ("train", "val", "test")
_TRAIN = 0  # index in SPLITS (and value in SplitAssignment.splits)


@dataclass(frozen=True)
class Duplicate:
    source: str  # rel path of a TRAIN original
    copy: int  # 1..N for each source


@dataclass(frozen=True)
class GenerationTask:
    class_index: int
    ordinal: int  # 0..n-1 within the class
    source: str  # rel path of a TRAIN original, assigned round-robin
    seed: int  # from (plan seed, class name, ordinal); fits in 32 bits


@dataclass(frozen=True)
class ClassSplitPlan:
    split: str
    class_index: int
    original: int  # originals of this class assigned to this split
    removed: tuple[str, ...]  # left out: remove-marks and undersampling
    kept: tuple[str, ...]  # kept originals, in dataset order
    duplicates: tuple[Duplicate, ...] = ()  # train only
    generate: tuple[GenerationTask, ...] = ()  # train only

    @property
    def final(self) -> int:
        return len(self.kept) + len(self.duplicates) + len(self.generate)


@dataclass(frozen=True)
class Plan:
    seed: int
    policy: str | None
    classes: tuple[str, ...]
    splits: dict[str, tuple[ClassSplitPlan, ...]]  # key in SPLITS; tuple by class_index
    warnings: tuple[str, ...] = ()

    @cached_property
    def _split_by_path(self) -> dict[str, str]:
        return {
            p: name
            for name, plans in self.splits.items()
            for cp in plans
            for p in (*cp.kept, *cp.removed)
        }

    def split_of(self, rel_path: str) -> str | None:
        """The split an original file was assigned to (removed or not); None if unknown."""
        return self._split_by_path.get(rel_path)

    @cached_property
    def _kept_by_path(self) -> dict[str, str]:
        return {p: name for name, plans in self.splits.items() for cp in plans for p in cp.kept}

    def kept_split_of(self, rel_path: str) -> str | None:
        """The split an original file is exported to; None if it is left out (a remove-mark,
        undersampling) or unknown: what the leak check counts."""
        return self._kept_by_path.get(rel_path)

    def original_counts(self, split: str) -> list[int]:
        return [cp.original for cp in self.splits[split]]

    def final_counts(self, split: str) -> list[int]:
        return [cp.final for cp in self.splits[split]]

    def generation_total(self) -> tuple[int, int]:
        """(images to generate, classes they are for): said before any is made."""
        counts = [len(cp.generate) for cp in self.splits["train"] if cp.generate]
        return sum(counts), len(counts)

    def generation_summary(self, already_made: int = 0) -> str:
        """The line "will make N images for K classes", or "nothing to generate"; with
        `already_made` (staged images the plan reuses), what is left to make."""
        n, k = self.generation_total()
        if not n:
            return "nothing to generate"
        classes = f"{k} class{'es' * (k != 1)}"
        made = min(already_made, n)
        if made == n:
            return f"all {n:,} planned images for {classes} are already made: reused"
        if made:
            return f"{n:,} planned images for {classes}: {made:,} already made (reused), {n - made:,} to make"
        return f"will make {n:,} image{'s' * (n != 1)} for {classes}"

    def to_json(self, list_files: bool = False) -> dict:
        """The `imbalance-studio plan --json` object."""
        out: dict = {
            "seed": self.seed,
            "policy": self.policy,
            "classes": list(self.classes),
            "splits": {
                split: {
                    self.classes[cp.class_index]: {
                        "original": cp.original,
                        "removed": len(cp.removed),
                        "kept": len(cp.kept),
                        "duplicated": len(cp.duplicates),
                        "generate": len(cp.generate),
                        "final": cp.final,
                    }
                    for cp in plans
                }
                for split, plans in self.splits.items()
            },
        }
        if list_files:
            out["files"] = {
                split: {self.classes[cp.class_index]: list(cp.kept) for cp in plans}
                for split, plans in self.splits.items()
            }
        out["warnings"] = list(self.warnings)
        return out


def task_seed(plan_seed: int, class_name: str, ordinal: int) -> int:
    """The seed of one generated image: stable for (plan seed, class, ordinal)."""
    return keyed_hash(plan_seed, "generate", class_name, ordinal, size=4)


# -- the plan ------------------------------------------------------------------------


def make_plan(
    dataset: Dataset,
    project: Project,
    *,
    groups: dict[str, str] | None = None,
    split: SplitAssignment | None = None,
) -> Plan:
    """Resolve `project` over `dataset`. `groups` (from `iter_content_groups`) keeps exact
    duplicates together; `split` (from `make_split`) may be passed to skip recomputing it.
    `iter_plan` is the same in steps."""
    return drive(iter_plan(dataset, project, groups=groups, split=split))


def iter_plan(
    dataset: Dataset,
    project: Project,
    *,
    groups: dict[str, str] | None = None,
    split: SplitAssignment | None = None,
) -> Generator[StepProgress, None, Plan]:
    """`make_plan` as a generator: a step per (split, class) after the split's own steps.

    Vectorised over samples (numpy on the label, split and mark arrays): at a million samples
    a plan runs in a worker while the user marks, and a Python loop per sample would hold
    the GIL, and so the window, for a second."""
    import numpy as np

    split = yield from _checked_split(dataset, project, groups, split)
    names = dataset.classes
    marked = _MarkArrays(dataset, project.marks)
    warnings = list(split.warnings)
    if marked.missing:
        warnings.append(
            f"{plural(marked.missing, 'mark')} {'refers' if marked.missing == 1 else 'refer'} "
            "to files not in the dataset (kept, not applied)"
        )
    if project.split.val == 0:
        warnings.append(
            "no validation split (val 0): evaluate and recipes have nothing to judge a model "
            "on; give val a share, e.g. train 0.7, val 0.15, test 0.15"
        )
    unknown = sorted(set(project.targets) - set(names))
    if unknown:
        warnings.append(f"targets for classes not in the dataset: {summarize(unknown)}")

    # Sample indices of each (split, class), in dataset order: one stable sort.
    key = np.frombuffer(split.splits, np.uint8).astype(np.int64) * len(names)
    key += dataset.label_array()
    order = np.argsort(key, kind="stable")
    bounds = np.searchsorted(key[order], np.arange(len(SPLITS) * len(names) + 1))
    paths = dataset.path_array()
    yield StepProgress("planning", 0, len(SPLITS) * len(names))

    held_dup = 0
    notes: list[ClassNote] = []
    out: dict[str, tuple[ClassSplitPlan, ...]] = {}
    for si, split_name in enumerate(SPLITS):
        plans = []
        for ci in range(len(names)):
            k = si * len(names) + ci
            idx = order[bounds[k] : bounds[k + 1]]
            if si == _TRAIN:
                cp = _train_plan(ci, names[ci], idx, paths, marked, project, notes)
            else:
                gone = marked.remove[idx]
                held_dup += int(np.count_nonzero(marked.duplicate[idx]))
                kept = _strs(paths[idx[~gone]])
                cp = ClassSplitPlan(split_name, ci, len(idx), _strs(paths[idx[gone]]), kept)
            plans.append(cp)
            yield StepProgress("planning", k + 1, len(SPLITS) * len(names))
        out[split_name] = tuple(plans)
    if held_dup:
        warnings.append(
            f"{plural(held_dup, 'sample')} marked for duplication "
            f"{'is' if held_dup == 1 else 'are'} in val/test: not duplicated "
            "(copies are made from training images only)"
        )
    warnings.extend(grouped(notes + drastic(names, out)))
    return Plan(project.seed, project.policy, names, out, tuple(warnings))


def _checked_split(
    dataset: Dataset, project: Project, groups: dict[str, str] | None, split: SplitAssignment | None
) -> Generator[StepProgress, None, SplitAssignment]:
    fractions = (project.split.train, project.split.val, project.split.test)
    if split is None:
        split = yield from iter_split(dataset, project.seed, project.split, groups)
    elif split.seed != project.seed or split.fractions != fractions:
        raise ValueError("the split given was made with another seed or other fractions")
    if len(split.splits) != len(dataset.samples):
        raise ValueError("the split given was made for another dataset")
    return split


class _MarkArrays:
    """The marks as arrays parallel to the samples: O(marks) Python, never O(samples)."""

    def __init__(self, dataset: Dataset, marks: dict[str, Mark]) -> None:
        import numpy as np

        n = len(dataset.paths)
        self.remove = np.zeros(n, bool)
        self.duplicate = np.zeros(n, np.int64)
        self.missing = 0
        if not marks:
            return
        at, removes, copies = [], [], []
        found = dataset.path_index().lookup(marks)
        for i, mark in zip(found, marks.values(), strict=True):
            if i is None:
                self.missing += 1
            else:
                at.append(i)
                removes.append(mark.remove)
                copies.append(mark.duplicate)
        self.remove[at] = removes
        self.duplicate[at] = copies


def _strs(picked: Any) -> tuple[str, ...]:
    return tuple(picked.tolist())  # one C call, not one per path


def _train_plan(
    ci: int,
    name: str,
    idx: Any,
    paths: Any,
    marked: _MarkArrays,
    project: Project,
    notes: list[ClassNote],
) -> ClassSplitPlan:
    seed = project.seed
    gone = marked.remove[idx]
    kept_idx = idx[~gone]
    counts = marked.duplicate[kept_idx]
    has_copies = counts > 0
    # Kept originals marked for copies, in dataset order -> copies.
    copies = dict(zip(paths[kept_idx[has_copies]], counts[has_copies].tolist(), strict=True))
    dups = [Duplicate(p, c) for p, n in copies.items() for c in range(1, n + 1)]
    generate: list[GenerationTask] = []
    goal = project.targets.get(name, ClassTarget(target=None))
    current = len(kept_idx) + len(dups)
    target = goal.target
    if target is None or goal.method == Method.KEEP or target == current:
        removed, kept = _strs(paths[idx[gone]]), _strs(paths[kept_idx])
    elif target > current:
        removed, kept = _strs(paths[idx[gone]]), _strs(paths[kept_idx])
        gap = target - current
        if not kept:
            notes.append(
                note("no-source", name, f"no kept training image to make {gap} new ones from")
            )
        elif goal.method == Method.UNDERSAMPLE:
            notes.append(
                note(
                    "undersample-up",
                    name,
                    f"target {target} is above its {current} training images; "
                    "undersampling cannot add images",
                )
            )
        else:
            tag = str(goal.method)
            order = sorted(kept, key=lambda p: (keyed_hash(seed, tag, name, p), p))
            if goal.method in (Method.AUGMENT, Method.DIFFUSION):
                generate = [
                    GenerationTask(ci, i, order[i % len(order)], task_seed(seed, name, i))
                    for i in range(gap)
                ]
            else:
                for i in range(gap):
                    src = order[i % len(order)]
                    copies[src] = copies.get(src, 0) + 1
                    dups.append(Duplicate(src, copies[src]))
    else:
        drop = current - target

        def rank(p: str) -> tuple[int, str]:
            return (keyed_hash(seed, "undersample", name, p), p)

        unmarked = sorted((p for p in paths[kept_idx] if p not in copies), key=rank)
        dropped = set(unmarked[:drop])
        drop -= len(dropped)
        if drop > 0:  # trim marked copies, highest copy numbers first
            dups.sort(key=lambda d: (-d.copy, rank(d.source)))
            trim = min(drop, len(dups))
            dups, drop = dups[trim:], drop - trim
        if drop > 0:  # finally the marked originals themselves
            dropped |= set(sorted(copies, key=rank)[:drop])
        dups.sort(key=lambda d: (d.source, d.copy))
        out = gone.copy()
        out[~gone] = [p in dropped for p in paths[kept_idx]]
        removed, kept = _strs(paths[idx[out]]), _strs(paths[idx[~out]])
    return ClassSplitPlan("train", ci, len(idx), removed, kept, tuple(dups), tuple(generate))


def train_counts(
    dataset: Dataset,
    project: Project,
    *,
    groups: dict[str, str] | None = None,
    split: SplitAssignment | None = None,
) -> dict[str, int]:
    """Training count per class after removals and marked copies, before any target: what
    policies and the target table start from (the plan's train counts with no targets)."""
    import numpy as np

    split = drive(_checked_split(dataset, project, groups, split))
    marked = _MarkArrays(dataset, project.marks)
    train = (np.frombuffer(split.splits, np.uint8) == _TRAIN) & ~marked.remove
    labels, n = dataset.label_array()[train], len(dataset.classes)
    counts = np.bincount(labels, minlength=n) + np.bincount(
        labels, weights=marked.duplicate[train], minlength=n
    ).astype(np.int64)
    return dict(zip(dataset.classes, (int(c) for c in counts[:n]), strict=True))


def replan(
    dataset: Dataset,
    project: Project,
    groups: dict[str, str],
    split: SplitAssignment | None = None,
    near_groups: dict[str, str] | None = None,
) -> tuple[Plan, dict[str, int], SplitAssignment]:
    """`iter_replan` in one call."""
    return drive(iter_replan(dataset, project, groups, split, near_groups))


def iter_replan(
    dataset: Dataset,
    project: Project,
    groups: dict[str, str],
    split: SplitAssignment | None = None,
    near_groups: dict[str, str] | None = None,
) -> Generator[StepProgress, None, tuple[Plan, dict[str, int], SplitAssignment]]:
    """The plan after an edit, the training counts after marks, and the split they share.

    `split` is reused while it fits (same dataset size, seed and fractions): at a million
    samples making it is ~2 s, the plan on top of it ~0.15 s, so an edit of marks or targets
    costs the latter only. `near_groups` (the inspection's duplicate groups) join `groups`
    (identical files) so that both stay in one split."""
    if near_groups:
        from .inspect.split_groups import merge_groups

        groups = merge_groups(groups, near_groups)
    fractions = (project.split.train, project.split.val, project.split.test)
    if (
        split is None
        or split.seed != project.seed
        or split.fractions != fractions
        or len(split.splits) != len(dataset.samples)
    ):
        split = yield from iter_split(dataset, project.seed, project.split, groups)
    plan = yield from iter_plan(dataset, project, groups=groups, split=split)
    return plan, train_counts(dataset, project, groups=groups, split=split), split
