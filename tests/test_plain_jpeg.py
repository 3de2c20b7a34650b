"""The scan's fast check of plain JPEGs never passes a file that Pillow's check refuses.

The fast path (`core/plain_jpeg.py`) may only ever say "usable"; every other file goes to
Pillow's check. These tests damage real photographs thousands of ways (cut short, bytes
changed in the header and in the compressed data, bytes inserted and dropped) and compare
the two checks file by file.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imbalance_studio.core import imageio
from imbalance_studio.core.dataset import ProblemReason
from imbalance_studio.core.imageio import ImageDecodeError
from imbalance_studio.core.scanning import check_file


def _photo(name: str, size: int) -> Image.Image:
    from skimage import data

    arr = np.ascontiguousarray(getattr(data, name)())
    img = Image.fromarray(arr[..., :3] if arr.ndim == 3 else arr)
    return img.resize((size, size + size // 3))


def _jpeg(img: Image.Image, **options) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", **options)
    return buf.getvalue()


# Plain JPEGs the way cameras, scripts and exporters write them: the fast path takes these.
def _plain_variants() -> dict[str, bytes]:
    rgb, gray = _photo("astronaut", 48), _photo("camera", 40)
    return {
        "baseline": _jpeg(rgb, quality=85),
        "progressive": _jpeg(rgb, quality=75, progressive=True),
        "optimized_444": _jpeg(rgb, quality=90, optimize=True, subsampling=0),
        "grayscale": _jpeg(gray, quality=80),
        "comment": _jpeg(rgb, quality=70, comment=b"made by a test"),
        "restart_markers": _jpeg(rgb, quality=80, restart_marker_blocks=2),
    }


def _verdict(check, path: Path):
    """What a check says of a file: its facts, or the reason it refused it."""
    try:
        v = check(path)
    except ImageDecodeError as exc:
        return ("refused", exc.reason)
    return ("usable", v.format, v.width, v.height, v.orientation, v.stat.st_size)


def test_plain_jpegs_take_the_fast_path_with_pillows_facts(tmp_path):
    for name, data in _plain_variants().items():
        path = tmp_path / f"{name}.jpg"
        path.write_bytes(data)
        fast = imageio._verify_plain_jpeg(path)
        assert fast is not None, f"{name}: a plain JPEG should not need Pillow"
        assert _verdict(lambda p, f=fast: f, path) == _verdict(imageio._verify_with_pillow, path)


def test_jpegs_outside_the_plain_subset_go_to_pillow(tmp_path):
    rgb = _photo("astronaut", 48)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side: only Pillow's check reads the orientation
    cases = {
        "rotated.jpg": _jpeg(rgb, exif=exif.tobytes()),
        "cmyk.jpg": _jpeg(rgb.convert("CMYK")),
        "icc.jpg": _jpeg(rgb, icc_profile=b"\0" * 128),
        "png_named.jpg": b"",  # filled below: PNG content behind a JPEG name
        "jpeg_named.png": _jpeg(rgb),
    }
    buf = io.BytesIO()
    rgb.save(buf, "PNG")
    cases["png_named.jpg"] = buf.getvalue()
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert imageio._verify_plain_jpeg(tmp_path / name) is None, name
    rotated = check_file(str(tmp_path / "rotated.jpg"))
    assert rotated[4:] == (64, 48, 6)  # displayed size and orientation, from Pillow


def _damaged(data: bytes, rng: random.Random) -> list[bytes]:
    """One JPEG damaged many ways; about a third of the changes land in the header."""
    sos = data.index(b"\xff\xda")
    n = len(data)
    out = [data[:cut] for cut in sorted(rng.sample(range(2, n), 40))]
    out.append(data[:-2])  # no end-of-image marker
    out.append(data + b"trailing bytes after the image")
    for _ in range(120):
        pos = rng.randrange(2, sos + 12) if rng.random() < 0.35 else rng.randrange(sos, n)
        b = bytearray(data)
        b[pos] = rng.choice((0x00, 0xFF, rng.randrange(256), b[pos] ^ (1 << rng.randrange(8))))
        out.append(bytes(b))
    for _ in range(20):
        pos = rng.randrange(2, n)
        out.append(data[:pos] + bytes([rng.randrange(256)]) * rng.randint(1, 3) + data[pos:])
        out.append(data[:pos] + data[pos + rng.randint(1, 4) :])
    return out


@pytest.mark.parametrize("variant", sorted(_plain_variants()))
def test_the_fast_path_never_passes_a_file_pillows_check_refuses(tmp_path, variant):
    rng = random.Random(f"plain-jpeg-{variant}")
    fast_usable = pillow_refused = 0
    for i, data in enumerate(_damaged(_plain_variants()[variant], rng)):
        path = tmp_path / f"{i:04d}.jpg"
        path.write_bytes(data)
        pillow = _verdict(imageio._verify_with_pillow, path)
        pillow_refused += pillow[0] == "refused"
        fast = imageio._verify_plain_jpeg(path)
        if fast is None:
            continue
        fast_usable += 1
        assert _verdict(lambda p, f=fast: f, path) == pillow, f"damaged copy {i} of {variant}"
        # ... and the scan's check, which takes the fast path, says the same as Pillow.
        assert _verdict(imageio.verify_image, path) == pillow
        # A thumbnail the fast path makes is Pillow's, pixel for pixel.
        thumb = imageio._load_plain_jpeg(path, 16)
        if thumb is not None:
            want, info = imageio._load_with_pillow(path, 16)
            assert thumb[1] == info and np.array_equal(np.asarray(thumb[0]), np.asarray(want))
    # The damage is real: Pillow refuses many copies, and the fast path still takes many.
    assert pillow_refused >= 30, pillow_refused
    assert fast_usable >= 20, fast_usable


def test_a_cut_short_plain_jpeg_is_still_found_truncated(tmp_path):
    data = _plain_variants()["baseline"]
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) * 2 // 3])
    assert imageio._verify_plain_jpeg(path) is None  # refused: Pillow's check names it
    assert check_file(str(path))[0] == ProblemReason.TRUNCATED


@pytest.mark.parametrize("marker", [0xE0, 0xDB, 0xC4, 0xDD, 0xFE, 0xC0, 0xC1, 0xC2, 0xDA])
def test_segments_of_any_short_length_never_raise_past_the_check(tmp_path, marker):
    """A segment whose length field is 0-12, at the end of a file or before the rest of a
    good one: the check names the file's problem (or passes it as Pillow does), nothing
    else escapes."""
    data = _plain_variants()["grayscale"]
    sos = data.index(b"\xff\xda")
    for length in range(13):
        segment = bytes([0xFF, marker, length >> 8, length & 0xFF]) + bytes(range(length))[2:]
        for where, content in {
            "end": data[:2] + segment,
            "middle": data[:sos] + segment + data[sos:],
        }.items():
            path = tmp_path / f"{marker:x}-{length}-{where}.jpg"
            path.write_bytes(content)
            pillow = _verdict(imageio._verify_with_pillow, path)
            assert _verdict(imageio.verify_image, path) == pillow, path.name
            assert check_file(str(path))[0] == (None if pillow[0] == "usable" else pillow[1])
            imageio._load_plain_jpeg(path, 16)  # no exception: None or a thumbnail


@pytest.mark.parametrize("side", [128, 256, 31])
def test_thumbnails_of_plain_jpegs_have_the_pixels_pillows_draft_gives(tmp_path, side):
    photos = {
        "wide.jpg": _photo("astronaut", 300).resize((1024, 700)),
        "tall.jpg": _photo("coffee", 120).resize((90, 260)),
        "small.jpg": _photo("chelsea", 40),
        "gray.jpg": _photo("camera", 200),
    }
    for name, img in photos.items():
        for variant, options in {"": {}, "p_": {"progressive": True}}.items():
            path = tmp_path / f"{variant}{name}"
            path.write_bytes(_jpeg(img, quality=88, **options))
            fast = imageio._load_plain_jpeg(path, side)
            assert fast is not None, path.name
            img_fast, info_fast = fast
            img_pil, info_pil = imageio._load_with_pillow(path, side)
            assert info_fast == info_pil, path.name
            assert (info_fast.width, info_fast.height) == img.size  # the file's, not the draft's
            assert img_fast.mode == img_pil.mode and img_fast.size == img_pil.size, path.name
            assert np.array_equal(np.asarray(img_fast), np.asarray(img_pil)), path.name
            assert max(img_fast.size) <= side


def test_a_damaged_plain_jpeg_thumbnail_is_refused_as_truncated(tmp_path):
    data = _plain_variants()["baseline"]
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    assert imageio._load_plain_jpeg(path, 128) is None  # refused: Pillow's path names it
    with pytest.raises(ImageDecodeError) as refused:
        imageio.load_image(path, max_side=128)
    assert refused.value.reason == ProblemReason.TRUNCATED


def _png_with_broken_pixels(path: Path) -> None:
    """A PNG whose compressed pixel data is damaged, its chunk checksum made to match."""
    import struct
    import zlib

    buf = io.BytesIO()
    _photo("coffee", 40).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    at = data.index(b"IDAT")
    length = struct.unpack(">I", data[at - 4 : at])[0]
    data[at + 4 + length // 2] ^= 0xFF
    crc = zlib.crc32(bytes(data[at : at + 4 + length]))
    data[at + 4 + length : at + 8 + length] = struct.pack(">I", crc)
    path.write_bytes(bytes(data))


def test_a_png_with_broken_pixels_is_refused_by_the_check_and_by_the_decoder(tmp_path):
    path = tmp_path / "broken.png"
    _png_with_broken_pixels(path)
    assert check_file(str(path))[0] is not None
    for side in (None, 16):
        with pytest.raises(ImageDecodeError):
            imageio.load_image(path, max_side=side)


def test_a_thumbnail_is_decoded_at_the_scale_of_its_fitted_size(tmp_path):
    """draft() is asked for the size the image will have, not the square box: a 1024x768
    photo for 128 px decodes at 1/8, straight to 128x96 (8x8 block means), and is closer to
    a Lanczos reduction of the whole image than a 1/4 decode resampled."""
    assert imageio.draft_box((1024, 768), 128) == (128, 96)
    assert imageio.draft_box((768, 1024), 128) == (96, 128)
    assert imageio.draft_box((1000, 333), 128) == (128, 43)  # rounded up: never smaller
    assert imageio.draft_box((100, 60), 128) == (100, 60)
    photo = _photo("astronaut", 300).resize((1024, 768), Image.Resampling.LANCZOS)
    path = tmp_path / "photo.jpg"
    path.write_bytes(_jpeg(photo, quality=90))
    with Image.open(path) as img:
        img.draft("RGB", (128, 96))
        img.load()
        eighth = np.asarray(img)
    assert eighth.shape == (96, 128, 3)
    for load in (imageio.load_image, imageio._load_with_pillow):
        thumb, info = load(path, 128)
        assert np.array_equal(np.asarray(thumb), eighth)
        assert (info.width, info.height) == (1024, 768)
    with Image.open(path) as img:
        reference = np.asarray(img.convert("RGB").resize((128, 96), Image.Resampling.LANCZOS))
    with Image.open(path) as img:
        img.draft("RGB", (128, 128))  # the square box: 1/4, then resampled
        img.load()
        assert img.size == (256, 192)
        quarter = img.resize((128, 96), Image.Resampling.BILINEAR, reducing_gap=2.0)

    def error(a) -> float:
        return float(np.mean((np.asarray(a, dtype=float) - reference) ** 2))

    assert error(eighth) < error(quarter)
