"""Bar charts of class counts as PNG bytes, drawn with Pillow (no plotting library needed).

Horizontal bars, one row per class, so long class names and many classes stay readable. The
before and after charts share one scale so their bars compare by eye.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw

from .labels import bitmap_font, fit, label

WIDTH = 720
ROW = 18
MANY = 120  # above this many classes rows get thin and unlabelled
# A palette image: one byte per pixel makes the PNG small and quick to encode (the charts are
# drawn on every export, and exports of many small files are timed against cp).
PALETTE = [(255, 255, 255), (30, 30, 30), (215, 215, 215), (70, 110, 180), (230, 140, 60)]
WHITE, TEXT, GRID, BAR, BAR_ADDED = range(5)


LABEL_MAX = 220  # px of the label column


def bar_chart(
    title: str,
    classes: Sequence[str],
    counts: Sequence[int],
    scale: int,
    base: Sequence[int] | None = None,
) -> bytes:
    """PNG of `counts` per class on a 0..scale axis; with `base`, the part of each bar above
    its base count (added images) is drawn in a second colour."""
    many = len(classes) > MANY
    row = 3 if many else ROW
    # Pillow's bitmap font: ~15x faster to draw than a FreeType font, and the charts are
    # drawn on every export (timed against cp for 10,000 small files). Class names it cannot
    # encode are drawn by `labels` with a FreeType font or as escapes.
    font = bitmap_font()
    label_w = 0 if many else min(LABEL_MAX, 12 + max((label(c).width for c in classes), default=0))
    top, bottom, right = 34, 24, 70
    height = top + bottom + row * max(1, len(classes))
    img = Image.new("P", (WIDTH, height), WHITE)
    img.putpalette([v for rgb in PALETTE for v in rgb])
    draw = ImageDraw.Draw(img)
    draw.text((8, 10), title, fill=TEXT, font=font)
    x0 = label_w + 8
    span = WIDTH - x0 - right
    scale = max(1, scale)
    for k in range(5):
        x = x0 + span * k // 4
        draw.line([(x, top - 4), (x, height - bottom)], fill=GRID)
        draw.text((x - 6, height - bottom + 4), str(scale * k // 4), fill=TEXT, font=font)
    for i, (name, n) in enumerate(zip(classes, counts, strict=True)):
        y = top + i * row
        w = span * n // scale
        b = min(n, base[i]) if base is not None else n
        wb = span * b // scale
        gap = 0 if many else 3
        if wb > 0:
            draw.rectangle([x0, y + gap, x0 + wb, y + row - gap], fill=BAR)
        if w > wb:
            draw.rectangle([x0 + wb, y + gap, x0 + w, y + row - gap], fill=BAR_ADDED)
        if not many:
            x = 6
            for run_font, text in fit(name, label_w - 12).runs:
                draw.text((x, y + 2), text, fill=TEXT, font=run_font)
                x += int(run_font.getlength(text))
            draw.text((x0 + w + 4, y + 2), str(n), fill=TEXT, font=font)
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()
