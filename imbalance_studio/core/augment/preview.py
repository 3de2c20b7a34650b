"""Preview tiles: N seeded variants of one image on a downscaled copy, errors per tile."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .apply import run_compose
from .stack import build_compose


@dataclass(frozen=True)
class PreviewTile:
    image: np.ndarray | None  # None when this variant failed
    params: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seed: int = 0


def tile_seed(seed: int, index: int) -> int:
    """Seed of tile `index`: tiles differ from each other and each can be redone alone."""
    return (seed * 0x9E3779B1 + (index + 1) * 0x85EBCA77) & 0xFFFFFFFF


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
    try:
        compose = build_compose(stack, None, save_applied_params=True)
    except Exception as exc:
        return [PreviewTile(None, {}, _text(exc), tile_seed(seed, i)) for i in range(n)]
    tiles = []
    for i in range(n):
        s = tile_seed(seed, i)
        try:
            compose.set_random_seed(s)
            out, params = run_compose(compose, small, s)
            tiles.append(PreviewTile(out, params, None, s))
        except Exception as exc:
            tiles.append(PreviewTile(None, {"seed": s}, _text(exc), s))
    return tiles


def _text(exc: BaseException) -> str:
    text = " ".join(ln.strip() for ln in str(exc).splitlines() if ln.strip())
    return f"{type(exc).__name__}: {text}"[:400] if text else type(exc).__name__
