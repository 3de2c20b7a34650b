"""The progress bar every job panel uses: it follows each event without painting each one."""

from PySide6.QtWidgets import QProgressBar

from imbalance_studio.gui.views.progress_bar import ProgressBar


def counting(cls):
    """`cls` that counts its paints (a synchronous repaint passes no event filter)."""

    class Counted(cls):
        paints = 0

        def paintEvent(self, event):
            self.paints += 1
            super().paintEvent(event)

    return Counted()


def shown(qtbot, cls, maximum: int):
    """A `cls` bar on screen, counting "%v / %m" (every value is new text), paints zeroed."""
    bar = counting(cls)
    qtbot.addWidget(bar)
    bar.setFormat("%v / %m")
    bar.setRange(0, maximum)
    bar.show()
    qtbot.waitExposed(bar)
    qtbot.wait(50)
    bar.paints = 0
    return bar


def test_a_thousand_values_are_painted_a_few_times_and_the_last_one_shows(qtbot):
    bar = shown(qtbot, ProgressBar, 1000)
    for done in range(1, 1001):
        bar.setValue(done)
        assert bar.value() == done  # what callers read back is the newest value
    assert bar.paints == 1, "the first value at once, the others wait for their turn"
    assert bar.text() == "1 / 1000"
    qtbot.waitUntil(lambda: bar.text() == "1000 / 1000", timeout=2_000)
    qtbot.wait(100)
    assert bar.paints <= 3
    assert bar.value() == 1000


def test_a_waiting_value_shows_against_the_range_of_its_turn(qtbot):
    bar = ProgressBar()
    qtbot.addWidget(bar)
    bar.setRange(0, 10)
    bar.setValue(1)  # shown at once
    bar.setValue(15)  # waits; out of range for now, so value() is what Qt would say
    assert bar.value() == 1
    bar.setMaximum(20)  # a job that learnt its total is larger
    assert bar.value() == 15
    qtbot.waitUntil(lambda: bar.text() == "75%", timeout=2_000)
    bar.setValue(3)  # waits (one was shown just now) ...
    bar.reset()  # ... and is dropped with the rest
    qtbot.wait(100)
    assert bar.value() == -1 and bar.text() == ""


def test_plain_qprogressbar_paints_every_value(qtbot):
    """Why the class exists: the stock bar repaints, synchronously, on each new text."""
    bar = shown(qtbot, QProgressBar, 100)
    for done in range(1, 101):
        bar.setValue(done)
    assert bar.paints >= 90
