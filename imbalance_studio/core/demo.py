"""The bundled demo dataset: synthetic 'surface inspection' images made by our own code.

Imbalanced like the article's examples (900 / 80 / 20). Made deterministically on first use
into the user cache, so nothing is downloaded and no binary blobs live in the repository.
The folder name says it is synthetic.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from .. import APP_NAME

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

# numpy and Pillow are imported where the images are drawn: the window asks for the demo's
# folder (`demo_root`) on its GUI thread, and they were 50 ms of it there.

DEMO_VERSION = 1
DEMO_COUNTS = {"normal": 900, "scratch": 80, "dent": 20}
DEMO_SIZE = 96


def demo_root() -> Path:
    base = Path(platformdirs.user_cache_dir(APP_NAME))
    return base / "demo" / f"synthetic-surface-defects-v{DEMO_VERSION}"


def ensure_demo_dataset(root: Path | None = None) -> Path:
    """Return the demo dataset folder, creating it (atomically) the first time."""
    root = root or demo_root()
    if (root.parent / f".{root.name}.complete").exists() and root.is_dir():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
    try:
        write_demo_dataset(tmp)
        if root.exists():
            shutil.rmtree(root)
        os.replace(tmp, root)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    (root.parent / f".{root.name}.complete").write_text("synthetic demo data\n")
    return root


def write_demo_dataset(root: Path, counts: dict[str, int] | None = None, seed: int = 0) -> None:
    import numpy as np

    for class_index, (name, n) in enumerate((counts or DEMO_COUNTS).items()):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            rng = np.random.default_rng([seed, class_index, i])
            _render(name, rng).save(folder / f"{name}_{i:04d}.jpg", quality=90)


def _render(kind: str, rng: np.random.Generator) -> Image.Image:
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    s = DEMO_SIZE
    # Brushed-metal base: a tinted gradient with streaky noise.
    base = rng.uniform(110, 170)
    tint = rng.uniform(-12, 12, size=3)
    grad = np.linspace(-20, 20, s)[None, :, None] * rng.uniform(-1, 1)
    streaks = rng.normal(0, 6, size=(s, 1, 1)) + rng.normal(0, 4, size=(s, s, 1))
    arr = np.clip(base + tint[None, None, :] + grad + streaks, 0, 255).astype(np.uint8)
    img = Image.fromarray(arr, "RGB").filter(ImageFilter.GaussianBlur(0.6))
    draw = ImageDraw.Draw(img)
    if kind == "scratch":
        for _ in range(int(rng.integers(1, 3))):
            x0, y0 = rng.uniform(5, s - 5, size=2)
            angle = rng.uniform(0, np.pi)
            length = rng.uniform(s * 0.4, s * 0.9)
            x1, y1 = x0 + np.cos(angle) * length, y0 + np.sin(angle) * length
            shade = int(rng.uniform(30, 70))
            draw.line(
                [(x0, y0), (x1, y1)], fill=(shade, shade, shade), width=int(rng.integers(1, 3))
            )
    elif kind == "dent":
        cx, cy = rng.uniform(s * 0.25, s * 0.75, size=2)
        r = rng.uniform(s * 0.08, s * 0.18)
        for k in range(6, 0, -1):
            rr = r * k / 6
            shade = int(60 + 15 * k + rng.uniform(-5, 5))
            draw.ellipse(
                [cx - rr, cy - rr * 0.8, cx + rr, cy + rr * 0.8], fill=(shade, shade, shade + 5)
            )
        img = img.filter(ImageFilter.GaussianBlur(0.8))
    return img
