"""A terminated (or killed) window or command leaves no process of its own behind.

The app and `generate` run as real processes in a new session; after the signal no process
of that session may remain (scanned in /proc), the pipes they were given reach end-of-file,
and the exit status says which signal ended them (128 + N).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from datasets import write_digits

from imbalance_studio.core.processes import parent_death_signal, worker_pool

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc; PR_SET_PDEATHSIG is Linux's"
)

GONE_S = 10.0  # every process of the session must be gone this soon after the signal


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, pgrp, session


def session_processes(sid: int) -> list[int]:
    """Live processes of session `sid` (zombies are dead, waiting only to be reaped)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _stat(int(name))
            if fields and fields[0] != "Z" and int(fields[3]) == sid:
                found.append(int(name))
    return found


def children(pid: int) -> set[int]:
    kids: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):  # the task ended meanwhile
            kids.update(int(k) for k in (task / "children").read_text().split())
    return kids


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def start(args: list[str], tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "NO_ALBUMENTATIONS_UPDATE": "1"}
    for kind in ("CACHE", "CONFIG", "DATA", "STATE"):  # as tests/conftest.py does in-process
        env[f"XDG_{kind}_HOME"] = str(tmp_path / "user-dirs" / kind.lower())
    return subprocess.Popen(
        [sys.executable, "-m", "imbalance_studio", *args],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its session id is its pid: everything it starts inherits it
    )


def end_and_check(proc: subprocess.Popen, signum: int) -> tuple[int, str]:
    """Send `signum`, then: nothing of the session is left and its pipes are closed."""
    try:
        proc.send_signal(signum)
        sent = time.monotonic()
        # EOF on both pipes: no process of the session holds them any more.
        _out, err = proc.communicate(timeout=GONE_S)
        left = GONE_S - (time.monotonic() - sent)
        wait_until(lambda: not session_processes(proc.pid), left, "the workers to exit")
        return proc.returncode, err.decode(errors="replace")
    finally:
        for pid in session_processes(proc.pid):  # never leave strays to the next test
            os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def wait_for_workers(proc: subprocess.Popen, count: int, ready=lambda: True) -> None:
    """Until the process has `count` children (pool workers, the resource tracker)."""

    def up() -> bool:
        assert proc.poll() is None, proc.communicate()[1].decode(errors="replace")
        return len(children(proc.pid)) >= count and ready()

    wait_until(up, 120, "the pool workers to start")


# -- the pool itself ---------------------------------------------------------------------


def test_workers_arm_the_parent_death_signal_and_leave_ctrl_c_to_the_parent():
    pool = worker_pool(1)
    try:
        assert pool.submit(parent_death_signal).result(timeout=60) == signal.SIGTERM
        assert pool.submit(signal.getsignal, signal.SIGINT).result() == signal.SIG_IGN
    finally:
        pool.shutdown(cancel_futures=True)


def test_a_pool_spawned_by_a_thread_that_ended_keeps_its_workers():
    # Linux sends the parent-death signal when the *thread* that spawned a worker ends (a
    # Qt pool thread expiring, a starter thread): that must not kill a worker whose parent
    # process lives on.
    holder: dict = {}

    def spawn() -> None:
        pool = holder["pool"] = worker_pool(1)
        holder["pid"] = pool.submit(os.getpid).result(timeout=60)

    thread = threading.Thread(target=spawn)
    thread.start()
    thread.join()
    pool = holder["pool"]
    try:
        time.sleep(0.5)  # the signal is delivered at once; give the worker time to act
        assert pool.submit(os.getpid).result(timeout=10) == holder["pid"]
    finally:
        pool.shutdown(cancel_futures=True)


# -- the window ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_digits(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("digits-term")
    write_digits(root)  # over the scan's pool threshold: the check runs in a pool
    return root


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_terminated_window_closes_and_leaves_no_process(big_digits, tmp_path, signum):
    proc = start([str(big_digits)], tmp_path)
    wait_for_workers(proc, 3)  # thumbnail (and scan) workers plus the resource tracker
    rc, err = end_and_check(proc, signum)
    assert rc == 128 + signum, err
    assert "Traceback" not in err


def test_killed_window_takes_its_workers_along(big_digits, tmp_path):
    proc = start([str(big_digits)], tmp_path)
    wait_for_workers(proc, 3)
    rc, _err = end_and_check(proc, signal.SIGKILL)  # no handler runs: PDEATHSIG does it
    assert rc == -signal.SIGKILL


# -- generate ----------------------------------------------------------------------------


@pytest.fixture
def busy_project(tmp_path) -> Path:
    from imbalance_studio.core.project import ClassTarget, Project

    root = tmp_path / "data"
    write_digits(root, [30, 12, 6])
    project = Project(dataset_root=str(root), targets={"digit_2": ClassTarget(target=3000)})
    path = tmp_path / "p.isproj.json"
    project.save(path)
    return path


def _records(staging: Path) -> list[Path]:
    return list(staging.glob("*/*.json"))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_terminated_generate_cancels_keeps_its_images_and_leaves_no_process(
    busy_project, tmp_path, signum
):
    staging = tmp_path / "p.staging"
    proc = start(["generate", str(busy_project), "--workers", "2", "--quiet"], tmp_path)
    wait_for_workers(proc, 3, ready=lambda: len(_records(staging)) >= 20)
    rc, err = end_and_check(proc, signum)
    assert rc == 128 + signum, err
    assert "interrupted: the finished images are kept" in err
    assert "Traceback" not in err
    records = _records(staging)
    assert 20 <= len(records) < 2994  # mid-run: cancelled, not finished
    for record in records:  # every record names a finished image
        assert record.with_suffix(".png").stat().st_size == json.loads(record.read_text())["bytes"]


def test_killed_generate_takes_its_workers_along(busy_project, tmp_path):
    staging = tmp_path / "p.staging"
    proc = start(["generate", str(busy_project), "--workers", "2", "--quiet"], tmp_path)
    wait_for_workers(proc, 3, ready=lambda: len(_records(staging)) >= 20)
    rc, _err = end_and_check(proc, signal.SIGKILL)
    assert rc == -signal.SIGKILL
