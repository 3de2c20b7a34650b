"""Intra-class CutMix: a box from another image of the same class pasted into the source.

Both images carry the same label, so the result keeps a hard label and can live in a class
folder (CutMix *across* classes makes soft labels and is never written as files).
"""

from __future__ import annotations

import math

import numpy as np

# The pasted box covers this share of the image (uniform), with an aspect ratio in
# [1/MAX_ASPECT, MAX_ASPECT]: big enough to matter, small enough that the source dominates.
AREA_RANGE = (0.15, 0.45)
MAX_ASPECT = 2.0


def match_channels(image: np.ndarray, like: np.ndarray) -> np.ndarray:
    """`image` converted to the channel layout of `like` (HxW, HxWx3 or HxWx4)."""
    want = 1 if like.ndim == 2 else like.shape[2]
    have = 1 if image.ndim == 2 else image.shape[2]
    if have == want:
        return image.reshape(like.shape[:2] + like.shape[2:]) if want == 1 else image
    gray = image if image.ndim == 2 else image[..., :3].mean(axis=2).astype(np.uint8)
    rgb = np.dstack([gray] * 3) if have == 1 else image[..., :3]
    if want == 1:
        out = rgb.mean(axis=2).round().astype(np.uint8)
        return out.reshape(like.shape)
    if want == 3:
        return np.ascontiguousarray(rgb)
    alpha = image[..., 3] if have == 4 else np.full(image.shape[:2], 255, np.uint8)
    return np.dstack([rgb, alpha])


def cutmix(source: np.ndarray, donor: np.ndarray, seed: int) -> tuple[np.ndarray, dict]:
    """Paste a seeded random box of `donor` (resized to the source's size) into `source`.

    Returns the image (same shape as `source`) and the parameters: the box as x, y, width,
    height in pixels and the share of the image it covers.
    """
    from PIL import Image

    h, w = source.shape[:2]
    donor = match_channels(donor, source)
    if donor.shape[:2] != (h, w):
        flat = donor[..., 0] if donor.ndim == 3 and donor.shape[2] == 1 else donor
        resized = np.asarray(Image.fromarray(flat).resize((w, h), Image.Resampling.BILINEAR))
        donor = resized.reshape(source.shape)
    rng = np.random.default_rng(seed)
    area = rng.uniform(*AREA_RANGE)
    aspect = math.exp(rng.uniform(-math.log(MAX_ASPECT), math.log(MAX_ASPECT)))
    bw = max(1, min(w, round(math.sqrt(area * w * h * aspect))))
    bh = max(1, min(h, round(math.sqrt(area * w * h / aspect))))
    x = int(rng.integers(0, w - bw + 1))
    y = int(rng.integers(0, h - bh + 1))
    out = source.copy()
    out[y : y + bh, x : x + bw] = donor[y : y + bh, x : x + bw]
    params = {
        "seed": seed,
        "applied": [
            {
                "name": "IntraClassCutMix",
                "params": {"box": [x, y, bw, bh], "area": round(bw * bh / (w * h), 4)},
            }
        ],
    }
    return out, params
