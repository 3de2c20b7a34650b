"""One way through the house, core half: a QA decision computed without side effects (so the
window can make it undoable), and a preview made the way generation makes images."""

from __future__ import annotations

from pathlib import Path

from imbalance_studio.core.generation import GeneratedImage, note_rejection, rejection_changes
from imbalance_studio.core.project import ClassTarget, Project


def staged(image_id: str, class_name: str = "digit_1") -> GeneratedImage:
    return GeneratedImage(image_id, class_name, Path("/nowhere.png"), ("a.png",), "augment", 1)


def test_a_rejection_is_computed_without_touching_the_project_and_reduces_once():
    project = Project(dataset_root="/data", targets={"digit_1": ClassTarget(target=10)})
    image = staged("00001-aa")
    mode, rejected, targets = rejection_changes(project, image, "reduce")
    assert (mode, rejected, targets["digit_1"].target) == ("reduce", ["00001-aa"], 9)
    assert project.generation.rejected == [] and project.targets["digit_1"].target == 10
    assert note_rejection(project, image, "reduce") == "reduce"
    assert project.targets["digit_1"].target == 9
    # Rejecting the same image again (a second click, a second tool) lowers nothing more.
    for mode in ("reduce", "replace", None):
        assert note_rejection(project, image, mode) in ("reduce", "replace")
    assert project.generation.rejected == ["00001-aa"]
    assert project.targets["digit_1"].target == 9
    # "replace" keeps the target; a class without a target has nothing to lower.
    note_rejection(project, staged("00002-bb"), "replace")
    assert project.targets["digit_1"].target == 9
    note_rejection(project, staged("00003-cc", "digit_7"), "reduce")
    assert "digit_7" not in project.targets
