"""Worker process pools that never outlive the process that made them.

Every pool of ours comes from `worker_pool`: a "spawn" pool (forking a process that runs Qt or
other threads can deadlock) whose workers exit by themselves once their parent is gone. A
parent killed outright (SIGKILL, a crash, the OOM killer) cannot shut its pool down; its
workers would otherwise sit forever on the task queue, holding the terminal's pipes and the
multiprocessing resource tracker open (the tracker exits once every holder of its pipe is gone).

Two mechanisms, because neither is enough alone:

- Linux `prctl(PR_SET_PDEATHSIG, SIGTERM)`: the kernel signals the worker the moment the
  parent dies. The kernel counts the *thread* that spawned the worker as its parent, and a
  pool spawns workers from whichever thread submits work (a Qt pool thread that later
  expires, a short-lived starter thread), so the signal also fires when that thread ends.
  The handler therefore exits only when the parent process really is gone (`getppid()`
  changed) and otherwise ignores it; a restarting handler keeps system calls uninterrupted.
- A daemon thread in each worker polls `getppid()`: portable, and it also catches a parent
  that died before the signal was armed or a worker busy in C code when the signal came.

Workers leave SIGINT, SIGTERM and SIGHUP to their parent while it lives (as the resource
tracker does): a Ctrl+C in the terminal or a `kill` of the whole process group reaches the
parent too, which cancels its work and shuts the pool down; a worker that died of the same
signal first would only turn a clean cancel into a "broken pool" error.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

# How often a worker checks that its parent still lives (the portable fallback).
ORPHAN_POLL_S = 0.5
# Exit status of a worker that found itself orphaned (nobody reads it; for `ps` and logs).
ORPHAN_EXIT = 128 + signal.SIGTERM

_PR_SET_PDEATHSIG = 1
_PR_GET_PDEATHSIG = 2
# The signals a worker leaves to its parent (SIGHUP does not exist on Windows).
_PARENT_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)

_parent_pid: int | None = None


def worker_pool(
    workers: int,
    initializer: Callable[..., Any] | None = None,
    initargs: tuple[Any, ...] = (),
) -> ProcessPoolExecutor:
    """A spawn-context process pool whose workers exit when this process dies.

    Each worker first ties its life to this process, then runs `initializer(*initargs)`.
    Shut it down with `cancel_futures=True` when work is abandoned.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        max(1, workers),
        mp_context=ctx,
        initializer=_start_worker,
        initargs=(os.getpid(), initializer, tuple(initargs)),
    )


def _start_worker(
    parent_pid: int, initializer: Callable[..., Any] | None, initargs: tuple[Any, ...]
) -> None:
    exit_with_parent(parent_pid)
    # Registered before the initializer imports anything: the libraries' own exit hooks run
    # first (last in, first out), then this one skips the interpreter's teardown of every
    # imported module, which with cv2/albumentations loaded takes seconds on a busy
    # machine and kept a cancelled run's workers alive that long after their last task.
    atexit.register(_exit_now)
    if initializer is not None:
        initializer(*initargs)


def exit_with_parent(parent_pid: int, poll_s: float = ORPHAN_POLL_S) -> None:
    """Make this (worker) process exit as soon as `parent_pid` is no longer its parent."""
    global _parent_pid
    _parent_pid = parent_pid
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in _PARENT_SIGNALS:
        signal.signal(signum, _on_parent_signal)
        if hasattr(signal, "siginterrupt"):  # a false alarm must not fail a read() in C code
            signal.siginterrupt(signum, False)
    arm_parent_death_signal()
    if _orphaned():  # the parent died before the signal was armed
        os._exit(ORPHAN_EXIT)
    threading.Thread(
        target=_watch_parent, args=(poll_s,), name="exit-with-parent", daemon=True
    ).start()


def arm_parent_death_signal(signum: int = signal.SIGTERM) -> bool:
    """Ask Linux to send `signum` to this process when its parent dies; False elsewhere."""
    import ctypes

    prctl = _prctl()
    return prctl is not None and prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(signum)) == 0


def parent_death_signal() -> int:
    """The parent-death signal armed in this process (0: none, or not Linux)."""
    import ctypes

    prctl, value = _prctl(), ctypes.c_int(0)
    if prctl is None or prctl(_PR_GET_PDEATHSIG, ctypes.byref(value)) != 0:
        return 0
    return value.value


def _prctl() -> Any:
    """libc's prctl(2) through ctypes (no extension module to build), or None."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.restype = ctypes.c_int
    return prctl


def _exit_now() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


def _orphaned() -> bool:
    return _parent_pid is not None and os.getppid() != _parent_pid


def _on_parent_signal(signum: int, _frame: object) -> None:
    if _orphaned():
        os._exit(ORPHAN_EXIT)
    # Otherwise: the spawning thread ended (see above), or the signal went to the whole
    # process group and the parent, which got it too, will shut the pool down.


def _watch_parent(poll_s: float) -> None:
    while True:
        time.sleep(poll_s)
        if _orphaned():
            # No cleanup: the pool's queues are dead with the parent, and running atexit
            # handlers could block on them.
            os._exit(ORPHAN_EXIT)
