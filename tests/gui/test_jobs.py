"""The one job runner: results on the GUI thread, replace, cancel, owner guards, errors."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass

import pytest
from PySide6.QtCore import QObject

from imbalance_studio.gui.jobs import JobRunner, is_progress


@dataclass(frozen=True)
class Step:
    done: int
    total: int


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []
        self.threads: set[int] = set()

    def cb(self, name: str):
        def call(*args):
            self.threads.add(threading.get_ident())
            self.events.append((name, args[0] if args else None))

        return call

    def names(self) -> list[str]:
        return [n for n, _ in self.events]

    def options(self) -> dict:
        return {k: self.cb(k) for k in ("progress", "partial", "done", "error", "finished")}


def counting(n: int, cleanup: list, delay: float = 0.0):
    try:
        for i in range(1, n + 1):
            if delay:
                time.sleep(delay)
            yield Step(i, n)
        yield "partial result"
        return n * 10
    finally:
        cleanup.append(threading.get_ident())


@pytest.fixture
def runner(qtbot):
    r = JobRunner()
    yield r
    r.shutdown(5000)


@pytest.fixture(autouse=True)
def no_hold_left_over():
    """Holds are module state (the window's, shared by its jobs): none leaks between tests."""
    from imbalance_studio.gui import jobs

    jobs._held_until = 0.0
    yield
    jobs._held_until = 0.0


def wait_finished(qtbot, rec: Recorder, timeout=5000) -> None:
    qtbot.waitUntil(lambda: "finished" in rec.names(), timeout=timeout)


def test_generator_job_reports_progress_partials_and_result_on_the_gui_thread(qtbot, runner):
    rec, cleanup = Recorder(), []
    runner.start(counting, 3, cleanup, **rec.options())
    wait_finished(qtbot, rec)
    assert rec.names() == ["progress"] * 3 + ["partial", "done", "finished"]
    assert rec.events[3] == ("partial", "partial result")
    assert rec.events[4] == ("done", 30)
    assert rec.threads == {threading.get_ident()}  # every callback on the GUI thread
    assert cleanup and cleanup[0] != threading.get_ident()  # closed in the worker thread
    assert not runner.running()


def test_function_job_and_its_error(qtbot, runner):
    rec = Recorder()
    runner.start(sum, [1, 2, 3], **rec.options())
    wait_finished(qtbot, rec)
    assert rec.events[0] == ("done", 6)

    def boom():
        raise ValueError("no such folder")

    rec = Recorder()
    runner.start(boom, **rec.options())
    wait_finished(qtbot, rec)
    assert rec.names() == ["error", "finished"]
    assert isinstance(rec.events[0][1], ValueError)


def test_a_runtime_error_inside_a_generator_is_reported_not_swallowed(qtbot, runner):
    def gen():
        yield Step(1, 2)
        raise RuntimeError("pool broke")

    rec = Recorder()
    runner.start(gen, **rec.options())
    wait_finished(qtbot, rec)
    assert rec.names() == ["progress", "error", "finished"]
    assert str(rec.events[1][1]) == "pool broke"


def test_a_newer_job_with_the_same_key_replaces_the_older(qtbot, runner):
    old, new, cleanup = Recorder(), Recorder(), []
    runner.start(counting, 200, cleanup, key="preview", delay=0.01, **old.options())
    qtbot.waitUntil(lambda: "progress" in old.names(), timeout=5000)
    runner.start(counting, 2, [], key="preview", **new.options())
    wait_finished(qtbot, new)
    wait_finished(qtbot, old)
    assert ("done", 20) in new.events
    assert "done" not in old.names()  # the replaced job's result is never delivered
    assert len([n for n in old.names() if n == "progress"]) < 200  # and it stopped early
    assert cleanup  # its generator was closed


def test_cancel_stops_a_generator_between_steps(qtbot, runner):
    rec, cleanup = Recorder(), []
    job = runner.start(counting, 500, cleanup, delay=0.005, **rec.options())
    qtbot.waitUntil(lambda: "progress" in rec.names(), timeout=5000)
    job.cancel()
    wait_finished(qtbot, rec)
    assert "done" not in rec.names()
    assert cleanup and cleanup[0] != threading.get_ident()
    assert not job.running


def test_callbacks_are_dropped_once_the_owner_is_gone(qtbot, runner):
    owner = QObject()
    rec, cleanup = Recorder(), []
    gate = threading.Event()

    def waits():
        gate.wait(5)
        yield Step(1, 1)
        return 1

    runner.start(waits, owner=owner, **rec.options())
    owner.deleteLater()
    qtbot.waitUntil(lambda: not _valid(owner), timeout=5000)
    gate.set()
    assert runner.shutdown(5000)
    qtbot.wait(50)  # let queued signals arrive
    assert rec.events == []
    del cleanup


def test_shutdown_cancels_every_job_and_waits(qtbot, runner):
    cleanup: list = []
    recs = [Recorder(), Recorder()]
    for rec in recs:
        runner.start(counting, 10_000, cleanup, delay=0.01, **rec.options())
    qtbot.waitUntil(lambda: all("progress" in r.names() for r in recs), timeout=5000)
    assert runner.running()
    assert runner.shutdown(5000)
    assert len(cleanup) == 2


def test_synchronous_runner_runs_inline():
    r = JobRunner(synchronous=True)
    rec = Recorder()
    r.start(counting, 2, [], **rec.options())
    assert rec.names() == ["progress", "progress", "partial", "done", "finished"]
    rec = Recorder()
    r.start(int, "x", **rec.options())
    assert rec.names() == ["error", "finished"]


def test_a_generator_object_can_be_driven_directly(qtbot, runner):
    rec, cleanup = Recorder(), []
    runner.start(counting(1, cleanup), **rec.options())
    wait_finished(qtbot, rec)
    assert ("done", 10) in rec.events


def test_is_progress():
    assert is_progress(Step(1, 2))
    assert not is_progress("text")


def _valid(obj) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)


def test_serial_jobs_run_one_at_a_time_and_a_cancelled_waiting_one_never_runs(qtbot, runner):
    """Python-bound jobs (serial=True) take turns: their spans never overlap, whatever mix of
    plain functions and generators; one cancelled while it waits ends without running, and
    a job that is not serial runs beside them."""
    spans: list[tuple[str, float, float]] = []

    def busy(name: str) -> str:
        start = time.monotonic()
        time.sleep(0.15)
        spans.append((name, start, time.monotonic()))
        return name

    def busy_steps(name: str):
        start = time.monotonic()
        for i in range(3):
            time.sleep(0.05)
            yield Step(i + 1, 3)
        spans.append((name, start, time.monotonic()))
        return name

    recs = {name: Recorder() for name in ("a", "b", "c", "skipped", "free")}
    runner.start(busy, "a", serial=True, **recs["a"].options())
    runner.start(busy_steps, "b", serial=True, **recs["b"].options())
    runner.start(busy, "c", serial=True, **recs["c"].options())
    waiting = runner.start(busy, "skipped", serial=True, **recs["skipped"].options())
    waiting.cancel()
    runner.start(busy, "free", **recs["free"].options())
    for rec in recs.values():
        wait_finished(qtbot, rec, timeout=10_000)
    serial = sorted((s for s in spans if s[0] in "abc"), key=lambda s: s[1])
    assert len(serial) == 3
    for (_, _, end), (_, start, _) in itertools.pairwise(serial):
        assert start >= end, f"serial jobs overlapped: {serial}"
    assert "skipped" not in [s[0] for s in spans]
    assert "done" not in recs["skipped"].names()
    free = next(s for s in spans if s[0] == "free")
    assert any(free[1] < end and start < free[2] for _, start, end in serial), (
        "a job that is not serial should run beside the serial ones"
    )
    assert ("done", "b") in recs["b"].events and ("done", "a") in recs["a"].events


def test_a_running_serial_generator_pauses_while_serial_jobs_are_held(qtbot, runner):
    """The window holds serial jobs for its own turns (a listing shown, a job's result
    arriving): a serial generator already running takes no step while the hold lasts, and
    goes on afterwards; a job that is not serial is not held."""
    from imbalance_studio.gui import jobs

    steps: list[float] = []

    def ticking(n: int):
        for i in range(n):
            steps.append(time.monotonic())
            time.sleep(0.01)
            yield Step(i + 1, n)
        return n

    rec, free = Recorder(), Recorder()
    runner.start(ticking, 60, serial=True, **rec.options())
    qtbot.waitUntil(lambda: len(steps) >= 3, timeout=5000)
    held_at = time.monotonic()
    jobs.hold_serial_jobs(0.3)
    free_steps_before = len(steps)
    runner.start(lambda: time.monotonic(), **free.options())
    wait_finished(qtbot, free)
    assert free.events[0][0] == "done" and free.events[0][1] - held_at < 0.25
    wait_finished(qtbot, rec, timeout=10_000)
    assert ("done", 60) in rec.events
    during = [t for t in steps if held_at + 0.03 < t < held_at + 0.3]
    assert not during, f"{len(during)} steps ran while held"
    assert len(steps) == 60 and free_steps_before < 60


def test_a_jobs_result_holds_serial_jobs_for_the_windows_next_turns(qtbot, runner):
    """Showing a result (done, partial, error) of a job started with hold_on_result sets off
    model resets and a repaint in the next turns of the loop: while a serial job runs,
    serial generators pause from just before it until a while after (runner.result_hold_s).
    With no serial job running, a result holds nothing (the next plan is not made later for
    it), and other jobs' results hold nothing either."""
    from imbalance_studio.gui import jobs

    shown: list[float] = []
    quiet = Recorder()
    runner.start(lambda: 1, finished=quiet.cb("finished"), hold_on_result=True)
    wait_finished(qtbot, quiet)
    assert jobs._held_until < time.monotonic()

    def ticking():
        for i in range(40):
            time.sleep(0.01)
            yield Step(i + 1, 40)

    serial, rec = Recorder(), Recorder()
    runner.start(ticking, serial=True, **serial.options())
    qtbot.waitUntil(lambda: jobs.LANE.locked(), timeout=5000)
    runner.start(
        lambda: 1,
        done=lambda _r: shown.append(time.monotonic()),
        finished=rec.cb("finished"),
        hold_on_result=True,
    )
    wait_finished(qtbot, rec)
    assert shown and jobs._held_until >= shown[0] + runner.result_hold_s - 0.01
    jobs._held_until = 0.0
    plain = Recorder()
    runner.start(lambda: 2, finished=plain.cb("finished"))
    wait_finished(qtbot, plain)
    assert jobs._held_until == 0.0  # not started with hold_on_result
    wait_finished(qtbot, serial)


def test_a_cancelled_serial_generator_is_closed_in_its_worker_inside_the_lane(qtbot, runner):
    """Its clean-up (a cache write) runs in the worker thread while it still holds the lane,
    not later beside the next serial job, nor on the GUI thread."""
    from imbalance_studio.gui import jobs

    rec, cleanup, in_lane = Recorder(), [], []

    def steps():
        try:
            for i in range(500):
                time.sleep(0.005)
                yield Step(i + 1, 500)
        finally:
            cleanup.append(threading.get_ident())
            in_lane.append(jobs.LANE.locked())

    job = runner.start(steps, serial=True, **rec.options())
    qtbot.waitUntil(lambda: "progress" in rec.names(), timeout=5000)
    jobs.hold_serial_jobs(0.2)  # cancelled while paused, too
    job.cancel()
    wait_finished(qtbot, rec)
    assert "done" not in rec.names()
    assert cleanup and cleanup[0] != threading.get_ident() and in_lane == [True]
