"""`--dask`: generation and export on a real Dask cluster (a scheduler and two worker
processes on the loopback address) give the same files as the local run, also when a worker
dies mid-task and when the run is interrupted and resumed."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
from pathlib import Path

import pytest
from datasets import tree_hash, write_digits

from imbalance_studio.cli import run_cli

distributed = pytest.importorskip("distributed")

ARGS = ["--policy", "oversample", "--seed", "3", "--quiet"]
MARKER = ".imbalance-studio-export.json"


@pytest.fixture(scope="module")
def cluster():
    """One LocalCluster for the module (starting one takes seconds): (address, client)."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        ) as lc,
        distributed.Client(lc) as client,
    ):
        yield lc.scheduler_address, client


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dask-data")
    write_digits(root, [24, 10, 5])
    return root


@pytest.fixture(scope="module")
def local_export(data, tmp_path_factory) -> Path:
    """The reference: the same export made in this process, without Dask."""
    base = tmp_path_factory.mktemp("dask-local")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(base / "cache"))
        assert run_cli(["export", str(data), str(base / "out"), *ARGS, "--workers", "1"]) == 0
    return base / "out"


def export_files(out: Path) -> dict[str, bytes]:
    """Every file of an export as bytes; the marker without its creation time."""
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    marker = json.loads(files.pop(MARKER))
    marker.pop("created")
    files[MARKER] = json.dumps(marker, sort_keys=True).encode()
    return files


def assert_same_export(out: Path, reference: Path) -> None:
    got, want = export_files(out), export_files(reference)
    assert sorted(got) == sorted(want)
    differ = [name for name in want if got[name] != want[name]]
    assert not differ, f"files that differ from the local export: {differ}"
    assert sum(name.endswith(".png") and "/digit_" in name for name in got) > 40


def staged(cache: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in cache.rglob("*.png")}


def test_cluster_export_is_byte_identical_to_the_local_one(
    cluster, data, local_export, tmp_path, monkeypatch, capsys
):
    address, _client = cluster
    before = tree_hash(data)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "out"
    assert run_cli(["export", str(data), str(out), *ARGS, "--dask", address]) == 0
    assert f"to {out}" in capsys.readouterr().out
    assert_same_export(out, local_export)
    assert tree_hash(data) == before
    assert staged(tmp_path / "cache"), "the workers wrote the staging folder"


def _die_once(marker: str, fn, *args):
    """Runs on a worker: the first call starts an image (its temp file is written) and then
    kills its own worker process, as a crash or the OOM killer would; later calls work."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return fn(*args)
    from imbalance_studio.core.generation.work import render

    render(args[0][0])
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_killed_mid_task_changes_nothing(
    cluster, data, local_export, tmp_path, monkeypatch
):
    from imbalance_studio.core.executors import ClusterExecutor

    address, client = cluster
    pids = set(client.run(os.getpid).values())
    marker = str(tmp_path / "died")
    submit = ClusterExecutor.submit
    calls = []

    def dying_submit(self, fn, *args, **kw):
        calls.append(fn)
        if len(calls) == 3:  # after some images are done: the run is under way
            return submit(self, _die_once, marker, fn, *args, **kw)
        return submit(self, fn, *args, **kw)

    monkeypatch.setattr(ClusterExecutor, "submit", dying_submit)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "out"
    assert run_cli(["export", str(data), str(out), *ARGS, "--dask", address]) == 0
    assert os.path.exists(marker), "a worker died in the middle of a task"
    client.wait_for_workers(1)
    assert pids - set(client.run(os.getpid).values()), "the killed worker is gone"
    assert_same_export(out, local_export)


def test_interrupted_then_resumed_run_gives_the_same_export(
    cluster, data, local_export, tmp_path, monkeypatch, capsys
):
    import imbalance_studio.cli.export as export_cli

    address, _client = cluster
    run_steps = export_cli.run_steps

    def interrupted(gen, desc, quiet=False):
        if desc != "generate":
            return run_steps(gen, desc, quiet)

        def stop_after_five():  # Ctrl+C reaches run_steps while images are being made
            made = 0
            try:
                for event in gen:
                    made += event.image is not None
                    if made == 5:
                        raise KeyboardInterrupt
                    yield event
            finally:
                gen.close()

        return run_steps(stop_after_five(), desc, quiet)

    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    out = tmp_path / "out"
    monkeypatch.setattr(export_cli, "run_steps", interrupted)
    assert run_cli(["export", str(data), str(out), *ARGS, "--dask", address]) == 130
    assert "cancelled" in capsys.readouterr().err
    assert not out.exists()
    kept = staged(cache)
    assert len(kept) >= 5

    monkeypatch.setattr(export_cli, "run_steps", run_steps)
    assert run_cli(["export", str(data), str(out), *ARGS, "--dask", address]) == 0
    assert_same_export(out, local_export)
    now = staged(cache)
    assert all(now[p] == t for p, t in kept.items()), "finished images are reused, not remade"
    assert len(now) > len(kept)


@pytest.mark.slow
def test_ctrl_c_in_a_terminal_then_resume(cluster, data, tmp_path, capsys):
    """A real SIGINT to `generate --dask` while the cluster makes images: exit 130, the
    finished images stay with their records and no temp file, the next run makes the rest."""
    import subprocess
    import sys
    import time

    address, _client = cluster
    pfile = tmp_path / "p.isproj.json"
    plan = ["plan", str(data), "--policy", "target:400", "--seed", "5", "--save-project"]
    assert run_cli([*plan, str(pfile)]) == 0
    staging = tmp_path / "p.staging"
    env = dict(os.environ, NO_ALBUMENTATIONS_UPDATE="1")
    cmd = [sys.executable, "-m", "imbalance_studio", "generate", str(pfile), "--quiet"]
    proc = subprocess.Popen([*cmd, "--dask", address], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while len(list(staging.rglob("*.png"))) < 20 and proc.poll() is None:
            assert time.monotonic() < deadline, "no image was made"
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted: the finished images are kept" in err
    kept = staged(staging)
    assert len(kept) >= 20
    assert not [p for p in staging.rglob(".*") if p.is_file() and ".png." in p.name]
    from imbalance_studio.core.generation.records import read_class_records

    for folder in staging.iterdir():
        if folder.is_dir():
            recorded = set(read_class_records(folder))
            assert {p.stem for p in folder.glob("*.png")} <= recorded, "an image without record"

    capsys.readouterr()
    assert run_cli(["generate", str(pfile), "--quiet", "--dask", address]) == 0
    out = capsys.readouterr().out
    ready, wanted = map(int, re.search(r"(\d+) of (\d+) images ready", out).groups())
    found = re.search(r"([\d,]+) made now, ([\d,]+) made earlier and reused", out)
    made, reused = (int(n.replace(",", "")) for n in found.groups())
    assert ready == wanted == made + reused and reused == len(kept) and made > 0
    now = staged(staging)
    assert all(now[p] == t for p, t in kept.items()), "finished images are reused, not remade"
    assert len(now) == wanted
