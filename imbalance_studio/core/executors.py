"""Where work items run: the local process pool, or the workers of a Dask cluster.

`dask_executor(address)` connects to a running scheduler (`tcp://host:port`) or starts a
`LocalCluster` (`local` / `local:N`) and yields a `concurrent.futures.Executor`, so the code
that hands out work items (generation's `iter_generate(executor=...)`) is the same for both:
it submits in plan order, keeps a bounded number in flight, takes results back in submission
order and cancels what is queued when it stops.

Workers read the dataset and write the staging folder themselves, exactly as the local pool's
workers do (see the README's "Generating on a Dask cluster" for why): only paths, seeds and
stack dicts travel. `check_workers` proves every worker sees both folders and runs the same
version before any work is handed out.

`distributed` is imported only inside `dask_executor`: nothing of it loads without `--dask`.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import os
import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

INSTALL_HINT = 'install the Dask extra: pip install "imbalance-studio[dask]"'
# Seconds to wait for a scheduler to answer (and for a LocalCluster's workers to start).
CONNECT_TIMEOUT_S = 30
_LOCAL = re.compile(r"local(?::(\d+))?")
_REMOTE = re.compile(r"(tcp|tls|ws|wss|ucx|inproc)://[^\s/]+")


class ExecutorError(Exception):
    """The cluster cannot be used (no extra installed, bad address, unreachable, workers that
    cannot see the folders); one line that says what to do."""


def parse_address(text: str) -> tuple[str, int | None]:
    """("local", N or None) or ("remote", None) for a `--dask` value; ExecutorError if neither."""
    local = _LOCAL.fullmatch(text.strip())
    if local:
        n = int(local.group(1)) if local.group(1) else None
        if n is not None and n < 1:
            raise ExecutorError(f"--dask {text}: a local cluster needs at least 1 worker")
        return "local", n
    if _REMOTE.fullmatch(text.strip()):
        return "remote", None
    raise ExecutorError(
        f"--dask {text}: not a scheduler address; give tcp://HOST:PORT of a running "
        "`dask scheduler`, or local[:N] to start N worker processes here"
    )


class ClusterExecutor(cf.Executor):
    """A `concurrent.futures.Executor` over a `distributed.Client`.

    `submit` returns a plain `concurrent.futures.Future` (so `wait` and `cancel` work as with
    the local pool); cancelling it cancels the Dask future: a queued task never starts, a
    running one finishes on its worker (its outputs are atomic, so they stay valid).
    Tasks are submitted with `pure=False`: every submission is its own task, even when a
    resumed run hands out the same items again."""

    def __init__(self, client: Any, prepare: Callable[[], None] | None = None) -> None:
        self.client = client
        self._prepare = prepare
        self._futures: set[Any] = set()

    @property
    def workers(self) -> int:
        """Tasks the cluster runs at once now (worker threads, at least 1)."""
        return max(1, sum(self.client.nthreads().values()))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        remote = self.client.submit(_call, self._prepare, fn, args, kwargs, pure=False)
        self._futures.add(remote)
        local: cf.Future = cf.Future()

        def forward(done: Any) -> None:
            self._futures.discard(done)
            if local.done():  # cancelled meanwhile
                return
            with contextlib.suppress(cf.InvalidStateError):  # a cancel raced with the result
                if done.status == "finished":
                    local.set_result(done.result())
                elif done.status == "cancelled":
                    local.cancel()
                    local.set_running_or_notify_cancel()
                else:
                    local.set_exception(done.exception())

        def cancel_remote(f: cf.Future) -> None:
            if f.cancelled():
                remote.cancel()

        local.add_done_callback(cancel_remote)
        remote.add_done_callback(forward)
        return local

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        pending = list(self._futures)
        if cancel_futures and pending:
            with contextlib.suppress(Exception):
                self.client.cancel(pending)
        elif wait and pending:
            with contextlib.suppress(Exception):
                self.client.gather(pending, errors="skip")


_PREPARED: set[Any] = set()


def _call(
    prepare: Callable[[], None] | None, fn: Callable[..., Any], args: tuple, kwargs: dict
) -> Any:
    """Runs on a worker: the one-time set-up of this worker process first (what a local pool
    does in its initializer), then the work."""
    if prepare is not None and prepare not in _PREPARED:
        prepare()
        _PREPARED.add(prepare)
    return fn(*args, **kwargs)


@contextlib.contextmanager
def dask_executor(
    address: str, prepare: Callable[[], None] | None = None
) -> Iterator[ClusterExecutor]:
    """A `ClusterExecutor` on the scheduler at `address`, or on a LocalCluster for `local[:N]`
    (N worker processes of one thread each; default: the CPU count). Closes what it opened.
    ExecutorError when `distributed` is missing or the scheduler cannot be reached."""
    kind, n = parse_address(address)
    try:
        import distributed
    except ImportError as exc:
        raise ExecutorError(f"--dask needs the distributed package; {INSTALL_HINT}") from exc
    # The cluster's own chatter (worker restarts, shutdown notices) is not for the user.
    logging.getLogger("distributed").setLevel(logging.ERROR)
    with contextlib.ExitStack() as stack:
        try:
            if kind == "local":
                cluster = distributed.LocalCluster(
                    n_workers=n or os.cpu_count() or 1,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=logging.CRITICAL,
                )
                stack.callback(_quietly, cluster.close)
                client = distributed.Client(cluster, timeout=CONNECT_TIMEOUT_S)
            else:
                client = distributed.Client(address, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(
                f"cannot reach the Dask scheduler at {address} ({exc}); start one with "
                "`dask scheduler` and workers with `dask worker ADDRESS`, or use --dask local"
            ) from exc
        stack.callback(_quietly, client.close)
        if kind == "remote" and not client.nthreads():
            with contextlib.suppress(OSError, TimeoutError):
                client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        if not client.nthreads():
            raise ExecutorError(
                f"the Dask scheduler at {address} has no workers; start some with "
                f"`dask worker {address}`"
            )
        executor = ClusterExecutor(client, prepare)
        try:
            yield executor
        finally:
            executor.shutdown(wait=False, cancel_futures=True)


def _quietly(close: Callable[[], Any]) -> None:
    with contextlib.suppress(Exception):
        close()


def worker_facts(folders: dict[str, str]) -> dict[str, Any]:
    """Runs on each worker: this package's version and which folders it can use."""
    import imbalance_studio

    missing = [k for k, p in folders.items() if not os.path.isdir(p)]
    unwritable = [
        k for k, p in folders.items() if k == "staging" and k not in missing
        and not os.access(p, os.W_OK)
    ]  # fmt: skip
    return {
        "host": socket.gethostname(),
        "version": imbalance_studio.__version__,
        "missing": missing,
        "unwritable": unwritable,
    }


def check_workers(executor: ClusterExecutor, dataset_root: str, staging: str) -> None:
    """ExecutorError naming the first worker that runs another version of Imbalance Studio,
    cannot see the dataset folder or cannot write the staging folder: workers read and write
    these paths themselves, so every one needs them at the same path as here."""
    import imbalance_studio

    folders = {"dataset": str(dataset_root), "staging": str(staging)}
    try:
        facts = executor.client.run(worker_facts, folders)
    except Exception as exc:  # e.g. the package is not installed on a worker
        raise ExecutorError(
            f"a Dask worker cannot run Imbalance Studio ({type(exc).__name__}: {exc}); "
            f"install imbalance-studio {imbalance_studio.__version__} on every worker"
        ) from exc
    for address, f in sorted(facts.items()):
        where = f"the Dask worker {address} on {f['host']}"
        if f["version"] != imbalance_studio.__version__:
            raise ExecutorError(
                f"{where} runs Imbalance Studio {f['version']}, this is "
                f"{imbalance_studio.__version__}; install the same version on every worker"
            )
        for name in f["missing"]:
            raise ExecutorError(
                f"{where} cannot see the {name} folder {folders[name]}; every worker needs "
                "the dataset and staging folders at the same path as this machine"
            )
        for name in f["unwritable"]:
            raise ExecutorError(
                f"{where} cannot write the {name} folder {folders[name]}; give the workers "
                "write access to it"
            )
