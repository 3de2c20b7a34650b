"""Safe image decoding: EXIF orientation, odd modes, decompression bombs, corrupt files.

Every decode in the product goes through here, so that one place decides what counts as
corrupt, truncated or too large, and every caller gets a uint8 RGB/RGBA/L image.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, NamedTuple

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from .dataset import ProblemReason
from .safe_read import NotRegularFileError, open_regular

if TYPE_CHECKING:
    import numpy as np

    from .plain_jpeg import PlainJpeg

# numpy is imported where a pixel array is made, not here: it is a tenth of a second of
# every worker's start-up. A scan's check needs it only once it meets a JPEG (simplejpeg
# returns arrays), which on 20,000 JPEGs the faster decode repays many times over.

# Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that. We refuse at our own
# limit (the same 2x, ~179 Mpx) so a 10,000 x 10,000 scan still opens but a bomb does not.
MAX_PIXELS = 2 * 89_478_485
Image.MAX_IMAGE_PIXELS = MAX_PIXELS // 2
ImageFile.LOAD_TRUNCATED_IMAGES = False

# The extensions each Pillow format is normally saved with.
FORMAT_EXTENSIONS = {
    "JPEG": {".jpg", ".jpeg"},
    "MPO": {".jpg", ".jpeg"},
    "PNG": {".png"},
    "BMP": {".bmp"},
    "TIFF": {".tif", ".tiff"},
    "WEBP": {".webp"},
    "PPM": {".ppm", ".pgm"},
}


class ImageDecodeError(Exception):
    """A file could not be used as an image; `reason` is a `ProblemReason` constant."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        # The fstat of the file found wanting, once it was open (None before): what a cache
        # of results keys this verdict by.
        self.file_stat: os.stat_result | None = None


@dataclass(frozen=True, slots=True)
class ImageInfo:
    width: int  # after EXIF orientation
    height: int
    mode: str  # as stored in the file
    format: str
    file_size: int
    extension_ok: bool
    orientation: int = 1  # the EXIF orientation tag (1: stored upright, or no tag)


def classify(exc: BaseException) -> ImageDecodeError:
    """Map an exception raised while reading an image to a problem reason."""
    if isinstance(exc, ImageDecodeError):
        return exc
    msg = str(exc) or type(exc).__name__
    if isinstance(exc, Image.DecompressionBombError):
        return ImageDecodeError(ProblemReason.TOO_LARGE, msg)
    if isinstance(exc, UnidentifiedImageError):
        if getattr(exc, "known_signature", False):
            return ImageDecodeError(ProblemReason.CORRUPT, "image header is damaged")
        return ImageDecodeError(ProblemReason.NOT_AN_IMAGE, "no image format recognised")
    if isinstance(exc, PermissionError | IsADirectoryError):
        return ImageDecodeError(ProblemReason.UNREADABLE, msg)
    if isinstance(exc, OSError) and (
        "truncated" in msg or "broken data stream" in msg or "premature end" in msg.lower()
    ):
        return ImageDecodeError(ProblemReason.TRUNCATED, msg)
    if isinstance(exc, OSError) and exc.errno is not None:
        return ImageDecodeError(ProblemReason.UNREADABLE, msg)
    if isinstance(exc, MemoryError):
        return ImageDecodeError(ProblemReason.TOO_LARGE, "not enough memory to decode")
    return ImageDecodeError(ProblemReason.CORRUPT, msg)


def open_image(path: str | os.PathLike[str]) -> Image.Image:
    """Open (lazily) an image file, raising `ImageDecodeError` with a reason on failure."""
    return _open(path)[0]


def _open(path: str | os.PathLike[str]) -> tuple[Image.Image, int]:
    """`open_image` plus the file's size in bytes (from the open descriptor)."""
    img, st = _open_stat(path)
    return img, st.st_size


def _open_stat(path: str | os.PathLike[str]) -> tuple[Image.Image, os.stat_result]:
    """`open_image` plus the open descriptor's fstat (also on the error, once known)."""
    try:
        # Only a regular file is ever opened: a FIFO would block, /dev/zero never ends.
        fd, st = open_regular(path)
    except NotRegularFileError as exc:
        raise ImageDecodeError(ProblemReason.NOT_REGULAR, exc.kind) from None
    except Exception as exc:
        raise classify(exc) from exc
    try:
        return _image_of(path, fd, st), st
    except ImageDecodeError as exc:
        exc.file_stat = st
        raise


def _image_of(path: str | os.PathLike[str], fd: int, st: os.stat_result) -> Image.Image:
    fh = open(fd, "rb", closefd=True)  # noqa: SIM115 - handed to the image, which closes it
    try:
        if st.st_size == 0:
            raise ImageDecodeError(ProblemReason.EMPTY_FILE, "0 bytes")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(fh)
        # Pillow closes only files it opened itself; this one is ours to hand over, so the
        # image owns it exactly as if Pillow had opened the path (closed after load() for
        # single-frame files, else on close()).
        img._exclusive_fp = True  # type: ignore[attr-defined]
        w, h = img.size
        if w * h > MAX_PIXELS:
            img.close()
            raise ImageDecodeError(ProblemReason.TOO_LARGE, f"{w} x {h} pixels")
        return img
    except UnidentifiedImageError as exc:
        # A file that starts like a known image format but does not parse is corrupt, not
        # "some other kind of file".
        exc.known_signature = _has_image_signature(fh)  # type: ignore[attr-defined]
        fh.close()
        raise classify(exc) from exc
    except ImageDecodeError:
        fh.close()
        raise
    except Image.DecompressionBombError as exc:
        fh.close()
        raise ImageDecodeError(ProblemReason.TOO_LARGE, f"more than {MAX_PIXELS:,} pixels") from exc
    except BaseException as exc:
        fh.close()
        if not isinstance(exc, Exception):
            raise
        raise classify(exc) from exc


def normalize_mode(img: Image.Image) -> Image.Image:
    """Return an 8-bit L, RGB or RGBA image, whatever the file stored."""
    mode = img.mode
    if mode in ("RGB", "RGBA", "L"):
        return img
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        import numpy as np

        arr = np.asarray(img)
        if arr.dtype != np.uint8:
            peak = 65535 if mode.startswith("I;16") or arr.max(initial=0) > 255 else 255
            arr = (arr.astype(np.float64) * (255.0 / peak)).clip(0, 255).astype(np.uint8)
        return Image.fromarray(arr, "L")
    if mode == "F":
        import numpy as np

        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min(initial=0.0)), float(arr.max(initial=0.0))
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        return Image.fromarray(((arr - lo) * scale).astype(np.uint8), "L")
    if mode == "1":
        return img.convert("L")
    if mode in ("LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in img.info):
        return img.convert("RGBA")
    return img.convert("RGB")  # P, CMYK, YCbCr, LAB, HSV


def load_image(
    path: str | os.PathLike[str], max_side: int | None = None
) -> tuple[Image.Image, ImageInfo]:
    """Decode a file fully: EXIF orientation applied, mode normalised.

    With `max_side`, JPEGs are decoded in draft (reduced DCT) mode and the result is shrunk so
    its longer side is at most `max_side`; this is what thumbnails and previews use. A plain
    JPEG (`plain_jpeg`) is then decoded by libjpeg-turbo directly, to the same pixels.
    """
    if max_side is not None:
        plain = _load_plain_jpeg(path, max_side)
        if plain is not None:
            return plain
    return _load_with_pillow(path, max_side)


def _load_with_pillow(
    path: str | os.PathLike[str], max_side: int | None
) -> tuple[Image.Image, ImageInfo]:
    """`load_image` by Pillow: any file, any format."""
    img, file_size = _open(path)
    try:
        with img:
            fmt = img.format or ""
            stored_mode = img.mode
            size = img.size  # the file's own: draft() below shrinks img.size
            if max_side is not None and fmt == "JPEG":
                mode = "RGB" if img.mode not in ("L", "CMYK") else img.mode
                img.draft(mode, draft_box(size, max_side))
            img.load()
            # After load(): a PNG's getexif() loads it, and a decode error there was lost.
            width, height, orientation = _displayed(size, exif_orientation(img))
            out = ImageOps.exif_transpose(img) or img
            out = normalize_mode(out)
            if max_side is not None:
                _shrink(out, max_side)
            if out is img:
                out = img.copy()  # detach from the closed file
        info = ImageInfo(
            width=width,
            height=height,
            mode=stored_mode,
            format=fmt,
            file_size=file_size,
            extension_ok=extension_matches(path, fmt),
            orientation=orientation,
        )
        return out, info
    except ImageDecodeError:
        raise
    except Exception as exc:
        raise classify(exc) from exc


def draft_box(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """The size to ask a JPEG's draft() for when the image is to fit in `max_side`: the
    fitted size itself (rounded up), not the square (max_side, max_side). The decoder then
    shrinks by the largest power of two that keeps the image at least that large, so a
    1024x768 photo for a 128 px thumbnail decodes at 1/8, straight to 128x96 (each pixel
    the mean of an 8x8 block), instead of at 1/4 and then resampled: faster, and closer to
    a Lanczos reduction of the full image (36.7 dB against 31.9 on scikit-image's
    astronaut)."""
    w, h = size
    if max(w, h) <= max_side:
        return (w, h)
    if w >= h:
        return (max_side, max(1, -(-h * max_side // w)))
    return (max(1, -(-w * max_side // h)), max_side)


def _shrink(img: Image.Image, max_side: int) -> None:
    """Shrink a decoded image in place to fit in `max_side` (what a draft left larger)."""
    if max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)


def load_array(path: str | os.PathLike[str], max_side: int | None = None) -> np.ndarray:
    """Decode to a uint8 array: HxWx3 (RGB), HxWx4 (RGBA) or HxW (grayscale)."""
    import numpy as np

    img, _ = load_image(path, max_side)
    return np.asarray(img)


class Verified(NamedTuple):
    """What the scan's check learns of a usable image."""

    format: str
    stat: os.stat_result  # fstat of the descriptor read: the result belongs to this version
    width: int  # as displayed (after EXIF orientation)
    height: int
    orientation: int  # the EXIF orientation tag (1: stored upright, or no tag)


def verify_image(path: str | os.PathLike[str]) -> Verified:
    """Read a whole image the cheapest way that still finds what `load_image` finds; return
    its format, the fstat of the file read, its displayed size and orientation tag. Raises
    `ImageDecodeError` as `load_image` does (with `file_stat` set once the file was open).
    This is the scan's check.

    A JPEG is decoded at its smallest DCT scale (1/8): every byte of the entropy-coded stream
    is still read and decoded, so a truncated or broken stream fails exactly as in a full
    decode, but the inverse DCT, the resize and the colour conversion of a thumbnail are
    skipped. A plain JPEG (`plain_jpeg`) is decoded by libjpeg-turbo directly, and only one
    that fails there is read again by Pillow, whose verdict stands. Other formats are
    decoded fully (there is no cheaper complete read).
    """
    plain = _verify_plain_jpeg(path)
    return plain if plain is not None else _verify_with_pillow(path)


def _verify_with_pillow(path: str | os.PathLike[str]) -> Verified:
    """`verify_image` by Pillow: any file, any format."""
    img, st = _open_stat(path)
    try:
        with img:
            fmt = img.format or ""
            size = img.size  # before draft() shrinks it
            if fmt == "JPEG":
                img.draft("RGB" if img.mode not in ("L", "CMYK") else img.mode, (1, 1))
            img.load()
            # After load(), as in load_image: a PNG's getexif() loads it, and a decode
            # error there was swallowed, leaving a broken file "usable".
            width, height, orientation = _displayed(size, exif_orientation(img))
            # As load_image: an EXIF block that does not parse, or a mode that does not
            # convert, makes the file unusable there, so it must here too. (A JPEG carries
            # its orientation only in an EXIF or XMP block.)
            if fmt != "JPEG" or "exif" in img.info or "xmp" in img.info:
                ImageOps.exif_transpose(img, in_place=True)
            normalize_mode(img)
        return Verified(fmt, st, width, height, orientation)
    except Exception as exc:
        error = classify(exc)
        error.file_stat = st
        raise error from exc


def _plain_jpeg(path: str | os.PathLike[str]) -> PlainJpeg | None:
    """A plain JPEG named as one and within the pixel limit, read whole; None otherwise."""
    from . import plain_jpeg

    if os.path.splitext(path)[1].lower() not in FORMAT_EXTENSIONS["JPEG"]:
        return None
    jpeg = plain_jpeg.read_plain(path)
    if jpeg is None or jpeg.width * jpeg.height > Image.MAX_IMAGE_PIXELS:
        return None
    return jpeg


def _verify_plain_jpeg(path: str | os.PathLike[str]) -> Verified | None:
    """`verify_image` of a plain JPEG that decodes cleanly; None for any other file."""
    from . import plain_jpeg

    jpeg = _plain_jpeg(path)
    if jpeg is None or not plain_jpeg.decodes(jpeg.data):
        return None
    return Verified("JPEG", jpeg.stat, jpeg.width, jpeg.height, 1)


def _load_plain_jpeg(
    path: str | os.PathLike[str], max_side: int
) -> tuple[Image.Image, ImageInfo] | None:
    """`load_image(path, max_side)` of a plain JPEG that decodes cleanly, by libjpeg-turbo
    directly (the same pixels as Pillow's draft); None for any other file."""
    from . import plain_jpeg

    jpeg = _plain_jpeg(path)
    box = None if jpeg is None else draft_box((jpeg.width, jpeg.height), max_side)
    arr = None if box is None else plain_jpeg.decode_scaled(jpeg, box)
    if arr is None:
        return None
    img = Image.fromarray(arr)
    _shrink(img, max_side)
    mode = "L" if jpeg.layers == 1 else "RGB"
    info = ImageInfo(jpeg.width, jpeg.height, mode, "JPEG", jpeg.stat.st_size, True, 1)
    return img, info


def read_info(path: str | os.PathLike[str]) -> ImageInfo:
    """Header-only facts about an image (cheap: no pixel decode)."""
    img, file_size = _open(path)
    with img:
        w, h, orientation = _oriented_size(img)
        return ImageInfo(
            w,
            h,
            img.mode,
            img.format or "",
            file_size,
            extension_matches(path, img.format or ""),
            orientation,
        )


_SIGNATURES = (
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"GIF8",
    b"RIFF",
    b"P1",
    b"P2",
    b"P3",
    b"P4",
    b"P5",
    b"P6",
)


def _has_image_signature(fh: IO[bytes]) -> bool:
    try:
        fh.seek(0)
        head = fh.read(16)
    except (OSError, ValueError):
        return False
    return head.startswith(_SIGNATURES)


def extension_matches(path: str | os.PathLike[str], fmt: str) -> bool:
    exts = FORMAT_EXTENSIONS.get(fmt)
    return exts is None or os.path.splitext(path)[1].lower() in exts


def exif_orientation(img: Image.Image) -> int:
    """The EXIF orientation tag of an opened image: 1 (upright) when absent or unreadable,
    and for a value outside 1..8, which no viewer applies either."""
    try:
        orientation = img.getexif().get(0x0112, 1)
    except Exception:
        return 1
    return orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1


def _oriented_size(img: Image.Image) -> tuple[int, int, int]:
    """(width, height) as displayed, and the orientation tag."""
    return _displayed(img.size, exif_orientation(img))


def _displayed(size: tuple[int, int], orientation: int) -> tuple[int, int, int]:
    """(width, height) of an image of stored `size` as displayed, and the orientation."""
    w, h = size
    return (h, w, orientation) if orientation in (5, 6, 7, 8) else (w, h, orientation)
