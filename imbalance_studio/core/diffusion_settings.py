"""The project's diffusion img2img settings: which local model, how to prompt it, how hard."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from .project_fields import Name, StrictModel

DEFAULT_PROMPT = "a photo of a {class}"
# Output sizes a Stable Diffusion VAE takes: multiples of 8 (its latents are 1/8 the size).
SIZE_MULTIPLE = 8


class DiffusionSettings(StrictModel):
    """Diffusion img2img (`Method.DIFFUSION` classes): a local model and how to prompt it.

    `model` is a diffusers model folder or a single `.safetensors`/`.ckpt` checkpoint
    (absolute, or relative to the project file). A prompt template's `{class}` becomes the
    class name; `prompts` holds per-class templates, `prompt` the one for other classes."""

    model: Name | None = None
    prompt: str = DEFAULT_PROMPT
    prompts: dict[Name, str] = Field(default_factory=dict)
    negative_prompt: str = ""
    strength: float = Field(0.5, gt=0, le=1)  # how far from the source (1: ignore it)
    steps: int = Field(30, ge=1, le=1000)
    guidance: float = Field(7.5, ge=0, le=50)
    size: int = Field(512, ge=SIZE_MULTIPLE, le=2048)

    @field_validator("size")
    @classmethod
    def _multiple_of_8(cls, size: int) -> int:
        if size % SIZE_MULTIPLE:
            raise ValueError(f"size {size}: must be a multiple of {SIZE_MULTIPLE}")
        return size

    @model_validator(mode="after")
    def _denoises(self) -> DiffusionSettings:
        # img2img runs int(steps * strength) denoising steps: none at all is an error there.
        if int(self.steps * self.strength) < 1:
            raise ValueError(
                f"steps {self.steps} × strength {self.strength:g} gives no denoising step; "
                "raise steps or strength"
            )
        return self

    def template_for(self, class_name: str) -> str:
        return self.prompts.get(class_name, self.prompt)

    def prompt_for(self, class_name: str) -> str:
        return self.template_for(class_name).replace("{class}", class_name)
