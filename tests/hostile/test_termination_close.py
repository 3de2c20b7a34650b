"""What a termination signal does inside the process: the window closes without losing the
curation's newest edit, and a command cancels like Ctrl+C with the signal's exit status."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from datasets import write_digits

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


class Caught(list):
    def handler(self, signum: int, _frame: object) -> None:
        self.append(signum)


@pytest.fixture
def safety_net():
    """A no-op handler under the code's own, so a regression fails the test instead of
    terminating the test run; returns the signals that reached it."""
    caught = Caught()
    previous = {s: signal.signal(s, caught.handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    yield caught
    for s, handler in previous.items():
        signal.signal(s, handler)


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("digits-close")
    write_digits(root, [30, 12, 6])
    return root


@pytest.fixture
def curated(qtbot, digits):
    """A window with an open dataset and a curation ready for edits."""
    from imbalance_studio.gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    cur = window.curation
    window.open_folder(digits)
    c = cur.controller
    qtbot.waitUntil(
        lambda: window.session.checked and c.plan is not None and not c.busy, timeout=60_000
    )
    return window, c


def _autosaved_marks(controller) -> dict:
    from imbalance_studio.core.autosave import autosave_path

    path = autosave_path(controller.project_file, controller.project.dataset_root)
    return json.loads(path.read_text())["project"]["marks"] if path.exists() else {}


def test_sigterm_closes_the_window_and_keeps_the_newest_edit(qtbot, curated, safety_net):
    from imbalance_studio.core.project import Mark
    from imbalance_studio.gui.termination import SignalCloser

    window, c = curated
    codes: list[int] = []
    closer = SignalCloser(window, quit=codes.append)
    try:
        sample = window.session.dataset.samples[0].path
        c.set_marks([sample], Mark(remove=True), "rm")
        assert c.dirty and sample not in _autosaved_marks(c)  # still waiting to be autosaved
        os.kill(os.getpid(), signal.SIGTERM)  # the real thing, through the wakeup socket
        qtbot.waitUntil(lambda: bool(codes or safety_net), timeout=10_000)
    finally:
        closer.uninstall()
    assert not safety_net
    assert codes == [128 + signal.SIGTERM] and closer.exit_code == 143
    assert not window.isVisible()
    assert sample in _autosaved_marks(c)  # offered back at the next start
    assert signal.getsignal(signal.SIGTERM) == safety_net.handler  # given back by uninstall


def test_a_signal_during_the_save_question_does_not_discard_the_autosave(
    qtbot, curated, monkeypatch
):
    from PySide6.QtWidgets import QMessageBox

    from imbalance_studio.core.project import Mark
    from imbalance_studio.gui import app_session as app_session_module
    from imbalance_studio.gui.termination import SignalCloser

    window, c = curated
    codes: list[int] = []
    closer = SignalCloser(window, quit=codes.append)

    class RealScreen:  # the question is only asked on a real display
        @staticmethod
        def platformName() -> str:
            return "xcb"

    def question(*_args, **_kwargs):
        closer.terminate(signal.SIGTERM)  # a logout while the question is open
        return QMessageBox.StandardButton.NoButton  # what the dialog returns when torn down

    monkeypatch.setattr(app_session_module, "QApplication", RealScreen)
    monkeypatch.setattr(app_session_module.QMessageBox, "question", question)
    try:
        sample = window.session.dataset.samples[1].path
        c.set_marks([sample], Mark(remove=True), "rm")
        window.close()
    finally:
        closer.uninstall()
    assert codes == [143] and not window.isVisible()
    assert sample in _autosaved_marks(c)  # kept, not discarded as a "Discard" answer would


# -- commands ----------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_cancels_a_command_like_ctrl_c(signum, capsys, monkeypatch, safety_net):
    from imbalance_studio import cli
    from imbalance_studio.cli import scan as scan_cli

    def slow(_args):
        os.kill(os.getpid(), signum)
        time.sleep(5)  # interrupted: the handler raises here
        return 0

    monkeypatch.setattr(scan_cli, "run", slow)
    before = signal.getsignal(signum)
    started = time.monotonic()
    assert cli.run_cli(["scan", "somewhere"]) == 128 + signum
    assert time.monotonic() - started < 4
    assert "cancelled" in capsys.readouterr().err and not safety_net
    assert signal.getsignal(signum) == before  # only while a command runs


def test_an_interrupted_scan_drops_its_queued_decodes(digits, tmp_path, monkeypatch):
    from imbalance_studio.cli import scan as scan_cli
    from imbalance_studio.core import scanning

    root = tmp_path / "big"
    write_digits(root)  # over the threshold at which the scan uses a pool

    def interrupted_check(_dataset, pool, **_options):
        pool.submit(os.getpid).result(timeout=60)  # a worker is up
        for _ in range(20):
            pool.submit(time.sleep, 1.0)
        time.sleep(0.2)
        raise KeyboardInterrupt  # what Ctrl+C, SIGTERM or SIGHUP raises
        yield  # a generator, as the check is

    monkeypatch.setattr(scanning, "iter_check", interrupted_check)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        scan_cli.load_dataset(str(root), workers=2, quiet=True)
    # Waiting for every queued one would take ten seconds; the running ones take about one.
    assert time.monotonic() - started < 7
