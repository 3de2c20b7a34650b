"""Class and file names in any script, with odd characters, and with undecodable bytes, end to
end: project file, export (every file it writes), charts, staging records, CLI output."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from datasets import tree_hash
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from imbalance_studio.cli import run_cli
from imbalance_studio.core.autosave import find_autosaves, write_autosave
from imbalance_studio.core.export import labels
from imbalance_studio.core.export.charts import bar_chart
from imbalance_studio.core.generation.records import (
    GeneratedImage,
    load_staging,
    record_dict,
    write_record,
)
from imbalance_studio.core.names import (
    display_name,
    escape_name,
    has_undecodable,
    json_text,
    unescape_name,
)
from imbalance_studio.core.project import ClassTarget, Mark, Method, Project
from imbalance_studio.core.reconcile import reconcile, snapshot_of
from imbalance_studio.core.scanning import scan

BAD = os.fsdecode(b"bad\xff")  # 'bad\udcff'
HALF = os.fsdecode(b"half \xe7\x8c")  # the first two bytes of 猫's three
NAMES = [
    "猫", "кошка", "قطة", "cat🐱", "e\u0301cole", "two  spaces ", "it's \"quoted\"",
    "semi;colon", "comma,name", "hash#tag", "tab\tname", "bell\x07", "pipe|name", BAD, HALF,
    "back\\slash\\xff",  # a real name that reads like an escape: must stay itself
]  # fmt: skip
FILE_NAMES = [os.fsdecode(b"img\xfe.png"), "猫 1.png", "a,b;c.png", '"q".png', "ok.png"]


def _png(rng: np.random.Generator) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (12, 12, 3), np.uint8), "RGB").save(buf, "PNG")
    return buf.getvalue()


def write_hostile(root: Path) -> list[str]:
    """One class folder per hostile name (5 + k files each, some with hostile names)."""
    rng = np.random.default_rng(7)
    for k, name in enumerate(NAMES):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(5 + k % 4):
            fname = FILE_NAMES[i] if i < len(FILE_NAMES) else f"f{i}.png"
            (folder / fname).write_bytes(_png(rng))
    return sorted(NAMES)


@pytest.fixture
def hostile(tmp_path) -> Path:
    root = tmp_path / os.fsdecode(b"data \xfd set")  # the root's own name is undecodable too
    write_hostile(root)
    return root


# -- the text form ------------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.text(st.sampled_from(["\\", "x", "u", "d", "8", "f", "c", "0", "\udcff", "\ud800"])),
    )
)
def test_text_form_round_trips_and_is_utf8(name):
    text = escape_name(name)
    text.encode("utf-8")  # never raises
    assert unescape_name(text) == name
    if not has_undecodable(name) and "\\" not in name:
        assert text == name  # ordinary names are written as they are


def test_text_and_json_forms_of_an_undecodable_name():
    assert escape_name(BAD) == "bad\\xff" and unescape_name("bad\\xff") == BAD
    assert escape_name("back\\slash\\xff") != "back\\slash\\xff"  # doubled, so never misread
    assert unescape_name(escape_name("back\\slash\\xff")) == "back\\slash\\xff"
    assert escape_name("C:\\Users\\me") == "C:\\Users\\me"  # backslashes alone stay
    text = json_text({BAD: [HALF]})
    assert "\\udcff" in text and json.loads(text.encode("utf-8")) == {BAD: [HALF]}
    assert display_name("tab\tname") == "tab\\x09name"


# -- the project file -----------------------------------------------------------------------


def test_project_with_undecodable_names_survives_save_and_reload(hostile, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # only this test's autosave
    dataset = scan(hostile)
    assert BAD in dataset.classes and HALF in dataset.classes
    bad_files = [s.path for s in dataset.samples if s.path.startswith(BAD + "/")]
    project = Project(dataset_root=str(hostile), seed=3)
    project.targets = {c: ClassTarget(target=9, method=Method.DUPLICATE) for c in NAMES}
    project.set_mark(bad_files[0], Mark(remove=True))
    project.set_mark(bad_files[1], Mark(duplicate=2))
    project.augment.class_stacks = {BAD: {"transform": {}}}
    project.generation.cutmix_classes = [BAD, "猫"]
    project.staging_dir = str(tmp_path / os.fsdecode(b"stage\xfa"))
    project.snapshot = snapshot_of(dataset)
    file = tmp_path / "p.isproj.json"
    project.save(file)
    raw = file.read_bytes()
    raw.decode("utf-8")  # valid UTF-8: undecodable bytes in the text form
    assert b"bad\\\\xff" in raw and b"\xff" not in raw
    loaded = Project.load(file)
    assert loaded == project
    assert loaded.targets[BAD].target == 9 and loaded.marks[bad_files[0]].remove
    assert "back\\slash\\xff" in loaded.targets  # a real backslash name is not decoded
    report = reconcile(loaded, dataset)
    assert report.ok, report.messages()  # no "classes missing", no "marked files missing"
    # The autosave goes through the same serialisation.
    write_autosave(project, file)
    os.utime(file, (0, 0))
    [found] = find_autosaves()
    assert found.project == project


# -- the export, end to end -----------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_ALBUMENTATIONS_UPDATE="1")
    cmd = [sys.executable, "-m", "imbalance_studio", *args]
    return subprocess.run(cmd, capture_output=True, timeout=300, env=env)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:  # strict UTF-8
        return list(csv.DictReader(fh))


def test_export_of_hostile_names_loads_in_imagefolder(hostile, tmp_path):
    import pyarrow.parquet as pq
    from torchvision.datasets import ImageFolder

    before = tree_hash(hostile)
    out = tmp_path / "out"
    done = _cli("export", str(hostile), str(out), "--policy", "oversample", "--quiet",
                "--workers", "1")  # fmt: skip
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    stdout = done.stdout.decode("utf-8")  # printable: names in the text form
    assert "exported" in stdout
    classes = sorted(NAMES)
    # Class folders carry the source's bytes, so ImageFolder sees the same classes.
    assert sorted(os.listdir(os.fsencode(out / "train"))) == sorted(
        [os.fsencode(c) for c in classes] + [b"metadata.parquet"]
    )
    weights = json.loads((out / "weights.json").read_bytes().decode("utf-8"))
    assert weights["classes"] == classes
    manifest = _rows(out / "manifest.csv")
    for split in ("train", "val", "test"):
        folder = ImageFolder(str(out / split), allow_empty=True)
        assert folder.class_to_idx == weights["class_to_idx"]
        rows = [r for r in manifest if r["split"] == split]
        got = [(unescape_name(r["path"]), int(r["class_index"])) for r in rows]
        want = [(os.path.relpath(p, out), c) for p, c in folder.samples]
        assert got == want  # same files, same order, same indices
        assert all(unescape_name(r["class"]) == classes[int(r["class_index"])] for r in rows)
        if not folder.samples:
            assert not (out / split / "metadata.parquet").exists()  # datasets cannot load it
            continue
        meta = pq.read_table(out / split / "metadata.parquet").to_pydict()
        assert [unescape_name(name) for name in meta["file_name"]] == [
            os.path.relpath(p, out / split) for p, _ in folder.samples
        ]
        assert meta["label"] == folder.targets
    assert weights["counts"]["train"]["after"] == [
        sum(1 for r in manifest if r["split"] == "train" and r["class_index"] == str(i))
        for i in range(len(classes))
    ]
    train = ImageFolder(str(out / "train"), allow_empty=True)
    sampler = _rows(out / "sampler_weights.csv")
    assert [unescape_name(r["path"]) for r in sampler] == [
        os.path.relpath(p, out) for p, _ in train.samples
    ]
    generated = [r for r in manifest if r["origin"] == "augmented"]
    assert any(unescape_name(r["sources"]).startswith(BAD + "/") for r in generated)
    assert all(json.loads(r["params"]) is not None for r in generated)
    # Every text file is valid UTF-8; every chart decodes.
    for path in out.rglob("*"):
        if path.is_file() and path.suffix not in (".png", ".parquet"):
            path.read_bytes().decode("utf-8")
    for chart in ("train_before.png", "train_after.png"):
        with Image.open(out / "report" / chart) as img:
            img.load()
            assert img.width == 720 and img.height > 18 * len(classes)
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "| 猫 |" in readme and "| bad\\xff |" in readme and "| кошка |" in readme
    assert "pipe\\|name" in readme and "tab\\x09name" in readme
    assert tree_hash(hostile) == before


def test_charts_draw_every_name(monkeypatch):
    long_ascii = "a_very_long_class_name_that_does_not_fit_the_label_column_" * 2
    names = [*NAMES, long_ascii, "猫" * 80, "ё" * 80]
    png = bar_chart("t", names, list(range(len(names))), len(names), base=[1] * len(names))
    with Image.open(io.BytesIO(png)) as img:
        img.load()
    for name in names:
        lab = labels.fit(name, 208)
        assert lab.width <= 208
        for font, text in lab.runs:
            if isinstance(font, type(labels.bitmap_font())):
                text.encode("latin-1")  # the bitmap font can draw it
    # Latin-1 names (after NFC) stay on the fast bitmap font.
    for name in ("plain", "e\u0301cole", "hash#tag", BAD):
        assert [type(f) for f, _ in labels.label(name).runs] == [type(labels.bitmap_font())]
    assert "".join(t for _, t in labels.label(BAD).runs) == "bad\\xff"


def test_charts_without_any_unicode_font_show_escapes(monkeypatch):
    monkeypatch.setattr(labels, "fallback_fonts", lambda: ())
    labels.label.cache_clear()
    try:
        assert labels.label("猫").runs[0][1] == "\\u732b" and labels.label("猫").escaped
        assert "".join(t for _, t in labels.label("cat🐱").runs) == "cat\\U0001f431"
        png = bar_chart("t", NAMES, [1] * len(NAMES), 1)
        Image.open(io.BytesIO(png)).load()
    finally:
        labels.label.cache_clear()


# -- staging records and CLI output ---------------------------------------------------------


def test_staging_records_keep_undecodable_names(tmp_path):
    staging = tmp_path / "staging"
    folder = staging / BAD
    folder.mkdir(parents=True)
    image = folder / "00000-abc.png"
    image.write_bytes(_png(np.random.default_rng(0)))
    g = GeneratedImage(
        id="00000-abc", class_name=BAD, file=image, sources=(f"{BAD}/{FILE_NAMES[0]}",),
        generator="augment", seed=1, params={"donor": f"{HALF}/x.png"}, ordinal=0,
    )  # fmt: skip
    write_record(record_dict(g, image.stat().st_size, staging), g.record_file)
    g.record_file.read_bytes().decode("utf-8")
    [back] = load_staging(staging)
    assert back.class_name == BAD and back.sources == g.sources and back.params == g.params


def test_cli_text_and_json_output_of_undecodable_names(hostile, capsys):
    assert run_cli(["scan", str(hostile), "--quick", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in report["classes"]] == sorted(NAMES)
    assert run_cli(["scan", str(hostile), "--quick"]) == 0
    out = capsys.readouterr().out
    assert "bad\\xff" in out and "\udcff" not in out


def test_per_class_stacks_of_names_that_look_alike_get_their_own_files():
    from imbalance_studio.core.augment import PRESETS
    from imbalance_studio.core.export.metadata import augment_files

    names = [BAD, os.fsdecode(b"bad\xfe"), "bad?", "BAD\xff", "index"]
    files = augment_files(None, {n: PRESETS["light"] for n in names})
    index = json.loads(files["augment_classes/index.json"])["classes"]
    assert sorted(index) == sorted(names)
    assert len(set(index.values())) == len(names)
    assert "augment_classes/index.json" not in index.values()
    assert set(index.values()) <= set(files)
