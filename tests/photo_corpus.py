"""A labelled folder of real photographs (tiles of scikit-image's sample photos) with planted
duplicates and planted quality problems, and the truth about what was planted.

Used by the inspect tests and by `benchmarks/bench_inspect.py`. Base images are
non-overlapping tiles of colour photographs, kept only when they are plainly ordinary (enough
contrast, mid brightness, visibly coloured): the truth is then "nothing but what we planted".
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "retina")
CLASSES = ("cat_a", "cat_b", "cat_c")
NEAR_KINDS = ("reencode", "resize", "crop", "brightness")
QUALITY_KINDS = ("dark", "light", "blurry", "low_information", "odd_aspect_ratio", "odd_size")


@dataclass
class Corpus:
    root: Path
    base: list[str] = field(default_factory=list)  # rel paths of the clean base images
    # Planted duplicate groups: (kind, [rel paths]); kind "exact" or one of NEAR_KINDS.
    groups: list[tuple[str, list[str]]] = field(default_factory=list)
    # Planted quality problems: rel path -> issue name (grayscale included).
    flagged: dict[str, str] = field(default_factory=dict)
    conflicts: list[list[str]] = field(default_factory=list)  # groups spanning classes


def _photos() -> list[np.ndarray]:
    from skimage import data

    out = []
    for name in PHOTOS:
        arr = getattr(data, name)()
        out.append(np.ascontiguousarray(arr[..., :3]))
    return out


def _ordinary(tile: np.ndarray) -> bool:
    gray = tile.mean(axis=2)
    chroma = (tile.max(axis=2).astype(int) - tile.min(axis=2)).mean()
    return gray.std() >= 28 and 55 <= gray.mean() <= 200 and chroma >= 12


def photo_tiles(
    size: int = 96,
    limit: int | None = None,
    stride: int | None = None,
    scales: tuple[float, ...] = (1.0, 0.62),
    flips: bool = False,
):
    """Ordinary tiles of the colour sample photos (non-overlapping unless `stride` is less
    than `size`; mirrored too with `flips`), in a fixed order."""
    stride = stride or size
    tiles = []
    for photo in _photos():
        for scale in scales:
            img = Image.fromarray(photo)
            if scale != 1.0:
                img = img.resize(
                    (round(img.width * scale), round(img.height * scale)), Image.Resampling.LANCZOS
                )
            arr = np.asarray(img)
            h, w = arr.shape[:2]
            for y in range(0, h - size + 1, stride):
                for x in range(0, w - size + 1, stride):
                    tile = arr[y : y + size, x : x + size]
                    if _ordinary(tile):
                        tiles.append(np.ascontiguousarray(tile))
                        if flips:
                            tiles.append(np.ascontiguousarray(tile[:, ::-1]))
    if limit is not None:
        tiles = tiles[:limit]
    return tiles


def _save(img: Image.Image, path: Path, **kw) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, **kw)


def _near(img: Image.Image, kind: str, rng: random.Random) -> Image.Image:
    w, h = img.size
    if kind == "resize":
        f = rng.choice((0.7, 1.5))
        return img.resize((round(w * f), round(h * f)), Image.Resampling.BICUBIC)
    if kind == "crop":
        m = max(2, round(w * rng.uniform(0.02, 0.05)))
        return img.crop((m, m // 2, w - m // 2, h - m))
    if kind == "brightness":
        return ImageEnhance.Brightness(img).enhance(rng.choice((0.8, 1.2)))
    return img  # reencode: saved as JPEG by the caller


def _flat(rng: random.Random, size: int, k: int) -> Image.Image:
    # One colour with a faint gradient (each its own direction): no information, but not a
    # single value either.
    base = np.array([rng.randrange(90, 200) for _ in range(3)], dtype=float)
    yy, xx = np.mgrid[0:size, 0:size] / size
    ramp = (xx, yy, (xx + yy) / 2, xx * yy, np.abs(xx - 0.5))[k % 5] * 6
    arr = np.clip(base[None, None, :] + ramp[..., None], 0, 255)
    return Image.fromarray(arr.astype(np.uint8), "RGB")


def build_corpus(
    root: Path,
    n_base: int = 60,
    n_groups: int = 24,
    n_flagged: int = 21,
    size: int = 96,
    seed: int = 0,
    tiles: list | None = None,
) -> Corpus:
    """Write the folder: `n_base` clean tiles spread over three classes, then `n_groups`
    duplicate groups (exact copies, pixel-identical re-saves and near copies of base images;
    every fourth group puts its copy in another class, a label conflict) and `n_flagged`
    images with one planted quality problem each (made from tiles not used as a base).
    `tiles` replaces the default tiles (`photo_tiles(size)`)."""
    rng = random.Random(seed)
    tiles = photo_tiles(size) if tiles is None else tiles
    if len(tiles) < n_base + n_flagged:
        raise ValueError(f"only {len(tiles)} ordinary tiles for {n_base + n_flagged} images")
    order = list(range(len(tiles)))
    rng.shuffle(order)
    corpus = Corpus(root)
    for i in range(n_base):
        cls = CLASSES[i % len(CLASSES)]
        rel = f"{cls}/base_{i:04d}.png"
        _save(Image.fromarray(tiles[order[i]]), root / rel)
        corpus.base.append(rel)

    kinds = ["exact", "exact_resave", *NEAR_KINDS]
    for g in range(n_groups):
        src = corpus.base[(g * 7) % n_base]
        kind = kinds[g % len(kinds)]
        cls = src.split("/")[0]
        if g % 4 == 3:
            cls = CLASSES[(CLASSES.index(cls) + 1) % len(CLASSES)]
        img = Image.open(root / src).convert("RGB")
        if kind == "exact":
            rel = f"{cls}/copy_{g:04d}.png"
            shutil.copyfile(root / src, root / rel)
        elif kind == "exact_resave":  # the same pixels, other bytes
            rel = f"{cls}/resave_{g:04d}.png"
            _save(img, root / rel, compress_level=1)
        else:
            rel = f"{cls}/near_{kind}_{g:04d}.jpg"
            _save(_near(img, kind, rng), root / rel, quality=rng.choice((75, 90)))
        group_kind = "exact" if kind.startswith("exact") else kind
        # A base image that already has a copy gains another member, not a second group.
        for k, (gk, members) in enumerate(corpus.groups):
            if members[0] == src:
                corpus.groups[k] = (gk if gk == group_kind else "near", [*members, rel])
                break
        else:
            corpus.groups.append((group_kind, [src, rel]))
        if cls != src.split("/")[0]:
            corpus.conflicts.append([src, rel])

    problems = [*QUALITY_KINDS, "grayscale"]
    for j in range(n_flagged):
        kind = problems[j % len(problems)]
        tile = Image.fromarray(tiles[order[n_base + j]])
        cls = CLASSES[j % len(CLASSES)]
        rel = f"{cls}/{kind}_{j:04d}.png"
        if kind == "dark":
            img = Image.eval(tile, lambda v: int(v * 0.18))
        elif kind == "light":
            img = Image.eval(tile, lambda v: 255 - int((255 - v) * 0.05))
        elif kind == "blurry":
            img = tile.filter(ImageFilter.GaussianBlur(size / 24))
        elif kind == "low_information":
            img = _flat(rng, size, j // len(problems))
        elif kind == "odd_aspect_ratio":
            img = tile.crop((0, 0, size, size // 5))
        elif kind == "odd_size":
            img = tile.resize((size * 12, size * 12), Image.Resampling.NEAREST)
        else:  # grayscale, stored as RGB with equal channels or as L
            img = tile.convert("L")
            img = img.convert("RGB") if j % 2 else img
        _save(img, root / rel)
        corpus.flagged[rel] = kind
    return corpus
