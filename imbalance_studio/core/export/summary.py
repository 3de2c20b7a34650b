"""What an export says about itself, gathered from its layout and the project: the data
files and charts (`data_files`), the rows of the README's settings table (`settings_rows`,
`leak_rows`), why a problem file was left out (`problem_reason`) and every original left out
(`left_out_rows`). `run.iter_export` writes them; the README's text is `report.readme`.
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import weights as W
from ..dataset import ProblemReason
from ..policies import describe_policy
from . import metadata, report
from .layout import SPLITS, Layout


def effective_default_stack(project) -> dict:
    """The stack generation really used for classes without their own: the project's default
    stack, or the default ("safe") preset when none was chosen. augment.json must be that
    stack."""
    from ..augment import default_preset_stack

    return project.augment.default_stack or default_preset_stack()


def data_files(
    lay: Layout, project, leak_check: Mapping | None = None
) -> tuple[dict, dict, dict[str, str | bytes]]:
    """(counts, weights, {relative path: contents}) of the export's data files and charts."""
    counts = {s: {"before": lay.before[s], "after": lay.counts(s)} for s in SPLITS}
    weights = W.compute_weights(lay.classes, counts)
    if leak_check is not None:  # near duplicates across splits (core.inspect.leak_check)
        said = ("warning", "copies_note")
        weights["leak_check"] = {k: v for k, v in leak_check.items() if k not in said}
        weights["warnings"] += [leak_check[k] for k in said if leak_check.get(k)]
    aug = project.augment
    files: dict[str, str | bytes] = dict(
        metadata.metadata_files(
            lay, weights, effective_default_stack(project), dict(aug.class_stacks),
            list(project.generation.cutmix_classes),
        )
    )  # fmt: skip
    files.update(report.charts(lay.classes, counts["train"]["before"], counts["train"]["after"]))
    return counts, weights, files


def settings_rows(project, plan, link_mode: str, orientation: str) -> list[tuple[str, str]]:
    sp = project.split
    out = [
        ("dataset root", str(project.dataset_root)),
        ("seed", str(plan.seed)),
        ("split (train / val / test)", f"{sp.train:g} / {sp.val:g} / {sp.test:g}"),
        ("policy", _policy_text(plan, project)),
        ("originals written as", link_mode),
        ("EXIF orientation", orientation),
    ]
    for cp, name in zip(plan.splits["train"], plan.classes, strict=True):
        t = project.targets.get(name)
        if t is not None:
            out.append((f"class {name}", _target_text(t, cp)))
    out.append(("marks", _marks_text(plan, project)))
    aug = project.augment
    if not any(cp.generate for cp in plan.splits["train"]):
        # Naming a stack here would read as if images had been made with it.
        out.append(("augmentation", "none: this export made no new images"))
    else:
        out.append(
            (
                "augmentation",
                (
                    "default stack set"
                    if aug.default_stack
                    else "no stack chosen: the default preset `safe` (no flips, no "
                    "hue shifts or cut-outs: a small rotation/scale/shift/shear on every copy, "
                    "sometimes a slight perspective, brightness/contrast, mild blur or noise), "
                    "what generation used"
                )
                + (
                    f"; class stacks: {', '.join(sorted(aug.class_stacks))}"
                    if aug.class_stacks
                    else ""
                ),
            )
        )
    gen = project.generation
    if gen.cutmix_classes:
        out.append(
            (
                "cutmix classes",
                ", ".join(gen.cutmix_classes)
                + " (intra-class: a patch of one original pasted into another of the same "
                "class)",
            )
        )
    out.append(("rejected generated images", f"{len(gen.rejected)} (on reject: {gen.on_reject})"))
    out += [("plan warning", w) for w in plan.warnings]
    return out


def leak_rows(check: Mapping | None) -> list[tuple[str, str]]:
    if check is None:
        return []
    kept = "kept in one split" if check["duplicate_groups_kept_in_one_split"] else "NOT grouped"
    rows = [
        (
            "near-duplicate pairs across splits (leak check)",
            f"{check['near_duplicate_pairs_across_splits']} (duplicate groups {kept}; "
            f"Hamming threshold {check['near_threshold']} of 64 bits)",
        )
    ]
    copies = check.get("copies_within_held_out_splits")
    if copies:
        rows.append((
            "identical copies within val / test",
            f"{copies['val']} / {copies['test']} (images scored again as copies of another)",
        ))  # fmt: skip
    return rows


def problem_reason(problem) -> str:
    # "too small" alone would not say what to change: its size and the minimum go with it.
    if problem.reason == ProblemReason.TOO_SMALL and problem.detail:
        return f"{problem.reason}: {problem.detail}"
    return problem.reason


def scan_problems(dataset) -> list[tuple[str, str]]:
    """(path, reason) of the scan's problems that keep a file out of every export."""
    return [(p.path, problem_reason(p)) for p in dataset.problems if p.excludes]


def _target_text(target, cp) -> str:
    """A class's target and what it did to the training split: a method is named only
    where it made images (an undersampled or untouched class used none)."""
    goal = "none" if target.target is None else str(target.target)
    parts = []
    if len(cp.kept) < cp.original:
        parts.append(f"{cp.original - len(cp.kept)} removed or undersampled")
    if cp.duplicates:
        parts.append(f"+{len(cp.duplicates)} duplicated")
    if cp.generate:
        parts.append(f"+{len(cp.generate)} by {target.method}")
    if not parts:
        return f"target {goal}: {cp.final} training images, as they were"
    return f"target {goal}: {cp.original} → {cp.final} training images ({', '.join(parts)})"


def _marks_text(plan, project) -> str:
    """What the marks did: only those on files the plan holds count; marks on files not in
    the dataset (or left out as problems) are kept in the project but act on nothing."""
    held = {p for s in SPLITS for cp in plan.splits[s] for p in (*cp.kept, *cp.removed)}
    train = {p for cp in plan.splits["train"] for p in (*cp.kept, *cp.removed)}
    # A duplicate mark acts in train only (the plan warns of those in val/test).
    acting = [(p, m) for p, m in project.marks.items() if p in held and (m.remove or p in train)]
    removed = sum(1 for _, m in acting if m.remove)
    duplicated = sum(1 for _, m in acting if m.duplicate and not m.remove)
    text = f"{removed} removed, {duplicated} marked for duplication"
    idle = len(project.marks) - len(acting)
    if idle:
        text += (
            f" ({idle} more on files missing, left out as problems or held out of training: "
            "they act on nothing)"
        )
    return text


def _policy_text(plan, project) -> str:
    train = plan.splits.get("train", ())
    largest = max((len(cp.kept) for cp in train), default=0)
    finals = [cp.final for cp in train if cp.final]
    return describe_policy(plan.policy or project.policy, largest, finals)


# Problems of folders, not files: not rows of left_out.csv.
FOLDER_REASONS = frozenset({ProblemReason.EMPTY_CLASS, ProblemReason.SYMLINK_LOOP})


def left_out_rows(
    plan, project, problems: list[tuple[str, str]]
) -> list[tuple[str, str, str, str]]:
    """(path, split, class, reason) of every original the export leaves out: those the plan
    drops (a remove-mark, or undersampling in seeded order) by split and class, then the
    problem files (unreadable, missing, ...) the plan did not drop already. With the manifest's
    originals this accounts for every image of the dataset."""
    rows = []
    for split in SPLITS:
        for cp in plan.splits[split]:
            name = plan.classes[cp.class_index]
            for path in cp.removed:
                mark = project.marks.get(path)
                reason = metadata.MARKED if mark and mark.remove else metadata.UNDERSAMPLED
                rows.append((path, split, name, reason))
    listed = {r[0] for r in rows}
    for path, why in problems:
        if why in FOLDER_REASONS:
            continue  # a folder, not a file of the dataset (the README lists it)
        if path not in listed:
            listed.add(path)
            name = path.split("/", 1)[0] if "/" in path else ""  # its class folder
            rows.append((path, plan.split_of(path) or "", name, why))
    return rows
