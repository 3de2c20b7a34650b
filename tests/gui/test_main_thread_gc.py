"""Cycles are collected on the GUI thread only, by a collector that outlives its caller's
reference (why not pyqtgraph's GarbageCollector: see gui/main_thread_gc.py)."""

from __future__ import annotations

import gc
import threading

from imbalance_studio.gui.main_thread_gc import MainThreadGC, install


class Node:
    def __init__(self, seen: list[threading.Thread]) -> None:
        self.seen = seen
        self.me = self  # a cycle: only the cycle collector frees it

    def __del__(self) -> None:
        self.seen.append(threading.current_thread())


def test_cycles_made_in_a_worker_are_collected_on_the_gui_thread(qtbot, qapp):
    install(qapp)  # the reference is dropped at once: the collector must live on
    collector = qapp.findChild(MainThreadGC)
    assert install(qapp) is collector and collector.timer.isActive()
    assert not gc.isenabled()
    seen: list[threading.Thread] = []

    def make() -> None:
        for _ in range(5 * gc.get_threshold()[0]):  # well past the first threshold
            Node(seen)

    worker = threading.Thread(target=make)
    worker.start()
    worker.join()
    assert not seen  # nothing was collected in the worker
    qtbot.waitUntil(lambda: bool(seen), timeout=5_000)
    assert set(seen) == {threading.main_thread()}


def test_a_full_collection_freezes_its_survivors_and_later_cycles_are_still_collected(
    qtbot, qapp, monkeypatch
):
    collector = install(qapp)
    gc.unfreeze()
    try:
        # Counts past every threshold: this tick is due for a full collection.
        monkeypatch.setattr(gc, "get_count", lambda: (10**6, 10**6, 10**6))
        collector.collect()
        assert gc.get_freeze_count() > 1000  # the long-lived heap is out of later collections
        seen: list[threading.Thread] = []
        for _ in range(10):
            Node(seen)
        collector.collect()
        assert len(seen) == 10  # a cycle made after the freeze is still collected
    finally:
        gc.unfreeze()


def test_a_large_result_from_a_worker_is_frozen_on_arrival_a_small_one_is_not(qapp):
    from imbalance_studio.gui.main_thread_gc import LARGE_RESULT, adopt

    install(qapp)
    gc.unfreeze()
    try:
        # What a plan job hands over: tuples of a million paths, made in a worker thread.
        made: list[tuple[str, ...]] = []
        worker = threading.Thread(
            target=lambda: made.append(tuple(f"c/{i}.png" for i in range(LARGE_RESULT)))
        )
        worker.start()
        worker.join()
        small = (["a list", "tracked"],)
        adopt(len(small))
        assert gc.is_tracked(small) and gc.get_freeze_count() == 0  # left to the timer
        adopt(len(made[0]))
        frozen = gc.get_freeze_count()
        assert frozen >= 2 and gc.get_count()[0] == 0  # the next collection walks none of it
        made.clear()
        small = None
        assert gc.get_freeze_count() < frozen  # frozen objects are still freed by refcount
    finally:
        gc.unfreeze()


def test_collections_wait_while_a_job_runs_but_not_for_ever(qtbot, qapp, monkeypatch):
    """A worker's half-built structures are young and alive: a collection in the middle of a
    job walks them for nothing. The timer waits for the job, at most MAX_POSTPONE_S."""
    import imbalance_studio.gui.main_thread_gc as mgc
    from imbalance_studio.gui.jobs import runner

    collector = install(qapp)
    started, release = threading.Event(), threading.Event()

    def job() -> None:
        started.set()
        release.wait(10)

    runner().start(job, key="gc-test-job")
    qtbot.waitUntil(started.is_set, timeout=5_000)
    seen: list[threading.Thread] = []
    try:
        collector._waiting_since = None
        Node(seen)
        monkeypatch.setattr(gc, "get_count", lambda: (10**6, 0, 0))  # a gen-0 tick is due
        collector.collect()
        assert not seen  # postponed: a job runs
        collector._waiting_since -= mgc.MAX_POSTPONE_S + 1
        collector.collect()
        assert len(seen) == 1  # postponed long enough: collected all the same
    finally:
        release.set()
    qtbot.waitUntil(lambda: not runner().running(), timeout=5_000)
    Node(seen)
    collector.collect()
    assert len(seen) == 2  # no job: collected at once
