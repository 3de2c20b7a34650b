"""`--dask` refusals: a bad address, a missing extra, an unreachable scheduler, workers that
cannot see the shared folders or run another version: one line, exit 2, nothing lost; and
nothing of `distributed` is imported without the option."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from datasets import tree_hash, write_digits

from imbalance_studio.cli import run_cli
from imbalance_studio.core import executors
from imbalance_studio.core.executors import ExecutorError, check_workers, worker_facts


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dask-hostile")
    write_digits(root, [12, 5])
    return root


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err and "\n" not in err and "Traceback" not in err
    return err


def test_the_cli_imports_nothing_of_distributed_without_the_option():
    code = (
        "import sys; from imbalance_studio.cli import build_parser; "
        "build_parser().parse_args(['export', 'a', 'b', '--quiet']); "
        "build_parser().parse_args(['generate', 'p.isproj.json', '--dask', 'local:2']); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('distributed', 'dask')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "address", ["localhost:8786", "local:0", "local:x", "http://h:1", "tcp://", "", "tcp://a b"]
)
@pytest.mark.parametrize("command", ["export", "generate"])
def test_a_bad_address_is_refused_by_the_parser(data, tmp_path, capsys, address, command):
    target = [str(data), str(tmp_path / "out")] if command == "export" else ["p.isproj.json"]
    with pytest.raises(SystemExit) as exit_:
        run_cli([command, *target, "--dask", address])
    assert exit_.value.code == 2
    assert "--dask" in one_line_error(capsys)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["export", "generate"])
def test_without_the_extra_the_option_says_how_to_install_it(
    data, tmp_path, capsys, monkeypatch, command
):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "distributed" else real(name, *a),
    )
    target = [str(data), str(tmp_path / "out")] if command == "export" else ["p.isproj.json"]
    assert run_cli([command, *target, "--dask", "local:2", "--quiet"]) == 2
    assert 'pip install "imbalance-studio[dask]"' in one_line_error(capsys)
    assert not (tmp_path / "out").exists()


def test_the_executor_itself_refuses_a_missing_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if not installed
    with (
        pytest.raises(ExecutorError, match=r"imbalance-studio\[dask\]"),
        executors.dask_executor("local:1"),
    ):
        pass


def test_an_unreachable_scheduler_is_one_line_and_loses_nothing(
    data, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT_S", 1)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    before = tree_hash(data)
    out = tmp_path / "out"
    args = ["export", str(data), str(out), "--policy", "oversample", "--quiet", "--workers", "1"]
    assert run_cli([*args, "--dask", "tcp://127.0.0.1:9"]) == 2
    err = one_line_error(capsys)
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err and "dask scheduler" in err
    assert not out.exists() and tree_hash(data) == before


class _Cluster:
    """Stands in for a ClusterExecutor: `client.run` runs the worker check here, as if on
    one worker whose view of the folders the test chooses."""

    def __init__(self, facts=None, fail: Exception | None = None) -> None:
        def run(fn, *args):
            if fail is not None:
                raise fail
            return {"tcp://10.0.0.7:4000": facts or fn(*args)}

        self.client = SimpleNamespace(run=run)


def test_workers_that_cannot_see_the_folders_are_refused(data, tmp_path):
    staging = tmp_path / "staging"
    staging.mkdir()
    check_workers(_Cluster(), str(data), str(staging))  # this machine sees both
    with pytest.raises(ExecutorError, match="cannot see the dataset folder"):
        check_workers(_Cluster(), str(tmp_path / "elsewhere"), str(staging))
    with pytest.raises(ExecutorError, match="cannot see the staging folder"):
        check_workers(_Cluster(), str(data), str(tmp_path / "not-mounted"))
    facts = {**worker_facts({}), "unwritable": ["staging"]}
    with pytest.raises(ExecutorError, match="cannot write the staging folder"):
        check_workers(_Cluster(facts), str(data), str(staging))


def test_workers_of_another_version_or_without_the_package_are_refused(data, tmp_path):
    with pytest.raises(ExecutorError, match=r"runs Imbalance Studio 0\.0\.1"):
        check_workers(_Cluster({**worker_facts({}), "version": "0.0.1"}), str(data), str(tmp_path))
    gone = ModuleNotFoundError("No module named 'imbalance_studio'")
    with pytest.raises(ExecutorError, match="install imbalance-studio"):
        check_workers(_Cluster(fail=gone), str(data), str(tmp_path))


def test_a_worker_without_the_dataset_reports_it_and_marks_no_source_bad(data, tmp_path):
    """A worker that joined later, without the shared folders, must not record every
    source as undecodable in the staging folder: its items fail with the reason."""
    from imbalance_studio.core.generation.work import WorkItem, make_batch

    item = WorkItem(
        id="a1", class_name="digit_1", ordinal=0, seed=1, generator="augment", fingerprint="f",
        source="digit_1/digit_1_000.png", planned_source="digit_1/digit_1_000.png",
        root=str(tmp_path / "not-mounted"), staging=str(tmp_path),
    )  # fmt: skip
    outcomes = make_batch([item, item])
    assert [o.kind for o in outcomes] == ["error", "error"]
    assert all(not o.bad for o in outcomes)
    assert "dataset folder" in outcomes[0].message and "same path" in outcomes[0].message
    assert not list(tmp_path.iterdir())


def test_a_task_that_fails_on_the_cluster_stops_the_run_with_one_line(data, tmp_path):
    """What Dask reports after its retries (a task whose workers all died, a worker without
    the package) ends the run with a GenerateError, not an unexpected exception."""
    from concurrent.futures import Executor, Future

    from imbalance_studio.core.generation import GenerateError, iter_generate
    from imbalance_studio.core.plan import make_plan
    from imbalance_studio.core.project import ClassTarget, Project
    from imbalance_studio.core.scanning import drive, scan

    class Failing(Executor):
        def submit(self, fn, /, *args, **kwargs):
            future: Future = Future()
            future.set_exception(RuntimeError("all 4 workers that ran the task died"))
            return future

    dataset = scan(data)
    project = Project(dataset_root=str(data), targets={"digit_1": ClassTarget(target=12)})
    plan = make_plan(dataset, project)
    gen = iter_generate(dataset, project, plan, tmp_path / "staging", 2, executor=Failing())
    with pytest.raises(GenerateError) as failed:
        drive(gen)
    text = str(failed.value)
    assert "failed on the cluster (all 4 workers" in text and "run again" in text
    assert "\n" not in text


def test_worker_threads_draw_the_same_pixels_as_one_thread():
    """A `dask worker` runs several tasks at once in threads (its default): each image must
    still be exactly what its seed gives alone, not a mix of two tasks' draws."""
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from imbalance_studio.core.augment import PRESETS
    from imbalance_studio.core.generation.work import WorkItem, augment

    image = (np.arange(48 * 48 * 3, dtype=np.uint32).reshape(48, 48, 3) * 7 % 251).astype(np.uint8)
    item = WorkItem(
        id="x", class_name="c", ordinal=0, seed=0, generator="augment", fingerprint="thread-test",
        source="s.png", planned_source="s.png", root="/", staging="/", stack=PRESETS["heavy"],
    )  # fmt: skip

    def draw(seed: int) -> tuple[str, str]:
        out, params = augment(WorkItem(**{**item.__dict__, "seed": seed}), image)
        return hashlib.sha256(out.tobytes()).hexdigest(), repr(params)

    seeds = range(100)
    alone = [draw(s) for s in seeds]
    with ThreadPoolExecutor(4) as threads:
        together = list(threads.map(draw, seeds))
    assert together == alone
