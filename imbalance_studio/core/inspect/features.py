"""What one decode of an image tells us: its pixel digest, perceptual hash, size and the raw
measures the quality scores are made from.

`measure_file(path)` runs in a worker process and returns the packed bytes that are both sent
back to the parent and stored in the per-dataset cache (`core/file_cache.py`), so the two can
never disagree. A file that does not decode comes back as a packed problem instead.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..dataset import ProblemReason
from ..imageio import ImageDecodeError, load_image

#: The cache table; bump the version whenever a measure below changes.
CACHE_KIND = "inspect.v3"
#: Quality measures are taken on a copy whose longer side is at most this (cheap, and the
#: scores then mean the same for a 6,000-pixel photo and its 600-pixel copy).
MEASURE_SIDE = 128
# digest (16 bytes), phash, width, height, then the five raw measures as float32.
_LAYOUT = struct.Struct("<16sQII5f")
# The first byte says which: measured features, or a file that does not decode.
_FEATURES = b"F"
_PROBLEM = b"!"


@dataclass(frozen=True, slots=True)
class Features:
    digest: bytes  # blake2b of the decoded pixels (mode, size and bytes)
    phash: int  # 64-bit DCT perceptual hash (imagehash.phash's, see perceptual_hash)
    width: int
    height: int
    bright_p99: float  # 99th percentile of perceived brightness, 0..1
    bright_p5: float  # 5th percentile of perceived brightness, 0..1
    entropy: float  # Shannon entropy of the grey histogram (bits)
    sharpness: float  # edge strength after contrast stretch; inf when there is no contrast
    chroma: float  # mean (max - min over channels) / 255; 0 for a grey image

    def pack(self) -> bytes:
        return _FEATURES + _LAYOUT.pack(
            self.digest, self.phash, self.width, self.height, self.bright_p99,
            self.bright_p5, self.entropy, self.sharpness, self.chroma,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Unusable:
    reason: str  # a ProblemReason, as the scan reports it
    detail: str


def well_formed(blob: bytes) -> bool:
    """Whether `blob` is a record `measure_file` wrote (a cache row may be anything)."""
    return blob[:1] == _PROBLEM or (blob[:1] == _FEATURES and len(blob) == 1 + _LAYOUT.size)


def unpack(blob: bytes) -> Features | Unusable:
    if blob[:1] == _PROBLEM:
        reason, _, detail = blob[1:].decode("utf-8", "replace").partition("\x00")
        return Unusable(reason, detail)
    digest, phash, w, h, p99, p5, ent, sharp, chroma = _LAYOUT.unpack(blob[1:])
    return Features(digest, phash, w, h, p99, p5, ent, sharp, chroma)


def _problem(exc: ImageDecodeError) -> bytes:
    return _PROBLEM + f"{exc.reason}\x00{exc.detail}".encode("utf-8", "replace")


def measure_file(path: str) -> bytes:
    """Decode `path` once (safely: `core.imageio`) and return its packed `Features`, or a
    packed `Unusable` when it does not decode. Never raises for a bad file."""
    try:
        img, _info = load_image(path)
        return measure_image(img).pack()
    except ImageDecodeError as exc:
        return _problem(exc)
    except Exception as exc:  # a worker must answer for every file, whatever it holds
        return _problem(ImageDecodeError(ProblemReason.CORRUPT, str(exc) or type(exc).__name__))


# imagehash.phash's DCT-II (scipy.fftpack's, unnormalised) as one 32x32 matrix: the same
# hash without importing imagehash and scipy in every worker process (tests compare the two).
_N = 32
_DCT = 2.0 * np.cos(np.pi * np.outer(np.arange(_N), 2 * np.arange(_N) + 1) / (2 * _N))


def perceptual_hash(img: Image.Image) -> int:
    """imagehash.phash(img) (hash_size 8) as a 64-bit integer, first bit most significant."""
    grey = img.convert("L").resize((_N, _N), Image.Resampling.LANCZOS)
    pixels = np.asarray(grey, dtype=np.float64)
    low = (_DCT @ pixels @ _DCT.T)[:8, :8]
    bits = low > np.median(low)
    return int.from_bytes(np.packbits(bits.ravel()).tobytes(), "big")


def measure_image(img: Image.Image) -> Features:
    """The features of a decoded (L, RGB or RGBA) image."""
    full = np.asarray(img)
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{img.mode}:{img.width}x{img.height}:".encode())
    h.update(np.ascontiguousarray(full).data)
    small = img.convert("RGB") if img.mode == "RGBA" else img
    if max(small.size) > MEASURE_SIDE:
        small = small.copy()
        small.thumbnail((MEASURE_SIDE, MEASURE_SIDE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    arr = np.asarray(small, dtype=np.float32)
    if arr.ndim == 3:
        r, g, b = arr[..., 0], arr[..., 1], arr[..., 2]
        # Perceived brightness as cleanvision measures it.
        bright = np.sqrt(0.241 * r * r + 0.691 * g * g + 0.068 * b * b) / 255.0
        chroma = float((arr.max(axis=2) - arr.min(axis=2)).mean() / 255.0)
    else:
        bright = arr / 255.0
        chroma = 0.0
    p5, p99 = np.percentile(bright, [5, 99])
    phash = perceptual_hash(small)
    return Features(
        digest=h.digest(),
        phash=phash,
        width=img.width,
        height=img.height,
        bright_p99=float(p99),
        bright_p5=float(p5),
        entropy=float(small.convert("L").entropy()),
        sharpness=_sharpness(small),
        chroma=chroma,
    )


def _sharpness(img: Image.Image) -> float:
    """Spread of the 8-neighbour Laplacian of the grey image after stretching its 1st-99th
    percentile to full range, so a dark or washed-out but sharp picture is not called blurry.
    An image with almost no contrast gets inf: blur is undefined there (that image is a
    `low_information` case)."""
    gray = np.asarray(img.convert("L"), dtype=np.float32)
    if min(gray.shape) < 3:
        return float("inf")
    lo, hi = np.percentile(gray, [1, 99])
    if hi - lo < 16:
        return float("inf")
    a = np.clip((gray - lo) * (255.0 / (hi - lo)), 0, 255)
    c = a[1:-1, 1:-1]
    ring = (
        a[:-2, :-2] + a[:-2, 1:-1] + a[:-2, 2:] + a[1:-1, :-2]
        + a[1:-1, 2:] + a[2:, :-2] + a[2:, 1:-1] + a[2:, 2:]
    )  # fmt: skip
    return float(np.abs(8 * c - ring).std())
