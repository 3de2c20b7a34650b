"""Headless commands over the core. Each command lives in its own module with
`add_parser(subparsers)` and `run(args) -> int`; nothing here imports Qt.

Exit status: 0 done; 1 done in part (`generate` could not make every image); 2 refused
(bad arguments or input, or an unexpected error: one line on stderr, the traceback only with
`--debug` or IMBALANCE_STUDIO_DEBUG=1); 130 cancelled with Ctrl+C; 141 (128 + SIGPIPE, as a
Unix tool killed by a closed pipe) when the reader of stdout went away, as in `scan … | head`.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import traceback
from typing import NoReturn

from ..core.text import printable

# Command name -> module under imbalance_studio.cli. Modules import heavy things lazily.
COMMANDS: dict[str, str] = {  # in the order of the workflow (help lists them so)
    "scan": "scan",
    "inspect": "inspect",
    "plan": "plan",
    "generate": "generate",
    "export": "export",
    "evaluate": "evaluate",
    "recipes": "recipes",
    "features": "features",
}

DEBUG_ENV = "IMBALANCE_STUDIO_DEBUG"
EXIT_REFUSED = 2
EXIT_CANCELLED = 130
EXIT_BROKEN_PIPE = 141  # what a shell reports for a tool killed by SIGPIPE
MAX_DETAIL = 300  # characters of an unexpected error's own text worth a one-line message
BUG_REPORT = (
    "this is a bug in Imbalance Studio: please report it to its developers with the "
    f"details that --debug (or {DEBUG_ENV}=1) prints"
)


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: argparse's own error prints the usage block too."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_REFUSED, f"{self.prog}: error: {printable(message)} (see --help)\n")


def count_arg(text: str) -> int:
    """argparse type for --workers: a whole number, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be at least 1")
    return value


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with `only` (a command name), that command's alone: each
    command module imports what it needs, and `scan` must not pay for pydantic and numpy,
    which `plan` and `export` import."""
    parser = _Parser(
        prog="imbalance-studio",
        description="Curate and balance labelled image datasets. "
        "Without a command, opens the window.",
        epilog="Exit status: 0 done, 1 done in part, 2 refused (one line says why), "
        "130 cancelled, 141 output pipe closed (as in `scan … | head`).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        if only is not None and name != only:
            continue
        importlib.import_module(f"{__name__}.{module}").add_parser(sub)
    for command in sub.choices.values():
        command.add_argument(
            "--debug",
            action="store_true",
            help=f"on an unexpected error, print the traceback (or set {DEBUG_ENV}=1)",
        )
    return parser


def _say(command: str, text: str) -> None:
    """One line on stderr, whatever the message holds (newlines, escapes, bad bytes)."""
    name = f"imbalance-studio {command}" if command in COMMANDS else "imbalance-studio"
    with contextlib.suppress(OSError, ValueError):  # stderr closed too: nothing to tell
        print(f"{name}: {printable(text)}", file=sys.stderr)


def _quiet_stdout() -> None:
    # The reader is gone: point stdout at /dev/null so the flush at exit cannot raise again.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def run_cli(argv: list[str]) -> int:
    # Started with stdout or stderr closed (`2>&-`), Python sets them to None and print()
    # would send stderr's lines to stdout: give them /dev/null instead.
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    # Hostile file names (undecodable bytes) must print, not crash the command.
    # They print in the text form the CSV files and README use (bad\xff), see core/names.py.
    from ..core.names import ERRORS
    from .signals import interrupted_status, signals_as_interrupt

    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors=ERRORS)
    command = argv[0] if argv else ""
    debug = os.environ.get(DEBUG_ENV, "") not in ("", "0")
    try:
        args = build_parser(command if command in COMMANDS else None).parse_args(argv)
        debug = debug or args.debug
        with signals_as_interrupt():  # SIGTERM/SIGHUP cancel like Ctrl+C
            status = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handlers, not at exit
        return status
    except CliError as exc:
        _say(command, f"error: {exc}")
        return EXIT_REFUSED
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt as exc:
        _say(command, "cancelled")
        return interrupted_status(exc)  # 130 Ctrl+C, 143 SIGTERM, 129 SIGHUP
    except Exception as exc:
        if debug:
            traceback.print_exc()
        detail = str(exc)
        if len(detail) > MAX_DETAIL:
            detail = detail[:MAX_DETAIL] + "…"
        _say(command, f"error: unexpected {type(exc).__name__}: {detail}; {BUG_REPORT}")
        return EXIT_REFUSED
