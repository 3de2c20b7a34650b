"""SIGTERM, SIGHUP and SIGINT close the window the way its close button does.

A logout, a process manager or a closed terminal sends SIGTERM/SIGHUP; by default Python
dies at once and no `closeEvent` runs: jobs are not cancelled, the last edit is never
autosaved, pools are not shut down. Qt's event loop sleeps in C, where the interpreter never
runs a Python signal handler, so the standard recipe is used: `signal.set_wakeup_fd` makes
the C-level handler write the signal number into a socket, and a QSocketNotifier on the other
end wakes the loop and runs `terminate` on the GUI thread.

`terminate` marks the window as closing for a signal (nobody can answer a "Save?" question
then: the curation keeps its autosave, offered back at the next start), closes it (which
cancels jobs and shuts the pools) and leaves the event loop with 128 + the signal number,
the shell's convention. A second signal while closing ends the process at once: its pool
workers follow by themselves (`core.processes`).
"""

from __future__ import annotations

import contextlib
import signal
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSocketNotifier
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    from .main_window import MainWindow

SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, n))


def _wake_only(_signum: int, _frame: object) -> None:
    """The Python-level handler: the work happens when the notifier fires."""


class SignalCloser(QObject):
    """Closes `window` on SIGTERM/SIGHUP/SIGINT, then calls `quit(128 + signum)`."""

    def __init__(
        self,
        window: MainWindow,
        quit: Callable[[int], object] | None = None,
        signals: tuple[int, ...] = SIGNALS,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.signum: int | None = None  # the signal that closed the window, once one did
        self._quit = quit or QApplication.exit
        self._signals = signals
        self._reader, self._writer = socket.socketpair()
        for sock in (self._reader, self._writer):
            sock.setblocking(False)
        # Must run on the main thread (Python's rule), as the window does.
        self._old_wakeup = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._old_handlers = {}
        for signum in signals:
            self._old_handlers[signum] = signal.signal(signum, _wake_only)
            if hasattr(signal, "siginterrupt"):  # other threads' system calls keep going
                signal.siginterrupt(signum, False)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_wakeup)

    @property
    def exit_code(self) -> int | None:
        return None if self.signum is None else 128 + self.signum

    def _on_wakeup(self) -> None:
        received = b""
        with contextlib.suppress(BlockingIOError, InterruptedError):
            received = self._reader.recv(256)
        for signum in received:  # one byte per signal: its number
            if signum in self._signals:
                self.terminate(signum)
                return

    def terminate(self, signum: int) -> None:
        """Close the window as if asked to, without questions, and leave the event loop."""
        if self.signum is not None:
            return
        self.signum = signum
        for other in self._signals:  # a second signal ends the process at once
            signal.signal(other, signal.SIG_DFL)
        self.window.closing_on_signal = signum
        self.window.close()
        self._quit(128 + signum)

    def uninstall(self) -> None:
        """Give the signals and the wakeup fd back (tests; the app simply exits)."""
        self._notifier.setEnabled(False)
        with contextlib.suppress(ValueError):
            signal.set_wakeup_fd(self._old_wakeup)
        for signum, handler in self._old_handlers.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        self._reader.close()
        self._writer.close()


def close_on_signals(window: MainWindow) -> SignalCloser:
    return SignalCloser(window)
