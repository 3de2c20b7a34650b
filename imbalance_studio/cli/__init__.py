"""Headless commands over the core. Each command lives in its own module with
`add_parser(subparsers)` and `run(args) -> int`; nothing here imports Qt."""

from __future__ import annotations

import argparse
import importlib
import sys

# Command name -> module under imbalance_studio.cli. Modules import heavy things lazily.
COMMANDS: dict[str, str] = {
    "scan": "scan",
    "export": "export",
    "plan": "plan",
    "generate": "generate",
}


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imbalance-studio",
        description="Curate and balance labelled image datasets. "
        "Without a command, opens the window.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS.values():
        importlib.import_module(f"{__name__}.{module}").add_parser(sub)
    return parser


def run_cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    # Hostile file names (undecodable bytes) must print, not crash the command: they print in
    # the text form the CSV files and README use (bad\xff), see core/names.py.
    from ..core.names import ERRORS

    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors=ERRORS)
    from .signals import interrupted_status, signals_as_interrupt

    try:
        with signals_as_interrupt():  # SIGTERM/SIGHUP cancel like Ctrl+C
            return int(args.func(args) or 0)
    except CliError as exc:
        print(f"imbalance-studio {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(f"imbalance-studio {args.command}: cancelled", file=sys.stderr)
        return interrupted_status(exc)  # 130 Ctrl+C, 143 SIGTERM, 129 SIGHUP
