"""The CLI's one driver of core generators: result, cleanup, Ctrl+C, and no second driver."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import imbalance_studio.cli as cli_pkg
from imbalance_studio.cli import progress


@dataclass(frozen=True)
class Step:
    phase: str
    done: int
    total: int


def steps(n: int, cleanup: list):
    try:
        for i in range(1, n + 1):
            yield Step("work", i, n)
        return n * 10
    finally:
        cleanup.append("closed")


def test_run_steps_returns_the_result_and_closes_the_generator():
    cleanup: list = []
    assert progress.run_steps(steps(3, cleanup), "work", quiet=True) == 30
    assert cleanup == ["closed"]


def test_ctrl_c_between_two_steps_closes_the_generator_and_is_reraised(monkeypatch):
    seen: list = []
    closed: list = []

    def update(event):  # a signal handler raises in the main thread, between two steps
        seen.append(event)
        if len(seen) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(
        progress, "tqdm_progress", lambda desc, quiet: (update, lambda: closed.append(1))
    )
    cleanup: list = []
    gen = steps(100, cleanup)
    with pytest.raises(KeyboardInterrupt):
        progress.run_steps(gen, "work")
    assert cleanup == ["closed"], "the generator's cleanup ran"
    assert closed, "the bar was closed"
    assert len(seen) == 2


def test_every_cli_command_drives_core_generators_through_run_steps():
    """One driver: no command steps a generator or builds a bar itself."""
    folder = Path(cli_pkg.__file__).parent
    offenders = []
    for path in sorted(folder.glob("*.py")):
        if path.name == "progress.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"\bnext\(|StopIteration|tqdm_progress\(|\bdrive\(", text):
            offenders.append(path.name)
    assert offenders == []


def test_the_bar_skips_partial_results_such_as_the_scans_listing(monkeypatch):
    """`iter_scan` yields its listing (no done/total) between progress events; on a terminal
    the bar must pass over it, as the GUI's runner hands it to `partial`."""
    import sys

    pytest.importorskip("tqdm")
    from imbalance_studio.core.dataset import Dataset
    from imbalance_studio.core.scanning import Listed

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    update, close = progress.tqdm_progress("scan")
    update(Step("listing", 1, 2))
    update(Listed(Dataset("/d", ("a",))))
    update(Step("checking", 1, 2))
    close()
