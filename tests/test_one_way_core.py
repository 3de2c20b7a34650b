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


def gated_stack(compose_p: float = 1.0) -> dict:
    """Transforms that each fire half the time: a plain run of it often changes nothing."""
    from imbalance_studio.core.augment import StackEntry, stack_from_entries

    stack = stack_from_entries(
        [
            StackEntry("HorizontalFlip", {}, 0.5),
            StackEntry("RandomBrightnessContrast", {"brightness_limit": [0.3, 0.3]}, 0.5),
        ]
    )
    stack["transform"]["p"] = compose_p
    return stack


def write_photo(path: Path, width: int, height: int) -> None:
    """An asymmetric RGB picture (every flip and brightness change shows in its pixels)."""
    import numpy as np
    from PIL import Image

    yy, xx = np.mgrid[0:height, 0:width]
    rgb = np.dstack([(xx * 7) % 200, (yy * 5) % 200, (xx * yy) % 180]).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb, "RGB").save(path)


def generated_pixels(root: Path, rel: str, stack: dict, seed: int, staging: Path):
    """What generation writes for `rel` with this stack and seed (its real worker code)."""
    import numpy as np
    from PIL import Image

    from imbalance_studio.core.generation.slots import stack_fingerprint
    from imbalance_studio.core.generation.work import WorkItem, make_one

    item = WorkItem(
        id=f"00000-{seed:08x}",
        class_name="c",
        ordinal=0,
        seed=seed,
        generator="augment",
        fingerprint=stack_fingerprint(stack),
        source=rel,
        planned_source=rel,
        root=str(root),
        staging=str(staging),
        stack=stack,
    )
    outcome = make_one(item)
    assert outcome.kind == "done", outcome.message
    with Image.open(outcome.image.file) as img:
        return np.asarray(img.convert("RGB")), outcome.image.params


def test_every_preview_tile_is_the_image_generation_makes_with_its_seed(tmp_path):
    import numpy as np

    from imbalance_studio.core.augment.preview import load_preview_source, render_previews

    root = tmp_path / "data"
    write_photo(root / "c" / "a.png", 60, 40)
    source = load_preview_source(root / "c" / "a.png")
    assert not source.scaled and source.note == ""
    for compose_p in (1.0, 0.4):  # the Compose's own p is part of the pipeline too
        stack = gated_stack(compose_p)
        tiles = render_previews(source, stack, n=8, seed=5)
        assert len({t.variant_seed for t in tiles}) == 8
        for tile in tiles:
            assert tile.error is None and tile.params["applied"], "no untouched tiles"
            assert not np.array_equal(tile.image, source.image)
            pixels, params = generated_pixels(root, "c/a.png", stack, tile.variant_seed, tmp_path)
            assert np.array_equal(tile.image, pixels)
            assert tile.params == params


def test_a_large_image_is_previewed_on_a_copy_scaled_before_the_stack(tmp_path):
    from imbalance_studio.core.augment.preview import (
        PREVIEW_WORK_PIXELS,
        load_preview_source,
        render_previews,
    )

    write_photo(tmp_path / "big.png", 1200, 900)
    source = load_preview_source(tmp_path / "big.png")
    h, w = source.image.shape[:2]
    assert source.scaled and h * w <= PREVIEW_WORK_PIXELS and abs(w / h - 4 / 3) < 0.01
    assert "scaled view" in source.note.lower() and "1200×900" in source.note
    tiles = render_previews(source, gated_stack(), n=4, seed=1, size=256)
    assert [t.image.shape for t in tiles] == [(192, 256, 3)] * 4  # shrunk for display
    assert all(t.params["applied"] for t in tiles)


def test_class_counts_are_counted_once_and_match_the_labels():
    from imbalance_studio.core.dataset import Dataset

    dataset = Dataset(
        root="/nowhere", classes=("a", "b", "c"), paths=["a/1", "a/2", "c/1"], labels=[0, 0, 2]
    )
    assert dataset.counts() == [2, 0, 1]
    dataset.counts().append(99)  # callers get their own list; the dataset's stays
    assert dataset.counts() == [2, 0, 1]
    assert Dataset(root="/nowhere", classes=("a",)).counts() == [0]


def test_the_path_index_finds_every_sample_and_nothing_else():
    """Dataset.path_index (dicts sharded by hash): the sample index of every path, one at a
    time or many at once; None for a path not in the dataset."""
    from pathlib import Path

    from imbalance_studio.core.dataset import Dataset, PathIndex

    paths = [f"class_{k % 3}/img_{k:05d}.png" for k in range(5000)]
    ds = Dataset(root=Path("/data"), classes=("class_0", "class_1", "class_2"), paths=paths,
                 labels=[k % 3 for k in range(5000)])  # fmt: skip
    index = ds.path_index()
    assert isinstance(index, PathIndex) and index is ds.path_index()  # made once
    assert len(index) == len(paths)
    assert index.lookup(paths) == list(range(len(paths)))
    assert all(index.get(p) == i and p in index for i, p in list(enumerate(paths))[::97])
    assert index.lookup(["class_0/missing.png", paths[7]]) == [None, 7]
    assert index.get("class_0/missing.png") is None and "class_0/missing.png" not in index
    assert index.get("nope", -1) == -1 and 3 not in index
