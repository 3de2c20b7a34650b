"""tqdm progress for core generators (the CLI's counterpart of the GUI's progress bar)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def tqdm_progress(
    desc: str, quiet: bool = False
) -> tuple[Callable[[Any], None], Callable[[], None]]:
    """Return (callback, close) updating one tqdm bar from events with done/total/phase."""
    if quiet or not sys.stderr.isatty():
        return (lambda _event: None), (lambda: None)
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def update(event: Any) -> None:
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
