"""SIGTERM and SIGHUP end a command the way Ctrl+C does.

A process manager, a logout or a closed terminal sends SIGTERM or SIGHUP; by default Python
dies on the spot, skipping every `finally` (pools are not shut down, a generate run does not
say what it kept). Here they raise `Terminated`, a KeyboardInterrupt, in the main thread: the
command cancels through its Ctrl+C path (finished images are kept, queued work is dropped)
and the process exits with the shell's convention for "ended by signal N", 128 + N:
130 for Ctrl+C (SIGINT), 129 for SIGHUP, 143 for SIGTERM, so a script can tell them apart.

The handler is one-shot: a second SIGTERM or SIGHUP during the cleanup ends the process at
once (its pool workers follow, see `core.processes`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


class Terminated(KeyboardInterrupt):
    """The command was asked to stop by signal `signum`."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_terminated(signum: int, _frame: object) -> None:
    for other in SIGNALS:
        signal.signal(other, signal.SIG_DFL)
    raise Terminated(signum)


@contextmanager
def signals_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM/SIGHUP raise `Terminated` (main thread only; else no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _raise_terminated) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)


def interrupted_status(exc: KeyboardInterrupt) -> int:
    """The exit status for an interrupted command: 128 + the signal number."""
    return 128 + getattr(exc, "signum", signal.SIGINT)
