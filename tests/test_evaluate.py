"""Evaluate on a real export of scikit-learn's digits (long-tailed): every number against the
confusion matrix and sklearn.metrics, determinism, Cancel, and no val/test image in training.
Tiny inputs and few steps: these prove the bookkeeping, benchmarks/bench_evaluate.py the gain."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from datasets import write_digits
from export_helpers import read_manifest
from sklearn import metrics as skm

from imbalance_studio.cli import run_cli
from imbalance_studio.core.augment import PRESETS
from imbalance_studio.core.evaluate import EvalProgress, iter_evaluate, save_report
from imbalance_studio.core.evaluate.metrics import bootstrap_balanced_accuracy, confusion, scores
from imbalance_studio.core.progress import drive

torch = pytest.importorskip("torch")

COUNTS = [60, 34, 20, 12, 8]  # long-tailed: 60 of '0' down to 8 of '4'
QUICK = {"steps": 12, "size": 16}


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    """`imbalance-studio export FOLDER OUT --policy oversample`, no stack chosen."""
    base = tmp_path_factory.mktemp("evaluate")
    write_digits(base / "digits", COUNTS)
    out = base / "out"
    args = ["export", str(base / "digits"), str(out), "--policy", "oversample", "--seed", "3"]
    assert run_cli([*args, "--quiet", "--workers", "1"]) == 0
    return out


def _fresh(export: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "export"
    shutil.copytree(export, copy)
    return copy


def _pairs(cm) -> tuple[np.ndarray, np.ndarray]:
    """(y_true, y_pred) with exactly the confusion matrix's counts."""
    t, p = [], []
    for i, row in enumerate(cm):
        for j, n in enumerate(row):
            t += [i] * n
            p += [j] * n
    return np.array(t), np.array(p)


def test_the_default_export_uses_the_label_safe_stack(export):
    stack = json.loads((export / "augment.json").read_text())
    assert stack["transform"] == PRESETS["safe"]["transform"]
    names = {t["__class_fullname__"].rsplit(".", 1)[-1] for t in stack["transform"]["transforms"]}
    assert not names & {"HorizontalFlip", "VerticalFlip", "HueSaturationValue", "CoarseDropout"}
    assert (
        "no stack chosen: the default preset `safe` (no flips" in (export / "README.md").read_text()
    )


def test_every_number_follows_from_the_confusion_matrix(export, tmp_path, capsys):
    out = _fresh(export, tmp_path)
    args = ["--steps", "12", "--size", "16", "--seed", "5"]
    assert run_cli(["evaluate", str(out), "--json", *args]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == json.loads((out / "evaluation.json").read_text())
    rows = read_manifest(out)
    k = len(COUNTS)
    val = Counter(int(r["class_index"]) for r in rows if r["split"] == "val")
    train = [r for r in rows if r["split"] == "train"]
    originals = sum(r["origin"] == "original" for r in train)
    assert originals < len(train)  # the export added images: every arm applies
    assert report["split"] == "val" and report["seed"] == 5
    assert report["classes"] == [f"digit_{i}" for i in range(k)]
    assert report["model"]["input_size"] == 16 and report["model"]["steps"] == 12
    assert list(report["arms"]) == ["raw", "balanced", "weighted", "sampler", "balanced+weights"]
    n_train = {"raw": originals, "balanced": len(train), "weighted": originals}
    n_train |= {"sampler": originals, "balanced+weights": len(train)}
    for name, arm in report["arms"].items():
        assert arm["n_train"] == n_train[name]
        cm = np.array(arm["confusion"])
        assert cm.shape == (k, k)
        assert cm.sum(axis=1).tolist() == [val[i] for i in range(k)] == report["val_counts"]
        y_true, y_pred = _pairs(cm)
        present = sorted(set(y_true))
        assert arm["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
        assert arm["balanced_accuracy"] == pytest.approx(
            skm.balanced_accuracy_score(y_true, y_pred)
        )
        assert arm["macro_f1"] == pytest.approx(
            skm.f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)
        )
        recall = skm.recall_score(y_true, y_pred, labels=present, average=None, zero_division=0)
        assert arm["per_class_recall"] == pytest.approx(list(recall))
        assert np.diag(cm).sum() / cm.sum() == pytest.approx(arm["accuracy"])
        lo, hi = report["interval"]["balanced_accuracy"][name]
        assert 0 <= lo <= hi <= 1
        assert len(arm["curve"]) == 12 and arm["curve"][-1][0] == 12
    best = max(report["arms"].values(), key=lambda a: a["balanced_accuracy"])
    assert report["arms"][report["best"]]["balanced_accuracy"] == best["balanced_accuracy"]
    majority = max(range(k), key=lambda i: val[i])
    assert report["majority_baseline"]["accuracy"] == pytest.approx(
        val[majority] / sum(val.values())
    )
    assert report["summary"].startswith(f"best: {report['best']}")
    # digit_4 has 1 or 2 validation images: the report says its recall is noise.
    assert any("digit_4" in w for w in report["warnings"])
    assert (out / "evaluation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The README gains one Evaluation section; a second run replaces it.
    capsys.readouterr()
    assert run_cli(["evaluate", str(out), "--quiet", "--arms", "raw,weighted", *args]) == 0
    table = capsys.readouterr().out  # the table explains its star and its interval
    assert "(* the best balanced accuracy; 95% interval: a bootstrap" in table
    assert "of the class that has fewest there" in table
    text = (out / "README.md").read_text()
    assert text.count("## Evaluation") == 1 and "| weighted |" in text and "| sampler |" not in text
    assert text.index("## Evaluation") > text.index("## Training split")


def test_metrics_match_sklearn_on_labels_with_a_missing_class():
    rng = np.random.default_rng(0)
    y_true = rng.choice([0, 1, 3], size=200, p=[0.7, 0.2, 0.1])  # class 2 never in truth
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, 4, 200))
    cm = confusion(y_true, y_pred, 4)
    assert (cm == skm.confusion_matrix(y_true, y_pred, labels=range(4))).all()
    s = scores(cm)
    assert s["per_class_recall"][2] is None
    with pytest.warns(UserWarning):  # sklearn too warns that class 2 is only predicted
        assert s["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y_true, y_pred))
    assert s["macro_f1"] == pytest.approx(
        skm.f1_score(y_true, y_pred, labels=[0, 1, 3], average="macro")
    )
    # Paired bootstrap: an arm against itself differs by exactly 0 in every resample.
    boot = bootstrap_balanced_accuracy(y_true, {"a": y_pred, "b": y_pred.copy()}, seed=1, rounds=50)
    assert (boot["a"] == boot["b"]).all() and boot["a"].std() > 0
    # Several training seeds judged on the same images: resamples draw images, and an image
    # scores the share of seeds right. Two seeds that agree are one seed; one seed always
    # right and one always wrong make every image score 0.5 in every resample (treated as
    # 2n images they would spread).
    two = bootstrap_balanced_accuracy(y_true, {"a": np.stack([y_pred, y_pred])}, 1, rounds=50)
    assert (two["a"] == boot["a"]).all()
    wrong = (y_true + 1) % 4
    half = bootstrap_balanced_accuracy(y_true, {"a": np.stack([y_true, wrong])}, 1, rounds=50)
    assert np.allclose(half["a"], 0.5)


def test_the_time_estimate_grows_with_arms_steps_and_pixels():
    from imbalance_studio.core.evaluate import estimate_seconds

    base = estimate_seconds(5, 200, 64)
    assert 30 < base < 300  # "about two minutes" for the defaults on a CPU core
    assert estimate_seconds(5, 400, 64) == pytest.approx(2 * base)
    assert estimate_seconds(5, 200, 128) == pytest.approx(4 * base)
    assert estimate_seconds(5, 200, 64, "cuda") < base / 10


def test_same_export_and_seed_give_the_same_numbers(export):
    def run(seed):
        rep = drive(
            iter_evaluate(export, seed=seed, device="cpu", arms=("raw", "sampler"), **QUICK)
        )
        for arm in rep["arms"].values():
            arm.pop("seconds")
        return rep

    one, two = run(2), run(2)
    assert one == two
    assert run(3)["arms"]["raw"]["curve"] != one["arms"]["raw"]["curve"]


def test_cancel_stops_between_steps_and_writes_nothing(export, tmp_path):
    out = _fresh(export, tmp_path)
    threads, det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    gen = iter_evaluate(out, device="cpu", **QUICK)
    events = []
    for event in gen:
        events.append(event)
        if event.phase == "train balanced" and event.step == 3:
            break
    gen.close()  # what Cancel and Ctrl+C do
    assert isinstance(events[-1], EvalProgress) and events[-1].loss is not None
    assert [e.step for e in events if e.phase == "train raw"] == list(range(1, 13))
    # Each step says which arm of how many it trains (the window's bar spans the whole run).
    numbers = {(e.arm, e.arm_number, e.arms) for e in events if e.arm}
    assert {n for _a, n, _t in numbers} == {1, 2} and len({t for *_, t in numbers}) == 1
    assert next(t for *_, t in numbers) >= 2
    assert not (out / "evaluation.json").exists() and not (out / "evaluation.png").exists()
    assert "## Evaluation" not in (out / "README.md").read_text()
    assert (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()) == (threads, det)


def test_validation_and_test_images_never_reach_training(export, tmp_path, monkeypatch):
    """The loaders open train files for training, val files only to judge, and never a
    test file: test images are made unreadable and the evaluation still runs."""
    import imbalance_studio.core.evaluate.run as run_mod
    import imbalance_studio.core.imageio as imageio

    out = _fresh(export, tmp_path)
    for f in (out / "test").rglob("*.png"):
        f.write_bytes(b"not an image")
    loads: list[list[str]] = []
    opened: list[str] = []
    real_load, real_image = run_mod._load, imageio.load_image

    def spy_load(data, rows, size):
        loads.append([r.path for r in rows])
        return (yield from real_load(data, rows, size))

    def spy_image(path, *a, **kw):
        opened.append(Path(path).relative_to(out).as_posix())
        return real_image(path, *a, **kw)

    trained: list[int] = []
    real_train = run_mod.train_arm

    def spy_train(images, labels, *a, **kw):
        trained.append(len(images))
        return (yield from real_train(images, labels, *a, **kw))

    monkeypatch.setattr(run_mod, "_load", spy_load)
    monkeypatch.setattr(imageio, "load_image", spy_image)
    monkeypatch.setattr(run_mod, "train_arm", spy_train)
    report = drive(iter_evaluate(out, device="cpu", **QUICK))
    rows = read_manifest(out)
    train = {r["path"] for r in rows if r["split"] == "train"}
    val = [r["path"] for r in rows if r["split"] == "val"]
    # First the training images (every train row, nothing else), then val to judge on.
    assert len(loads) == 2 and set(loads[0]) == train and loads[1] == val
    assert not any(p.startswith("test/") for p in opened)
    assert sorted(opened) == sorted([*train, *val])
    assert trained == [a["n_train"] for a in report["arms"].values()]
    save_report(report, out)


def test_refusals_are_one_line(export, tmp_path, capsys):
    assert run_cli(["evaluate", str(tmp_path)]) == 2
    assert "not an export folder" in capsys.readouterr().err
    out = _fresh(export, tmp_path)
    manifest = (out / "manifest.csv").read_text().splitlines()
    (out / "manifest.csv").write_text("\n".join(r for r in manifest if ",val," not in r) + "\n")
    assert run_cli(["evaluate", str(out), "--steps", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no validation split" in err and "\n" not in err
    for bad, says in (("--size=4", "8 to 512"), ("--arms=raw,magic", "arms are")):
        with pytest.raises(SystemExit) as info:  # argparse's refusal, one line
            run_cli(["evaluate", str(out), bad])
        assert info.value.code == 2 and says in capsys.readouterr().err
