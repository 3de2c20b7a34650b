"""How many images each class has once the user's marks are applied: a remove mark takes an
image away, a duplicate mark adds its copies. Kept up to date per changed mark, so an edit
costs the size of the edit, not of the dataset or of all marks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .project import Mark


def mark_effect(mark: Mark | None) -> int:
    """Images a mark adds (copies) or takes away (-1 for a removal)."""
    if mark is None:
        return 0
    return -1 if mark.remove else mark.duplicate


class MarkTally:
    """Per-class net change made by the marks (rel paths start with their class folder)."""

    def __init__(self, classes: Sequence[str]) -> None:
        self._index = {name: i for i, name in enumerate(classes)}
        self._effect: dict[str, tuple[int, int]] = {}  # path -> (class index, effect)
        self.delta = [0] * len(classes)

    def reset(self, marks: Mapping[str, Mark]) -> None:
        self._effect.clear()
        self.delta = [0] * len(self.delta)
        self.update(marks, marks)

    def update(self, paths: Iterable[str], marks: Mapping[str, Mark]) -> None:
        """The marks of `paths` changed; `marks` holds every current mark."""
        for path in paths:
            old = self._effect.pop(path, None)
            if old is not None:
                self.delta[old[0]] -= old[1]
            effect = mark_effect(marks.get(path))
            cls = self._index.get(path.split("/", 1)[0])
            if effect and cls is not None:
                self._effect[path] = (cls, effect)
                self.delta[cls] += effect

    def after(self, counts: Sequence[int]) -> list[int]:
        return [max(0, n + d) for n, d in zip(counts, self.delta, strict=True)]
