"""Quality scores and flags, named and scaled as cleanvision names and scales them.

Every score lies in 0..1, lower is worse, and an image is flagged for an issue when its score
is below that issue's threshold (cleanvision's convention, and its default thresholds where
its measure is ours). Scores are computed from the cached raw measures (`features.Features`)
in one vectorised pass, so changing a threshold never decodes anything.

- dark: 99th percentile of perceived brightness (a dark picture has no bright pixels).
- light: 1 - the 5th percentile of perceived brightness (a washed-out one has no dark pixels).
- blurry: 1 - exp(-s / 22.4), s the spread of the Laplacian after a contrast stretch
  (cleanvision uses the raw edge spread, which calls every dark picture blurry too).
- low_information: entropy of the grey histogram / 10, capped at 1 (cleanvision takes the
  entropy of the three channel histograms laid end to end, which gives a flat colour with
  a faint gradient three times the levels it has). Not flagged on an image flagged dark or
  light: its histogram is narrow because of that.
- odd_aspect_ratio: min(w/h, h/w).
- odd_size: min(a, m) / max(a, m), a = sqrt(w*h) and m its median over the dataset (cleanvision
  uses an IQR rule that flags every image of a different size when most share one size).
- grayscale: mean channel spread x 20, capped at 1 (0 for an image stored as grey or with
  equal channels; cleanvision flags only images stored in mode L).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .. import arrays
from .features import Features

ISSUES = (
    "dark", "light", "blurry", "low_information", "odd_aspect_ratio", "odd_size", "grayscale",
)  # fmt: skip

DEFAULT_THRESHOLDS: dict[str, float] = {
    "dark": 0.32,  # cleanvision's
    "light": 0.05,  # cleanvision's
    "blurry": 0.3,
    "low_information": 0.3,  # cleanvision's
    "odd_aspect_ratio": 0.35,  # cleanvision's
    "odd_size": 0.2,  # five times larger or smaller (in side) than the median image
    "grayscale": 0.1,
}

_BLUR_SCALE = 22.4  # s = 8 (a clearly soft picture) scores 0.3
# An issue most images have is a trait of the dataset (grayscale scans, handwriting on a
# blank page, night photos), not a flaw of those images: flagging 85% of a folder buries the
# few real outliers. Such an issue is reported once, with its count, and lists its images
# only when asked for by name (the Inspect tab's "Show" filter).
TRAIT_SHARE = 0.5
# In a handful of images, "most" is one or two: those are flagged as usual.
TRAIT_MIN_IMAGES = 20


@dataclass(frozen=True)
class QualityFlag:
    path: str
    issues: tuple[str, ...]
    scores: dict[str, float] = field(default_factory=dict)


def check_thresholds(thresholds: Mapping[str, float]) -> dict[str, float]:
    """Defaults overridden by `thresholds`; raises ValueError for an unknown issue or a
    threshold outside 0..1."""
    out = dict(DEFAULT_THRESHOLDS)
    for name, value in thresholds.items():
        if name not in out:
            raise ValueError(f"unknown quality issue {name!r} (known: {', '.join(ISSUES)})")
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"threshold of {name} must be between 0 and 1, not {value}")
        out[name] = float(value)
    return out


def score_table(features: Sequence[Features]) -> dict[str, np.ndarray]:
    """Issue name -> score of every image (same order as `features`)."""
    n = len(features)
    if n == 0:
        return {name: np.empty(0) for name in ISSUES}
    cols = np.array(
        [
            (f.width, f.height, f.bright_p99, f.bright_p5, f.entropy, f.sharpness, f.chroma)
            for f in features
        ],
        dtype=np.float64,
    )
    w, h, p99, p5, entropy, sharp, chroma = cols.T
    side = np.sqrt(w * h)
    median = arrays.median(side)  # np.median would import numpy.ma
    with np.errstate(over="ignore", invalid="ignore"):
        blurry = np.where(np.isinf(sharp), 1.0, 1.0 - np.exp(-sharp / _BLUR_SCALE))
    return {
        "dark": np.clip(p99, 0, 1),
        "light": np.clip(1 - p5, 0, 1),
        "blurry": blurry,
        "low_information": np.minimum(entropy * 0.1, 1.0),
        "odd_aspect_ratio": np.minimum(w, h) / np.maximum(np.maximum(w, h), 1),
        "odd_size": np.minimum(side, median) / np.maximum(np.maximum(side, median), 1e-9),
        "grayscale": np.minimum(chroma * 20.0, 1.0),
    }


def _hits(scores: Mapping[str, np.ndarray], limits: Mapping[str, float]) -> dict:
    hit = {name: scores[name] < limits[name] for name in ISSUES}
    # A dark or washed-out picture has a narrow histogram, hence a low entropy, whatever it
    # shows: that issue explains it, and a second flag would only double the list.
    hit["low_information"] &= ~(hit["dark"] | hit["light"])
    return hit


def _traits(hit: Mapping[str, np.ndarray], n: int) -> dict[str, int]:
    if n < TRAIT_MIN_IMAGES:
        return {}
    counts = {name: int(np.count_nonzero(hit[name])) for name in ISSUES}
    return {name: k for name, k in counts.items() if k > TRAIT_SHARE * n}


def traits(scores: Mapping[str, np.ndarray], thresholds: Mapping[str, float]) -> dict[str, int]:
    """{issue: how many images have it} for the issues more than TRAIT_SHARE of the images
    have under `thresholds` (in a folder of TRAIT_MIN_IMAGES or more): traits of the
    dataset, which `flags` flags only when asked for by name."""
    n = len(scores[ISSUES[0]]) if scores else 0
    return _traits(_hits(scores, check_thresholds(thresholds)), n) if n else {}


def flags(
    paths: Sequence[str],
    scores: Mapping[str, np.ndarray],
    thresholds: Mapping[str, float],
    keep: Collection[str] = (),
) -> list[QualityFlag]:
    """The images with at least one issue, in the order of `paths`, each with all its
    scores (rounded to 4 places). Issues that are traits of the dataset (`traits`) flag no
    image unless named in `keep` (a view filtered on that issue shows them all)."""
    limits = check_thresholds(thresholds)
    if not len(paths):
        return []
    hit = _hits(scores, limits)
    for name in _traits(hit, len(paths)):
        if name not in keep:
            hit[name] = np.zeros(len(paths), dtype=bool)
    any_hit = np.zeros(len(paths), dtype=bool)
    for mask in hit.values():
        any_hit |= mask
    out = []
    for k in np.flatnonzero(any_hit).tolist():
        issues = tuple(name for name in ISSUES if hit[name][k])
        values = {name: round(float(scores[name][k]), 4) for name in ISSUES}
        out.append(QualityFlag(paths[k], issues, values))
    return out
