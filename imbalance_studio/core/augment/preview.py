"""Preview tiles: N variants of one image, each made exactly as generation makes an image.

Every variant has its own seed derived from the grid's seed, and goes through
`apply.make_new_view`, the function generation runs: the same pipeline (top-level Compose
settings included), per-transform streams and the "always a new view" redraw rule. So a tile
never shows an untouched image that generation would not write.

The stack runs on the image itself up to `PREVIEW_WORK_PIXELS` (then the tile is what
generation writes, shrunk for display only). A larger image is downscaled *before* the stack
to keep a slider move fast; that preview is a scaled view (`PreviewSource.note` says so),
where parameters measured in pixels act larger than on the full image.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .apply import make_new_view
from .stack import build_compose

# Up to this many pixels (512 x 512) the stack runs on the full image: the six-transform stack
# makes 8 such variants in ~40 ms on one core, 1024 x 1024 would take ~140 ms.
PREVIEW_WORK_PIXELS = 512 * 512

# A slider move changes one transform of the stack: the others are reused from here rather than
# validated and built again. The cached objects hold random state, so renders are serialised.
_CACHE: OrderedDict[str, Any] = OrderedDict()
_CACHE_SIZE = 64
_RENDER_LOCK = threading.Lock()


@dataclass(frozen=True)
class PreviewTile:
    image: np.ndarray | None  # None when this variant failed; else shrunk for display only
    params: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seed: int = 0  # the grid's seed
    variant_seed: int = 0  # this variant's seed: generation with it makes the same pixels


@dataclass(frozen=True)
class PreviewSource:
    """The pixels the stack runs on, and the size of the image they come from."""

    image: np.ndarray
    full_size: tuple[int, int]  # (width, height) of the source image

    @property
    def scaled(self) -> bool:
        return self.image.shape[1::-1] != self.full_size

    @property
    def note(self) -> str:
        """One line for the preview when it is a scaled view, else ""."""
        if not self.scaled:
            return ""
        (w, h), (fw, fh) = self.image.shape[1::-1], self.full_size
        return (
            f"Scaled view: the stack ran on a {w}×{h} copy of this {fw}×{fh} image to stay "
            "fast; generation uses the full image, so sizes set in pixels look larger here."
        )


def preview_source(
    image: np.ndarray,
    max_pixels: int = PREVIEW_WORK_PIXELS,
    full_size: tuple[int, int] | None = None,
) -> PreviewSource:
    """The image itself when it has at most `max_pixels`, else a copy downscaled to fit.
    `full_size` is the original (width, height) when `image` was already decoded smaller."""
    h, w = image.shape[:2]
    size = full_size or (w, h)
    if h * w > max_pixels:
        scale = math.sqrt(max_pixels / (h * w))
        image = downscale(image, max(1, math.floor(max(h, w) * scale)))
    return PreviewSource(image, size)


def load_preview_source(
    path: str | os.PathLike[str], max_pixels: int = PREVIEW_WORK_PIXELS
) -> PreviewSource:
    """Decode a sample for the preview. Up to `max_pixels` with generation's own decoder (the
    same pixels generation augments); a larger image through the fast reduced decode, as it
    is downscaled anyway. Raises ImageDecodeError."""
    from ..generation.work import decode
    from ..imageio import load_array, read_info

    info = read_info(path)
    if info.width * info.height <= max_pixels:
        return preview_source(decode(path), max_pixels)
    scale = math.sqrt(max_pixels / (info.width * info.height))
    side = math.ceil(max(info.width, info.height) * scale)
    return preview_source(load_array(path, max_side=side), max_pixels, (info.width, info.height))


def downscale(image: np.ndarray, size: int) -> np.ndarray:
    """Shrink so the longer side is at most `size` (never enlarge); keeps the channel count."""
    h, w = image.shape[:2]
    if max(h, w) <= size:
        return image
    from PIL import Image

    scale = size / max(h, w)
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    squeeze = image.ndim == 3 and image.shape[2] == 1
    src = image[..., 0] if squeeze else image
    out = np.asarray(Image.fromarray(src).resize(new, Image.Resampling.BILINEAR))
    return out[..., None] if squeeze else out


def variant_seed(seed: int, index: int) -> int:
    """The seed of the grid's `index`-th variant (32 bits, as a plan task's seed)."""
    text = f"{seed}\x1fpreview\x1f{index}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=4).digest(), "big")


def render_previews(
    image: np.ndarray | PreviewSource,
    stack: dict[str, Any] | None,
    n: int = 8,
    seed: int = 0,
    size: int = 256,
) -> list[PreviewTile]:
    """`n` variants of `image` as generation would make them, shown at most `size` px; never
    raises for a bad stack or a failing variant: the tile carries the error text instead."""
    source = image if isinstance(image, PreviewSource) else preview_source(image)
    with _RENDER_LOCK:
        try:
            compose = build_compose(stack, save_applied_params=True, make_transform=_cached)
        except Exception as exc:
            return [
                PreviewTile(None, {}, _text(exc), seed, variant_seed(seed, i)) for i in range(n)
            ]
        tiles = []
        for i in range(n):
            vseed = variant_seed(seed, i)
            try:
                out, params = make_new_view(compose, source.image, vseed)
                tiles.append(PreviewTile(downscale(out, size), params, None, seed, vseed))
            except Exception as exc:
                tiles.append(PreviewTile(None, {"seed": vseed}, _text(exc), seed, vseed))
        return tiles


def _cached(transform_dict: dict[str, Any]) -> Any:
    from ._albu import albumentations

    key = json.dumps(transform_dict, sort_keys=True, default=str)
    transform = _CACHE.get(key)
    if transform is None:
        transform = albumentations().from_dict({"transform": transform_dict})
        _CACHE[key] = transform
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return transform


def _text(exc: BaseException) -> str:
    text = " ".join(ln.strip() for ln in str(exc).splitlines() if ln.strip())
    return f"{type(exc).__name__}: {text}"[:400] if text else type(exc).__name__
