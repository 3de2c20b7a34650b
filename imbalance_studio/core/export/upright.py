"""Upright copies of originals that carry an EXIF orientation tag other than 1.

Such a file is stored sideways (or mirrored) and displays upright only in a viewer that
applies the tag. torchvision's default loader (`PIL.Image.open(...).convert("RGB")`), Keras'
and most training code ignore it, while our thumbnails, viewer and generated images apply it:
exported as they are, those originals would train sideways beside upright generated images of
the same class. So by default the export writes them turned upright, in the format their name
says, without the tag (the rest of their EXIF and their colour profile are kept):

- PNG, TIFF, BMP, PPM/PGM and WebP are written losslessly (WebP as lossless WebP): the pixels
  are exactly the displayed pixels of the original;
- JPEG is re-encoded at quality 95 without chroma subsampling (4:4:4): no library for
  lossless JPEG transposition (jpegtran) is available to us. Turning a 4:2:0 JPEG moves its
  colour blocks, so keeping the original's subsampling would blur colour a second time;
  the re-encoded pixels differ from the displayed original by one to two levels on average.

The manifest's params say which (`encoding`); `--keep-exif-orientation` keeps the bytes.
Such files are never hard-linked: they are new files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import PurePosixPath

from PIL import Image, ImageOps

from ..imageio import exif_orientation, open_image
from .layout import DUPLICATE, ORIGINAL, params_json

JPEG_QUALITY = 95
LOSSLESS = "lossless"
JPEG_REENCODED = f"jpeg quality {JPEG_QUALITY}"

# The format each ImageFolder extension is written in (its name keeps its extension).
_FORMATS = {
    ".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".tif": "TIFF",
    ".tiff": "TIFF", ".bmp": "BMP", ".ppm": "PPM", ".pgm": "PPM",
}  # fmt: skip
# Modes each format can store as they are; anything else is converted (keeping alpha where
# the format has it).
_MODES = {
    "JPEG": ("L", "RGB", "CMYK"),
    "WEBP": ("RGB", "RGBA"),
    "BMP": ("1", "L", "P", "RGB", "RGBA"),
    "PPM": ("1", "L", "I", "RGB"),
}
_ALPHA = {"WEBP", "BMP", "PNG", "TIFF"}
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def output_format(name: str) -> str:
    return _FORMATS.get(PurePosixPath(name).suffix.lower(), "PNG")


def encoding(name: str) -> str:
    """How an upright copy of the file `name` is written (for the manifest's params)."""
    return JPEG_REENCODED if output_format(name) == "JPEG" else LOSSLESS


def read_orientation(path: str) -> int:
    """The EXIF orientation tag of one file (1 for none, or for a file that does not open):
    for datasets whose images were never decode-checked."""
    try:
        img = open_image(path)
    except Exception:
        return 1  # the export reports a file that cannot be read when it writes it
    with img:
        if img.format == "PNG" and "exif" not in img.info:
            # No eXIf chunk before the pixels: asking Pillow for the EXIF would decode the
            # whole image to look for one after them (the decode check does see those).
            return 1
        return exif_orientation(img)


def _fit_mode(img: Image.Image, fmt: str) -> Image.Image:
    allowed = _MODES.get(fmt)
    if allowed is None or img.mode in allowed:
        return img
    alpha = "A" in img.getbands() or "transparency" in img.info
    return img.convert("RGBA" if alpha and fmt in _ALPHA else "RGB")


def write_upright(src: str, dst: str) -> None:
    """Write the image at `src` turned as its EXIF orientation says, to the new file `dst`
    (which must not exist), in the format of `dst`'s extension, without the tag.

    Raises ImageDecodeError when `src` cannot be opened (missing, not a regular file, not an
    image), before `dst` is made; OSError or ValueError when Pillow cannot decode or write
    the image, or the disk refuses (then `dst` is removed again)."""
    img = open_image(src)
    with img:
        fmt = output_format(dst)
        upright = ImageOps.exif_transpose(img)
    upright = _fit_mode(upright, fmt)
    options: dict = {}
    exif = upright.getexif()
    if len(exif) and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        options["exif"] = exif.tobytes()
    icc = upright.info.get("icc_profile")
    if icc and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        options["icc_profile"] = icc
    if fmt == "JPEG":
        options.update(quality=JPEG_QUALITY, subsampling=0)
    elif fmt == "WEBP":
        options.update(lossless=True, exact=True)
    elif fmt == "TIFF":
        options["compression"] = "tiff_deflate"
    fd = os.open(dst, _CREATE, 0o644)
    try:
        with open(fd, "wb", closefd=False) as fh:
            upright.save(fh, fmt, **options)
    except BaseException:
        os.close(fd)
        os.unlink(dst)
        raise
    os.close(fd)


def probe_orientations(root: str, rels: list[str], threads: int) -> dict[str, int]:
    """{rel: tag} of the files under `root` not stored upright, read from their headers: for
    a dataset whose images were never decode-checked (the check records them for free)."""
    from concurrent.futures import ThreadPoolExecutor

    prefix = root.rstrip("/") + "/"
    paths = [prefix + rel for rel in rels]
    if threads > 1 and len(paths) > 64:
        with ThreadPoolExecutor(threads, thread_name_prefix="orientation") as pool:
            tags = list(pool.map(read_orientation, paths, chunksize=64))
    else:
        tags = list(map(read_orientation, paths))
    return {rel: tag for rel, tag in zip(rels, tags, strict=True) if tag != 1}


def mark_upright(lay, orientations: dict[str, int] | Mapping[str, int], kind: str) -> int:
    """Mark the originals and duplicates of `lay` whose source is stored rotated to be
    written upright (their link kind becomes `kind`, their params say so); returns how many."""
    if not orientations:
        return 0
    n = 0
    for i, origin in enumerate(lay.origin):
        if origin not in (ORIGINAL, DUPLICATE):
            continue
        tag = orientations.get(lay.sources[i], 1)
        if tag == 1:
            continue
        params = json.loads(lay.params[i])
        params.update(exif_transposed=True, exif_orientation=tag, encoding=encoding(lay.path[i]))
        lay.params[i] = params_json(params)
        lay.link[i] = kind
        n += 1
    return n


def describe_orientation(n: int, kept: bool) -> tuple[str, str | None]:
    """(the README's setting line, a note for the report or None) for `n` exported originals
    stored rotated, written upright or (`kept`) kept as they are."""
    if kept:
        if not n:
            return "kept as stored (keep EXIF orientation)", None
        were = "original is" if n == 1 else "originals are"
        return (
            f"kept as stored (keep EXIF orientation): {n} carry a rotation tag",
            f"{n} {were} stored rotated and were kept as they are: loaders that ignore the "
            "EXIF orientation tag (torchvision's default loader, Keras) read them sideways",
        )
    if not n:
        return "every exported original is stored upright", None
    what = "original stored rotated was" if n == 1 else "originals stored rotated were"
    return (
        f"{n} {what} written upright",
        f"{n} {what} written upright, without the EXIF orientation tag (PNG, TIFF, WebP "
        f"losslessly; JPEG re-encoded at quality {JPEG_QUALITY}), so loaders that ignore the "
        "tag see them as the viewer does; manifest.csv marks them exif_transposed",
    )


def export_orientations(dataset, lay, keep: bool, threads: int) -> Mapping[str, int] | None:
    """{source: EXIF orientation tag} of the exported originals not stored upright: what
    the decode check recorded, or (for a dataset never decode-checked) read from the files,
    unless their bytes are kept anyway."""
    known = getattr(dataset, "orientations", None)
    if known is not None or keep:
        return known
    rels = sorted({s for s, o in zip(lay.sources, lay.origin, strict=True) if o == ORIGINAL})
    return probe_orientations(str(dataset.root), rels, threads)


def count_rotated(lay, orientations: Mapping[str, int] | None) -> int:
    """How many exported originals and duplicates come from a source stored rotated."""
    if not orientations:
        return 0
    return sum(
        1
        for s, o in zip(lay.sources, lay.origin, strict=True)
        if o in (ORIGINAL, DUPLICATE) and s in orientations
    )
