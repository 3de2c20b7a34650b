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
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

INTERVAL_MS = 500


class MainThreadGC(QObject):
    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.timer = QTimer(self, interval=INTERVAL_MS)
        self.timer.timeout.connect(self.collect)
        gc.disable()
        self.timer.start()

    def collect(self) -> None:
        t0, t1, t2 = gc.get_threshold()
        c0, c1, c2 = gc.get_count()
        if c0 > t0:
            if c1 > t1:
                gc.collect(2 if c2 > t2 else 1)
            else:
                gc.collect(0)


def install(app: QCoreApplication) -> MainThreadGC:
    """Collect cycles on the GUI thread from now on (idempotent)."""
    existing = app.findChild(MainThreadGC)
    return existing if existing is not None else MainThreadGC(app)
