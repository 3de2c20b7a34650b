"""How many images each class has once the user's marks are applied: a remove mark takes an
image away, a duplicate mark adds its copies. Kept up to date per changed mark, so an edit
costs the size of the edit, not of the dataset or of all marks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from .project import Mark


def mark_effect(mark: Mark | None) -> int:
    """Images a mark adds (copies) or takes away (-1 for a removal)."""
    if mark is None:
        return 0
    return -1 if mark.remove else mark.duplicate


class MarkTally:
    """Per-class net change made by the marks (rel paths start with their class folder).

    `is_train`: whether a path is a training image, when the split is known. A duplicate
    mark on a validation or test image makes no copy (the plan ignores it), so it counts
    nothing; without `is_train` every duplicate mark counts."""

    def __init__(
        self, classes: Sequence[str], is_train: Callable[[str], bool] | None = None
    ) -> None:
        self._is_train = is_train
        self._index = {name: i for i, name in enumerate(classes)}
        self._effect: dict[str, tuple[int, int]] = {}  # path -> (class index, effect)
        self.delta = [0] * len(classes)

    def reset(self, marks: Mapping[str, Mark]) -> None:
        self._effect.clear()
        self.delta = [0] * len(self.delta)
        self.update(marks, marks)

    def update(self, paths: Iterable[str], marks: Mapping[str, Mark]) -> None:
        """The marks of `paths` changed; `marks` holds every current mark.

        Runs on the GUI thread per edit (10,000 paths at a time): locals, no call per path,
        and each Mark's effect found once (an edit shares a few Mark objects, all alive here,
        so identity tells them apart)."""
        effects, delta, index, is_train = self._effect, self.delta, self._index, self._is_train
        effect_of: dict[int, int] = {}
        get_mark, pop = marks.get, effects.pop
        for path in paths:
            old = pop(path, None)
            if old is not None:
                delta[old[0]] -= old[1]
            mark = get_mark(path)
            if mark is None:
                continue
            effect = effect_of.get(id(mark))
            if effect is None:
                effect = effect_of[id(mark)] = mark_effect(mark)
            if effect > 0 and is_train is not None and not is_train(path):
                continue  # copies are made of training images only
            cls = index.get(path.partition("/")[0])
            if effect and cls is not None:
                effects[path] = (cls, effect)
                delta[cls] += effect

    def after(self, counts: Sequence[int]) -> list[int]:
        return [max(0, n + d) for n, d in zip(counts, self.delta, strict=True)]
