"""The CLI's one driver of core progress generators (its counterpart of the GUI's job runner):
`run_steps` runs one to its end with a tqdm bar on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator
from typing import Any, TypeVar

from ..core.progress import drive

R = TypeVar("R")


def run_steps(gen: Generator[Any, None, R], desc: str, quiet: bool = False) -> R:
    """Run a core progress generator to its end and return its result, with a progress bar
    (`desc` until an event names its phase) unless `quiet` or stderr is not a terminal.

    Ctrl+C (and SIGTERM/SIGHUP, see `cli.signals`) or an error closes the generator, so its
    cleanup runs (temporary folders, the last file write), and is re-raised."""
    update, close = tqdm_progress(desc, quiet)
    try:
        return drive(gen, update)
    finally:
        gen.close()
        close()


def tqdm_progress(
    desc: str, quiet: bool = False
) -> tuple[Callable[[Any], None], Callable[[], None]]:
    """Return (callback, close) updating one tqdm bar from events with done/total/phase."""
    if quiet or not sys.stderr.isatty():
        return (lambda _event: None), (lambda: None)
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def update(event: Any) -> None:
        if not (hasattr(event, "done") and hasattr(event, "total")):
            return  # a partial result (the scan's `Listed` hand-over): no bar to move
        phase = getattr(event, "phase", desc)
        bar = bars.get(phase)
        if bar is None:
            for old in bars.values():
                old.close()
            bars.clear()
            bar = bars[phase] = tqdm(total=event.total, desc=phase, unit="", leave=False)
        bar.total = event.total
        bar.n = event.done
        bar.refresh()

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return update, close
