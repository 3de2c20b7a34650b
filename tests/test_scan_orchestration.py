"""One scan for the GUI and the CLI (`iter_scan`), and a Dataset that never changes: a check
returns a new dataset and leaves the one a window already shows as it was."""

from __future__ import annotations

import dataclasses

import pytest
from datasets import tree_hash, write_digits

from imbalance_studio.core.dataset import Dataset, Problem, ProblemReason, Sample
from imbalance_studio.core.listing import ScanProgress
from imbalance_studio.core.progress import drive
from imbalance_studio.core.scanning import Listed, iter_check, iter_scan, scan

CORRUPT = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40  # a PNG signature and nothing decodable


def corrupted_digits(tmp_path, counts=(12, 5)):
    root = tmp_path / "digits"
    write_digits(root, list(counts))
    bad = sorted(p.relative_to(root).as_posix() for p in (root / "digit_1").iterdir())[0]
    (root / bad).write_bytes(CORRUPT)
    return root, bad


def test_a_check_returns_a_new_dataset_and_leaves_the_listed_one_unchanged(tmp_path):
    root, bad = corrupted_digits(tmp_path)
    listed = scan(root)
    before = (listed.paths, listed.labels, listed.problems, listed.real_dirs)
    checked = drive(iter_check(listed))
    assert checked is not listed
    assert (listed.paths, listed.labels, listed.problems, listed.real_dirs) == before
    assert bad in listed.paths and bad not in checked.paths
    assert len(checked.paths) == len(checked.labels) == len(listed.paths) - 1
    assert [p.path for p in checked.problems if p.excludes] == [bad]
    assert checked.real_dirs == listed.real_dirs and checked.classes == listed.classes


def test_a_dataset_cannot_be_changed_in_place():
    ds = Dataset("/data", ("a", "b"), [Sample("a/1.png", 0), Sample("b/1.png", 1)])
    assert isinstance(ds.paths, tuple) and isinstance(ds.labels, tuple)
    assert isinstance(ds.problems, tuple) and isinstance(ds.real_dirs, tuple)
    for name, value in [("paths", ()), ("labels", ()), ("problems", ()), ("root", "/x"),
                        ("classes", ()), ("real_dirs", ())]:  # fmt: skip
        with pytest.raises(AttributeError):
            setattr(ds, name, value)
    with pytest.raises(AttributeError):
        ds.problems.append(Problem("a/1.png", ProblemReason.CORRUPT))  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        ds.exclude({})  # type: ignore[attr-defined]  # the in-place mutation is gone
    with pytest.raises(AttributeError):
        ds.other = 1  # type: ignore[attr-defined]
    array = ds.label_array()
    assert list(array) == [0, 1] and not array.flags.writeable
    assert ds.label_array() is array  # made once


def test_derived_datasets_keep_every_field_the_scan_found(tmp_path):
    root, bad = corrupted_digits(tmp_path)
    listed = scan(root)
    assert listed.real_dirs  # the root and the class folders
    problem = Problem(bad, ProblemReason.CORRUPT, "x")
    note = Problem(listed.paths[0], ProblemReason.EXTENSION_MISMATCH, "content is JPEG")
    for derived in (
        listed.with_problems([problem]),
        listed.with_problems([note]),
        listed.without([problem]),
        listed.replace(problems=()),
    ):
        assert derived.real_dirs == listed.real_dirs, "the read-only folders must survive"
        assert derived.root == listed.root and derived.classes == listed.classes
    assert listed.with_problems([note]).paths is listed.paths  # a note drops no file
    assert listed.with_problems([]) is listed
    with pytest.raises(TypeError):
        listed.replace(samples=())


@pytest.mark.parametrize("workers", [1, 2])
def test_iter_scan_hands_the_listing_over_then_returns_the_checked_dataset(
    tmp_path, monkeypatch, workers
):
    import imbalance_studio.core.scanning as scanning

    pools: list[int] = []
    real_pool = scanning.worker_pool
    monkeypatch.setattr(scanning, "worker_pool", lambda n: pools.append(n) or real_pool(n))
    root, bad = corrupted_digits(tmp_path, counts=(150, 60))
    before = tree_hash(root)
    events: list = []
    checked = drive(iter_scan(root, workers=workers), events.append)
    kinds = ["listed" if isinstance(e, Listed) else e.phase for e in events]
    assert kinds.count("listed") == 1
    assert kinds.index("listing") < kinds.index("listed") < kinds.index("checking")
    listed = events[kinds.index("listed")].dataset
    assert bad in listed.paths and listed.problems == ()  # shown before its images are checked
    assert checked.paths == tuple(p for p in listed.paths if p != bad)
    assert [p.path for p in checked.problems] == [bad]
    assert pools == ([2] if workers == 2 else [])  # one pool, from the project's factory
    assert tree_hash(root) == before


def test_iter_scan_without_check_and_with_stat_only(tmp_path):
    root, bad = corrupted_digits(tmp_path)
    assert bad in drive(iter_scan(root, check=False)).paths
    (root / "digit_0" / "empty.png").write_bytes(b"")
    quick = drive(iter_scan(root, decode=False))
    reasons = {p.path: p.reason for p in quick.problems}
    assert reasons == {"digit_0/empty.png": ProblemReason.EMPTY_FILE}  # stat, no decode
    assert bad in quick.paths


def test_a_closed_scan_shuts_its_pool_down(tmp_path, monkeypatch):
    """Cancelling (closing the generator mid-check) cancels the queued decodes."""
    import imbalance_studio.core.scanning as scanning

    made = []

    class Pool:
        def __init__(self, n):
            from concurrent.futures import ThreadPoolExecutor

            self.inner = ThreadPoolExecutor(n)
            self.closed = None
            made.append(self)

        def map(self, *a, **k):
            return self.inner.map(*a, **{k2: v for k2, v in k.items() if k2 != "chunksize"})

        def shutdown(self, wait=True, cancel_futures=False):
            self.closed = (wait, cancel_futures)
            self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)

    monkeypatch.setattr(scanning, "worker_pool", Pool)
    root, _ = corrupted_digits(tmp_path, counts=(200, 100))
    steps = iter_scan(root, workers=2)
    for event in steps:
        if isinstance(event, ScanProgress) and event.phase == "checking":
            break
    steps.close()
    assert len(made) == 1 and made[0].closed == (True, True)


def test_listed_is_a_plain_value():
    ds = Dataset("/d", ("a",))
    assert dataclasses.is_dataclass(Listed) and Listed(ds).dataset is ds


def test_the_window_and_the_cli_scan_through_iter_scan_only():
    """The orchestration (list, hand over, check in a pool) is written once, in core."""
    import ast
    from pathlib import Path

    import imbalance_studio

    package = Path(imbalance_studio.__file__).parent
    own = {"iter_list", "iter_check", "check", "scan", "worker_pool", "ProcessPoolExecutor"}
    for rel in ("cli/scan.py", "cli/plan.py", "gui/session.py", "gui/workers.py"):
        tree = ast.parse((package / rel).read_text(encoding="utf-8"))
        names = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                 if n.module and n.module.endswith(("scanning", "listing", "processes", "futures"))
                 for a in n.names}  # fmt: skip
        # gui/workers.py makes the thumbnail loader's pool, not a scan's.
        pool = {"worker_pool", "ProcessPoolExecutor"} if rel == "gui/workers.py" else set()
        assert not names & (own - pool), rel
    session = (package / "gui/session.py").read_text(encoding="utf-8")
    cli = (package / "cli/scan.py").read_text(encoding="utf-8")
    assert "iter_scan" in session and "iter_scan" in cli


def test_the_cli_loads_a_dataset_through_the_one_scan(tmp_path, monkeypatch):
    from imbalance_studio.cli import scan as scan_cli

    root, bad = corrupted_digits(tmp_path)
    calls = []
    real = scan_cli.iter_scan
    monkeypatch.setattr(scan_cli, "iter_scan", lambda *a, **k: calls.append(k) or real(*a, **k))
    dataset = scan_cli.load_dataset(str(root), workers=1, quiet=True)
    assert bad not in dataset.paths and [p.path for p in dataset.problems] == [bad]
    quick = scan_cli.load_dataset(str(root), quick=True, quiet=True)
    assert bad in quick.paths
    assert calls == [
        {"workers": 1, "decode": True, "help_here": True, "min_side": 8},
        {"workers": 1, "decode": False, "help_here": True, "min_side": 8},
    ]
