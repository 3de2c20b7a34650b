"""`imbalance-studio [FOLDER] [--demo] [--screenshot OUT.png]`: open the window.

Only Qt's widget modules load before the window is shown; the scan, Pillow, numpy,
pyqtgraph and superqt are imported afterwards, and torch & co. not at all.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

from .. import __version__

# Set by a benchmark or test: write {"modules": [...], "shown_at": epoch seconds} there
# right after the window is shown, and add "modules_at_exit" (in the order they were
# imported) when the event loop is over.
REPORT_ENV = "IMBALANCE_STUDIO_REPORT_MODULES"
SCREENSHOT_TIMEOUT_S = 60.0
# At exit, how long running background jobs (already cancelled) may take to end.
EXIT_WAIT_MS = 5000


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="imbalance-studio",
        description="Curate and balance labelled image datasets. Headless commands: "
        f"{_command_list()} (see imbalance-studio help COMMAND).",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument(
        "folder",
        nargs="?",
        help="dataset folder (one sub-folder per class), or a project file (.isproj.json)",
    )
    p.add_argument("--demo", action="store_true", help="open the synthetic demo dataset")
    p.add_argument(
        "--screenshot",
        metavar="OUT.png",
        help="wait until the folder is scanned and visible thumbnails are shown, save a PNG "
        "of the window and exit: 0 when saved, 1 when the folder or project could not be "
        "opened, 2 when OUT.png lies inside the dataset (never written to), 3 when --timeout "
        "ran out, 4 when the PNG could not be written",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        help=f"with --screenshot: give up after this many seconds (default: "
        f"{SCREENSHOT_TIMEOUT_S:g})",
    )
    return p


def _refusal(args: argparse.Namespace) -> str | None:
    """Why the options cannot be run as given (argparse's exit 2), or None."""
    if args.timeout is not None:
        if not args.screenshot:
            return "--timeout applies to --screenshot only"
        if not (math.isfinite(args.timeout) and args.timeout > 0):  # NaN and inf too
            return f"--timeout must be more than 0 seconds, and finite, not {args.timeout:g}"
    return None


def launch(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if (refusal := _refusal(args)) is not None:
        parser.error(refusal)
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    if not _has_display():
        if not args.screenshot:
            print(
                "imbalance-studio: no display (DISPLAY and WAYLAND_DISPLAY are not set). "
                f"Use the headless commands ({_command_list()}) or --screenshot.",
                file=sys.stderr,
            )
            return 2
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
    from .app import create_app

    app = create_app()
    from .main_window import DEFAULT_SIZE, MainWindow

    window = MainWindow()
    from .termination import close_on_signals

    closer = close_on_signals(window)  # SIGTERM/SIGHUP/SIGINT close the window properly
    if args.screenshot:
        window.resize(DEFAULT_SIZE)  # the same picture whatever the (virtual) screen size
    else:
        screen = window.screen().availableGeometry().size()
        window.resize(DEFAULT_SIZE.boundedTo(screen))
    window.show()
    _report_modules()

    from PySide6.QtCore import QTimer

    project = bool(args.folder) and not args.demo and _is_project(args.folder)

    def start() -> None:
        if args.demo:
            window.open_demo()
        elif project:
            if shooter is not None:  # a project that cannot be read ends the screenshot
                window.app_session.controller.error.connect(shooter.fail)
            window.app_session.open_project(Path(args.folder))
        elif args.folder:
            window.open_folder(args.folder)

    QTimer.singleShot(0, start)
    if not args.screenshot:
        # Unsaved curation from a crashed session is offered back (found in a worker).
        QTimer.singleShot(500, lambda: window.app_session.offer_recovery())
    shooter = None
    if args.screenshot:
        from .screenshot import Screenshotter

        shooter = Screenshotter(
            window,
            Path(args.screenshot),
            SCREENSHOT_TIMEOUT_S if args.timeout is None else args.timeout,
            expect_scan=bool(args.demo or args.folder),
            folder=None if args.demo or project else args.folder,
        )
        shooter.start()
    rc = app.exec()
    _drain_jobs()
    _report_modules(at_exit=True)
    if closer.exit_code is not None:
        return closer.exit_code
    if shooter is not None:
        return shooter.exit_code
    return rc


def _drain_jobs() -> None:
    """Before the window's objects go away: drop the jobs still queued in Qt's thread pool
    (started later, they would report to deleted objects and print tracebacks) and give the
    running ones, which closing told to stop, a moment to end."""
    from PySide6.QtCore import QThreadPool

    pool = QThreadPool.globalInstance()
    pool.clear()
    pool.waitForDone(EXIT_WAIT_MS)
    # Closing the window let the generation pool go without waiting (the GUI thread must
    # not block); the event loop is over now, so wait for its running batches here rather
    # than race its clean-up at exit (see `shutdown_pool`).
    generation = sys.modules.get("imbalance_studio.core.generation.run")
    if generation is not None:
        generation.join_pool()


def _is_project(target: str) -> bool:
    """A project file rather than a dataset folder: what is not a folder, as the headless
    commands take their FOLDER|PROJECT argument (a missing folder keeps the folder's message)."""
    if os.path.isdir(target):
        return False
    from ..core.project import PROJECT_SUFFIX

    return target.endswith(PROJECT_SUFFIX) or os.path.lexists(target)


def _command_list() -> str:
    from ..cli import COMMANDS  # a dict of names: nothing heavy

    return ", ".join(COMMANDS)


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _report_modules(at_exit: bool = False) -> None:
    target = os.environ.get(REPORT_ENV)
    if not target:
        return
    if at_exit:
        payload = json.loads(Path(target).read_text())
        payload["modules_at_exit"] = list(sys.modules)  # a dict: in the order of import
    else:
        payload = {"modules": sorted(sys.modules), "shown_at": time.time()}
    Path(target).write_text(json.dumps(payload))
