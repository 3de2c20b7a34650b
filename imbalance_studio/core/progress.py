"""Long work in the core is a generator of progress events whose return value is the result;
`drive` is its plain-call form (the GUI runs the generator in a worker, the CLI with tqdm)."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

R = TypeVar("R")


@dataclass(frozen=True)
class StepProgress:
    """How far a computation is, for work that has no progress type of its own (the split,
    the plan). Its steps are short so that a runner can pause or cancel it between two."""

    stage: str
    done: int
    total: int

    @property
    def message(self) -> str:
        return f"{self.stage}: {self.done} of {self.total}"


def drive(gen: Generator[Any, None, R], progress: Callable[[Any], None] | None = None) -> R:
    """Run a progress generator to its end and return its result."""
    while True:
        try:
            event = next(gen)
        except StopIteration as stop:
            return stop.value
        if progress is not None:
            progress(event)
