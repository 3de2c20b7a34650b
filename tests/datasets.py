"""Datasets built from code for the tests: real digits as an imbalanced ImageFolder, and a
corpus of bad inputs made byte by byte."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from pathlib import Path

import numpy as np
from PIL import Image

# Imbalanced counts for the ten digit classes: 150 of '0' down to 8 of '9'.
DIGIT_COUNTS = [150, 110, 80, 60, 45, 33, 24, 17, 12, 8]


def write_digits(
    root: Path, counts: list[int] | None = None, ext: str = ".png", side: int = 32
) -> dict[str, int]:
    """Write scikit-learn's bundled 8x8 handwritten digits (upscaled to `side` px) as class
    folders.

    Returns {class name: count}. Class names are 'digit_0' ... so sorted() order is numeric.
    """
    from sklearn.datasets import load_digits

    counts = counts or DIGIT_COUNTS
    digits = load_digits()
    written: dict[str, int] = {}
    for label, n in enumerate(counts):
        name = f"digit_{label}"
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        images = digits.images[digits.target == label][:n]
        for i, img in enumerate(images):
            arr = (img * (255 / 16)).astype(np.uint8)
            Image.fromarray(arr, "L").resize((side, side), Image.Resampling.NEAREST).save(
                folder / f"{name}_{i:03d}{ext}"
            )
        written[name] = len(images)
    return written


def _png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _jpeg_bytes(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kw)
    return buf.getvalue()


def write_bad_corpus(root: Path) -> dict[str, str | None]:
    """Write a dataset full of awkward files. Returns {relative path: expected reason or None
    for files that must load fine}."""
    good = root / "good"
    odd = root / "odd names"
    bad = root / "bad"
    empty = root / "empty class"
    for d in (good, odd, bad, empty):
        d.mkdir(parents=True)
    rgb = Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 60, 3), np.uint8), "RGB")
    expected: dict[str, str | None] = {}

    def put(rel: str, data: bytes, reason: str | None) -> None:
        (root / rel).write_bytes(data)
        expected[rel] = reason

    put("good/plain.jpg", _jpeg_bytes(rgb), None)
    put("good/cmyk.jpg", _jpeg_bytes(rgb.convert("CMYK")), None)
    sixteen = Image.fromarray((np.arange(40 * 60).reshape(40, 60) * 20).astype(np.uint16))
    put("good/sixteen_bit.png", _png_bytes(sixteen), None)
    pal = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    pal.info["transparency"] = 0
    buf = io.BytesIO()
    pal.save(buf, "PNG", transparency=0)
    put("good/palette_transparent.png", buf.getvalue(), None)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    put("good/exif_rotated.jpg", _jpeg_bytes(rgb, exif=exif.tobytes()), None)
    put("good/UPPER.JPG", _jpeg_bytes(rgb), None)
    put("good/la_mode.png", _png_bytes(rgb.convert("LA")), None)
    # A PNG with a .jpg name: usable (ImageFolder's loader opens it), noted.
    put("good/png_named.jpg", _png_bytes(rgb), "extension does not match content")

    put("odd names/naïve café 画像.png", _png_bytes(rgb), None)
    put("odd names/  spaced  name .png", _png_bytes(rgb), None)
    put("odd names/semi;colon,comma'quote.png", _png_bytes(rgb), None)

    full = _jpeg_bytes(rgb)
    put("bad/zero.jpg", b"", "empty file")
    put("bad/truncated.jpg", full[: len(full) // 2], "truncated")
    put("bad/garbage.png", b"\x89PNG\r\n\x1a\n" + os.urandom(200), "corrupt")
    put("bad/text.jpg", b"this is not an image at all\n" * 10, "not an image")
    put("bad/notes.txt", b"hello", "unsupported extension")
    # Decompression bomb: a tiny PNG whose header claims 20000 x 20000 pixels.
    bomb = Image.new("1", (20000, 20000))
    put("bad/bomb.png", _png_bytes(bomb), "too large (decompression bomb)")
    put("bad/.DS_Store", b"\x00\x00\x00\x01Bud1", "hidden file skipped")
    put("bad/._resource.jpg", b"\x00\x05\x16\x07", "hidden file skipped")
    (root / "loose.jpg").write_bytes(full)
    expected["loose.jpg"] = "loose file in the root"
    # A symlink loop inside a class folder.
    os.symlink("..", root / "good" / "loop")
    expected["good/loop"] = "symlink loop"
    expected["empty class"] = "empty class folder"
    return expected


def tree_hash(root: Path, follow_symlinks: bool = False, follow_links: bool = False) -> str:
    """A digest of every file's relative path and bytes: equal before and after means the
    tree was not touched.

    With `follow_symlinks`, the content seen through the dataset folder: linked folders are
    walked (each real folder once, so a link loop ends) and linked files read, so a write
    through a symlink into its target shows. Special files (FIFOs, devices) and dangling
    links count by name and type only, in both modes: reading them would block or never end.
    Without it, symlinks count by name only.
    """
    follow_symlinks = follow_symlinks or follow_links  # two names for one option
    h = hashlib.sha256()
    seen = {os.path.realpath(root)}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=follow_symlinks):
        dirnames.sort()
        if follow_symlinks:
            for name in list(dirnames):
                real = os.path.realpath(os.path.join(dirpath, name))
                h.update(b"dir\x00" + os.fsencode(os.path.join(dirpath, name)[len(str(root)) :]))
                if real in seen:
                    dirnames.remove(name)
                seen.add(real)
        for name in sorted(filenames):
            p = Path(dirpath) / name
            h.update(str(p.relative_to(root)).encode("utf-8", "surrogateescape"))
            try:
                mode = (os.stat if follow_symlinks else os.lstat)(p).st_mode
            except OSError:
                h.update(b"\x00dangling")
                continue
            if stat.S_ISREG(mode):
                h.update(p.read_bytes())
            else:
                h.update(f"\x00special {stat.S_IFMT(mode)}".encode())
    return h.hexdigest()
