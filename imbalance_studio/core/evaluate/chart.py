"""evaluation.png: the report's charts drawn with Pillow (matplotlib is not a dependency).

Four panels, top to bottom: balanced accuracy per arm with its bootstrap interval (plain
accuracy beside it in grey, the majority baseline as a line); per-class recall per arm as a
heat grid; the best arm's confusion matrix with counts; the training loss curves.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from ..export.labels import bitmap_font, fit

W = 760
ARM_COLOURS = [(70, 110, 180), (230, 140, 60), (80, 160, 90), (170, 80, 160), (200, 60, 60)]
GREY, TEXT, GRID = (170, 170, 170), (30, 30, 30), (220, 220, 220)
MAX_GRID = 40  # classes drawn in the recall grid and confusion matrix


def _heat(v: float) -> tuple[int, int, int]:
    """White (0) to dark blue (1)."""
    v = min(1.0, max(0.0, v))
    return (int(255 - 205 * v), int(255 - 165 * v), int(255 - 75 * v))


def _name(d: ImageDraw.ImageDraw, xy: tuple[int, int], name: str, width: int) -> None:
    """A class name in any script (the bitmap font takes Latin-1 only; see export/labels)."""
    x, y = xy
    for font, text in fit(name, width).runs:
        d.text((x, y), text, fill=TEXT, font=font)
        x += int(font.getlength(text))


def render(report: dict) -> bytes:
    arms = list(report["arms"])
    classes = report["classes"][:MAX_GRID]
    k = len(classes)
    cell = max(12, min(28, (W - 140) // max(1, k)))
    heights = [40 + 22 * len(arms), 40 + 18 * len(arms), 50 + cell * k, 200]
    img = Image.new("RGB", (W, sum(heights) + 20), "white")
    d = ImageDraw.Draw(img)
    font = bitmap_font()
    y = 10
    # 1. Balanced accuracy with interval; plain accuracy greyed; majority baseline.
    base = report["majority_baseline"]["accuracy"]
    d.text((10, y), "Balanced accuracy on the validation split (95% bootstrap interval); "
           f"grey: plain accuracy; | majority baseline {base:.2f}", fill=TEXT, font=font)  # fmt: skip
    x0, span = 150, W - 230
    y += 22
    bx = x0 + int(span * base)
    d.line([(bx, y - 4), (bx, y + 22 * len(arms))], fill=GREY)
    for i, arm in enumerate(arms):
        a = report["arms"][arm]
        yy = y + 22 * i
        colour = ARM_COLOURS[i % len(ARM_COLOURS)]
        d.text(
            (10, yy + 3), arm + (" (best)" if arm == report["best"] else ""), fill=TEXT, font=font
        )
        d.rectangle([x0, yy + 12, x0 + int(span * a["accuracy"]), yy + 15], fill=GREY)
        d.rectangle([x0, yy + 2, x0 + int(span * a["balanced_accuracy"]), yy + 10], fill=colour)
        lo, hi = report["interval"]["balanced_accuracy"][arm]
        d.line([(x0 + int(span * lo), yy + 6), (x0 + int(span * hi), yy + 6)], fill=TEXT)
        d.text((W - 75, yy + 3), f"{a['balanced_accuracy']:.3f}", fill=TEXT, font=font)
    y += heights[0] - 22
    # 2. Per-class recall per arm.
    d.text((10, y), "Recall per class (white 0 .. blue 1); columns are class numbers, as in "
           "the confusion matrix below", fill=TEXT, font=font)  # fmt: skip
    y += 16
    for j in range(k):
        d.text((x0 + j * cell + 2, y), str(j), fill=TEXT, font=font)
    y += 14
    for i, arm in enumerate(arms):
        d.text((10, y + 18 * i + 3), arm, fill=TEXT, font=font)
        for j, r in enumerate(report["arms"][arm]["per_class_recall"][:k]):
            box = [x0 + j * cell, y + 18 * i, x0 + (j + 1) * cell - 1, y + 18 * i + 16]
            d.rectangle(box, fill=GRID if r is None else _heat(r))
            if r is not None and cell >= 24:
                d.text((box[0] + 2, box[1] + 3), f"{r:.2f}"[1:] if r < 1 else "1.0",
                       fill="white" if r > 0.6 else TEXT, font=font)  # fmt: skip
    y += heights[1] - 30
    # 3. The best arm's confusion matrix, rows = true class, with counts.
    best = report["best"]
    cm = report["arms"][best]["confusion"]
    d.text((10, y), f"Confusion matrix of {best}: row = true class, column = predicted",
           fill=TEXT, font=font)  # fmt: skip
    y += 18
    for i in range(k):
        d.text((10, y + cell * i + cell // 2 - 5), str(i), fill=TEXT, font=font)
        _name(d, (30, y + cell * i + cell // 2 - 5), classes[i], x0 - 36)
        row = sum(cm[i]) or 1
        for j in range(k):
            v = cm[i][j]
            box = [x0 + j * cell, y + cell * i, x0 + (j + 1) * cell - 1, y + cell * (i + 1) - 1]
            d.rectangle(box, fill=_heat(v / row))
            if v and cell >= 16:
                d.text((box[0] + 2, box[1] + cell // 2 - 5), str(v),
                       fill="white" if v / row > 0.6 else TEXT, font=font)  # fmt: skip
    y += heights[2] - 18
    # 4. Training loss curves.
    d.text((10, y), "Training loss per step", fill=TEXT, font=font)
    y += 16
    top, h = y, heights[3] - 40
    curves = [(a, report["arms"][a]["curve"]) for a in arms if report["arms"][a]["curve"]]
    peak = max((p[1] for _, c in curves for p in c), default=1.0) or 1.0
    last = max((c[-1][0] for _, c in curves), default=1) or 1
    d.rectangle([x0, top, x0 + span, top + h], outline=GRID)
    for i, (arm, curve) in enumerate(curves):
        colour = ARM_COLOURS[i % len(ARM_COLOURS)]
        pts = [(x0 + span * s / last, top + h - h * min(v, peak) / peak) for s, v in curve]
        if len(pts) > 1:
            d.line(pts, fill=colour, width=2)
        d.text((10, top + 14 * i), arm, fill=colour, font=font)
    d.text((x0, top + h + 4), f"0 .. {last} steps; loss 0 .. {peak:.2f}", fill=TEXT, font=font)
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=False)
    return buf.getvalue()
