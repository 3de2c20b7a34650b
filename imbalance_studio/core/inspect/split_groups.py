"""The groups the split keeps together: identical files (`core.duplicates`) and, unless the
project turns it off, every exact or near-duplicate group of the inspection. The plan, the
CLI's plan/generate/export and the window all take their groups from here, so they make the
same split from the same project."""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any

from ..dataset import Dataset
from ..duplicates import iter_content_groups
from ..text import plural
from .report import InspectReport
from .run import iter_inspect


@dataclass(frozen=True)
class SplitGroups:
    groups: dict[str, str]  # rel path -> group key, for `make_plan(..., groups=...)`
    report: InspectReport  # the inspection behind it (duplicates, quality, leak check)
    grouped: bool  # whether near-duplicate groups are in `groups`


def merge_groups(*maps: Mapping[str, str]) -> dict[str, str]:
    """One {path: key} from several: paths that share a key in any map share one in the
    result (union-find), the key being the smallest path of the merged group."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for groups in maps:
        first: dict[str, str] = {}
        for path, key in groups.items():
            if key in first:
                a, b = find(first[key]), find(path)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                first[key] = path
                find(path)
    return {path: f"group:{find(path)}" for path in parent}


def iter_split_groups(
    dataset: Dataset,
    *,
    group_duplicates: bool = True,
    near_threshold: int | None = None,
    workers: int | None = None,
    identical: bool = True,
) -> Generator[Any, None, SplitGroups]:
    """Identical files, then the inspection (cached per file); returns `SplitGroups`.
    `identical=False` leaves the identical files out (of the search and of `groups`): for a
    caller that has them already (the window searches them on every listing, and a second
    search at 100,000 files costs a second of stats and cache reads)."""
    options = {} if near_threshold is None else {"near_threshold": near_threshold}
    identical_files = (yield from iter_content_groups(dataset)) if identical else {}
    report = yield from iter_inspect(dataset, workers=workers, **options)
    if not group_duplicates:
        return SplitGroups(identical_files, report, False)
    return SplitGroups(merge_groups(identical_files, report.split_groups()), report, True)


def copies_text(copies: Mapping[str, int]) -> str:
    """The note on identical copies inside val/test (`InspectReport.held_out_copies`)."""
    where = " and ".join(f"{plural(n, 'image')} in {split}" for split, n in copies.items() if n)
    verb = "is a copy" if sum(copies.values()) == 1 else "are copies"
    return (
        f"{where} {verb} of another image of the same split: held-out scores count those "
        "pictures more than once; mark all but one copy for removal (Inspect) for a fairer score"
    )


def leak_check(found: SplitGroups, split_of: Callable[[str], str | None]) -> dict:
    """How many near-duplicate pairs (exact ones included) have one image in one split and
    the other in another, for the export report and `weights.json`: 0 when the split kept
    the groups together; and how many val/test images are copies of another of their split.
    `split_of` is `Plan.kept_split_of`: an image left out of the export (a remove-mark,
    undersampling) neither leaks nor is scored again."""
    report = found.report
    n = report.crossing_pairs(split_of)
    copies = report.held_out_copies(split_of)
    check: dict[str, Any] = {
        "near_duplicate_pairs_across_splits": n,
        "duplicate_groups_kept_in_one_split": found.grouped,
        "near_threshold": report.near_threshold,
        "copies_within_held_out_splits": copies,
    }
    if any(copies.values()):
        check["copies_note"] = copies_text(copies)
    if n:
        why = (
            "the split was made without keeping duplicate groups together"
            if not found.grouped
            else "the plan was made with other duplicate groups"
        )
        check["warning"] = (
            f"{n} near-duplicate pair{'s' * (n != 1)} cross splits (the same picture in train "
            f"and in val/test, or in val and test): {why}; validation and test scores will "
            "be optimistic. Keep duplicate groups together (the default) to remove the leak."
        )
    return check
