"""Export end to end on real data, checked with the real clients (torchvision, sklearn,
albumentations, torch), plus the refusal, atomicity and determinism rules."""

from __future__ import annotations

import csv
import errno
import json
import os
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from export_helpers import curated, read_manifest, tree_state

from imbalance_studio.core.augment import PRESETS
from imbalance_studio.core.export import files as files_mod
from imbalance_studio.core.export import run as export_mod
from imbalance_studio.core.export.destination import MARKER_NAME, PARTIAL_TAG
from imbalance_studio.core.export.naming import FolderNames, flat_name, safe_name
from imbalance_studio.core.export.run import ExportError, export, iter_export
from imbalance_studio.core.plan import SPLITS, make_plan
from imbalance_studio.core.project import Project
from imbalance_studio.core.scanning import check, scan


@pytest.fixture(scope="module")
def exported(digits_root, tmp_path_factory):
    """One copy-mode export of the curated digits, with the source tree hashed around it."""
    before = tree_state(digits_root)
    dataset, project, plan = curated(digits_root)
    project.augment.default_stack = PRESETS["light"]
    project.augment.class_stacks = {"digit_9": PRESETS["heavy"]}
    out = tmp_path_factory.mktemp("export") / "balanced"
    report = export(dataset, project, plan, [], out, link=False)
    return {
        "out": out,
        "report": report,
        "plan": plan,
        "dataset": dataset,
        "project": project,
        "before": before,
        "after": tree_state(digits_root),
    }


def test_imagefolder_loads_every_split_with_the_same_classes(exported):
    from torchvision.datasets import ImageFolder

    out, plan = exported["out"], exported["plan"]
    sets = {s: ImageFolder(str(out / s)) for s in ("train", "val", "test")}
    expected = {name: i for i, name in enumerate(plan.classes)}
    for split, ds in sets.items():
        assert ds.class_to_idx == expected, split
        counts = Counter(ds.targets)
        assert [counts[i] for i in range(len(plan.classes))] == plan.final_counts(split), split
        for _ in ds:  # every exported file decodes
            pass


def test_val_and_test_hold_only_originals_and_never_leak_into_train(exported):
    rows = read_manifest(exported["out"])
    assert rows and list(rows[0]) == [
        "path", "split", "class", "class_index", "origin", "sources", "generator", "seed",
        "params",
    ]  # fmt: skip
    held = {r["sources"] for r in rows if r["split"] != "train"}
    assert {r["origin"] for r in rows if r["split"] != "train"} == {"original"}
    train_sources = {s for r in rows if r["split"] == "train" for s in r["sources"].split(";")}
    assert held and not held & train_sources
    assert {r["origin"] for r in rows if r["split"] == "train"} == {"original", "duplicate"}
    # Every exported file is in the manifest exactly once, and nothing else is.
    on_disk = {
        p.relative_to(exported["out"]).as_posix()
        for s in SPLITS
        for p in (exported["out"] / s).rglob("*")
        if p.is_file() and p.name != "metadata.parquet"
    }
    assert sorted(on_disk) == sorted(r["path"] for r in rows)
    assert len(rows) == exported["report"].files


def test_originals_and_duplicates_are_byte_for_byte_and_source_is_unchanged(exported, digits_root):
    out = exported["out"]
    for r in read_manifest(out):
        assert (out / r["path"]).read_bytes() == (digits_root / r["sources"]).read_bytes()
        if r["origin"] == "duplicate":
            assert "__dup" in r["path"] and json.loads(r["params"])["copy"] >= 1
    assert exported["after"] == exported["before"]


def test_removed_files_are_left_out(exported):
    sources = {r["sources"] for r in read_manifest(exported["out"])}
    removed = [p for p, m in exported["project"].marks.items() if m.remove]
    assert removed and not set(removed) & sources
    for cp in exported["plan"].splits["train"]:
        assert not set(cp.removed) & sources


def test_weights_equal_sklearn_on_the_exported_train_labels(exported):
    import torch
    from sklearn.utils.class_weight import compute_class_weight
    from torchvision.datasets import ImageFolder

    out = exported["out"]
    w = json.loads((out / "weights.json").read_text())
    y = np.array(ImageFolder(str(out / "train")).targets)
    expected = compute_class_weight("balanced", classes=np.arange(len(w["classes"])), y=y)
    np.testing.assert_allclose(w["class_weight"]["balanced_train"], expected, rtol=1e-12)
    original = np.repeat(np.arange(10), w["counts"]["train"]["before"])
    np.testing.assert_allclose(
        w["class_weight"]["balanced_original_train"],
        compute_class_weight("balanced", classes=np.arange(10), y=original),
    )
    assert w["format"] == "imbalance-studio-weights" and w["version"] == 1
    assert w["class_to_idx"] == ImageFolder(str(out / "train")).class_to_idx
    assert w["keras_class_weight"] == {str(i): v for i, v in enumerate(expected.tolist())}
    # Keras wants int keys: the notes and the README say how to get them from JSON's text.
    keras = {int(k): v for k, v in w["keras_class_weight"].items()}
    assert "int(k)" in w["notes"]["keras_class_weight"] and keras[0] == expected[0]
    assert "{int(k): v for k, v in" in (out / "README.md").read_text()
    assert w["pos_weight"] is None  # ten classes
    assert w["warnings"] and w["notes"]["balanced_train"]
    criterion = torch.nn.CrossEntropyLoss(weight=torch.tensor(w["class_weight"]["balanced_train"]))
    loss = criterion(torch.randn(4, 10), torch.tensor([0, 3, 9, 9]))
    assert torch.isfinite(loss)
    # Cui et al. 2019 on the exported train labels, computed here from the formula.
    eff = w["class_weight"]["effective_number"]
    n = np.bincount(y, minlength=10)
    raw = (1 - eff["beta"]) / (1 - eff["beta"] ** n)
    np.testing.assert_allclose(eff["weights"], raw * 10 / raw.sum(), rtol=1e-12)
    assert eff["weights"][int(np.argmin(n))] > eff["weights"][int(np.argmax(n))]
    loss = torch.nn.CrossEntropyLoss(weight=torch.tensor(eff["weights"]))(
        torch.randn(4, 10), torch.tensor([0, 3, 9, 9])
    )
    assert torch.isfinite(loss)


def test_sampler_weights_follow_imagefolder_order(exported):
    from torch.utils.data import WeightedRandomSampler
    from torchvision.datasets import ImageFolder

    out = exported["out"]
    ds = ImageFolder(str(out / "train"))
    with open(out / "sampler_weights.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["path"] for r in rows] == [Path(p).relative_to(out).as_posix() for p, _ in ds.samples]
    counts = Counter(ds.targets)
    for r, (_, label) in zip(rows, ds.samples, strict=True):
        assert int(r["class_index"]) == label
        assert float(r["weight"]) == pytest.approx(1 / counts[label])
    sampler = WeightedRandomSampler([float(r["weight"]) for r in rows], num_samples=len(rows))
    assert len(list(sampler)) == len(rows)


def test_hf_metadata_per_split(exported):
    import pyarrow.parquet as pq

    out = exported["out"]
    classes = exported["plan"].classes
    for split in SPLITS:
        table = pq.read_table(out / split / "metadata.parquet").to_pydict()
        for name, label in zip(table["file_name"], table["label"], strict=True):
            assert (out / split / name).is_file()
            assert name.split("/")[0] == classes[label]
        assert len(table["label"]) == sum(exported["report"].counts[split]["after"])


def test_augment_and_mixing_files_load_with_the_real_libraries(exported):
    import albumentations as A
    from torchvision.transforms import v2

    out = exported["out"]
    aug = A.load(str(out / "augment.json"))
    assert [type(t).__name__ for t in aug.transforms] == [
        t["__class_fullname__"] for t in PRESETS["light"]["transform"]["transforms"]
    ]
    img = np.zeros((32, 32, 3), np.uint8)
    assert aug(image=img)["image"].shape == img.shape
    index = json.loads((out / "augment_classes" / "index.json").read_text())
    assert list(index["classes"]) == ["digit_9"]
    A.load(str(out / index["classes"]["digit_9"]))
    mixing = json.loads((out / "mixing.json").read_text())
    assert mixing["num_classes"] == 10
    import torch

    mix = v2.RandomChoice([v2.CutMix(**mixing["cutmix"]), v2.MixUp(**mixing["mixup"])])
    _images, labels = mix(torch.rand(4, 3, 16, 16), torch.tensor([0, 1, 2, 9]))
    assert labels.shape == (4, 10)


def test_readme_has_charts_counts_settings_and_a_snippet_that_runs(exported, monkeypatch):
    from PIL import Image

    out = exported["out"]
    text = (out / "README.md").read_text()
    for chart in ("report/train_before.png", "report/train_after.png"):
        assert f"]({chart})" in text
        with Image.open(out / chart) as im:
            assert im.format == "PNG" and im.width > 300
    assert "| 9 | digit_9 | 6 | 27 |" in text
    assert "- seed: 0" in text and "median" in text
    snippet = text.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(out)
    scope: dict = {}
    exec(compile(snippet, "README snippet", "exec"), scope)
    assert scope["loss"].ndim == 0


def test_marker_is_the_only_file_with_a_time(exported):
    marker = json.loads((exported["out"] / MARKER_NAME).read_text())
    assert marker["format"] == "imbalance-studio-export" and "created" in marker


def test_same_project_and_seed_give_the_same_export(digits_root, tmp_path):
    outs = []
    for i in range(2):
        dataset, project, plan = curated(digits_root, seed=5)
        outs.append(tmp_path / f"out{i}")
        export(dataset, project, plan, [], outs[-1], link=False)
    a, b = (tree_state(o, skip=MARKER_NAME) for o in outs)
    assert {k: v[0] for k, v in a.items()} == {k: v[0] for k, v in b.items()}
    # A different seed gives a different split.
    dataset, project, plan = curated(digits_root, seed=6)
    export(dataset, project, plan, [], tmp_path / "other", link=False)
    assert (tmp_path / "other" / "manifest.csv").read_bytes() != (
        outs[0] / "manifest.csv"
    ).read_bytes()


def test_hard_links_share_the_source_inode(digits_root, tmp_path):
    before = tree_state(digits_root)
    dataset, project, plan = curated(digits_root)
    report = export(dataset, project, plan, [], tmp_path / "linked", link=True)
    assert report.linked == report.files and report.copied == 0
    row = read_manifest(tmp_path / "linked")[0]
    assert os.path.samefile(tmp_path / "linked" / row["path"], digits_root / row["sources"])
    assert tree_state(digits_root) == before


def test_link_falls_back_to_copies_when_links_fail(digits_root, tmp_path, monkeypatch):
    def refuse(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(files_mod.os, "link", refuse)
    dataset, project, plan = curated(digits_root)
    report = export(dataset, project, plan, [], tmp_path / "out", link=True)
    assert report.linked == 0 and report.copied == report.files
    assert any("copied" in n for n in report.notes)


# -- refusals -------------------------------------------------------------------------


def _plan(root: Path):
    dataset = scan(root)
    project = Project(dataset_root=str(root))
    return dataset, project, make_plan(dataset, project)


def _leftovers(parent: Path) -> list[str]:
    return [
        p.name for p in parent.iterdir() if PARTIAL_TAG in p.name or ".imbalance-studio-" in p.name
    ]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        (lambda root, tmp: root, "is the dataset folder itself"),
        (lambda root, tmp: root / "digit_0" / "out", "is inside the dataset folder"),
        (lambda root, tmp: root / "new", "is inside the dataset folder"),
    ],
)
def test_refuses_out_in_the_dataset(digits_root, tmp_path, where, message):
    before = tree_state(digits_root)
    dataset, project, plan = _plan(digits_root)
    with pytest.raises(ExportError, match=message):
        export(dataset, project, plan, [], where(digits_root, tmp_path), link=False)
    assert tree_state(digits_root) == before


def test_an_empty_or_parentless_out_is_refused_by_name(digits_root, tmp_path):
    """'' (an unset variable in a script) is not the working directory; a missing parent is
    named as the parent, not as the folder to export into."""
    from clirun import run_cli

    for args, said in (
        (("",), "no folder to export into was given"),
        ((tmp_path / "no" / "out",), f"{tmp_path / 'no'}: does not exist, so out cannot be made"),
    ):
        r = run_cli("export", digits_root, *args)
        assert r.returncode == 2 and said in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == []


def test_refuses_a_foreign_non_empty_folder_and_overwrites_only_our_export(digits_root, tmp_path):
    dataset, project, plan = _plan(digits_root)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("do not delete")
    with pytest.raises(ExportError, match="not an export of Imbalance Studio"):
        export(dataset, project, plan, [], foreign, link=False, overwrite=True)
    assert (foreign / "thesis.tex").read_text() == "do not delete"

    out = tmp_path / "out"
    out.mkdir()  # an empty folder is fine
    export(dataset, project, plan, [], out, link=False)
    with pytest.raises(ExportError, match="--overwrite"):
        export(dataset, project, plan, [], out, link=False)
    rep = export(dataset, project, plan, [], out, link=False, overwrite=True)
    assert not any("evaluation" in note for note in rep.notes)  # there was none to lose
    # An evaluation of the old files goes with them, and the report says so.
    (out / "evaluation.json").write_text("{}")
    rep = export(dataset, project, plan, [], out, link=False, overwrite=True)
    assert not (out / "evaluation.json").exists()
    assert any("evaluation (evaluation.json, evaluation.png) went" in n for n in rep.notes)
    # A file added to the export is not ours: named in a refusal, deleted only when asked.
    (out / "train" / "stale.txt").write_text("added after the export")
    with pytest.raises(ExportError, match=r"train/stale\.txt.*--overwrite-all"):
        export(dataset, project, plan, [], out, link=False, overwrite=True)
    assert (out / "train" / "stale.txt").is_file()
    export(dataset, project, plan, [], out, link=False, overwrite_all=True)
    assert not (out / "train" / "stale.txt").exists()
    assert (out / "manifest.csv").is_file()
    assert _leftovers(tmp_path) == []


def test_refuses_when_the_disk_is_too_small(digits_root, tmp_path, monkeypatch):
    dataset, project, plan = _plan(digits_root)
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=100_000))
    with pytest.raises(ExportError, match="not enough free disk space"):
        export(dataset, project, plan, [], tmp_path / "out", link=False)
    assert not (tmp_path / "out").exists() and _leftovers(tmp_path) == []


def test_disk_filling_up_mid_export_leaves_nothing(digits_root, tmp_path, monkeypatch):
    dataset, project, plan = _plan(digits_root)
    real_copy = files_mod.copy_file
    calls = []

    def copy_until_full(src, dst):
        calls.append(src)
        if len(calls) > 100:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_copy(src, dst)

    monkeypatch.setattr(files_mod, "copy_file", copy_until_full)
    with pytest.raises(ExportError, match="disk filled up"):
        export(dataset, project, plan, [], tmp_path / "out", link=False)
    assert not (tmp_path / "out").exists() and _leftovers(tmp_path) == []


def test_cancel_leaves_no_out(digits_root, tmp_path, monkeypatch):
    monkeypatch.setattr(export_mod, "write_all", _small_steps(export_mod.write_all))
    dataset, project, plan = _plan(digits_root)
    gen = iter_export(dataset, project, plan, [], tmp_path / "out", link=False)
    seen = []
    for event in gen:
        seen.append(event)
        if event.phase == "writing" and event.done >= 64:
            break
    partial = [p for p in tmp_path.iterdir() if PARTIAL_TAG in p.name]
    assert partial and any(partial[0].rglob("*.png"))  # files were being written
    assert not (tmp_path / "out").exists()
    gen.close()
    assert not (tmp_path / "out").exists() and _leftovers(tmp_path) == []


def _small_steps(write_all):
    def wrapped(writer, srcs, dsts, links, step=512, **kw):
        return write_all(writer, srcs, dsts, links, step=32, **kw)

    return wrapped


# -- bad inputs and names -------------------------------------------------------------


def test_files_that_failed_to_decode_are_listed_and_odd_names_survive(bad_corpus, tmp_path):
    from torchvision.datasets import ImageFolder

    root, _expected = bad_corpus
    before = tree_state(root)
    dataset = scan(root)
    dataset = check(dataset)
    project = Project(dataset_root=str(root))
    plan = make_plan(dataset, project)
    out = tmp_path / "out"
    report = export(dataset, project, plan, [], out, link=False)
    text = (out / "README.md").read_text()
    for rel in ("bad/truncated.jpg", "bad/garbage.png", "bad/zero.jpg", "bad/bomb.png"):
        assert f"`{rel}`" in text
        assert rel in dict(report.problems)
    rows = read_manifest(out)
    assert "odd names/semi;colon,comma'quote.png" in {r["sources"] for r in rows}
    for r in rows:
        if r["sources"] == "good/exif_rotated.jpg":  # written upright: tests/test_export_exif.py
            assert json.loads(r["params"])["exif_transposed"] is True
            continue
        assert (out / r["path"]).read_bytes() == (root / r["sources"]).read_bytes()
    for split in SPLITS:  # every class folder in every split, even the empty ones
        assert sorted(p.name for p in (out / split).iterdir() if p.is_dir()) == list(
            dataset.classes
        )
        ImageFolder(str(out / split), allow_empty=True)
    assert tree_state(root) == before


def test_names_are_flat_unique_and_safe():
    assert flat_name("sub/dir/a.png") == "sub__dir__a.png"
    assert safe_name("a:b*c?.png") == "a_b_c_.png"
    assert safe_name(".hidden.png") == "_hidden.png"
    assert safe_name("bad\udcffname.png") == "bad_name.png"
    long = safe_name("x" * 300 + ".png")
    assert len(long.encode()) <= 255 and long.endswith(".png")
    names = FolderNames()
    assert [names.claim(n) for n in ("a.png", "A.png", "a.png", "a_1.png")] == [
        "a.png", "A_1.png", "a_2.png", "a_1_1.png",
    ]  # fmt: skip


def test_sub_folders_are_flattened_without_collisions(tmp_path):
    from PIL import Image

    root = tmp_path / "data"
    for rel in ("cat/a.png", "cat/sub/a.png", "cat/sub__a.png", "dog/b.png", "dog/c.png"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.new("L", (8, 8), len(rel)).save(root / rel)
    dataset = scan(root)
    project = Project(dataset_root=str(root), split={"train": 1.0, "val": 0.0, "test": 0.0})
    plan = make_plan(dataset, project)
    export(dataset, project, plan, [], tmp_path / "out", link=False)
    rows = {r["sources"]: r["path"] for r in read_manifest(tmp_path / "out")}
    assert rows["cat/a.png"] == "train/cat/a.png"
    assert {rows["cat/sub/a.png"], rows["cat/sub__a.png"]} == {
        "train/cat/sub__a.png", "train/cat/sub__a_1.png",
    }  # fmt: skip


def test_a_plan_for_other_classes_is_refused(digits_root, tmp_path, bad_corpus):
    _dataset, project, plan = _plan(digits_root)
    other, _, _ = _plan(bad_corpus[0])
    with pytest.raises(ExportError, match="other classes"):
        export(other, project, plan, [], tmp_path / "out", link=False)


# -- with real generation -------------------------------------------------------------


def _generate(dataset, project, plan, staging):
    from imbalance_studio.core.generation import iter_generate
    from imbalance_studio.core.scanning import drive

    return drive(iter_generate(dataset, project, plan, staging, workers=1))


def _augmenting_project(root: Path, seed: int = 1):
    from imbalance_studio.core.plan import train_counts
    from imbalance_studio.core.policies import apply_policy
    from imbalance_studio.core.project import Method

    dataset = scan(root)
    dataset = check(dataset)
    project = Project(dataset_root=str(root), seed=seed)
    project.targets = apply_policy("target:20", train_counts(dataset, project), Method.AUGMENT)
    project.augment.default_stack = PRESETS["light"]
    project.generation.cutmix_classes = ["digit_9"]
    return dataset, project


def test_generated_images_are_exported_with_provenance(digits_root, tmp_path):
    from torchvision.datasets import ImageFolder

    from imbalance_studio.core.generation import reject

    before = tree_state(digits_root)
    dataset, project = _augmenting_project(digits_root)
    plan = make_plan(dataset, project)
    staging = tmp_path / "staging"
    first = _generate(dataset, project, plan, staging)
    assert len(first) == sum(len(cp.generate) for cp in plan.splits["train"]) > 0
    # Reject one image: the next generation replaces it and the export leaves it out.
    gone = reject(staging, first[0], "replace", project=project)
    plan = make_plan(dataset, project)
    generated = _generate(dataset, project, plan, staging)
    out = tmp_path / "out"
    report = export(dataset, project, plan, generated, out, link=True)

    train = ImageFolder(str(out / "train"))
    counts = Counter(train.targets)
    assert [counts[i] for i in range(10)] == plan.final_counts("train")
    rows = read_manifest(out)
    made = [r for r in rows if r["origin"] in ("augmented", "cutmix")]
    assert (
        len(made)
        == len(generated)
        == report.origins.get("augmented", 0) + report.origins.get("cutmix", 0)
    )
    assert "cutmix" in {r["origin"] for r in made if r["class"] == "digit_9"}
    assert {r["origin"] for r in made if r["class"] != "digit_9"} == {"augmented"}
    staged = {g.id: g for g in generated}
    assert gone.id not in staged and not any(gone.id in r["path"] for r in rows)
    for r in made:
        assert r["split"] == "train"
        image_id = Path(r["path"]).stem.split("_", 1)[1]
        g = staged[image_id]
        assert (out / r["path"]).read_bytes() == g.file.read_bytes()
        assert r["sources"].split(";") == list(g.sources)
        assert all(plan.split_of(s) == "train" for s in g.sources)
        assert int(r["seed"]) == g.seed and r["generator"] == g.generator
        assert r["origin"] == ("cutmix" if g.generator == "cutmix" else "augmented")
        assert json.loads(r["params"]) == json.loads(json.dumps(g.params))
    assert any(len(r["sources"].split(";")) == 2 for r in made if r["origin"] == "cutmix")
    held = {r["sources"] for r in rows if r["split"] != "train"}
    assert not held & {s for r in made for s in r["sources"].split(";")}
    assert tree_state(digits_root) == before


def test_same_project_and_seed_give_the_same_pixels(digits_root, tmp_path):
    outs = []
    for i in range(2):
        dataset, project = _augmenting_project(digits_root, seed=3)
        plan = make_plan(dataset, project)
        generated = _generate(dataset, project, plan, tmp_path / f"staging{i}")
        outs.append(tmp_path / f"out{i}")
        export(dataset, project, plan, generated, outs[-1], link=False)
    a, b = (tree_state(o, skip=MARKER_NAME) for o in outs)
    assert {k: v[0] for k, v in a.items()} == {k: v[0] for k, v in b.items()}
    assert any(r["origin"] == "augmented" for r in read_manifest(outs[0]))


def test_missing_generated_images_are_refused(digits_root, tmp_path):
    dataset, project = _augmenting_project(digits_root)
    plan = make_plan(dataset, project)
    with pytest.raises(ExportError, match="run Generate first"):
        export(dataset, project, plan, [], tmp_path / "out", link=False)
    assert not (tmp_path / "out").exists()


def test_sources_generation_found_undecodable_are_left_out_and_listed(digits_root, tmp_path):
    from imbalance_studio.core.generation import GenerateResult

    dataset, project, plan = curated(digits_root)
    bad = plan.splits["train"][9].kept[0]  # also the source of marked duplicates
    result = GenerateResult([])
    result.bad_sources[bad] = "truncated"
    report = export(dataset, project, plan, result, tmp_path / "out", link=False)
    rows = read_manifest(tmp_path / "out")
    assert bad not in {r["sources"] for r in rows}
    assert (bad, "does not decode (truncated)") in report.problems
    assert f"`{bad}`" in (tmp_path / "out" / "README.md").read_text()
    dups = sum(1 for d in plan.splits["train"][9].duplicates if d.source == bad)
    assert report.counts["train"]["after"][9] == plan.final_counts("train")[9] - 1 - dups


def _left_out(out: Path) -> list[dict[str, str]]:
    with open(out / "left_out.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_left_out_csv_accounts_for_every_original_not_exported(exported, digits_root):
    out, plan, project = exported["out"], exported["plan"], exported["project"]
    rows = _left_out(out)
    removed = {p: cp.split for s in SPLITS for cp in plan.splits[s] for p in cp.removed}
    assert {r["path"] for r in rows} == set(removed) and len(rows) == len(removed)
    marked = {p for p, m in project.marks.items() if m.remove}
    for r in rows:
        assert r["split"] == removed[r["path"]] and r["path"].startswith(r["class"] + "/")
        want = "marked for removal" if r["path"] in marked else "undersampled to the class target"
        assert r["reason"] == want
    reasons = Counter(r["reason"] for r in rows)
    assert reasons["marked for removal"] == 1 and reasons["undersampled to the class target"] > 0
    # With the manifest's originals, every image of the dataset, each once.
    exported_originals = [r["sources"] for r in read_manifest(out) if r["origin"] == "original"]
    every = sorted(p.relative_to(digits_root).as_posix() for p in digits_root.rglob("*.png"))
    assert sorted(exported_originals + [r["path"] for r in rows]) == every
    readme = (out / "README.md").read_text()
    assert f"{reasons['undersampled to the class target']:,} undersampled" in readme
    assert "1 marked for removal" in readme


def test_left_out_csv_names_unreadable_files_and_an_export_without_losses(tmp_path):
    from datasets import write_digits

    root = tmp_path / "data"
    write_digits(root, counts=[8, 6])
    good = next((root / "digit_1").iterdir())
    (root / "digit_1" / "broken, truncated.png").write_bytes(good.read_bytes()[:60])
    dataset = check(scan(root))
    project = Project(dataset_root=str(root))
    from imbalance_studio.core.project import Mark

    # Marks on the broken file and on a file that is gone act on nothing: said, not counted.
    project.update_marks({"digit_1/broken, truncated.png": Mark(remove=True),
                          "digit_0/gone.png": Mark(remove=True)})  # fmt: skip
    (root / "digit_2").mkdir()  # an empty class folder: a problem of a folder, not a file
    dataset = check(scan(root))
    rep = export(dataset, project, make_plan(dataset, project), [], tmp_path / "out", link=False)
    assert "digit_2" in dict(rep.problems)  # the README lists it...
    readme = (rep.out / "README.md").read_text()
    assert (
        "- marks: 0 removed, 0 marked for duplication (2 more on files missing, left out as"
        in readme
    )
    rows = _left_out(rep.out)  # ...left_out.csv, of files, does not
    assert [(r["path"], r["class"]) for r in rows] == [("digit_1/broken, truncated.png", "digit_1")]
    assert rows[0]["reason"] and "marked" not in rows[0]["reason"]
    assert "reason: 1 problem file." in readme
    # Nothing left out: the file is there, header only, and the README says "none".
    (root / "digit_1" / "broken, truncated.png").unlink()
    (root / "digit_2").rmdir()
    dataset = check(scan(root))
    rep = export(dataset, project, make_plan(dataset, project), [], tmp_path / "o2", link=False)
    assert (rep.out / "left_out.csv").read_text() == "path,split,class,reason\n"
    assert "reason: none." in (rep.out / "README.md").read_text()


def test_an_export_with_no_image_left_is_refused_and_writes_nothing(tmp_path):
    from datasets import write_digits

    from imbalance_studio.core.project import Mark

    root = tmp_path / "data"
    write_digits(root, counts=[3, 2])
    dataset = check(scan(root))
    project = Project(dataset_root=str(root))
    project.update_marks({s.path: Mark(remove=True) for s in dataset.samples})
    with pytest.raises(ExportError, match=r"nothing to export.*\(5 left out"):
        export(dataset, project, make_plan(dataset, project), [], tmp_path / "out", link=False)
    assert not (tmp_path / "out").exists() and _leftovers(tmp_path) == []


def test_a_duplicate_mark_on_a_held_out_image_is_not_counted_as_acting(digits_root, tmp_path):
    from imbalance_studio.core.project import Mark

    dataset = check(scan(digits_root))
    project = Project(dataset_root=str(digits_root))
    plan = make_plan(dataset, project)
    project.set_mark(plan.splits["val"][0].kept[0], Mark(duplicate=2))
    project.set_mark(plan.splits["train"][0].kept[0], Mark(duplicate=2))
    rep = export(dataset, project, make_plan(dataset, project), [], tmp_path / "o", link=False)
    readme = (rep.out / "README.md").read_text()
    assert (
        "- marks: 0 removed, 1 marked for duplication (1 more on files missing, left out" in readme
    )


def test_the_readme_names_a_method_only_where_it_made_images(exported):
    plan = exported["plan"]
    rows = {
        line.split(": ", 1)[0][len("- class ") :]: line.split(": ", 1)[1]
        for line in (exported["out"] / "README.md").read_text().splitlines()
        if line.startswith("- class ")
    }
    for cp, name in zip(plan.splits["train"], plan.classes, strict=True):
        said = rows[name]
        assert f" → {cp.final} training images" in said or f": {cp.final} training images" in said
        assert ("by " in said) == bool(cp.generate), said
        assert ("undersampled" in said) == (len(cp.kept) < cp.original), said
    assert "90 training images" in rows["digit_0"] and "undersampled" in rows["digit_0"]
