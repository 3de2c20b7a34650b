"""The export's README says what is true of that export, and its PyTorch snippet runs on it,
empty class folders included (run as written, with the real torchvision)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from datasets import write_digits

from imbalance_studio.core.export.run import export
from imbalance_studio.core.plan import make_plan, train_counts
from imbalance_studio.core.policies import apply_policy
from imbalance_studio.core.project import ClassTarget, Method, Project, SplitSettings
from imbalance_studio.core.scanning import check, scan

COUNTS = [40, 12, 3]  # digit_2 is too small to split: no image of it in val or test


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("digits-40-12-3")
    write_digits(root, COUNTS)
    return root


def _export(root: Path, out: Path, **settings) -> str:
    dataset = scan(root)
    dataset = check(dataset)
    project = Project(dataset_root=str(root), **settings)
    export(dataset, project, make_plan(dataset, project), [], out, link=False)
    return (out / "README.md").read_text(encoding="utf-8")


def _run_snippet(text: str, out: Path, monkeypatch) -> dict:
    snippet = text.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(out)
    scope: dict = {"__name__": "readme_snippet"}
    exec(compile(snippet, str(out / "README.md"), "exec"), scope)
    return scope


def test_the_snippet_runs_on_splits_with_empty_class_folders(root, tmp_path, monkeypatch):
    from torchvision.datasets import ImageFolder

    out = tmp_path / "out"
    text = _export(root, out)
    assert not any((out / "val" / "digit_2").iterdir())  # the case the snippet must survive
    with pytest.raises(FileNotFoundError):
        ImageFolder(str(out / "val"))  # what the old snippet did
    scope = _run_snippet(text, out, monkeypatch)
    assert scope["loss"].ndim == 0
    assert scope["val"].classes == ["digit_0", "digit_1", "digit_2"]
    assert 2 not in scope["val"].targets and 2 in scope["train"].targets
    assert "`val/` has no image of `digit_2`" in text
    assert "`test/` has no image of `digit_2`" in text
    assert "allow_empty=True" in text
    assert "each loads with" not in text.lower()


def test_nothing_oversampled_is_not_called_oversampled(root, tmp_path):
    text = _export(root, tmp_path / "out")
    assert "oversampled split" not in text and "not oversampled" in text
    assert "no duplicates or generated images were added" in text
    assert "`balanced_original_train` equals `balanced_train`" in text


def test_an_undersampled_split_says_so(root, tmp_path):
    targets = {"digit_0": ClassTarget(target=20, method=Method.UNDERSAMPLE)}
    text = _export(root, tmp_path / "out", targets=targets)
    assert "oversampled split" not in text and "not oversampled" in text
    assert "before files were undersampled or removed" in text


def test_an_oversampled_split_says_so_and_the_snippet_runs(root, tmp_path, monkeypatch):
    targets = {n: ClassTarget(target=28, method=Method.DUPLICATE) for n in ("digit_1", "digit_2")}
    out = tmp_path / "out"
    text = _export(root, out, targets=targets)
    assert "this oversampled split double-corrects" in text
    assert "duplicates and generated images were made from training images only" in text
    assert "not oversampled" not in text
    scope = _run_snippet(text, out, monkeypatch)
    assert scope["loss"].ndim == 0 and len(scope["train"]) == 3 * 28


def test_a_split_without_any_image_is_named_and_the_snippet_still_runs(root, tmp_path, monkeypatch):
    out = tmp_path / "out"
    text = _export(root, out, split=SplitSettings(train=0.8, val=0.2, test=0.0))
    assert "`test/` holds no image at all" in text
    assert "`test/` holds no image, so it has no metadata file and `datasets` leaves it out" in text
    assert not (out / "test" / "metadata.parquet").exists()
    scope = _run_snippet(text, out, monkeypatch)
    assert len(scope["test"]) == 0 and len(scope["val"]) > 0


def test_a_split_with_every_class_loads_without_a_note(tmp_path, monkeypatch):
    root = tmp_path / "ds"
    write_digits(root, [40, 12, 8])
    out = tmp_path / "out"
    text = _export(root, out)
    assert "Each loads with `torchvision.datasets.ImageFolder`" in text
    assert "has no image of" not in text
    assert _run_snippet(text, out, monkeypatch)["loss"].ndim == 0


def test_the_snippet_balances_with_a_weighted_loss_or_a_sampler_never_both(
    root, tmp_path, monkeypatch
):
    from torch.utils.data import WeightedRandomSampler

    out = tmp_path / "out"
    text = _export(root, out)
    loss_way = _run_snippet(text, out, monkeypatch)
    assert loss_way["criterion"].weight is not None
    assert not isinstance(loss_way["loader"].sampler, WeightedRandomSampler)
    chosen = 'BALANCE_WITH = "loss"'
    assert text.count(chosen) == 1
    sampler_way = _run_snippet(text.replace(chosen, 'BALANCE_WITH = "sampler"'), out, monkeypatch)
    assert sampler_way["criterion"].weight is None
    assert isinstance(sampler_way["loader"].sampler, WeightedRandomSampler)
    assert len(sampler_way["sample_weights"]) == len(sampler_way["train"])
    assert sampler_way["loss"].ndim == 0


def test_an_imbalanced_split_exported_as_it_was_is_not_called_balanced(root, tmp_path):
    text = _export(root, tmp_path / "out")
    assert text.startswith("# Export of `") and "# Balanced export" not in text
    assert "**The training split is still imbalanced**" in text
    targets = {n: ClassTarget(target=28, method=Method.DUPLICATE) for n in ("digit_1", "digit_2")}
    text = _export(root, tmp_path / "balanced", targets=targets)
    assert text.startswith("# Balanced export of `") and "still imbalanced" not in text


def test_rebalanced_ignores_empty_classes_and_a_few_removals():
    from imbalance_studio.core.export.report import left_imbalanced, rebalanced

    assert rebalanced([100, 10, 0], [100, 100, 0])  # oversampled; one class has no image
    assert not rebalanced([100, 10], [90, 10])  # a few majority duplicates dropped: 9:1
    assert left_imbalanced([100, 10], [90, 10])
    assert not left_imbalanced([50, 48], [50, 48])  # even already: nothing to say
    assert rebalanced([100, 10], [100, 60])  # 10:1 -> 1.7:1


def test_the_snippet_refuses_an_unknown_balance_choice(root, tmp_path, monkeypatch):
    out = tmp_path / "out"
    text = _export(root, out).replace('BALANCE_WITH = "loss"', 'BALANCE_WITH = "sampeler"')
    with pytest.raises(ValueError, match="BALANCE_WITH must be"):
        _run_snippet(text, out, monkeypatch)


def test_the_settings_say_what_oversample_did(root, tmp_path):
    dataset = check(scan(root))
    counts = train_counts(dataset, Project(dataset_root=str(root)))
    largest = max(counts.values())
    rows = {}
    for policy in ("oversample:1.5", "oversample"):  # filled by copies: no generation to run
        targets = apply_policy(policy, counts, Method.DUPLICATE)
        text = _export(root, tmp_path / policy.replace(":", "_"), policy=policy, targets=targets)
        rows[policy] = next(line for line in text.splitlines() if line.startswith("- policy: "))
    made = math.floor(1.5 * largest + 0.5)
    said = f"every class to {made:,} training images, 1.5 × the largest class's {largest:,}"
    assert said in rows["oversample:1.5"]
    assert rows["oversample"] == (
        f"- policy: oversample (every class to the largest, {largest:,} training images)"
    )


def test_an_export_that_made_no_images_names_no_augmentation_stack(root, tmp_path):
    text = _export(root, tmp_path / "out")  # no targets: nothing is generated
    assert "- augmentation: none: this export made no new images" in text
    assert "what generation used" not in text
