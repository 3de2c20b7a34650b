"""One image to one HOG vector: the fixed, documented preprocessing and the exact
`skimage.feature.hog` arguments, written into features.json so a user featurizes new images
identically::

    img = ImageOps.exif_transpose(Image.open(path))
    x = hog(np.asarray(img.convert(mode).resize(size, resample), np.float64) / 255, **hog_kwargs)

Decoding goes through `core.imageio.load_image` (regular files only, bombs refused, EXIF
orientation applied, 16-bit and palette images brought to 8 bits); the vectors are stored as
float32 (what `hog` returns, float64, cast once).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..imageio import ImageDecodeError, load_image

# Side of the square every image is resized to. 64 px at 8-px cells and 2x2 blocks gives
# 7 x 7 blocks x 36 = 1,764 values: a flat vector of the size SVMs handle well.
DEFAULT_SIZE = 64
MIN_SIZE, MAX_SIZE = 16, 512
MODE = "L"  # HOG of the luminance: colour adds little to edge orientations
RESAMPLE = "bilinear"  # a name of PIL.Image.Resampling, lower-cased


def default_hog_kwargs() -> dict:
    """The keyword arguments passed to `skimage.feature.hog`, every one explicit (defaults
    change between scikit-image versions; these do not). Lists, not tuples: the JSON form."""
    return {
        "orientations": 9,
        "pixels_per_cell": [8, 8],
        "cells_per_block": [2, 2],
        "block_norm": "L2-Hys",
        "transform_sqrt": False,
        "feature_vector": True,
        "channel_axis": None,
    }


@dataclass(frozen=True)
class FeatureSettings:
    """What turns an image into a vector: the preprocessing and the HOG arguments."""

    size: int = DEFAULT_SIZE
    hog: dict = field(default_factory=default_hog_kwargs)

    def __post_init__(self) -> None:
        if not MIN_SIZE <= int(self.size) <= MAX_SIZE:
            raise ValueError(
                f"image size {self.size}: must be between {MIN_SIZE} and {MAX_SIZE} pixels"
            )
        cell = self.hog["pixels_per_cell"]
        block = self.hog["cells_per_block"]
        if self.size < cell[0] * block[0] or self.size < cell[1] * block[1]:
            raise ValueError(
                f"image size {self.size}: smaller than one HOG block "
                f"({cell[0] * block[0]} x {cell[1] * block[1]} px)"
            )

    @property
    def preprocess(self) -> dict:
        """features.json's `preprocess`: mode, [W, H] and the Pillow resampling name."""
        return {"mode": MODE, "size": [self.size, self.size], "resample": RESAMPLE}

    @property
    def dimensions(self) -> int:
        """Length of one vector (what `hog` returns for a size x size image)."""
        cy, cx = self.hog["pixels_per_cell"]
        by, bx = self.hog["cells_per_block"]
        ny, nx = self.size // cy, self.size // cx
        return (ny - by + 1) * (nx - bx + 1) * by * bx * int(self.hog["orientations"])


def preprocessed(img, settings: FeatureSettings) -> np.ndarray:
    """A decoded (oriented, 8-bit) image as hog's input: mode L, size x size by bilinear
    resampling, float64 in [0, 1]."""
    from PIL import Image

    pre = settings.preprocess
    resample = Image.Resampling[pre["resample"].upper()]
    small = img.convert(pre["mode"]).resize(tuple(pre["size"]), resample)
    return np.asarray(small, np.float64) / 255


def hog_vector(img, settings: FeatureSettings) -> np.ndarray:
    """The HOG descriptor of one decoded image, float64 as `hog` returns it."""
    from skimage.feature import hog

    return hog(preprocessed(img, settings), **settings.hog)


def featurize_files(
    paths: list[str], size: int, hog_kwargs: dict
) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Worker task: the vectors of `paths` (absolute) as a float32 matrix, one row per path
    (a file that does not decode gets a zero row and is listed as (position, reason))."""
    settings = FeatureSettings(size, hog_kwargs)
    out = np.zeros((len(paths), settings.dimensions), np.float32)
    bad: list[tuple[int, str]] = []
    for i, path in enumerate(paths):
        try:
            img, _info = load_image(path)
        except ImageDecodeError as exc:
            bad.append((i, f"{exc.reason}: {exc.detail}" if exc.detail else exc.reason))
            continue
        out[i] = hog_vector(img, settings)
    return out, bad


def warm_up() -> None:
    """Worker initializer: import scikit-image once, before the first task's clock starts."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # one process per core, one thread each
    import skimage.feature  # noqa: F401
