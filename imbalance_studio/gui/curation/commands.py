"""Undoable edits of the curation state: every mark, target, split, CutMix and QA decision
goes through these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

from ...core.project import ClassTarget, Mark, SplitSettings

if TYPE_CHECKING:
    from ...core.generation import GeneratedImage
    from .controller import CurationController


class SetMarksCommand(QUndoCommand):
    """Set (or clear, with None) the marks of many samples at once."""

    def __init__(
        self, controller: CurationController, marks: dict[str, Mark | None], text: str
    ) -> None:
        super().__init__(text)
        self._controller = controller
        old = controller.project.marks
        self._new = marks
        self._old = {path: old.get(path) for path in marks}

    def redo(self) -> None:
        self._controller._apply_marks(self._new)

    def undo(self) -> None:
        self._controller._apply_marks(self._old)


class SetTargetsCommand(QUndoCommand):
    """Replace some class targets (and, for a policy, the policy name)."""

    def __init__(
        self,
        controller: CurationController,
        targets: dict[str, ClassTarget | None],
        text: str,
        policy: str | bool | None = False,
    ) -> None:
        super().__init__(text)
        self._controller = controller
        project = controller.project
        self._new = targets
        self._old = {name: project.targets.get(name) for name in targets}
        # False means "leave the policy as it is" (a single cell edit keeps its origin).
        self._new_policy = policy
        self._old_policy = project.policy

    def redo(self) -> None:
        self._controller._apply_targets(self._new, self._new_policy)

    def undo(self) -> None:
        self._controller._apply_targets(self._old, self._old_policy)


class ApplyRecipeCommand(QUndoCommand):
    """Apply a recipe of the recipe search: every class target, the policy and the default
    augmentation stack together, as one undoable step."""

    def __init__(
        self,
        controller: CurationController,
        targets: dict[str, ClassTarget],
        policy: str | None,
        stack: dict | None,
        text: str,
    ) -> None:
        super().__init__(text)
        self._controller = controller
        project = controller.project
        self._new = (dict(targets), policy, stack)
        self._old = (dict(project.targets), project.policy, project.augment.default_stack)

    def redo(self) -> None:
        self._controller._apply_recipe(*self._new)

    def undo(self) -> None:
        self._controller._apply_recipe(*self._old)


class SetSplitCommand(QUndoCommand):
    """Change the split fractions and/or the seed."""

    def __init__(self, controller: CurationController, split: SplitSettings, seed: int) -> None:
        super().__init__("Change split")
        self._controller = controller
        self._new = (split, seed)
        self._old = (controller.project.split, controller.project.seed)

    def redo(self) -> None:
        self._controller._apply_split(*self._new)

    def undo(self) -> None:
        self._controller._apply_split(*self._old)


class SetCutmixCommand(QUndoCommand):
    """Switch intra-class CutMix (a second generator) on or off for one class."""

    def __init__(self, controller: CurationController, class_name: str, on: bool) -> None:
        super().__init__(f"CutMix {'on' if on else 'off'} for {class_name}")
        self._controller = controller
        old = list(controller.project.generation.cutmix_classes)
        new = sorted(set(old) | {class_name}) if on else [c for c in old if c != class_name]
        self._old, self._new = old, new

    def redo(self) -> None:
        self._controller._apply_cutmix(self._new)

    def undo(self) -> None:
        self._controller._apply_cutmix(self._old)


@dataclass(frozen=True)
class QaState:
    """What a QA decision sets: the image's record status and reject mode, whether the
    project lists it as rejected, and its class's target."""

    status: str
    mode: str | None
    listed: bool
    target: ClassTarget | None


class DecideCommand(QUndoCommand):
    """Accept or reject one generated image. A reject with "reduce" lowers the class's
    target in the same step, so one undo puts the image and the target back together."""

    def __init__(
        self,
        controller: CurationController,
        image: GeneratedImage,
        status: str,
        mode: str | None = None,
    ) -> None:
        from ...core.generation.review import rejection_changes

        project = controller.project
        name = image.class_name
        listed = image.id in project.generation.rejected
        old = QaState(image.status, image.reject_mode, listed, project.targets.get(name))
        if status == "rejected":
            mode, _rejected, targets = rejection_changes(project, image, mode)
            new = QaState("rejected", mode, True, targets.get(name))
            text = f"Reject {image.id}"
            if new.target != old.target:
                text += f" and lower the target of {name}"
        else:
            new = QaState(status, None, listed, old.target)
            text = f"Accept {image.id}"
        super().__init__(text)
        self._controller = controller
        self._image = image
        self._old, self._new = old, new

    def redo(self) -> None:
        self._controller._apply_decision(self._image, self._new)

    def undo(self) -> None:
        self._controller._apply_decision(self._image, self._old)
