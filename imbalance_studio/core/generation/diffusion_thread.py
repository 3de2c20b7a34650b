"""The thread diffusion items run in during a generation run (see `run.iter_generate`).

One item at a time, in this process: the pipeline is loaded there once and kept (one model in
memory, on the GPU when there is one). Each denoising step comes back through a queue as
(step, steps); `stop` makes the image in progress give up after its current step, and that
image is never written.
"""

from __future__ import annotations

import queue as queues
import threading
from collections.abc import Generator
from concurrent.futures import Future, ThreadPoolExecutor

from .work import WorkItem, make_one


def step_text(label: str, step: tuple[int, int]) -> str:
    done, steps = step
    if not steps:
        return f"{label}: starting (the first image loads the diffusion model)"
    return f"{label}: denoising step {done} of {steps}"


class DiffusionThread:
    """Diffusion items, one at a time, in a thread of this process (the pipeline is loaded
    there once and kept): their steps come back through a queue, and `stop` makes the image
    in progress give up after its current step."""

    def __init__(self, heartbeat_s: float) -> None:
        self.heartbeat_s = heartbeat_s
        self.started = False
        self._thread: ThreadPoolExecutor | None = None
        self._cancel = threading.Event()
        self._events: queues.SimpleQueue = queues.SimpleQueue()

    def submit(self, item: WorkItem) -> Future:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="generate-diffusion")
            self.started = True
        events, item_id = self._events, item.id
        events.put((item_id, (0, 0)))  # "loading" until the first step (the first image)

        def on_step(step: int, steps: int) -> None:
            events.put((item_id, (step, steps)))

        future = self._thread.submit(make_one, item, on_step=on_step, cancel=self._cancel)
        future.add_done_callback(lambda _f: events.put((item_id, None)))
        future.diffusion_item = item_id  # type: ignore[attr-defined]
        return future

    @staticmethod
    def owns(future: Future) -> bool:
        return hasattr(future, "diffusion_item")

    def steps_of(self, future: Future) -> Generator[tuple[int, int], None, None]:
        """The (step, steps) events of this item until it ends; a heartbeat (the last
        step again) while none come, so a caller can be stopped between events."""
        item_id = future.diffusion_item  # type: ignore[attr-defined]
        last = (0, 0)
        while not future.done():
            try:
                who, step = self._events.get(timeout=self.heartbeat_s)
            except queues.Empty:
                yield last
                continue
            if who != item_id:
                continue  # a cancelled item's left-overs
            if step is None:
                break
            last = step
            yield step

    def stop(self) -> None:
        self._cancel.set()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True, cancel_futures=True)
