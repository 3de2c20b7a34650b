"""Augmentation core: catalogue from albumentations metadata, stack model, files, apply, preview."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import numpy as np
import pytest

from imbalance_studio.core.augment import (
    GROUPS,
    PRESETS,
    STUDIO_KEY,
    StackEntry,
    StackError,
    apply_stack,
    build_compose,
    catalogue,
    entries_from_stack,
    load_stack_file,
    new_entry,
    normalize_stack,
    render_previews,
    save_stack_file,
    set_param,
    six_transform_stack,
    stack_for_class,
    stack_from_entries,
    validate_entry,
    validate_stack,
)
from imbalance_studio.core.augment.catalogue import RANGE_KINDS

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
ALL_TRANSFORMS = [n for names in GROUPS.values() for n in names]


def _image(channels: int | None, h: int = 48, w: int = 64) -> np.ndarray:
    """A structured test image (gradients + a square) so geometric transforms change pixels."""
    yy, xx = np.mgrid[0:h, 0:w]
    base = ((xx * 4 + yy * 2) % 256).astype(np.uint8)
    base[10:30, 20:40] = 240
    if channels is None:
        return base
    planes = [base, base[::-1], np.roll(base, 7, axis=1), np.full_like(base, 200)]
    return np.dstack(planes[:channels])


@pytest.fixture(scope="module")
def digit_image(digits_root) -> np.ndarray:
    from imbalance_studio.core.imageio import load_array

    first = sorted(p for p in digits_root.rglob("*") if p.is_file())[0]
    img = load_array(first)
    return np.dstack([img] * 3) if img.ndim == 2 else img[..., :3]


def test_catalogue_covers_the_article_groups_and_leaves_out_deprecated():
    cat = catalogue()
    # The article's transforms, in their order (the rest of the catalogue around them is
    # tested in test_augment_catalogue_full.py).
    assert [n for n in cat if n in set(ALL_TRANSFORMS)] == ALL_TRANSFORMS
    assert {i.group for i in cat.values()} >= set(GROUPS)
    assert "ShiftScaleRotate" not in cat  # deprecated in favour of Affine
    rotate = cat["Rotate"].spec("limit")
    assert rotate.kind == "range_float" and rotate.default == (-90.0, 90.0)
    assert cat["Rotate"].spec("border_mode").labels[0] == "constant"
    assert cat["GridDistortion"].spec("num_steps").min == 1  # Ge(1) read from the schema
    assert cat["GridDistortion"].spec("num_steps").curated == ("max",)
    scale = cat["RandomResizedCrop"].spec("scale")
    assert (scale.min, scale.max, scale.curated) == (0, 1, ())  # check_range_bounds(0, 1)
    assert cat["ElasticTransform"].spec("noise_distribution").choices == ("gaussian", "uniform")
    assert cat["HorizontalFlip"].p.default == 0.5 and cat["HorizontalFlip"].p.max == 1


@pytest.mark.parametrize("name", ALL_TRANSFORMS)
def test_param_specs_have_sane_bounds(name):
    info = catalogue()[name]
    for spec in (*info.params, info.p):
        assert spec.default is not None or spec.nullable, spec
        if spec.kind == "choice":
            assert spec.default in spec.choices, spec
            assert not spec.labels or len(spec.labels) == len(spec.choices)
        elif spec.kind != "bool":
            assert spec.min is not None and spec.max is not None, spec
            assert spec.min < spec.max, spec
            values = spec.default if spec.kind in RANGE_KINDS else (spec.default,)
            assert all(spec.min <= v <= spec.max for v in values), spec


@pytest.mark.parametrize("channels", [3, None, 4], ids=["rgb", "gray", "rgba"])
@pytest.mark.parametrize("name", ALL_TRANSFORMS)
def test_every_transform_runs_with_defaults(name, channels):
    entry = new_entry(name)
    entry.p = 1.0
    assert validate_entry(entry) == {}
    image = _image(channels)
    out, params = apply_stack(stack_from_entries([entry]), image, seed=1)
    assert out.dtype == np.uint8 and out.ndim == image.ndim
    assert out.shape[2:] == image.shape[2:]  # same channel count
    if name != "RandomResizedCrop":
        assert out.shape == image.shape
    assert [a["name"] for a in params["applied"]] == [name]
    json.dumps(params)


def _full_stack() -> dict:
    entries = [new_entry(n) for n in ALL_TRANSFORMS]
    entries[2] = set_param(entries[2], "limit", (-30.0, 30.0))
    entries[3].enabled = False
    return stack_from_entries(entries)


def test_stack_round_trips_through_albumentations_dicts():
    import albumentations as A

    stack = normalize_stack(_full_stack())
    enabled_only = {k: v for k, v in stack.items() if k != STUDIO_KEY}
    again = json.loads(json.dumps(A.to_dict(A.from_dict(stack))))
    assert again == enabled_only
    assert normalize_stack(stack) == stack
    entries = entries_from_stack(stack)
    assert [e.name for e in entries] == ALL_TRANSFORMS
    assert [e.enabled for e in entries].index(False) == 3
    assert entries[2].params["limit"] == [-30.0, 30.0]


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_stack_files_round_trip_and_albumentations_loads_them(tmp_path, suffix):
    import albumentations as A

    stack = normalize_stack(_full_stack())
    path = tmp_path / f"stack{suffix}"
    save_stack_file(stack, path)
    assert load_stack_file(path) == stack
    loaded = A.load(str(path), data_format="yaml" if suffix == ".yaml" else "json")
    assert len(loaded.transforms) == len(ALL_TRANSFORMS) - 1  # the disabled one is not applied
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind


def test_a_save_file_loads(tmp_path):
    import albumentations as A

    path = tmp_path / "theirs.json"
    A.save(A.Compose([A.HorizontalFlip(p=1), A.Rotate(limit=5)]), str(path))
    stack = load_stack_file(path)
    assert [e.name for e in entries_from_stack(stack)] == ["HorizontalFlip", "Rotate"]
    single = tmp_path / "single.json"
    A.save(A.VerticalFlip(p=1), str(single))
    assert [e.name for e in entries_from_stack(load_stack_file(single))] == ["VerticalFlip"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not valid JSON"),
        ('{"transforms": []}', "'transform'"),
        ('{"transform": {"__class_fullname__": "Compose", "transforms": '
         '[{"__class_fullname__": "Rotate", "limit": "x"}]}}', "limit"),
        ('{"transform": {"__class_fullname__": "Compose", "transforms": '
         '[{"__class_fullname__": "NoSuchTransform"}]}}', "NoSuchTransform"),
    ],
)  # fmt: skip
def test_bad_stack_file_gives_a_clear_value_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as info:
        load_stack_file(path)
    assert str(path) in str(info.value)
    with pytest.raises(ValueError, match="cannot read"):
        load_stack_file(tmp_path / "missing.json")


def test_same_seed_same_variants_different_seed_different(digit_image):
    stack = six_transform_stack()
    a, pa = apply_stack(stack, digit_image, seed=7)
    b, pb = apply_stack(stack, digit_image, seed=7)
    c, _ = apply_stack(stack, digit_image, seed=8)
    assert np.array_equal(a, b) and pa == pb
    assert not np.array_equal(a, c)
    tiles = render_previews(digit_image, stack, n=4, seed=3)
    again = render_previews(digit_image, stack, n=4, seed=3)
    other = render_previews(digit_image, stack, n=4, seed=4)
    assert all(np.array_equal(t.image, u.image) for t, u in zip(tiles, again, strict=True))
    assert not any(np.array_equal(t.image, u.image) for t, u in zip(tiles, other, strict=True))
    assert not np.array_equal(tiles[0].image, tiles[1].image)  # variants, not copies


def test_previews_are_downscaled_and_capture_errors_per_tile():
    image = _image(3, 300, 600)
    tiles = render_previews(image, six_transform_stack(), n=3, seed=0, size=256)
    assert [t.image.shape for t in tiles] == [(128, 256, 3)] * 3
    assert all(t.error is None and t.params["applied"] for t in tiles)
    bad = stack_from_entries([StackEntry("Rotate", {"limit": "wide"}, 1.0)])
    tiles = render_previews(image, bad, n=2, seed=0)
    assert all(t.image is None and "limit" in t.error for t in tiles)
    # A stack that is valid but fails on this particular image: 4-channel input to a
    # transform that does not take it is caught on the tile, not raised.
    odd = np.zeros((20, 20, 2), np.uint8)
    tiles = render_previews(odd, six_transform_stack(), n=2, seed=0)
    assert all(t.image is None and t.error for t in tiles)


def test_validation_reports_per_parameter_messages():
    entry = set_param(new_entry("GridDistortion"), "num_steps", 0)
    assert "num_steps" in validate_entry(entry)
    assert "p" in validate_entry(set_param(new_entry("HorizontalFlip"), "p", 1.5))
    assert validate_entry(StackEntry("NoSuchTransform")) == {
        "": "unknown transform 'NoSuchTransform'"
    }
    # Editing translate_percent clears translate_px, which albumentations refuses beside it.
    assert validate_entry(set_param(new_entry("Affine"), "translate_percent", (-0.1, 0.1))) == {}
    stack = stack_from_entries([new_entry("HorizontalFlip"), entry])
    assert list(validate_stack(stack)) == [1]
    with pytest.raises(StackError, match=r"transform 2 \(GridDistortion\): num_steps") as info:
        build_compose(stack, seed=0)
    assert "num_steps" in info.value.errors[1]


def test_presets_are_valid_and_label_safe_has_no_colour_shift():
    assert set(PRESETS) == {"light", "medium", "heavy", "label-safe", "safe"}
    for stack in PRESETS.values():
        assert validate_stack(stack) == {}
    safe = {e.name for e in entries_from_stack(PRESETS["label-safe"])}
    assert not safe & set(GROUPS["photometric"])
    six = [e.name for e in entries_from_stack(six_transform_stack())]
    assert six == [
        "HorizontalFlip", "Affine", "RandomBrightnessContrast",
        "HueSaturationValue", "GridDistortion", "CoarseDropout",
    ]  # fmt: skip


def test_default_preset_cannot_change_what_the_picture_shows(digits_root):
    """The stack used when none is chosen: no flip (a mirrored 2 is no 2), no hue shift or
    cut-out, no border mirrored into the frame; only small geometry, brightness/contrast, mild
    blur and noise."""
    from imbalance_studio.core.augment import DEFAULT_PRESET, apply_stack, default_preset_stack
    from imbalance_studio.core.imageio import load_array

    stack = default_preset_stack()
    assert stack is PRESETS[DEFAULT_PRESET] and validate_stack(stack) == {}
    entries = {e.name: e.params for e in entries_from_stack(stack)}
    assert set(entries) == {
        "Affine", "Perspective", "RandomBrightnessContrast", "GaussianBlur", "GaussNoise",
    }  # fmt: skip
    affine = entries["Affine"]
    assert max(map(abs, affine["rotate"])) <= 20 and max(map(abs, affine["scale"])) <= 1.2
    # Constant borders: a reflected border copies strokes inward.
    assert affine["border_mode"] == 0 and entries["Perspective"]["border_mode"] == 0
    assert max(entries["Perspective"]["scale"]) <= 0.06  # a slight change of viewpoint
    assert max(entries["GaussianBlur"]["sigma_limit"]) <= 1.0  # defocus, not a smear
    assert max(entries["GaussNoise"]["std_range"]) <= 0.08  # sensor noise, not snow
    # Grey stays grey: the same noise in every channel of a grey picture saved as RGB.
    grey = np.repeat(load_array(next((digits_root / "digit_3").iterdir()))[..., None], 3, axis=2)
    noise = next(e for e in entries_from_stack(stack) if e.name == "GaussNoise")
    noise.p = 1.0  # a copy: the preset is untouched
    noise_only = stack_from_entries([noise])
    for seed in range(5):
        out, _ = apply_stack(noise_only, grey, seed)
        assert not np.array_equal(out, grey)  # the noise was applied…
        assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2])
    # On a real digit (lightly blurred, so that a shift of a pixel costs little): nearly
    # every copy is closer to the source than to its mirror image, what a flip would make.
    from scipy.ndimage import gaussian_filter

    source = load_array(next((digits_root / "digit_2").iterdir()))
    soft = gaussian_filter(source.astype(float), 1)
    closer = 0
    for seed in range(50):
        out, _ = apply_stack(stack, source, seed)
        assert out.shape == source.shape
        got = gaussian_filter(out.astype(float), 1)
        closer += np.abs(got - soft).mean() < np.abs(got - soft[:, ::-1]).mean()
    # 42-46 of 50 with these ranges; a stack flipping half its copies leaves about 25.
    assert closer >= 40


def test_stack_for_class_prefers_the_class_override():
    light, heavy = PRESETS["light"], PRESETS["heavy"]
    project = SimpleNamespace(
        augment=SimpleNamespace(default_stack=light, class_stacks={"rare": heavy})
    )
    assert stack_for_class(project, "rare") is heavy
    assert stack_for_class(project, "other") is light
    assert stack_for_class(SimpleNamespace(), "rare") is None
    assert stack_for_class({"augment": {"class_stacks": {"rare": heavy}}}, "rare") is heavy


def test_stack_files_are_never_written_inside_the_dataset(digits_root, tmp_path):
    from imbalance_studio.core.augment import PRESETS
    from imbalance_studio.core.augment.io import StackError, save_stack_file

    target = digits_root / "digit_0" / "augment.json"
    with pytest.raises(StackError, match="read-only"):
        save_stack_file(PRESETS["light"], target, dataset_root=digits_root)
    assert not target.exists()
    save_stack_file(PRESETS["light"], tmp_path / "augment.json", dataset_root=digits_root)
    assert (tmp_path / "augment.json").exists()


def test_each_transform_fires_on_its_own_probability_and_no_image_is_a_copy():
    """albumentations 2.0.x seeds every transform alike, so p-gates fire together. Ours must
    not: with the medium preset, first draws that apply nothing should be about prod(1 - p),
    and such draws are redrawn, so no "augmented" image is an untouched copy."""
    import numpy as np

    from imbalance_studio.core.augment import PRESETS, apply_stack
    from imbalance_studio.core.augment.stack import entries_from_stack

    stack = PRESETS["medium"]
    ps = [e.p for e in entries_from_stack(stack) if e.enabled]
    image = np.random.default_rng(0).integers(0, 255, (48, 48, 3), dtype=np.uint8)
    results = [apply_stack(stack, image, seed) for seed in range(300)]
    applied = [{a["name"] for a in params["applied"]} for _, params in results]
    assert all(applied)  # every image is a new view
    empty_first = sum(params["redraws"] > 0 for _, params in results) / len(results)
    expected = float(np.prod([1 - p for p in ps]))
    assert abs(empty_first - expected) < 0.08, (empty_first, expected)
    # Independence: the first two transforms are seen apart from each other too.
    first, second = (e.name for e in entries_from_stack(stack)[:2])
    assert any(first in n and second not in n for n in applied)
    assert any(second in n and first not in n for n in applied)
    # A redrawn image is still reproducible from its seed.
    out, params = next(r for r in results if r[1]["redraws"] > 0)
    again, _ = apply_stack(stack, image, params["seed"])
    assert np.array_equal(out, again)


def test_the_albumentations_version_is_read_once_not_per_edit(monkeypatch):
    # Every slider tick of the stack editor writes the stack: reading the installed package's
    # metadata each time cost about a millisecond per tick.
    import importlib.metadata

    from imbalance_studio.core.augment import stack as stack_mod

    calls = []
    real = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata, "version", lambda name: calls.append(name) or real(name)
    )
    getattr(stack_mod.albumentations_version, "cache_clear", lambda: None)()
    entries = [stack_mod.new_entry("HorizontalFlip")]
    stacks = [stack_mod.stack_from_entries(entries) for _ in range(50)]
    assert calls.count("albumentations") == 1
    assert {s["__version__"] for s in stacks} == {real("albumentations")}


@pytest.mark.parametrize(
    ("name", "params", "expected"),
    [
        ("GaussNoise", {"std_range": (0.2, 0.2)}, {"noise_std": 0.2 * 255}),
        ("GaussianBlur", {"sigma_limit": (2.0, 2.0), "blur_limit": (0, 0)}, {"sigma": 2.0}),
        # Small and truncated kernels, as the presets draw them (sigma 0.3-1.0).
        ("GaussianBlur", {"sigma_limit": (0.3, 0.3)}, {"sigma": 0.3}),
        ("GaussianBlur", {"sigma_limit": (3.0, 3.0), "blur_limit": (3, 3)}, {"sigma": 3.0}),
        (
            "RGBShift",
            {"r_shift_limit": (10, 10), "g_shift_limit": (-5, -5), "b_shift_limit": (0, 0)},
            {"noise_map": [10, -5, 0]},
        ),
    ],
)
def test_what_a_transform_drew_is_recorded_where_albumentations_keeps_only_its_result(
    name, params, expected
):
    """GaussNoise records its whole noise map and GaussianBlur its kernel: the drawn std and
    sigma are recovered from them (the QA gallery and preview tooltips show them)."""
    entry = set_param(new_entry(name), "p", 1.0)
    for key, value in params.items():
        entry = set_param(entry, key, value)
    image = (np.random.default_rng(3).random((96, 96, 3)) * 255).astype(np.uint8)
    _out, drawn = apply_stack(stack_from_entries([entry]), image, seed=1)
    recorded = drawn["applied"][0]["params"]
    for key, value in expected.items():
        assert recorded[key] == pytest.approx(value, rel=0.03, abs=0.01), recorded
    assert not any(isinstance(v, str) and v.startswith("<array") for v in recorded.values())
