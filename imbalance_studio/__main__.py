"""Entry point: the GUI by default; `imbalance-studio COMMAND ...` runs a headless command."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from .cli import COMMANDS, run_cli

    if argv and argv[0] in COMMANDS:
        return run_cli(argv)
    if argv and argv[0] == "help":  # `help` and `help COMMAND`, as git and pip have them
        argv = [argv[1], "--help"] if argv[1:] and argv[1] in COMMANDS else ["--help"]
        if argv[0] in COMMANDS:
            return run_cli(argv)
    from .gui.launch import launch

    return launch(argv)


if __name__ == "__main__":
    sys.exit(main())
