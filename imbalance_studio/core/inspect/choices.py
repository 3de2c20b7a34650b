"""What "mark all but one" and "mark all flagged" would remove, decided without Qt so the
window only turns the answer into one undoable mark edit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from .report import DuplicateGroup, InspectReport


def keeper(report: InspectReport, group: DuplicateGroup) -> str:
    """The member to keep: the largest picture, then the sharpest, then the first."""
    return _best(report, group.paths)


def _best(report: InspectReport, paths: Iterable[str]) -> str:
    index = report.index

    def rank(item: tuple[int, str]) -> tuple[int, float, int]:
        order, path = item
        f = report.features[index[path]]
        sharp = f.sharpness if f.sharpness != float("inf") else 0.0
        return (-(f.width * f.height), -sharp, order)

    return min(enumerate(paths), key=rank)[1]


def all_but_one(report: InspectReport, groups: Iterable[DuplicateGroup]) -> list[str]:
    """Every member but the keeper of each group, in group order. In a label conflict (one
    picture under two classes) one is kept per class: which label is right is left to the
    user, as a keeper chosen by size would remove the rightly labelled copy as often as not;
    the extra copies within one class go as in any group."""
    out: list[str] = []
    for group in groups:
        if not group.conflict:
            keep = {keeper(report, group)}
        else:
            by_class: dict[str, list[str]] = {}
            for path, name in zip(group.paths, group.classes, strict=True):
                by_class.setdefault(name, []).append(path)
            keep = {_best(report, members) for members in by_class.values()}
        out.extend(p for p in group.paths if p not in keep)
    return out


def conflicts_left(groups: Iterable[DuplicateGroup]) -> int:
    """How many of `groups` "all but one" leaves to the user (label conflicts)."""
    return sum(bool(g.conflict) for g in groups)


def flagged(
    report: InspectReport, thresholds: Mapping[str, float] | None, issue: str = ""
) -> list[str]:
    """Paths flagged under `thresholds` (only those with `issue`, when given)."""
    flags = report.quality(thresholds, issue)
    return [f.path for f in flags if not issue or issue in f.issues]


def per_class(report: InspectReport, paths: Iterable[str]) -> dict[str, int]:
    """How many of `paths` each class would lose, in class order (classes losing none left out)."""
    index = report.index
    counts = Counter(int(report.labels[index[p]]) for p in paths if p in index)
    return {report.classes[c]: counts[c] for c in sorted(counts)}
