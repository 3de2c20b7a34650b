"""Long work in the core is a generator of progress events whose return value is the result;
`drive` is its plain-call form (the GUI runs the generator in a worker, the CLI with tqdm)."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, TypeVar

R = TypeVar("R")


def drive(gen: Generator[Any, None, R], progress: Callable[[Any], None] | None = None) -> R:
    """Run a progress generator to its end and return its result."""
    while True:
        try:
            event = next(gen)
        except StopIteration as stop:
            return stop.value
        if progress is not None:
            progress(event)
