"""Python's cycle collector, run on the GUI thread only.

The cycle collector runs in whichever thread happens to allocate when a threshold is crossed:
often a worker thread. If the garbage it finds holds a Qt object (a widget in a lambda cycle,
a closed panel), PySide6 deletes that object from the worker thread and the process crashes.
So automatic collection is switched off and a timer on the GUI thread collects instead, with
the same generation thresholds.

This is the idea of pyqtgraph's `pyqtgraph.util.garbage_collector.GarbageCollector`, which we
do not use, for three reasons (pyqtgraph 0.14):
- importing it imports the whole pyqtgraph package (numpy and every graphics item, about
  0.75 s), and the window installs the collector before its first paint, when pyqtgraph must
  not be loaded yet (tests/gui/test_launch.py checks that);
- it is a plain Python object owning a parentless timer: whoever drops the last reference
  stops the timer and leaves automatic collection switched off for good, so nothing is ever
  collected again. Ours is a child of the QApplication, lives as long as it does, and
  `install` finds it again (idempotent, as the tests' per-test fixture needs);
- it reads the thresholds once at start and collects generation 0, then 1, then 2 in turn
  (each of the later ones repeats the earlier); ours reads them at each tick, so
  `gc.set_threshold` is honoured, and runs one collection of the oldest generation due.

After a full collection its survivors are frozen (`gc.freeze()`): a full collection walks
every tracked object, and once pyqtgraph and albumentations are loaded that is ~270,000
objects and ~270 ms on the GUI thread, a visible stall each time. What survives a full
collection is the long-lived heap (modules, classes, the open dataset's structures); freezing
it keeps later full collections down to what was made since. The cost: a reference cycle
among frozen objects that becomes garbage later is not collected (objects freed by their
reference count, which is nearly all of them, still are).
"""

from __future__ import annotations

import gc
import sys
import time

from PySide6.QtCore import QCoreApplication, QObject, QTimer

INTERVAL_MS = 500
# While a job runs, collections wait (up to this long): see `MainThreadGC.collect`.
MAX_POSTPONE_S = 5.0


class MainThreadGC(QObject):
    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.timer = QTimer(self, interval=INTERVAL_MS)
        self.timer.timeout.connect(self.collect)
        gc.disable()
        self.timer.start()
        self._waiting_since: float | None = None  # the first tick that waited for a job

    def collect(self) -> None:
        """One collection of the oldest generation due, unless a job is running (for at most
        MAX_POSTPONE_S). Whatever a worker is building (a plan over a million paths: dicts and
        lists of a million entries) is young and alive; a collection in the middle walks all
        of it, 30-70 ms on the GUI thread, to free nothing. When the job ends its result is
        frozen on arrival (`adopt`) and the postponed collection finds little to walk."""
        if _jobs_running():
            now = time.monotonic()
            if self._waiting_since is None:
                self._waiting_since = now
            if now - self._waiting_since < MAX_POSTPONE_S:
                return
        self._waiting_since = None
        t0, t1, t2 = gc.get_threshold()
        c0, c1, c2 = gc.get_count()
        if c0 > t0:
            if c1 > t1 and c2 > t2:
                gc.collect(2)
                gc.freeze()  # see the module docstring
            elif c1 > t1:
                gc.collect(1)
            else:
                gc.collect(0)


def _jobs_running() -> bool:
    """Whether the window's job runner has a job running (without importing it: the runner
    brings superqt, which start-up does not load)."""
    jobs = sys.modules.get(__package__ + ".jobs")
    runner = getattr(jobs, "_RUNNER", None)
    if runner is None:
        return False
    import shiboken6

    return shiboken6.isValid(runner) and runner.running()


# A result with more tracked containers' items than this is frozen on arrival (`adopt`).
LARGE_RESULT = 100_000


def adopt(size: int) -> None:
    """A worker has just handed the GUI thread a long-lived result holding `size` items in
    containers the collector tracks (a plan's tuples of a million paths). Freeze now, so the
    next collection on the GUI thread does not walk them: a tuple is only found to hold no
    cycles by visiting every item, 40-120 ms at a million paths, once per new plan, i.e.
    after every mark. Small results are left to the timer (the cost of freezing: cyclic
    garbage made since the last tick is never collected, see the module docstring)."""
    if size >= LARGE_RESULT and not gc.isenabled():
        gc.freeze()


def adopt_modules() -> None:
    """Modules a worker has just imported (the warm-up while a folder is listed) live as long
    as the process: freeze them, or the next collections on the GUI thread walk their ~50,000
    objects (~30 ms each time, until a full collection)."""
    if not gc.isenabled():
        gc.freeze()


def install(app: QCoreApplication) -> MainThreadGC:
    """Collect cycles on the GUI thread from now on (idempotent)."""
    existing = app.findChild(MainThreadGC)
    return existing if existing is not None else MainThreadGC(app)
