"""What albumentations' own metadata does not say about a transform's parameters, kept by hand.

`catalogue` reads types, bounds and defaults from each transform's schema and signature; this
table (`CURATED`, by transform name, "*" for every one) fills only the gaps, and each spec
records which of its fields came from here (`ParamSpec.curated`). What it supplies:

- slider bounds where the schema has none or hides them in validator bodies (e.g. Rotate.limit,
  the brightness/hue/saturation limits, ColorJitter, distortion limits, blur kernel sizes) and
  the upper bound of one-sided constraints (ElasticTransform.alpha/sigma, GridDistortion.num_steps);
- RandomResizedCrop.size (no default at all) and CLAHE.tile_grid_size: a (height, width) pair,
  not a (min, max) range, which the type `tuple[int, int]` cannot tell apart;
- CoarseDropout.fill and hole sizes: unions of numbers, pixel pairs and mode names;
- Affine.translate_percent, whose default `None` means "no shift".

`CHOICE_LABELS` names OpenCV's integer codes (interpolation, border mode) for the editor.
"""

from __future__ import annotations

from typing import Any

_CV2_INTERPOLATION = {
    0: "nearest",
    1: "linear",
    2: "cubic",
    3: "area",
    4: "lanczos4",
    5: "linear exact",
    6: "nearest exact",
}
_CV2_BORDER = {0: "constant", 1: "replicate", 2: "reflect", 3: "wrap", 4: "reflect 101"}
CHOICE_LABELS: dict[str, dict[Any, str]] = {
    "interpolation": _CV2_INTERPOLATION,
    "border_mode": _CV2_BORDER,
}

CURATED: dict[str, dict[str, dict[str, Any]]] = {
    "*": {"fill": {"min": 0.0, "max": 255.0}},
    "Rotate": {"limit": {"min": -180.0, "max": 180.0}},
    "Affine": {
        "scale": {"min": 0.1, "max": 3.0},
        "translate_percent": {
            "kind": "range_float",
            "min": -0.5,
            "max": 0.5,
            "default": (0.0, 0.0),
        },
        "rotate": {"min": -180.0, "max": 180.0},
        "shear": {"min": -45.0, "max": 45.0},
    },
    "RandomResizedCrop": {
        "size": {"kind": "pair_int", "default": (256, 256), "min": 8, "max": 2048},
        "ratio": {"max": 4.0},
    },
    "RandomBrightnessContrast": {
        "brightness_limit": {"min": -1.0, "max": 1.0},
        "contrast_limit": {"min": -1.0, "max": 1.0},
    },
    "HueSaturationValue": {
        "hue_shift_limit": {"min": -180.0, "max": 180.0},
        "sat_shift_limit": {"min": -255.0, "max": 255.0},
        "val_shift_limit": {"min": -255.0, "max": 255.0},
    },
    "RandomGamma": {"gamma_limit": {"max": 300.0}},
    "CLAHE": {
        "clip_limit": {"max": 16.0},
        "tile_grid_size": {"kind": "pair_int", "max": 32},
    },
    "ColorJitter": {
        "brightness": {"min": 0.0, "max": 2.0},
        "contrast": {"min": 0.0, "max": 2.0},
        "saturation": {"min": 0.0, "max": 2.0},
        "hue": {"min": -0.5, "max": 0.5},
    },
    "GridDistortion": {"distort_limit": {"min": -1.0, "max": 1.0}, "num_steps": {"max": 20}},
    "ElasticTransform": {"alpha": {"max": 200.0}, "sigma": {"max": 100.0}},
    "OpticalDistortion": {"distort_limit": {"min": -1.0, "max": 1.0}},
    "CoarseDropout": {
        "num_holes_range": {"max": 32},
        "hole_height_range": {"kind": "range_float", "min": 0.01, "max": 1.0},
        "hole_width_range": {"kind": "range_float", "min": 0.01, "max": 1.0},
        "fill": {
            "kind": "choice",
            "choices": (
                0.0,
                128.0,
                255.0,
                "random",
                "random_uniform",
                "inpaint_telea",
                "inpaint_ns",
            ),
            "min": None,
            "max": None,
        },
    },
    "GaussianBlur": {"sigma_limit": {"max": 10.0}, "blur_limit": {"min": 0, "max": 31}},
    "MotionBlur": {"blur_limit": {"min": 3, "max": 31}},
    # Sizes albumentations leaves without a default: a small one that fits most images.
    "CenterCrop": {
        "height": {"default": 32, "min": 1, "max": 2048},
        "width": {"default": 32, "min": 1, "max": 2048},
        "pad_if_needed": {"default": True},
    },
    "RandomCrop": {
        "height": {"default": 32, "min": 1, "max": 2048},
        "width": {"default": 32, "min": 1, "max": 2048},
        "pad_if_needed": {"default": True},
    },
    "Crop": {
        "x_max": {"default": 32, "min": 1, "max": 4096},
        "y_max": {"default": 32, "min": 1, "max": 4096},
        "pad_if_needed": {"default": True},
    },
    "Resize": {
        "height": {"default": 256, "min": 8, "max": 2048},
        "width": {"default": 256, "min": 8, "max": 2048},
    },
    "LongestMaxSize": {"max_size": {"kind": "int", "default": 256, "min": 8, "max": 2048}},
    "SmallestMaxSize": {"max_size": {"kind": "int", "default": 256, "min": 8, "max": 2048}},
    "RandomSizedCrop": {
        "min_max_height": {"kind": "range_int", "default": (32, 64), "min": 1, "max": 2048},
        "size": {"kind": "pair_int", "default": (64, 64), "min": 8, "max": 2048},
    },
    "CropAndPad": {
        "percent": {"kind": "range_float", "default": (-0.1, 0.1), "min": -0.5, "max": 0.5}
    },
    "GridElasticDeform": {
        "num_grid_xy": {"kind": "pair_int", "default": (4, 4), "min": 1, "max": 32},
        "magnitude": {"kind": "int", "default": 10, "min": 1, "max": 100},
    },
    "PadIfNeeded": {"min_height": {"default": 64}, "min_width": {"default": 64}},
}
