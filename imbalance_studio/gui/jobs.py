"""THE job runner of the window: every background job starts here.

Long work is written once in core, as a plain function or as a generator of progress events
whose return value is the result (`core.progress`). The runner runs it in Qt's thread pool on a
superqt worker and delivers, on the GUI thread:

- `progress(event)` for yielded events that carry `done` and `total` (a progress bar),
- `partial(item)` for any other yielded item (a result shown before the job ends),
- `done(result)` with the return value, `error(exc)` with an exception, and
  `finished()` in every case (to re-enable a button),

and it owns the rules every panel used to re-implement:

- *the owner is gone*: callbacks of a job whose `owner` QObject was destroyed are dropped;
- *a newer job replaces this one*: a job started with the `key` of a running job cancels the
  older one, whose callbacks (but `finished`) are dropped from then on (Orange's rule);
- *cancel*: a generator stops between two steps and is closed in its worker thread (its
  cleanup never runs on the GUI thread); a plain function runs to its end, unheard;
- *shutdown*: the window cancels every job and waits a bounded time for them;
- *one Python-bound job at a time*: a job started with `serial=True` (a plan, a reconcile,
  an index over a million paths: pure Python loops) waits for the one before it, see `LANE`.

`JobRunner(synchronous=True)` runs each job inline, for tests that want no threads.
"""

from __future__ import annotations

import inspect
import itertools
import sys
import threading
import time
from collections.abc import Callable, Generator
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QThreadPool
from superqt.utils import FunctionWorker, GeneratorWorker

Callback = Callable[..., Any] | None

# How long a thread may hold the GIL while another waits for it. The GUI thread takes the GIL
# back for every call from Qt into Python (each paint, each data(), each slot): with a worker
# busy in Python (a plan over a million paths), each of those waits up to the interval, and
# Python's default of 5 ms made one repaint of the window wait 100-500 ms
# (benchmarks/bench_gallery.py). 0.1 ms did better still in that benchmark, but under a
# loaded CPU it starved the GUI thread of timer ticks during a generation (a test caught it).
GUI_SWITCH_INTERVAL = 0.0005

# Jobs that run Python code (not I/O, not numpy) gain nothing from running side by side: the
# GIL lets one of them run at a time. But every thread waiting for the GIL makes the GUI
# thread's wait longer: each call from Qt into Python waited ~0.75 ms behind one busy worker
# and ~2.4 ms behind two (the GIL goes to whichever waiter wakes first), so a repaint of the
# window that calls into Python fifty times stalled 120 ms instead of 40. Serial jobs take
# this lock in their worker thread (waiting for it releases the GIL) and so run one at a time.
LANE = threading.Lock()
# Serial jobs waiting for the lane each hold a pool thread: enough threads that quick jobs
# (an autosave, a QA status write, a decode for the viewer) never queue behind them.
MIN_POOL_THREADS = 6


def is_progress(item: object) -> bool:
    """A yielded item is a progress event when it says how far the job is."""
    return hasattr(item, "done") and hasattr(item, "total")


class _JobFailed(Exception):
    """Carries a RuntimeError out of a generator: superqt's worker takes a returned
    RuntimeError for 'the worker was deleted' and would swallow it."""


class _GeneratorJobWorker(GeneratorWorker):
    """Closes its generator in the worker thread when it stops (finished or cancelled), so the
    job's cleanup (temporary folders, the last file write) never runs on the GUI thread."""

    def __init__(self, gen: Generator[Any, Any, Any]) -> None:
        super().__init__(_relay, gen)
        self._inner = gen  # closed too when cancelled before its first step

    def work(self):
        try:
            while True:
                if self.abort_requested:
                    self.aborted.emit()
                    return None
                try:
                    output = self._gen.send(None)
                except StopIteration as stop:
                    return stop.value
                except RuntimeError as exc:
                    return _JobFailed(exc)
                self.yielded.emit(output)
        finally:
            self._gen.close()
            self._inner.close()


def _relay(gen: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
    return (yield from gen)


_held_until = 0.0  # serial jobs wait until then (time.monotonic()): see hold_serial_jobs
# A job's result (done, partial, error) is shown on the GUI thread, and what it sets off
# (model resets, layout, the repaint) follows in the next turns of the loop: for a job
# started with `hold_on_result`, while a serial job runs, serial generators pause at their
# next step from just before that until `JobRunner.result_hold_s` after it. Measured in
# bench_gallery: the reconcile's result arriving while the identical-file search ran stalled
# the window 45-60 ms, 15 ms of it its own work and the rest GIL waits. Worth it only where
# the window's turns are long (a listing of a million): the window sets it by the listing's
# size (see MainWindow._on_dataset).
RESULT_HOLD_S = 0.05
_STEP_BREATH_S = 0.0005
_BREATH_EVERY_S = 0.005


def hold_serial_jobs(seconds: float) -> None:
    """Keep serial jobs from starting for `seconds` (GUI thread, before a burst of work of
    its own: showing a new listing takes a few turns of the event loop, each calling into
    Python dozens of times, and behind a busy serial job each call waits for the GIL). A
    running serial generator pauses at its next step, a running plain function goes on; the
    ones that wait start when the hold ends."""
    global _held_until
    _held_until = max(_held_until, time.monotonic() + seconds)


def _wait_for_hold(job: Job) -> None:
    while not job.cancelled and (left := _held_until - time.monotonic()) > 0:
        time.sleep(min(left, 0.05))  # a hold may be extended meanwhile


def _in_lane(gen: Generator[Any, Any, Any], job: Job) -> Generator[Any, Any, Any]:
    """`gen`, stepped only while this thread holds the LANE (a serial job's generator). It
    pauses between two steps while serial jobs are held, so a running one also gives way to
    the window's own turns (a result arriving, see `RESULT_HOLD_S`). However it ends, `gen`
    is closed here, in the worker and inside the lane (its clean-up may write a cache)."""
    with LANE:
        try:
            breathed = time.monotonic()
            while True:
                _wait_for_hold(job)
                if job.cancelled:
                    return None
                try:
                    item = gen.send(None)
                except StopIteration as stop:
                    return stop.value
                yield item
                # Let the GIL go for a moment: a thread waiting for it (the GUI thread) takes
                # it now, instead of asking for it and waiting while this one runs on. At most
                # every few ms, so that a job of many tiny steps is not slowed down by it.
                if time.monotonic() - breathed >= _BREATH_EVERY_S:
                    time.sleep(_STEP_BREATH_S)
                    breathed = time.monotonic()
        finally:
            gen.close()


def _call_in_lane(job: Job, work: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """`work(*args, **kwargs)` once this thread holds the LANE (a serial plain function)."""
    with LANE:
        _wait_for_hold(job)
        if job.cancelled:
            return None
        return work(*args, **kwargs)


class Job:
    """One started job: ask it whether it runs, cancel it, wait for it."""

    _ids = itertools.count(1)

    def __init__(self, worker: GeneratorWorker | FunctionWorker | None, key: object) -> None:
        self.id = next(self._ids)
        self.key = key
        self.worker = worker
        self.cancelled = False
        self.running = True

    def cancel(self) -> None:
        """Stop listening (and stop a generator between two steps)."""
        self.cancelled = True
        if self.worker is not None:
            self.worker.quit()

    def __repr__(self) -> str:
        state = "cancelled" if self.cancelled else "running" if self.running else "ended"
        return f"<Job {self.id} key={self.key!r} {state}>"


class JobRunner(QObject):
    """Starts background jobs and delivers their results on the GUI thread (see module doc)."""

    def __init__(self, parent: QObject | None = None, synchronous: bool = False) -> None:
        super().__init__(parent)
        self.synchronous = synchronous
        if not synchronous:
            sys.setswitchinterval(min(sys.getswitchinterval(), GUI_SWITCH_INTERVAL))
            pool = QThreadPool.globalInstance()
            pool.setMaxThreadCount(max(pool.maxThreadCount(), MIN_POOL_THREADS))
        self._jobs: dict[int, Job] = {}
        self._by_key: dict[object, Job] = {}
        self.result_hold_s = RESULT_HOLD_S  # see RESULT_HOLD_S

    # -- starting ---------------------------------------------------------------------------
    def start(
        self,
        work: Callable[..., Any] | Generator[Any, Any, Any],
        *args: Any,
        owner: QObject | None = None,
        key: object = None,
        progress: Callback = None,
        partial: Callback = None,
        done: Callback = None,
        error: Callback = None,
        finished: Callback = None,
        serial: bool = False,
        hold_on_result: bool = False,
        **kwargs: Any,
    ) -> Job:
        """Run `work(*args, **kwargs)` (or drive a generator object) in a worker thread.

        With `key`, a running job of the same key is cancelled first. Callbacks run on the GUI
        thread, only while `owner` (if given) is alive and the job is neither cancelled nor
        replaced; `finished` runs whenever the job ends while the owner is alive. A `serial`
        job runs Python-bound work and waits for the serial job before it (see `LANE`); one
        cancelled while it waits ends without running. `hold_on_result`: showing this job's
        results sets off long turns of the window (a listing, a plan at a million samples),
        so serial jobs pause around them (see `RESULT_HOLD_S`)."""
        if key is not None and (old := self._by_key.get(key)) is not None:
            old.cancel()
        gen = _as_generator(work, args, kwargs)
        if self.synchronous:
            return self._run_inline(gen, work, args, kwargs, key, owner, progress, partial,
                                    done, error, finished)  # fmt: skip
        job = Job(None, key)
        if gen is not None:
            worker: GeneratorWorker | FunctionWorker = _GeneratorJobWorker(
                _in_lane(gen, job) if serial else gen
            )
        elif serial:
            worker = FunctionWorker(_call_in_lane, job, work, args, kwargs)
        else:
            worker = FunctionWorker(work, *args, **kwargs)
        job.worker = worker
        self._track(job)

        def live(fn: Callback, always: bool = False, held: bool = False) -> Callable[..., None]:
            def call(*a: Any) -> None:
                if fn is None or (owner is not None and not shiboken6.isValid(owner)):
                    return
                if not always and job.cancelled:
                    return
                # Only while a serial job runs or waits: holding none would only delay the
                # next one (the plan after a small folder's listing).
                hold = self.result_hold_s if held and LANE.locked() else 0.0
                if hold:
                    hold_serial_jobs(hold)
                fn(*a)
                if hold:
                    hold_serial_jobs(hold)

            return call

        on_progress, on_partial = live(progress), live(partial, held=hold_on_result)

        def yielded(item: object) -> None:
            (on_progress if is_progress(item) else on_partial)(item)

        on_error = live(error, held=hold_on_result)

        def errored(exc: BaseException) -> None:
            on_error(exc.args[0] if isinstance(exc, _JobFailed) else exc)

        def ended() -> None:
            job.running = False
            self._untrack(job)
            live(finished, always=True)()

        if gen is not None and (progress is not None or partial is not None):
            # Unheard steps cost the GUI thread nothing (a plan yields a hundred of them).
            worker.yielded.connect(yielded)
        worker.returned.connect(live(done, held=hold_on_result))
        worker.errored.connect(errored)
        worker.finished.connect(ended)
        worker.start()
        return job

    def _run_inline(self, gen, work, args, kwargs, key, owner, progress, partial, done, error,
                    finished) -> Job:  # fmt: skip
        job = Job(None, key)
        self._track(job)
        try:
            if gen is not None:
                try:
                    while True:
                        item = next(gen)
                        cb = progress if is_progress(item) else partial
                        if cb is not None:
                            cb(item)
                except StopIteration as stop:
                    result = stop.value
                finally:
                    gen.close()
            else:
                result = work(*args, **kwargs)
        except Exception as exc:
            if error is not None:
                error(exc)
        else:
            if done is not None:
                done(result)
        finally:
            job.running = False
            self._untrack(job)
            if finished is not None:
                finished()
        return job

    # -- bookkeeping ------------------------------------------------------------------------
    def _track(self, job: Job) -> None:
        self._jobs[job.id] = job
        if job.key is not None:
            self._by_key[job.key] = job

    def _untrack(self, job: Job) -> None:
        self._jobs.pop(job.id, None)
        if job.key is not None and self._by_key.get(job.key) is job:
            del self._by_key[job.key]

    def running(self, key: object = None) -> bool:
        """Whether a job (of `key`, or any job) is running."""
        if key is None:
            return bool(self._jobs)
        return key in self._by_key

    def cancel(self, key: object) -> None:
        if (job := self._by_key.get(key)) is not None:
            job.cancel()

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Cancel every job and wait up to `timeout_ms` for the worker threads to end.
        Returns True when every thread ended in time."""
        for job in list(self._jobs.values()):
            job.cancel()
        return QThreadPool.globalInstance().waitForDone(timeout_ms)


def _as_generator(work: Any, args: tuple, kwargs: dict) -> Generator[Any, Any, Any] | None:
    if inspect.isgenerator(work):
        if args or kwargs:
            raise TypeError("a generator object takes no arguments")
        return work
    if inspect.isgeneratorfunction(work):
        return work(*args, **kwargs)
    return None


_RUNNER: JobRunner | None = None


def runner() -> JobRunner:
    """The application's job runner (created on first use, owned by the QApplication)."""
    global _RUNNER
    if _RUNNER is None or not shiboken6.isValid(_RUNNER):
        from PySide6.QtCore import QCoreApplication

        _RUNNER = JobRunner(QCoreApplication.instance())
    return _RUNNER


def start_job(work: Callable[..., Any] | Generator[Any, Any, Any], *args: Any,
              **options: Any) -> Job:  # fmt: skip
    """`runner().start(...)`: the one way a panel starts background work."""
    return runner().start(work, *args, **options)


__all__ = ["Job", "JobRunner", "hold_serial_jobs", "is_progress", "runner", "start_job"]
