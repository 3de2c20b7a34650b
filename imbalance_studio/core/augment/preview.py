"""Preview tiles: N seeded variants of one image on a downscaled copy, errors per tile."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .apply import run_compose
from .stack import build_compose, entries_from_stack, reseed

# A slider move changes one transform of the stack: the others are reused from here rather than
# validated and built again. The cached objects hold random state, so renders are serialised.
_CACHE: OrderedDict[str, Any] = OrderedDict()
_CACHE_SIZE = 64
_RENDER_LOCK = threading.Lock()


@dataclass(frozen=True)
class PreviewTile:
    image: np.ndarray | None  # None when this variant failed
    params: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seed: int = 0  # the grid's seed


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


def render_previews(
    image: np.ndarray, stack: dict[str, Any] | None, n: int = 8, seed: int = 0, size: int = 256
) -> list[PreviewTile]:
    """`n` augmented variants of `image` (downscaled to `size` px); never raises for a bad
    stack or a failing variant: the tile carries the error text instead."""
    small = downscale(image, size)
    with _RENDER_LOCK:
        try:
            compose = _preview_compose(stack, seed)
        except Exception as exc:
            return [PreviewTile(None, {}, _text(exc), seed) for _ in range(n)]
        # One seeded stream for the grid, as a training loop draws variants one after another.
        tiles = []
        for _ in range(n):
            try:
                out, params = run_compose(compose, small, seed)
                tiles.append(PreviewTile(out, params, None, seed))
            except Exception as exc:
                tiles.append(PreviewTile(None, {"seed": seed}, _text(exc), seed))
        return tiles


def _preview_compose(stack: dict[str, Any] | None, seed: int) -> Any:
    from ._albu import albumentations

    A = albumentations()
    transforms = []
    for entry in entries_from_stack(stack):
        if not entry.enabled:
            continue
        key = json.dumps(entry.transform_dict(), sort_keys=True, default=str)
        transform = _CACHE.get(key)
        if transform is None:
            try:
                transform = A.from_dict({"transform": entry.transform_dict()})
            except Exception:
                build_compose(stack)  # raises the StackError that names the bad values
                raise
            _CACHE[key] = transform
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
        else:
            _CACHE.move_to_end(key)
        transforms.append(transform)
    compose = A.Compose(transforms, save_applied_params=True)
    reseed(compose, seed)  # one stream per transform (see stack.reseed)
    return compose


def _text(exc: BaseException) -> str:
    text = " ".join(ln.strip() for ln in str(exc).splitlines() if ln.strip())
    return f"{type(exc).__name__}: {text}"[:400] if text else type(exc).__name__
