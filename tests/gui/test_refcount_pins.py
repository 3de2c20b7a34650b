"""PySide6 6.12 over-releases None and the bool `Signal.emit()` returns; the window must
survive any number of emitted signals (on Python 3.11 these objects are not immortal)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import imbalance_studio.gui  # pins None, True and False
from PySide6.QtCore import QCoreApplication, QObject, Signal

class Source(QObject):
    plain = Signal()
    values = Signal(list)

app = QCoreApplication([])
src = Source()
src.values.connect(lambda _v: None)
for _ in range(50_000):
    src.plain.emit()  # no receiver
    src.values.emit([])
print("survived")
"""


def test_many_emitted_signals_do_not_use_up_true_or_false():
    # In a child process: the failure is an interpreter abort ("bool_dealloc").
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert proc.returncode == 0 and "survived" in proc.stdout, proc.stderr[-500:]
