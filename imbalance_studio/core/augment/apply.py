"""Apply a stack to one image: same channel count out as in, and the parameters it drew."""

from __future__ import annotations

from typing import Any

import numpy as np

from .stack import build_compose, reseed

# Arrays longer than this (displacement maps, kernels) are summarised, not listed, in params.
MAX_LISTED_ARRAY = 16
# Recorded with what a transform drew but drawn by no one: set by its settings (interpolation,
# fill, border) or worked out for boxes and masks. Views of the applied values leave them out.
BOOKKEEPING_PARAMS = frozenset({
    "interpolation", "mask_interpolation", "fill", "fill_mask", "border_mode", "bbox_matrix",
    "output_shape", "x_min", "x_max", "y_min", "y_max",
})  # fmt: skip
_SKIPPED_PARAMS = {"shape"}  # the input's shape, not something the transform drew


# A new image must be a new view: when every p-gate happens to stay shut, draw again (with
# seeds derived from the first), at most this many times.
MAX_REDRAWS = 16


def apply_stack(stack: dict[str, Any], image: np.ndarray, seed: int) -> tuple[np.ndarray, dict]:
    """Augment a uint8 RGB (HxWx3), RGBA (HxWx4) or grayscale (HxW) image; the same seed gives
    the same pixels, and at least one transform is applied when the stack has any. Returns
    the image and the applied parameters as a JSON-able dict."""
    compose = build_compose(stack, None, save_applied_params=True)
    return run_new_view(compose, image, seed)


def make_new_view(compose: Any, image: np.ndarray, seed: int) -> tuple[np.ndarray, dict]:
    """One generated image: what generation writes and the preview shows, pixel for pixel
    (`run_new_view`, quiet about transforms that do not apply to this image)."""
    import warnings

    with warnings.catch_warnings():
        # e.g. "hue_shift is not applicable to grayscale": expected, once per image otherwise.
        warnings.simplefilter("ignore", UserWarning)
        return run_new_view(compose, image, seed)


def redraw_seed(seed: int, attempt: int) -> int:
    return seed if attempt == 0 else (seed + attempt * 0x9E3779B1) % 2**32


def run_new_view(compose: Any, image: np.ndarray, seed: int) -> tuple[np.ndarray, dict]:
    """Run `compose` with `seed`; while it applied nothing (every p-gate shut), run it again
    with derived seeds. `params["seed"]` is the seed that made the image, `params["redraws"]`
    how many draws came up empty before it."""
    for attempt in range(MAX_REDRAWS + 1):
        used = redraw_seed(seed, attempt)
        reseed(compose, used)
        out, params = run_compose(compose, image, used)
        if params["applied"] or not compose.transforms:
            break
    params["redraws"] = attempt
    return out, params


def run_compose(
    compose: Any, image: np.ndarray, seed: int | None = None
) -> tuple[np.ndarray, dict]:
    """Run an already built (and seeded) Compose made with save_applied_params=True."""
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 4:
        # Colour transforms refuse 4 channels; alpha follows the geometry as a mask instead.
        result = compose(image=np.ascontiguousarray(image[..., :3]), mask=image[..., 3])
        out = np.dstack([result["image"], result["mask"]])
    elif image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (1, 3)):
        result = compose(image=image)
        out = result["image"]
        if out.ndim != image.ndim:
            out = out.reshape(out.shape[:2] + image.shape[2:])
    else:
        raise ValueError(f"expected an HxW, HxWx3 or HxWx4 image, got shape {image.shape}")
    params = {
        "seed": seed,
        "applied": [
            {"name": name, "params": summarize(p)}
            for name, p in result.get("applied_transforms", [])
        ],
    }
    return np.ascontiguousarray(out, dtype=np.uint8), params


def summarize(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in params.items():
        if k not in _SKIPPED_PARAMS:
            out.update(_drawn(k, v) or {k: _summary(v)})
    return out


def _drawn(key: str, value: Any) -> dict[str, Any] | None:
    """What was drawn, where albumentations records only what it made of it. None: shown
    as recorded.

    - GaussNoise (and AdditiveNoise per pixel) keep the whole noise map: its std, in pixel
      levels, is what was drawn (measured: a map drawn at lower resolution and enlarged,
      `noise_scale_factor` < 1, reads a little lower). A map of one value per channel
      (RGBShift's shifts) is short and shown as it is.
    - GaussianBlur keeps its 1-D kernel: its size, and sigma from the centre tap over its
      neighbour (exp(-1 / 2 sigma^2) for any size, truncated or not).
    - MotionBlur keeps a 2-D kernel: its size."""
    if not isinstance(value, np.ndarray) or not value.size:
        return None
    if key == "noise_map" and value.ndim >= 2:
        return {"noise_std": round(float(value.std()), 2)}
    if key == "kernel" and value.ndim == 1:
        drawn: dict[str, Any] = {"kernel_size": int(value.size)}
        c = value.size // 2
        if value.size >= 3 and value[c] > 0:
            ratio = float(value[c + 1] / value[c])
            if 0 < ratio < 1:
                drawn["sigma"] = round(float(np.sqrt(-0.5 / np.log(ratio))), 3)
        return drawn
    if key == "kernel" and value.ndim == 2:
        return {"kernel_size": "x".join(map(str, value.shape))}  # MotionBlur's line, drawn
    return None


def _summary(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.ndarray):
        if value.size > MAX_LISTED_ARRAY:
            return f"<array {'x'.join(map(str, value.shape))} {value.dtype}>"
        return value.tolist()  # plain Python numbers already
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _summary(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_summary(v) for v in value]
    return repr(value)
