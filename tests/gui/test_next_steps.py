"""The status bar's next-step hints follow the targets: generate, export, or set targets."""

from __future__ import annotations

from datasets import write_digits

from imbalance_studio.core.plan import make_plan, train_counts
from imbalance_studio.core.policies import apply_policy
from imbalance_studio.core.project import ClassTarget, Method, Project
from imbalance_studio.core.scanning import check, scan
from imbalance_studio.gui import next_steps


def test_the_hint_says_what_the_targets_leave_to_do(tmp_path):
    root = tmp_path / "d"
    write_digits(root, counts=[40, 8])
    dataset = check(scan(root))
    project = Project(dataset_root=str(root))
    shown = next_steps.after_scan(48, 0)
    assert shown.endswith("then set targets in the Balance tab.")

    # Targets that keep every class as it is: the split stays imbalanced, and it is said.
    project.targets = {c: ClassTarget(target=5, method=Method.KEEP) for c in dataset.classes}
    text = next_steps.after_targets(shown, make_plan(dataset, project), project)
    assert text.startswith("Scan complete: 48 usable images. Next: the targets leave")
    assert "imbalanced" in text and "balanced dataset" not in text

    project.targets = apply_policy("undersample", train_counts(dataset, project))
    text = next_steps.after_targets(shown, make_plan(dataset, project), project)
    assert text.endswith("Next: Export (Ctrl+E) writes the balanced dataset.")

    project.targets = apply_policy("oversample", train_counts(dataset, project))
    plan = make_plan(dataset, project)
    planned = sum(len(cp.generate) for cp in plan.splits["train"])
    text = next_steps.after_targets(text, plan, project)
    assert f"Next: Generate (Ctrl+G) makes the {planned:,} planned new images" in text

    project.targets = {}  # cleared: the scan's own step again
    assert next_steps.after_targets(text, make_plan(dataset, project), project) == shown
    # A later stage's hint is left alone.
    assert next_steps.after_targets("Generation done: …", plan, project) is None
