"""Originals stored rotated (EXIF orientation tag) export upright: torchvision's default loader,
which ignores the tag, sees the pixels a viewer shows. Built from scikit-image's sample
photographs written as JPEG and PNG with every orientation tag."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from clirun import run_cli
from export_helpers import read_manifest, tree_state
from PIL import Image, ImageOps

from imbalance_studio.core.export.run import export
from imbalance_studio.core.plan import make_plan
from imbalance_studio.core.project import Project, SplitSettings
from imbalance_studio.core.scanning import check, scan

TAGS = range(1, 9)  # 1 is upright; 2..8 flip, rotate or both


def _photos() -> list[np.ndarray]:
    from skimage import data

    # Not square, so a sideways image has the wrong shape as well as the wrong pixels.
    return [img[::4, ::4].copy() for img in (data.coffee(), data.chelsea(), data.rocket())]


def _encoded(arr: np.ndarray, fmt: str, tag: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = tag
    exif[0x010F] = "Imbalance Studio tests"  # another tag, which must survive
    buf = io.BytesIO()
    options = {"quality": 90} if fmt == "JPEG" else {}
    Image.fromarray(arr).save(buf, fmt, exif=exif.tobytes(), **options)
    return buf.getvalue()


@pytest.fixture(scope="module")
def photos_root(tmp_path_factory) -> Path:
    """jpeg/ and png/ classes: each photograph once per orientation tag, plus untagged ones."""
    root = tmp_path_factory.mktemp("exif") / "photos"
    for cls, fmt, ext in (("jpeg", "JPEG", ".jpg"), ("png", "PNG", ".png")):
        (root / cls).mkdir(parents=True)
        for p, arr in enumerate(_photos()):
            for tag in TAGS:
                (root / cls / f"photo{p}_tag{tag}{ext}").write_bytes(_encoded(arr, fmt, tag))
            Image.fromarray(arr).save(root / cls / f"photo{p}_plain{ext}")
    return root


def _export(root: Path, out: Path, *, checked: bool = True, **kw):
    dataset = scan(root)
    if checked:
        dataset = check(dataset)
    project = Project(dataset_root=str(root), split=SplitSettings(train=1.0, val=0.0, test=0.0))
    return export(dataset, project, make_plan(dataset, project), [], out, **kw)


def _tag(name: str) -> int:
    return int(name.split("_tag")[1][0]) if "_tag" in name else 1


def _displayed(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(ImageOps.exif_transpose(img).convert("RGB"), dtype=np.int16)


def test_rotated_originals_load_upright_with_torchvisions_default_loader(photos_root, tmp_path):
    from torchvision.datasets import ImageFolder

    before = tree_state(photos_root)
    out = tmp_path / "out"
    report = _export(photos_root, out, link=True)
    rotated = 2 * 3 * 7  # two formats, three photographs, tags 2..8
    assert report.upright == rotated
    rows = {r["path"]: r for r in read_manifest(out)}
    folder = ImageFolder(str(out / "train"))  # the default loader: PIL open + convert("RGB")
    assert len(folder) == 2 * 3 * 9
    for path, _label in folder.samples:
        rel = Path(path).relative_to(out).as_posix()
        src = photos_root / rows[rel]["sources"]
        loaded = np.asarray(folder.loader(path), dtype=np.int16)
        shown = _displayed(src)
        assert loaded.shape == shown.shape, rel  # sideways would be W x H
        params = json.loads(rows[rel]["params"])
        tag = _tag(src.name)
        if tag == 1:
            assert params == {} and Path(path).read_bytes() == src.read_bytes()
            assert os.path.samefile(path, src)  # untagged originals are still hard-linked
            continue
        stored = np.asarray(folder.loader(str(src)), dtype=np.int16)  # what a copy would give
        assert stored.shape != shown.shape or np.abs(stored - shown).mean() > 10, rel
        assert not os.path.samefile(path, src) and os.stat(path).st_nlink == 1, rel
        assert params["exif_transposed"] is True and params["exif_orientation"] == tag
        with Image.open(path) as written:
            exif = written.getexif()
            assert exif.get(0x0112, 1) == 1 and exif.get(0x010F) == "Imbalance Studio tests"
        if src.suffix == ".png":
            assert params["encoding"] == "lossless"
            assert np.array_equal(loaded, shown), rel
        else:
            assert params["encoding"] == "jpeg quality 95"
            assert np.abs(loaded - shown).mean() < 2.0, rel  # one re-encode at quality 95
    text = (out / "README.md").read_text(encoding="utf-8")
    assert f"{rotated} originals stored rotated were written upright" in text
    assert tree_state(photos_root) == before  # the dataset is only read


def test_a_dataset_never_decode_checked_is_exported_upright_too(photos_root, tmp_path):
    report = _export(photos_root, tmp_path / "out", checked=False, link=False)
    assert report.upright == 2 * 3 * 7
    rows = read_manifest(tmp_path / "out")
    assert sum(1 for r in rows if json.loads(r["params"]).get("exif_transposed")) == 42


def test_keeping_the_exif_orientation_keeps_every_byte(photos_root, tmp_path):
    out = tmp_path / "out"
    report = _export(photos_root, out, link=False, keep_exif_orientation=True)
    assert report.upright == 0
    for r in read_manifest(out):
        assert (out / r["path"]).read_bytes() == (photos_root / r["sources"]).read_bytes()
        assert r["params"] == "{}"
    assert any("42 originals are stored rotated and were kept" in n for n in report.notes)


def test_the_cli_turns_rotated_originals_upright_unless_asked_not_to(photos_root, tmp_path):
    done = run_cli("export", photos_root, tmp_path / "out", "--split", "1,0,0", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "42 turned upright (EXIF orientation)" in done.stdout
    kept = run_cli(
        "export", photos_root, tmp_path / "kept", "--split", "1,0,0", "--quiet",
        "--keep-exif-orientation",
    )  # fmt: skip
    assert kept.returncode == 0, kept.stderr
    assert "turned upright" not in kept.stdout and "were kept as they are" in kept.stdout
    src = photos_root / "jpeg" / "photo0_tag6.jpg"
    assert (tmp_path / "kept/train/jpeg/photo0_tag6.jpg").read_bytes() == src.read_bytes()
    assert (tmp_path / "out/train/jpeg/photo0_tag6.jpg").read_bytes() != src.read_bytes()


def test_a_rotated_original_that_no_longer_decodes_is_left_out_and_named(photos_root, tmp_path):
    import shutil

    root = tmp_path / "data"
    for rel in ("jpeg/photo0_tag6.jpg", "jpeg/photo0_plain.jpg", "png/photo1_tag8.png"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(photos_root / rel, root / rel)
    dataset = check(scan(root))
    assert dict(dataset.orientations) == {"jpeg/photo0_tag6.jpg": 6, "png/photo1_tag8.png": 8}
    (root / "jpeg/photo0_tag6.jpg").write_bytes(b"\xff\xd8\xff" + os.urandom(64))  # since the scan
    project = Project(dataset_root=str(root), split=SplitSettings(train=1.0, val=0.0, test=0.0))
    report = export(dataset, project, make_plan(dataset, project), [], tmp_path / "out", link=False)
    why = dict(report.problems)["jpeg/photo0_tag6.jpg"]
    assert why.startswith("does not decode when exported ("), why
    assert report.upright == 1 and report.files == 2
    assert {r["sources"] for r in read_manifest(tmp_path / "out")} == {
        "jpeg/photo0_plain.jpg", "png/photo1_tag8.png",
    }  # fmt: skip
    assert not (tmp_path / "out/train/jpeg/photo0_tag6.jpg").exists()
