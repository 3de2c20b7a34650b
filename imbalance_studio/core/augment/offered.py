"""Which albumentations transforms the catalogue offers, and in which group.

The article's groups (`GROUPS`) come first; every other transform that works on one image
alone (pixel-level and spatial) found in the installed package is offered too, grouped by what
it does (`extra_group`); `EXCLUDED` says why each one left out is left out.
"""

from __future__ import annotations

import inspect
from typing import Any

GROUPS: dict[str, tuple[str, ...]] = {
    "geometric": ("HorizontalFlip", "VerticalFlip", "Rotate", "Affine", "RandomResizedCrop"),
    "photometric": (
        "RandomBrightnessContrast",
        "HueSaturationValue",
        "RandomGamma",
        "CLAHE",
        "ColorJitter",
    ),
    "distortion": ("GridDistortion", "ElasticTransform", "OpticalDistortion"),
    "dropout": ("CoarseDropout",),
    "blur": ("GaussianBlur", "MotionBlur"),
    "noise": ("GaussNoise",),
}

# Transforms of albumentations 2.0.x that do not fit a one-image classification stack.
EXCLUDED: dict[str, str] = {
    **dict.fromkeys(
        (
            "AtLeastOneBBoxRandomCrop",
            "BBoxSafeRandomCrop",
            "RandomSizedBBoxSafeCrop",
            "RandomCropNearBBox",
        ),
        "needs bounding boxes",
    ),
    **dict.fromkeys(
        ("MaskDropout", "CropNonEmptyMaskIfExists", "ConstrainedCoarseDropout"), "needs a mask"
    ),
    **dict.fromkeys(
        (
            "FDA",
            "HistogramMatching",
            "PixelDistributionAdaptation",
            "Mosaic",
            "OverlayElements",
            "TextImage",
        ),
        "needs reference images, fonts or metadata besides the image",
    ),
    **dict.fromkeys(
        (
            "CenterCrop3D",
            "CoarseDropout3D",
            "CubicSymmetry",
            "Pad3D",
            "PadIfNeeded3D",
            "RandomCrop3D",
            "Transform3D",
        ),
        "for 3-D volumes",
    ),
    **dict.fromkeys(("Normalize", "ToFloat", "FromFloat"), "changes the pixel type, not the image"),
    "Lambda": "runs user code, which a stack file cannot hold",
    "NoOp": "does nothing",
    "ShiftScaleRotate": "deprecated in favour of Affine",
}

# Group of a transform outside GROUPS, by what it does (names first, then its module).
_NOISE = ("Noise", "SaltAndPepper", "Spatter")
_WEATHER = ("RandomRain", "RandomFog", "RandomSnow", "RandomSunFlare", "RandomShadow",
            "RandomGravel", "PlasmaShadow", "Illumination")  # fmt: skip
_MODULE_GROUPS = (
    ("blur", "blur"), ("crops", "crop & resize"), ("geometric.resize", "crop & resize"),
    ("geometric.pad", "crop & resize"), ("dropout", "dropout"), ("spectrogram", "dropout"),
    ("geometric.distortion", "distortion"), ("geometric", "geometric"),
)  # fmt: skip
EXTRA_GROUPS = ("crop & resize", "weather")


def extra_group(name: str, module: str) -> str:
    """The catalogue group of a transform outside the article's GROUPS."""
    if any(word in name for word in _NOISE):
        return "noise"
    if name in _WEATHER:
        return "weather"
    short = module.split("augmentations.", 1)[-1]
    return next((g for prefix, g in _MODULE_GROUPS if short.startswith(prefix)), "photometric")


FEATURED = frozenset(n for names in GROUPS.values() for n in names)


def single_image_transforms(A: Any) -> list[tuple[str, str]]:
    """(name, module) of every concrete transform that works on one image alone: pixel-level
    (ImageOnlyTransform) and spatial (DualTransform), before `EXCLUDED` is applied."""
    from albumentations.core.transforms_interface import DualTransform, ImageOnlyTransform

    found = []
    for name in sorted(dir(A)):
        cls = getattr(A, name)
        if (
            inspect.isclass(cls)
            and issubclass(cls, ImageOnlyTransform | DualTransform)
            and cls not in (ImageOnlyTransform, DualTransform)
            and not inspect.isabstract(cls)
        ):
            found.append((name, cls.__module__))
    return found
