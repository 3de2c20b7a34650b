"""The scan's fast check of a plain JPEG: the whole stream decoded by libjpeg-turbo directly.

Most images in a dataset are plain JPEGs: a JFIF header, tables, one frame, no EXIF. For
those, Pillow's check (`imageio.verify_image`) spends more time in its Python header parser
and load loop than libjpeg spends decoding, and a checked scan costs several header reads
per file. Here the header is walked in a few microseconds and the stream decoded by
simplejpeg (its own build of libjpeg-turbo, the library Pillow's wheels decode JPEGs with,
not always the same release) at its smallest DCT scale, in strict mode: any warning, a
truncated or corrupt stream included, fails the decode.

The fast check only ever says "usable": a file it does not accept (anything outside the
plain subset below, or any decode warning) goes to Pillow's check, which gives the verdict
exactly as before. So the fast path must never accept a file that Pillow refuses; the header
walk therefore accepts only segments whose handling in Pillow's parser cannot fail once the
walk has checked them (JFIF APP0, DQT, DHT, DRI, COM, one baseline/extended/progressive
8-bit frame of 1 or 3 components), and no EXIF or XMP (the orientation lives there).
`tests/test_plain_jpeg.py` checks the two agree on about 1,200 damaged files and on every
short segment length, and that thumbnails come out with the same pixels, with the releases
installed.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from .safe_read import open_regular

if TYPE_CHECKING:
    import numpy as np

# Segments Pillow's parser only skips (DHT, DRI) or stores (COM): any well-formed length is
# fine for it.
_SKIPPED = frozenset((0xC4, 0xDD, 0xFE))
# Baseline, extended sequential and progressive Huffman-coded frames.
_FRAMES = frozenset((0xC0, 0xC1, 0xC2))
_SOS = 0xDA
_APP0 = 0xE0
_DQT = 0xDB
# Larger files go to Pillow, which reads them in pieces rather than all at once.
MAX_BYTES = 32 << 20
# The header is walked in the file's first bytes; the rest is read only for a plain JPEG, so
# a photo with EXIF (most from cameras) is not read twice. A plain header is a few hundred
# bytes; one longer than this goes to Pillow.
HEAD_BYTES = 64 << 10


class PlainJpeg(NamedTuple):
    """A plain JPEG read whole: its bytes, the fstat of the file read, its frame."""

    data: bytes
    stat: os.stat_result
    width: int
    height: int
    layers: int  # 1: grayscale, 3: colour


def read_plain(path: str | os.PathLike[str]) -> PlainJpeg | None:
    """A regular file read whole if it is a plain JPEG of at most MAX_BYTES; None for any
    other file and on any error (Pillow's check then says what is wrong)."""
    try:
        fd, st = open_regular(path)
    except Exception:
        return None
    try:
        if not 0 < st.st_size <= MAX_BYTES:
            return None
        data = os.read(fd, min(st.st_size, HEAD_BYTES))
        frame = plain_frame(data)
        if frame is None:
            return None
        if len(data) < st.st_size:
            data += os.read(fd, st.st_size - len(data) + 1)
    except Exception:  # (OSError, MemoryError, a bug in the walk) Pillow's check decides
        return None
    finally:
        os.close(fd)
    return PlainJpeg(data, st, *frame) if len(data) == st.st_size else None


def plain_frame(data: bytes) -> tuple[int, int, int] | None:
    """(width, height, components) of a plain JPEG's frame, read up to its first scan; None
    for anything else (then Pillow's check decides)."""
    n = len(data)
    if n < 4 or data[0] != 0xFF or data[1] != 0xD8:
        return None
    pos, size = 2, None
    while pos + 4 <= n and data[pos] == 0xFF:
        marker = data[pos + 1]
        end = pos + 2 + ((data[pos + 2] << 8) | data[pos + 3])
        if end > n or end < pos + 4:
            return None
        if marker == _SOS:
            return size
        if marker == _APP0:
            # Pillow reads the JFIF fields; a JFIF segment of full length parses.
            if end - pos < 18 or data[pos + 4 : pos + 9] != b"JFIF\0":
                return None
        elif marker in _FRAMES:
            # One 8-bit frame of 1 or 3 components, its length exactly as they need.
            if end - pos < 10 or size is not None:
                return None
            layers = data[pos + 9]
            if data[pos + 4] != 8 or layers not in (1, 3) or end - pos != 10 + 3 * layers:
                return None
            width = (data[pos + 7] << 8) | data[pos + 8]
            size = (width, (data[pos + 5] << 8) | data[pos + 6], layers)
        elif marker == _DQT:
            # Pillow's DQT refuses a table cut short; its tables are 65 or 129 bytes.
            i = pos + 4
            while i < end:
                i += 65 if data[i] < 16 else 129
            if i != end:
                return None
        elif marker not in _SKIPPED:
            return None
        pos = end
    return None


def _strict_decode(data: bytes, **options) -> np.ndarray | None:
    """simplejpeg's decode with any warning an error; None when it fails, whatever the
    reason (Pillow then names it)."""
    import simplejpeg

    try:
        return simplejpeg.decode_jpeg(data, strict=True, **options)
    except Exception:
        return None


def decodes(data: bytes) -> bool:
    """True if libjpeg-turbo decodes the whole stream (at 1/8 scale) with no error and no
    warning: nothing truncated, no corrupt entropy-coded data, an end-of-image marker."""
    options = {"colorspace": "GRAY", "min_height": 1, "min_width": 1, "min_factor": 8}
    return _strict_decode(data, **options) is not None


def decode_scaled(jpeg: PlainJpeg, box: tuple[int, int]) -> np.ndarray | None:
    """The pixels at the DCT scale Pillow's `draft(mode, box)` picks (a libjpeg-turbo
    decode as Pillow's: the same pixels, tested): (h, w, 3) RGB or (h, w) grayscale. None
    if the stream does not decode cleanly, and for an image under 8 px."""
    # simplejpeg takes the smallest of libjpeg's eighths that is large enough, draft() the
    # power of two: they agree unless the image is under 8 px on both sides.
    if min(box) < 1 or (jpeg.width < 8 and jpeg.height < 8):
        return None
    ratio = min(jpeg.width // box[0], jpeg.height // box[1])
    scale = next(s for s in (8, 4, 2, 1) if ratio >= s or s == 1)
    arr = _strict_decode(
        jpeg.data,
        colorspace="GRAY" if jpeg.layers == 1 else "RGB",
        min_width=-(-jpeg.width // scale),
        min_height=-(-jpeg.height // scale),
    )
    if arr is None or jpeg.layers == 3:
        return arr
    return arr[..., 0]
