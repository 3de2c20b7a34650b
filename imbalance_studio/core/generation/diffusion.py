"""Diffusion img2img: a new minority image made from a training image by a local model.

Optional: diffusers, transformers and safetensors come with the `[diffusion]` extra and are
imported only here, inside functions, when an image is made. Models load from the disk only
(`local_files_only=True`): a diffusers model folder, or one `.safetensors`/`.ckpt` Stable
Diffusion checkpoint through `from_single_file`. The pipeline is loaded once per process and
kept; every image gets its own CPU `torch.Generator` seeded with the image's seed, so the same
project and seed give the same pixels on the same device. A step callback reports each
denoising step and stops the image within one step when asked (the caller throws it away).

Diffusion images start "unreviewed": they may carry artefacts a classifier learns to rely
on, so the export asks before including one a person has not looked at.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..extras import missing_diffusion as missing_extra
from ..safe_read import RECORD_MAX_BYTES, load_json_bounded

GENERATOR = "diffusion-img2img"
UNREVIEWED = "unreviewed"
SINGLE_FILE_SUFFIXES = (".safetensors", ".ckpt")
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".ckpt", ".pt", ".pth")
# Components an img2img pipeline cannot run without (model_index.json lists them).
REQUIRED_COMPONENTS = ("unet", "vae", "text_encoder", "tokenizer", "scheduler")
_HASH_CHUNK = 1 << 20


class DiffusionError(Exception):
    """The model cannot be used (extra missing, folder incomplete, load failed, out of
    memory); one line that says what to do."""


class Cancelled(Exception):
    """Raised from the step callback: the image in progress is abandoned."""


# -- the model on disk -------------------------------------------------------------------


def check_model(path: str | os.PathLike[str]) -> Path:
    """The absolute model path, or DiffusionError naming what is missing."""
    path = Path(path).expanduser().absolute()
    if path.is_file():
        if path.suffix.lower() not in SINGLE_FILE_SUFFIXES:
            raise DiffusionError(
                f"diffusion model {path}: a single checkpoint must be a .safetensors or .ckpt "
                "file; otherwise give a diffusers model folder"
            )
        return path
    if not path.is_dir():
        raise DiffusionError(f"diffusion model {path}: no such folder or file")
    index = path / "model_index.json"
    if not index.is_file():
        raise DiffusionError(
            f"diffusion model {path}: not a diffusers model folder (model_index.json is missing)"
        )
    try:
        data = load_json_bounded(index, RECORD_MAX_BYTES, "a model index")
    except (OSError, ValueError) as exc:  # InputFileError is a ValueError
        raise DiffusionError(
            f"diffusion model {path}: model_index.json is unreadable ({exc})"
        ) from None
    if not isinstance(data, dict):
        raise DiffusionError(f"diffusion model {path}: model_index.json is not a JSON object")
    listed = {
        k for k, v in data.items()
        if not k.startswith("_") and isinstance(v, list) and len(v) == 2 and v[0] is not None
    }  # fmt: skip
    missing = [f"{c} (not in model_index.json)" for c in REQUIRED_COMPONENTS if c not in listed]
    for comp in sorted(listed):
        missing += _missing_in(path / comp, comp)
    if missing:
        raise DiffusionError(f"diffusion model {path} is incomplete: missing {', '.join(missing)}")
    return path


def _missing_in(folder: Path, comp: str) -> list[str]:
    if not folder.is_dir():
        return [f"{comp}/"]
    names = set(os.listdir(folder))
    if comp.startswith("tokenizer"):
        if "tokenizer.json" in names or {"vocab.json", "merges.txt"} <= names:
            return []
        return [f"{comp}/vocab.json and merges.txt (or tokenizer.json)"]
    if comp.startswith("scheduler"):
        return [] if "scheduler_config.json" in names else [f"{comp}/scheduler_config.json"]
    if comp in ("feature_extractor", "image_processor"):
        return []
    out = [] if "config.json" in names else [f"{comp}/config.json"]
    if not any(n.endswith(WEIGHT_SUFFIXES) for n in names):
        out.append(f"{comp}/ weights (*.safetensors or *.bin)")
    return out


_FINGERPRINTS: dict[tuple, str] = {}
_FP_LOCK = threading.Lock()


def model_fingerprint(path: str | os.PathLike[str]) -> str:
    """A digest of the model's files (weights and configurations, by content): two runs
    with the same fingerprint used the same model. Remembered per process by file size and
    modification time, so a multi-GB model is read once."""
    path = Path(path)
    files = _model_files(path)
    key = (str(path), tuple((rel, st.st_size, st.st_mtime_ns) for rel, _f, st in files))
    with _FP_LOCK:
        known = _FINGERPRINTS.get(key)
        if known is not None:
            return known
        h = hashlib.blake2b(digest_size=16)
        for rel, f, _st in files:
            h.update(rel.encode("utf-8", "surrogateescape") + b"\0")
            with open(f, "rb") as fh:
                while chunk := fh.read(_HASH_CHUNK):
                    h.update(chunk)
        fp = "blake2b-" + h.hexdigest()
        _FINGERPRINTS[key] = fp
        return fp


def _model_files(path: Path) -> list[tuple[str, Path, os.stat_result]]:
    if path.is_file():
        return [(path.name, path, path.stat())]
    out = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            f = Path(dirpath) / name
            st = f.stat()
            out.append((f.relative_to(path).as_posix(), f, st))
    return out


# -- what one image is made with -------------------------------------------------------


@dataclass(frozen=True)
class DiffusionSpec:
    """Everything that decides a diffusion image besides its source and seed (picklable)."""

    model: str  # absolute path of the folder or checkpoint
    fingerprint: str  # of the model's files
    prompt: str  # the class's template with {class} filled in
    negative_prompt: str
    strength: float
    steps: int
    guidance: float
    size: int

    def key(self) -> str:
        """Canonical text of what decides the pixels (for image ids)."""
        fields = asdict(self)
        fields.pop("model")  # the same weights moved elsewhere draw the same pixels
        return json.dumps(fields, sort_keys=True)

    def provenance(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "strength": self.strength,
            "steps": self.steps,
            "guidance": self.guidance,
            "size": self.size,
            "model": {"path": self.model, "fingerprint": self.fingerprint},
        }


def spec_for(settings: Any, class_name: str) -> DiffusionSpec:
    """The spec of a class from the project's `DiffusionSettings`; DiffusionError when no
    model is set or it is incomplete."""
    if not settings.model:
        raise DiffusionError(
            f"class {class_name} uses diffusion but no model is set "
            "(plan … --diffusion-model DIR, or the Generate tab's diffusion settings)"
        )
    model = check_model(settings.model)
    return DiffusionSpec(
        model=str(model),
        fingerprint=model_fingerprint(model),
        prompt=settings.prompt_for(class_name),
        negative_prompt=settings.negative_prompt,
        strength=float(settings.strength),
        steps=int(settings.steps),
        guidance=float(settings.guidance),
        size=int(settings.size),
    )


# -- the pipeline (once per process) ---------------------------------------------------

_PIPE_LOCK = threading.Lock()
_PIPES: dict[tuple[str, str], tuple[Any, str, Any]] = {}


def device_and_dtype() -> tuple[str, Any]:
    """CUDA in float16 when torch sees a GPU, else the CPU in float32."""
    import torch

    if torch.cuda.is_available():
        return "cuda", torch.float16
    return "cpu", torch.float32


def pipeline(spec: DiffusionSpec) -> tuple[Any, str, Any]:
    """(pipeline, device, dtype), loaded on first use and kept (one model at a time: the
    weights are gigabytes)."""
    key = (spec.model, spec.fingerprint)
    with _PIPE_LOCK:
        hit = _PIPES.get(key)
        if hit is not None:
            return hit
        hint = missing_extra()
        if hint:
            raise DiffusionError(hint)
        _PIPES.clear()
        loaded = _load(spec.model)
        _PIPES[key] = loaded
        return loaded


def _load(model: str) -> tuple[Any, str, Any]:
    import torch
    from diffusers import StableDiffusionImg2ImgPipeline
    from diffusers.utils import logging as dlog

    device, dtype = device_and_dtype()
    dlog.set_verbosity_error()  # no "outdated config" chatter on the user's terminal
    dlog.disable_progress_bar()
    with _QuietTransformers(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch_dtype's rename in diffusers
        try:
            if Path(model).is_file():
                pipe = StableDiffusionImg2ImgPipeline.from_single_file(
                    model, torch_dtype=dtype, local_files_only=True
                )
            else:
                pipe = StableDiffusionImg2ImgPipeline.from_pretrained(
                    model, torch_dtype=dtype, local_files_only=True
                )
            pipe = pipe.to(device)
        except torch.cuda.OutOfMemoryError as exc:
            raise DiffusionError(
                f"diffusion model {model}: out of GPU memory while loading it ({_first(exc)})"
            ) from exc
        except Exception as exc:
            extra = ""
            if Path(model).is_file():
                extra = (
                    "; a single checkpoint needs its base model's configuration in the local "
                    "Hugging Face cache (no network is used): give a diffusers model folder"
                )
            raise DiffusionError(
                f"diffusion model {model} could not be loaded ({_first(exc)}){extra}"
            ) from exc
    pipe.set_progress_bar_config(disable=True)
    return pipe, device, dtype


class _QuietTransformers:
    """transformers logs a progress bar and notes while loading weights: keep them quiet."""

    def __enter__(self) -> None:
        from transformers.utils import logging as tlog

        self._level = tlog.get_verbosity()
        tlog.set_verbosity_error()
        tlog.disable_progress_bar()

    def __exit__(self, *exc: object) -> None:
        from transformers.utils import logging as tlog

        tlog.set_verbosity(self._level)


def _first(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def prepare_source(image: np.ndarray, size: int) -> Any:
    """The source as an RGB PIL image of size×size: the centred square, resized."""
    from PIL import Image

    if image.ndim == 2:
        img = Image.fromarray(image, "L")
    elif image.shape[2] == 4:
        img = Image.fromarray(image, "RGBA")
    else:
        img = Image.fromarray(image[..., :3] if image.shape[2] >= 3 else image[..., 0])
    img = img.convert("RGB")
    w, h = img.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    img = img.crop((left, top, left + side, top + side))
    if side != size:
        img = img.resize((size, size), Image.Resampling.LANCZOS)
    return img


StepCallback = Callable[[int, int], None]


def img2img(
    spec: DiffusionSpec,
    image: np.ndarray,
    seed: int,
    *,
    on_step: StepCallback | None = None,
    cancel: threading.Event | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """One image from `image` (uint8 array) with `seed`: (uint8 RGB array, provenance
    params). `on_step(done, total)` after each denoising step; Cancelled when `cancel` is
    set (checked after each step). DiffusionError on a model or memory failure."""
    import torch

    pipe, device, dtype = pipeline(spec)
    source = prepare_source(image, spec.size)
    generator = torch.Generator("cpu").manual_seed(int(seed))

    def step_end(p: Any, i: int, _t: Any, kwargs: dict) -> dict:
        if on_step is not None:
            on_step(i + 1, int(getattr(p, "num_timesteps", 0) or 0))
        if cancel is not None and cancel.is_set():
            raise Cancelled
        return kwargs

    if cancel is not None and cancel.is_set():
        raise Cancelled
    try:
        with torch.inference_mode():
            out = pipe(
                prompt=spec.prompt,
                negative_prompt=spec.negative_prompt or None,
                image=source,
                strength=spec.strength,
                num_inference_steps=spec.steps,
                guidance_scale=spec.guidance,
                generator=generator,
                output_type="np",
                callback_on_step_end=step_end,
            )
    except Cancelled:
        raise
    except torch.cuda.OutOfMemoryError as exc:
        raise DiffusionError(
            f"out of GPU memory making a {spec.size}-px diffusion image ({_first(exc)}); "
            "lower the size or free the GPU"
        ) from exc
    except (MemoryError, RuntimeError) as exc:
        if isinstance(exc, MemoryError) or "out of memory" in str(exc).lower():
            raise DiffusionError(
                f"out of memory making a {spec.size}-px diffusion image; lower the size"
            ) from exc
        raise DiffusionError(f"diffusion img2img failed: {_first(exc)}") from exc
    pixels = np.asarray(out.images[0], dtype=np.float32)
    result = np.clip(np.round(pixels * 255), 0, 255).astype(np.uint8)
    params = spec.provenance()
    params["device"] = device
    params["dtype"] = str(dtype).removeprefix("torch.")
    return result, params
