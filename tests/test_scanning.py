import json
import os
import subprocess
import sys

import pytest
from datasets import DIGIT_COUNTS, tree_hash

from imbalance_studio.core.dataset import ProblemReason
from imbalance_studio.core.listing import ScanError
from imbalance_studio.core.scanning import check, scan


def test_digits_facts_match_torchvision_imagefolder(digits_root):
    from torchvision.datasets import ImageFolder

    ds = scan(digits_root)
    ds = check(ds)
    ref = ImageFolder(str(digits_root))
    assert list(ds.classes) == ref.classes
    assert ds.class_to_idx == ref.class_to_idx
    assert ds.counts() == DIGIT_COUNTS
    ours = sorted((str(ds.root / s.path), s.class_index) for s in ds.samples)
    assert ours == sorted(ref.samples)
    assert ds.imbalance_ratio == pytest.approx(150 / 8)
    assert ds.majority_baseline == pytest.approx(150 / sum(DIGIT_COUNTS))
    infos = ds.class_infos()
    assert [c.is_minority for c in infos] == [n < 75 for n in DIGIT_COUNTS]
    assert sum(c.share for c in infos) == pytest.approx(1.0)
    assert ds.problems == ()


def test_bad_corpus_every_file_has_its_reason_and_nothing_crashes(bad_corpus):
    root, expected = bad_corpus
    before = tree_hash(root)
    ds = scan(root)
    ds = check(ds)
    found = {p.path: p.reason for p in ds.problems}
    usable = {s.path for s in ds.samples}
    for rel, reason in expected.items():
        if reason is None:
            assert rel in usable, rel
            assert rel not in found, (rel, found.get(rel))
        elif reason == ProblemReason.EXTENSION_MISMATCH:
            assert rel in usable and found[rel] == reason
        else:
            assert found.get(rel) == reason, rel
            assert rel not in usable
    # Nothing reached through the symlink loop, and nothing was written into the dataset.
    assert not any("/loop/" in s.path for s in ds.samples)
    assert tree_hash(root) == before
    assert ds.classes == ("bad", "empty class", "good", "odd names")


def test_decoded_odd_modes_are_uint8_and_exif_rotated(bad_corpus):
    from imbalance_studio.core.imageio import load_array

    root, _ = bad_corpus
    rotated = load_array(root / "good/exif_rotated.jpg")
    assert rotated.shape[:2] == (60, 40)  # stored 60 wide x 40 high, EXIF says rotate
    for name, channels in [
        ("cmyk.jpg", 3),
        ("sixteen_bit.png", None),
        ("palette_transparent.png", 4),
        ("la_mode.png", 4),
    ]:
        arr = load_array(root / "good" / name)
        assert arr.dtype.name == "uint8"
        if channels is None:
            # 16-bit values are scaled to 8 bits (max 47980 -> 186), not clipped to 255 or 0
            assert arr.ndim == 2 and abs(int(arr.max()) - 47980 * 255 // 65535) <= 1
        else:
            assert arr.shape[2] == channels


def test_scan_errors_are_clear(tmp_path):
    with pytest.raises(ScanError, match="no such folder"):
        scan(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ScanError, match="no class folders") as nothing:
        scan(empty)
    assert "would be one class" not in str(nothing.value)
    cats = tmp_path / "data" / "cats"
    cats.mkdir(parents=True)
    (cats / "file.jpg").write_bytes(b"x")
    with pytest.raises(ScanError, match="no class folders") as one_class:
        scan(cats)  # a class folder opened instead of the folder holding the classes
    assert "its 1 file would be one class" in str(one_class.value)
    assert f"perhaps {tmp_path / 'data'}" in str(one_class.value)


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "imbalance_studio", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_cli_scan_json(digits_root):
    out = run_cli("scan", str(digits_root), "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert [c["name"] for c in report["classes"]] == [f"digit_{i}" for i in range(10)]
    assert [c["index"] for c in report["classes"]] == list(range(10))
    assert [c["count"] for c in report["classes"]] == DIGIT_COUNTS
    assert report["imbalance_ratio"] == pytest.approx(150 / 8)
    assert report["problems"] == []
    assert report["root"] == str(digits_root)
    # A folder named relative to the working directory is reported whole, as inspect does.
    relative = run_cli("scan", digits_root.name, "--json", cwd=digits_root.parent)
    assert json.loads(relative.stdout)["root"] == str(digits_root)


def test_cli_scan_text_and_errors(bad_corpus, tmp_path):
    root, _ = bad_corpus
    out = run_cli("scan", str(root))
    assert out.returncode == 0, out.stderr
    assert "truncated" in out.stdout and "bad/zero.jpg: empty file" in out.stdout
    assert "majority-class baseline accuracy" in out.stdout
    missing = run_cli("scan", str(tmp_path / "nope"))
    assert missing.returncode != 0
    assert missing.stderr.strip().count("\n") == 0 and "no such folder" in missing.stderr
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.jpg").write_bytes(b"")
    flat = run_cli("scan", str(tmp_path / "flat"))
    assert flat.returncode != 0 and "no class folders" in flat.stderr


def test_hidden_images_are_skipped_even_when_every_name_looks_like_an_image(tmp_path):
    from PIL import Image

    for name in ("a.png", "b.png", ".hidden.png", "._b.png"):
        (tmp_path / "cls").mkdir(exist_ok=True)
        Image.new("RGB", (8, 8)).save(tmp_path / "cls" / name)
    ds = scan(tmp_path)
    assert [s.path for s in ds.samples] == ["cls/a.png", "cls/b.png"]
    hidden = {p.path for p in ds.problems if p.reason == ProblemReason.HIDDEN}
    assert hidden == {"cls/.hidden.png", "cls/._b.png"}


def _tiny_dataset(root):
    """A class folder with images below, at and above the default minimum side (8 px)."""
    import io

    from PIL import Image

    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
    Image.new("L", (1, 1), 200).save(root / "a/one_pixel.png")
    Image.new("RGB", (16, 7)).save(root / "a/flat.png")
    Image.new("RGB", (8, 8)).save(root / "a/edge.png")  # exactly the minimum: usable
    Image.new("RGB", (32, 32)).save(root / "b/fine.png")
    # Stored 40 wide x 6 high is too small either way; EXIF says to show it turned: 6 x 40.
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.new("RGB", (40, 6)).save(buf, "JPEG", exif=exif.tobytes())
    (root / "b/turned.jpg").write_bytes(buf.getvalue())


def test_images_below_the_minimum_side_are_problems_with_their_size(tmp_path):
    root = tmp_path / "tiny"
    _tiny_dataset(root)
    ds = check(scan(root))
    small = {p.path: p.detail for p in ds.problems if p.reason == ProblemReason.TOO_SMALL}
    assert small == {
        "a/one_pixel.png": "1×1 px, minimum 8 px per side",
        "a/flat.png": "16×7 px, minimum 8 px per side",
        "b/turned.jpg": "6×40 px, minimum 8 px per side",  # the size as displayed
    }
    assert sorted(ds.paths) == ["a/edge.png", "b/fine.png"]  # no longer training samples
    assert ds.counts() == [1, 1]
    # The minimum is a setting: 1 px lets every image through, 20 px stops the 16 x 16 too.
    assert check(scan(root), min_side=1).problems == ()
    assert {p.path for p in check(scan(root), min_side=20).problems} == {
        "a/one_pixel.png", "a/flat.png", "a/edge.png", "b/turned.jpg",
    }  # fmt: skip


def test_cli_scan_names_too_small_images_and_takes_a_minimum(tmp_path):
    root = tmp_path / "tiny"
    _tiny_dataset(root)
    text = run_cli("scan", str(root))
    assert text.returncode == 0, text.stderr
    assert "a/one_pixel.png: too small (1×1 px, minimum 8 px per side)" in text.stdout
    loose = run_cli("scan", str(root), "--json", "--min-size", "1")
    assert loose.returncode == 0, loose.stderr
    report = json.loads(loose.stdout)
    assert report["problems"] == [] and report["total"] == 5
    bad = run_cli("scan", str(root), "--min-size", "0")
    assert bad.returncode == 2 and "must be at least 1" in bad.stderr


def test_the_decode_check_records_which_files_are_not_stored_upright(bad_corpus):
    root, _ = bad_corpus
    listed = scan(root)
    assert listed.orientations is None  # nothing is known before the images are decoded
    checked = check(listed)
    assert dict(checked.orientations) == {"good/exif_rotated.jpg": 6}
    assert check(listed, decode=False).orientations is None  # a stat-only (--quick) check


def test_an_export_names_each_too_small_image_with_its_size(tmp_path):
    from imbalance_studio.core.export.run import export
    from imbalance_studio.core.plan import make_plan
    from imbalance_studio.core.project import Project, SplitSettings

    root = tmp_path / "tiny"
    _tiny_dataset(root)
    ds = check(scan(root))
    project = Project(dataset_root=str(root), split=SplitSettings(train=1.0, val=0.0, test=0.0))
    report = export(ds, project, make_plan(ds, project), [], tmp_path / "out", link=False)
    why = "too small: 1×1 px, minimum 8 px per side"
    assert ("a/one_pixel.png", why) in report.problems and report.files == 2
    assert f"`a/one_pixel.png`: {why}" in (tmp_path / "out/README.md").read_text(encoding="utf-8")


def test_cli_scan_names_the_folder_by_its_absolute_path(digits_root):
    proc = subprocess.run(
        [sys.executable, "-m", "imbalance_studio", "scan", digits_root.name, "--quick"],
        capture_output=True, text=True, timeout=120, cwd=digits_root.parent,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert os.path.isabs(first) and os.path.samefile(first, digits_root)
    assert "(--quick: files listed, not decoded" in proc.stdout  # it says what it did not do
