"""The curation plan: marks, split, targets and seed resolved to concrete files and counts.

`make_plan(dataset, project)` is a pure function: same inputs, same plan. The rules:

Split first (`make_split`), stratified by class and seeded, before any balancing:
- Every sample has a *unit*: its content group (exact-duplicate files share one, see
  `iter_content_groups`) or else its own path. Within a class, units are ranked by a keyed
  hash of (seed, class name, unit) and cut in rank order: the first `round(test × n)` images
  go to test, the next `round(val × n)` to val, the rest to train (a unit that would overfill
  a held-out split goes to train). A sample's split therefore depends only on the seed, its
  unit, its class, the fractions and the class size: marks never move it.
- Small-class rule: a class is split only when rounding gives every held-out split with a
  non-zero fraction at least one image and still leaves one for train (with 70/15/15: at
  least 4 images). Smaller classes go wholly to train, with a warning.
- An exact-duplicate group spread over several classes follows the split chosen for it in
  its first class (ImageFolder order), so identical bytes never straddle train and test.

Validation and test hold originals only, minus remove-marks. Training, per class:
remove-marks drop files; duplicate ×N marks add N copies; then the class target (about the
training count after removals and marked copies) is met: above → `augment` (or `diffusion`) makes
`GenerationTask`s / `duplicate` makes `Duplicate`s, sources taken round-robin over the kept
originals in a seeded (keyed-hash) order; below → undersample: unmarked kept originals are
dropped first (in keyed-hash order, so one more mark never reshuffles the rest), then marked
copies (highest copy numbers first), then the marked originals themselves.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from functools import cached_property

from .dataset import Dataset
from .plan_notes import ClassNote, drastic, grouped, note
from .project import ClassTarget, Method, Project, SplitSettings
from .text import plural, summarize

__all__ = [
    "SPLITS", "ClassSplitPlan", "Duplicate", "GenerationTask", "Plan", "SplitAssignment",
    "held_out_counts", "make_plan", "make_split", "min_splittable", "train_counts",
]  # fmt: skip

SPLITS = ("train", "val", "test")
_TRAIN, _VAL, _TEST = 0, 1, 2


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

    def original_counts(self, split: str) -> list[int]:
        return [cp.original for cp in self.splits[split]]

    def final_counts(self, split: str) -> list[int]:
        return [cp.final for cp in self.splits[split]]

    def generation_total(self) -> tuple[int, int]:
        """(images to generate, classes they are for): said before any is made."""
        counts = [len(cp.generate) for cp in self.splits["train"] if cp.generate]
        return sum(counts), len(counts)

    def generation_summary(self) -> str:
        """The line "will make N images for K classes", or "nothing to generate"."""
        n, k = self.generation_total()
        if not n:
            return "nothing to generate"
        return f"will make {n:,} image{'s' * (n != 1)} for {k} class{'es' * (k != 1)}"

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


# -- keyed hashes: the only source of "randomness" in a plan ----------------------------


def _digest(*parts: object, size: int = 8) -> int:
    text = "\x1f".join(str(p) for p in parts)
    h = hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=size)
    return int.from_bytes(h.digest(), "big")


def task_seed(plan_seed: int, class_name: str, ordinal: int) -> int:
    """The seed of one generated image: stable for (plan seed, class, ordinal)."""
    return _digest(plan_seed, "generate", class_name, ordinal, size=4)


# -- the split -----------------------------------------------------------------------


def held_out_counts(n: int, split: SplitSettings) -> tuple[int, int] | None:
    """(val, test) image counts for a class of `n`, or None when the class is too small to
    split (see the module docstring)."""
    n_val = math.floor(split.val * n + 0.5)
    n_test = math.floor(split.test * n + 0.5)
    if (split.val > 0 and n_val == 0) or (split.test > 0 and n_test == 0):
        return None
    if n - n_val - n_test < 1:
        return None
    return n_val, n_test


def min_splittable(split: SplitSettings) -> int:
    """The smallest class size that gets split."""
    return next(n for n in range(1, 100_000) if held_out_counts(n, split) is not None)


@dataclass(frozen=True)
class SplitAssignment:
    """The split of every sample, parallel to `dataset.samples` (0 train, 1 val, 2 test).

    Depends only on the dataset, seed, fractions and content groups: a GUI may compute it
    once and pass it to `make_plan` while the user edits marks and targets.
    """

    seed: int
    fractions: tuple[float, float, float]
    splits: bytes
    warnings: tuple[str, ...] = field(default=())


def make_split(
    dataset: Dataset,
    seed: int,
    split: SplitSettings,
    groups: dict[str, str] | None = None,
) -> SplitAssignment:
    groups = groups or {}
    names = dataset.classes
    units: list[dict[str, list[int]]] = [{} for _ in names]
    for i, s in enumerate(dataset.samples):
        units[s.class_index].setdefault(groups.get(s.path, s.path), []).append(i)
    out = bytearray(len(dataset.samples))
    group_keys = set(groups.values())
    forced: dict[str, int] = {}  # group key -> split, for groups seen in an earlier class
    small: list[str] = []
    straddling: set[str] = set()
    for ci, class_units in enumerate(units):
        n = sum(len(v) for v in class_units.values())
        quotas = held_out_counts(n, split)
        if quotas is None and n:
            small.append(f"{names[ci]} ({n})")
        val_q, test_q = quotas or (0, 0)
        free: list[str] = []
        decided: dict[str, int] = {}
        for key, members in class_units.items():
            if key in forced:
                decided[key] = forced[key]
                straddling.add(key)
                if forced[key] == _VAL:
                    val_q -= len(members)
                elif forced[key] == _TEST:
                    test_q -= len(members)
            else:
                free.append(key)
        free.sort(key=lambda k: (_digest(seed, names[ci], k), k))
        for key in free:
            size = len(class_units[key])
            if size <= test_q:
                decided[key], test_q = _TEST, test_q - size
            elif size <= val_q:
                decided[key], val_q = _VAL, val_q - size
            else:
                decided[key] = _TRAIN
        for key, members in class_units.items():
            for i in members:
                out[i] = decided[key]
            if key in group_keys and key not in forced:
                forced[key] = decided[key]
    warnings = []
    if small:
        warnings.append(
            f"too few images to split {_pct(split)} (a class needs at least "
            f"{min_splittable(split)}); all to train: {summarize(small)}"
        )
    if straddling:
        warnings.append(
            f"{len(straddling)} groups of identical or near-duplicate images appear in more "
            "than one class (label conflicts); "
            "each group was kept in one split"
        )
    return SplitAssignment(seed, (split.train, split.val, split.test), bytes(out), tuple(warnings))


def _pct(split: SplitSettings) -> str:
    return "/".join(f"{round(f * 100, 1):g}" for f in (split.train, split.val, split.test))


# -- the plan ------------------------------------------------------------------------


def make_plan(
    dataset: Dataset,
    project: Project,
    *,
    groups: dict[str, str] | None = None,
    split: SplitAssignment | None = None,
) -> Plan:
    """Resolve `project` over `dataset`. `groups` (from `iter_content_groups`) keeps exact
    duplicates together; `split` (from `make_split`) may be passed to skip recomputing it."""
    fractions = (project.split.train, project.split.val, project.split.test)
    if split is None:
        split = make_split(dataset, project.seed, project.split, groups)
    elif split.seed != project.seed or split.fractions != fractions:
        raise ValueError("the split given was made with another seed or other fractions")
    if len(split.splits) != len(dataset.samples):
        raise ValueError("the split given was made for another dataset")
    names = dataset.classes
    per: list[list[list[str]]] = [[[] for _ in names] for _ in SPLITS]
    for s, where in zip(dataset.samples, split.splits, strict=True):
        per[where][s.class_index].append(s.path)

    marks = project.marks
    warnings = list(split.warnings)
    known = {p for lists in per for paths in lists for p in paths}
    missing = sum(1 for p in marks if p not in known)
    if missing:
        refer = "refers" if missing == 1 else "refer"
        warnings.append(
            f"{plural(missing, 'mark')} {refer} to files not in the dataset (kept, not applied)"
        )
    unknown = sorted(set(project.targets) - set(names))
    if unknown:
        warnings.append(f"targets for classes not in the dataset: {summarize(unknown)}")

    held_dup = 0
    notes: list[ClassNote] = []
    out: dict[str, tuple[ClassSplitPlan, ...]] = {}
    for si, split_name in enumerate(SPLITS):
        plans = []
        for ci, originals in enumerate(per[si]):
            if si == _TRAIN:
                cp = _train_plan(ci, names[ci], originals, project, notes)
            else:
                gone = [p for p in originals if p in marks and marks[p].remove]
                held_dup += sum(1 for p in originals if p in marks and marks[p].duplicate)
                drop = set(gone)
                kept = tuple(p for p in originals if p not in drop)
                cp = ClassSplitPlan(split_name, ci, len(originals), tuple(gone), kept)
            plans.append(cp)
        out[split_name] = tuple(plans)
    if held_dup:
        warnings.append(
            f"{plural(held_dup, 'sample')} marked for duplication "
            f"{'is' if held_dup == 1 else 'are'} in val/test: not duplicated "
            "(copies are made from training images only)"
        )
    warnings.extend(grouped(notes + drastic(names, out)))
    return Plan(project.seed, project.policy, names, out, tuple(warnings))


def _train_plan(
    ci: int, name: str, originals: list[str], project: Project, notes: list[ClassNote]
) -> ClassSplitPlan:
    seed, marks = project.seed, project.marks
    removed = {p for p in originals if p in marks and marks[p].remove}
    kept = [p for p in originals if p not in removed]
    copies = {p: marks[p].duplicate for p in kept if p in marks and marks[p].duplicate}
    dups = [Duplicate(p, c) for p in kept if p in copies for c in range(1, copies[p] + 1)]
    generate: list[GenerationTask] = []
    goal = project.targets.get(name, ClassTarget(target=None))
    current = len(kept) + len(dups)
    target = goal.target
    if target is not None and goal.method != Method.KEEP and target != current:
        if target > current:
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
                order = sorted(kept, key=lambda p: (_digest(seed, tag, name, p), p))
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
                return (_digest(seed, "undersample", name, p), p)

            unmarked = sorted((p for p in kept if p not in copies), key=rank)
            dropped = set(unmarked[:drop])
            drop -= len(dropped)
            if drop > 0:  # trim marked copies, highest copy numbers first
                dups.sort(key=lambda d: (-d.copy, rank(d.source)))
                trim = min(drop, len(dups))
                dups, drop = dups[trim:], drop - trim
            if drop > 0:  # finally the marked originals themselves
                dropped |= set(sorted(copies, key=rank)[:drop])
            removed |= dropped
            kept = [p for p in kept if p not in dropped]
            dups.sort(key=lambda d: (d.source, d.copy))
    return ClassSplitPlan(
        "train",
        ci,
        len(originals),
        tuple(p for p in originals if p in removed),
        tuple(kept),
        tuple(dups),
        tuple(generate),
    )


def train_counts(
    dataset: Dataset,
    project: Project,
    *,
    groups: dict[str, str] | None = None,
    split: SplitAssignment | None = None,
) -> dict[str, int]:
    """Training count per class after removals and marked copies, before any target: what
    policies and the target table start from."""
    bare = project.model_copy(update={"targets": {}})
    plan = make_plan(dataset, bare, groups=groups, split=split)
    return dict(zip(plan.classes, plan.final_counts("train"), strict=True))
