"""What a generation run reports: its progress events, its result and its one error type."""

from __future__ import annotations

from dataclasses import dataclass

from .records import GeneratedImage


class GenerateError(Exception):
    """Generation cannot go on (staging unusable, disk full, a stack that fails); one line."""


@dataclass(frozen=True)
class GenerateProgress:
    phase: str  # "generating"
    done: int  # slots finished (made or reused)
    total: int
    message: str = ""
    image: GeneratedImage | None = None  # the image just finished, if any
    problem: str | None = None  # a source that failed, a class without sources
    made: int = 0
    reused: int = 0
    step: int = 0  # diffusion: denoising steps done of the image in progress
    steps: int = 0  # diffusion: its denoising steps in all (0: not a diffusion image)


class GenerateResult(list):
    """The images the plan uses (a list of `GeneratedImage`, class by class), plus what
    happened: counts, sources that failed to decode and problems to report."""

    def __init__(self, images: list[GeneratedImage] = ()) -> None:  # type: ignore[assignment]
        super().__init__(images)
        self.made = 0
        self.reused = 0
        self.bad_sources: dict[str, str] = {}
        self.problems: list[str] = []
