"""The feature export on a real long-tailed image folder (scikit-learn's digits written as
PNGs, 150 … 8 per class): HOG rows, splits, resampling, sources, determinism, small classes,
and whether SMOTE helps an SVC."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
from datasets import tree_hash, write_digits

from imbalance_studio.core.features import (
    FeaturesError,
    FeatureSettings,
    iter_featurize,
    resample_train,
)
from imbalance_studio.core.features.check import projection, svc_check
from imbalance_studio.core.features.run import export_features, iter_features
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.progress import drive
from imbalance_studio.core.project import Project
from imbalance_studio.core.scanning import check, scan

SETTINGS = FeatureSettings(32)  # 4 x 4 cells, 324 values: quick on 2 cores
SPLITS = ("train", "val", "test")


def planned(root: Path, seed: int = 0):
    dataset = check(scan(root))
    project = Project(dataset_root=str(root), seed=seed)
    return dataset, project, make_plan(dataset, project)


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    root = tmp_path_factory.mktemp("digits-features")
    write_digits(root)
    return root


@pytest.fixture(scope="module")
def exported(digits, tmp_path_factory):
    dataset, project, plan = planned(digits)
    out = tmp_path_factory.mktemp("features") / "out"
    before = tree_hash(digits)
    report = export_features(dataset, project, plan, out, settings=SETTINGS, workers=1)
    assert tree_hash(digits) == before  # the dataset is only read
    return out, plan, report


@pytest.fixture(scope="module")
def digit_vectors(digits):
    """The digits' vectors, computed once for the tests that only resample them."""
    dataset, _project, plan = planned(digits)
    return drive(iter_featurize(dataset, plan, SETTINGS, workers=1))


@pytest.fixture(scope="module")
def tiny_vectors(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    write_digits(root, counts=[40, 30, 3, 1])  # 3 and 1 go wholly to train (too few to split)
    dataset, _project, plan = planned(root)
    return drive(iter_featurize(dataset, plan, SETTINGS, workers=1))


def load(out: Path, split: str) -> dict[str, np.ndarray]:
    with np.load(out / f"{split}.npz", allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def test_original_rows_equal_hog_recomputed_from_features_json(exported, digits):
    from PIL import Image, ImageOps
    from skimage.feature import hog

    out, _plan, _ = exported
    info = json.loads((out / "features.json").read_text())
    pre = info["preprocess"]
    assert pre == {"mode": "L", "size": [32, 32], "resample": "bilinear"}
    assert info["hog"]["pixels_per_cell"] == [8, 8] and info["hog"]["channel_axis"] is None
    checked = 0
    for split in SPLITS:
        arrays = load(out, split)
        assert arrays["X"].dtype == np.float32 and arrays["y"].dtype == np.int64
        assert arrays["X"].shape[1] == info["dimensions"] == 324
        real = ~arrays["synthetic"]
        for x, path in zip(arrays["X"][real], arrays["path"][real], strict=True):
            img = ImageOps.exif_transpose(Image.open(digits / str(path)))
            img = img.convert(pre["mode"]).resize(
                pre["size"], Image.Resampling[pre["resample"].upper()]
            )
            expected = hog(np.asarray(img, np.float64) / 255, **info["hog"]).astype(np.float32)
            assert np.array_equal(x, expected), path
            checked += 1
    assert checked == sum(sum(c["before"]) for c in info["counts"].values())


def test_val_and_test_hold_the_plans_originals_only(exported):
    out, plan, _ = exported
    train_paths = set(load(out, "train")["path"].tolist()) - {""}
    for split in ("val", "test"):
        arrays = load(out, split)
        assert not arrays["synthetic"].any()
        assert set(arrays["path"].tolist()) == {p for cp in plan.splits[split] for p in cp.kept}
        assert not train_paths & set(arrays["path"].tolist())
        assert np.bincount(arrays["y"], minlength=10).tolist() == [
            len(cp.kept) for cp in plan.splits[split]
        ]
    assert train_paths == {p for cp in plan.splits["train"] for p in cp.kept}


def test_train_is_balanced_and_every_synthetic_row_has_its_two_sources(exported):
    out, plan, report = exported
    train = load(out, "train")
    counts = np.bincount(train["y"], minlength=10)
    largest = max(len(cp.kept) for cp in plan.splits["train"])
    assert counts.tolist() == [largest] * 10
    syn = train["synthetic"]
    assert (
        syn.sum()
        == report.synthetic
        == 10 * largest - sum(len(cp.kept) for cp in plan.splits["train"])
    )
    assert (train["path"][syn] == "").all() and (train["path"][~syn] != "").all()
    src = train["sources"]
    assert (src[~syn] == -1).all() and (src[syn] >= 0).all()
    assert (~syn[src[syn]].ravel()).all()  # made from originals
    assert (train["y"][src[syn][:, 0]] == train["y"][syn]).all()
    with open(out / "train_synthetic_sources.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["row"]) for r in rows] == np.flatnonzero(syn).tolist()
    assert [r["path_a"] for r in rows] == train["path"][src[syn][:, 0]].tolist()
    info = json.loads((out / "features.json").read_text())
    assert info["sampler"]["name"] == "smote" and info["sampler"]["seed"] == 0
    assert info["counts"]["train"]["after"] == counts.tolist()


def on_segment(X, synthetic_rows, sources, tol=1e-4):
    a, b = X[sources[:, 0]].astype(np.float64), X[sources[:, 1]].astype(np.float64)
    x = X[synthetic_rows].astype(np.float64)
    d = b - a
    dd = np.einsum("ij,ij->i", d, d)
    t = np.divide(np.einsum("ij,ij->i", x - a, d), dd, out=np.zeros(len(x)), where=dd > 0)
    resid = np.linalg.norm(x - (a + t[:, None] * d), axis=1)
    return t, resid


@pytest.mark.parametrize("sampler", ["smote", "borderline-smote", "adasyn", "smote-enn"])
def test_synthetic_rows_lie_on_the_segment_between_their_sources(digit_vectors, sampler):
    fs = digit_vectors
    res = resample_train(fs.splits["train"], fs.classes, sampler, seed=0)
    syn = np.flatnonzero(res.synthetic)
    assert len(syn) > 50
    keep = (res.sources[syn] >= 0).all(axis=1)  # a cleaning step may remove a source
    assert keep.mean() > 0.9
    t, resid = on_segment(res.X, syn[keep], res.sources[syn][keep])
    assert resid.max() < 1e-4
    assert (t >= -1e-6).all() and (t <= 1 + 1e-6).all()
    # The pair is not trivial: a synthetic row is not simply a copy of one source.
    assert (np.abs(res.X[syn] - res.X[res.sources[syn][:, 0]]).max(axis=1) > 0).mean() > 0.9


def test_same_project_and_seed_give_the_same_arrays_with_or_without_the_pool(digits, tmp_path):
    dataset, project, plan = planned(digits, seed=5)
    a = export_features(dataset, project, plan, tmp_path / "a", settings=SETTINGS, workers=1)
    b = export_features(dataset, project, plan, tmp_path / "b", settings=SETTINGS, workers=2)
    for split in SPLITS:
        assert (tmp_path / "a" / f"{split}.npz").read_bytes() == (
            tmp_path / "b" / f"{split}.npz"
        ).read_bytes()
    assert a.counts == b.counts
    other = make_plan(dataset, Project(dataset_root=str(digits), seed=6))
    c = export_features(dataset, project, other, tmp_path / "c", settings=SETTINGS, workers=1)
    assert not np.array_equal(c.resampled.X, a.resampled.X)


@pytest.mark.parametrize(
    "sampler",
    ["smote", "borderline-smote", "svm-smote", "adasyn", "smote-tomek", "smote-enn", "random"],
)
def test_tiny_classes_lower_k_or_duplicate_never_crash(tiny_vectors, sampler):
    fs = tiny_vectors
    assert fs.splits["train"].counts(4)[2:] == [3, 1]
    try:
        res = resample_train(fs.splits["train"], fs.classes, sampler, seed=0)
    except FeaturesError as exc:  # a clear refusal (ADASYN on separable classes), never a crash
        assert "n_neighbors" not in str(exc)
        return
    counts = np.bincount(res.y, minlength=4)
    assert counts[3] > 1  # the single image was duplicated
    single = res.synthetic & (res.y == 3)
    assert (res.sources[single, 0] == res.sources[single, 1]).all()
    if sampler != "random":
        assert any("k_neighbors lowered from 5 to 2" in n for n in res.notes), res.notes
        assert any("digit_3: one training image" in n for n in res.notes), res.notes


def test_smote_helps_an_svc_on_the_validation_vectors(exported, digits):
    _out, _plan, report = exported
    fs, res = report.features, report.resampled
    result = svc_check(fs.splits["train"], res, fs.splits["val"], len(fs.classes))
    print(
        f"\nSVC() balanced accuracy on val ({result.n_val} vectors): original "
        f"{result.original.balanced_accuracy:.3f} -> SMOTE {result.resampled.balanced_accuracy:.3f}"
        f"; macro-F1 {result.original.macro_f1:.3f} -> {result.resampled.macro_f1:.3f}; "
        f"G-mean {result.original.geometric_mean:.3f} -> {result.resampled.geometric_mean:.3f}"
    )
    assert result.resampled.balanced_accuracy > result.original.balanced_accuracy
    assert result.helped
    proj = projection(fs.splits["train"].X, res.X)
    assert proj.before.shape == (len(fs.splits["train"].y), 2)
    assert proj.after.shape == (len(res.y), 2)
    assert np.allclose(proj.after[: len(proj.before)], proj.before, atol=1e-4)


def test_cancel_leaves_nothing_behind(digits, tmp_path):
    dataset, project, plan = planned(digits)
    out = tmp_path / "out"
    gen = iter_features(dataset, project, plan, out, settings=SETTINGS, workers=2)
    for event in gen:
        if event.phase == "featurizing" and event.done:
            break
    gen.close()
    assert os.listdir(tmp_path) == []


def test_policy_targets_are_followed(digits, tmp_path):
    from imbalance_studio.core.plan import train_counts
    from imbalance_studio.core.policies import apply_policy

    dataset = check(scan(digits))
    project = Project(dataset_root=str(digits), seed=0)
    project.targets = apply_policy("median", train_counts(dataset, project))
    plan = make_plan(dataset, project)
    report = export_features(dataset, project, plan, tmp_path / "o", settings=SETTINGS, workers=1)
    expected = [cp.final for cp in plan.splits["train"]]
    assert report.counts["train"]["after"] == expected
    assert len(set(expected)) == 1  # median: big classes undersampled by the plan, small grown
    # The README's "train kept" column counts the originals the plan kept (undersampled),
    # and says so, not the split's originals as the image export's "train before" does.
    readme = (tmp_path / "o" / "README.md").read_text()
    big = max(plan.splits["train"], key=lambda cp: cp.original)
    assert len(big.kept) < big.original
    name = dataset.classes[big.class_index]
    assert f"| {name} | {len(big.kept)} | {big.final} |" in readme
    assert "| class | train kept | train resampled |" in readme and "undersampling" in readme


def test_an_image_that_stopped_decoding_is_left_out_and_listed(tmp_path):
    root = tmp_path / "d"
    write_digits(root, counts=[20, 12])
    dataset, project, plan = planned(root)
    victim = plan.splits["train"][1].kept[0]
    (root / victim).write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)  # broken after the scan
    report = export_features(dataset, project, plan, tmp_path / "o", settings=SETTINGS, workers=1)
    assert [p for p, _ in report.problems] == [victim]
    train = load(tmp_path / "o", "train")
    assert victim not in train["path"].tolist()
    assert report.counts["train"]["before"][1] == len(plan.splits["train"][1].kept) - 1
    assert victim in (tmp_path / "o" / "README.md").read_text()


def test_the_scans_problem_files_are_listed_as_the_export_lists_them(tmp_path):
    root = tmp_path / "d"
    write_digits(root, counts=[20, 12])
    (root / "digit_1" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    dataset, project, plan = planned(root)
    assert [p.path for p in dataset.problems] == ["digit_1/corrupt.png"]
    report = export_features(dataset, project, plan, tmp_path / "o", settings=SETTINGS, workers=1)
    assert [p for p, _ in report.problems] == ["digit_1/corrupt.png"]
    info = json.loads((tmp_path / "o" / "features.json").read_text())
    assert [p["path"] for p in info["problems"]] == ["digit_1/corrupt.png"]
    readme = (tmp_path / "o" / "README.md").read_text()
    assert "digit_1/corrupt.png" in readme
    assert "- `manifest.csv`: every file above" in readme  # its Files list names every file


def test_duplicate_marks_are_said_not_to_apply_to_vectors(tmp_path):
    from imbalance_studio.core.project import Mark

    root = tmp_path / "d"
    write_digits(root, counts=[20, 12])
    dataset, project, plan = planned(root)
    project.set_mark(plan.splits["train"][1].kept[0], Mark(duplicate=3))
    plan = make_plan(dataset, project)
    report = export_features(dataset, project, plan, tmp_path / "o", settings=SETTINGS, workers=1)
    said = [n for n in report.notes if n.startswith("duplicate marks (3 copies)")]
    assert said and "one vector here" in said[0]
    # A duplicate-method target's own copies are not marks: no such note.
    from imbalance_studio.core.project import ClassTarget, Method

    project.set_mark(plan.splits["train"][1].kept[0], None)
    project.targets = {"digit_1": ClassTarget(target=20, method=Method.DUPLICATE)}
    plan = make_plan(dataset, project)
    assert any(cp.duplicates for cp in plan.splits["train"])
    report = export_features(dataset, project, plan, tmp_path / "o2", settings=SETTINGS, workers=1)
    assert not any(n.startswith("duplicate marks") for n in report.notes)
    assert report.counts["train"]["before"][1] == len(plan.splits["train"][1].kept)
