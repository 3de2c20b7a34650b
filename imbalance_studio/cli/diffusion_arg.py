"""The diffusion img2img options of `plan` and `export` (`--method diffusion`).

They set the project's `generation.diffusion` settings; a class whose method is diffusion
needs the `[diffusion]` extra and a complete local model, both checked before any scan.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import CliError

DIFFUSION_OPTIONS = (
    "diffusion_model", "prompt", "negative_prompt", "strength", "steps", "guidance", "size",
)  # fmt: skip


def add_diffusion_arguments(p: argparse.ArgumentParser) -> None:
    # Marks the namespace: other commands (features, evaluate) have a --size of their own.
    p.set_defaults(has_diffusion_options=True)
    g = p.add_argument_group(
        'diffusion img2img (--method diffusion; needs pip install "imbalance-studio[diffusion]")'
    )
    g.add_argument(
        "--diffusion-model",
        metavar="DIR",
        help="a local diffusers Stable Diffusion model folder, or one .safetensors/.ckpt "
        "checkpoint (never downloaded)",
    )
    g.add_argument(
        "--prompt",
        metavar="TEXT",
        help='prompt template; {class} is the class name (default "a photo of a {class}")',
    )
    g.add_argument("--negative-prompt", metavar="TEXT", help="what the images must not show")
    g.add_argument("--strength", type=float, help="how far from the source, 0-1 (default 0.5)")
    g.add_argument("--steps", type=int, help="denoising steps (default 30)")
    g.add_argument("--guidance", type=float, help="classifier-free guidance scale (default 7.5)")
    g.add_argument("--size", type=int, help="output size in pixels, a multiple of 8 (default 512)")


def diffusion_wanted(args: argparse.Namespace) -> bool:
    if not getattr(args, "has_diffusion_options", False):
        return False
    return getattr(args, "method", None) == "diffusion" or any(
        getattr(args, name, None) is not None for name in DIFFUSION_OPTIONS
    )


def apply_diffusion_args(args: argparse.Namespace, project) -> None:
    """Set the project's diffusion settings from the options given (others stay); CliError
    with one line for a bad value, a missing extra or an incomplete model."""
    from ..core.diffusion_settings import DiffusionSettings

    settings = project.generation.diffusion
    changes = {
        "prompt": args.prompt,
        "negative_prompt": args.negative_prompt,
        "strength": args.strength,
        "steps": args.steps,
        "guidance": args.guidance,
        "size": args.size,
    }
    if args.diffusion_model is not None:
        changes["model"] = str(Path(args.diffusion_model).expanduser().absolute())
    data = settings.model_dump()
    data.update({k: v for k, v in changes.items() if v is not None})
    try:
        project.generation.diffusion = DiffusionSettings.model_validate(data)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise CliError(f"diffusion settings: {_first_error(exc)}") from None


def check_diffusion_ready(project) -> None:
    """The extra is installed and the model is complete (checked before minutes of work)."""
    from ..core.generation.diffusion import DiffusionError, check_model, missing_extra

    hint = missing_extra()
    if hint:
        raise CliError(hint)
    model = project.generation.diffusion.model
    if not model:
        raise CliError("--method diffusion needs --diffusion-model DIR (a local model)")
    try:
        check_model(model)
    except DiffusionError as exc:
        raise CliError(str(exc)) from None


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        msg = str(first.get("msg", exc)).removeprefix("Value error, ")
        return f"{where}: {msg}" if where else msg
    return str(exc)
