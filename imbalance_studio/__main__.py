"""Entry point: the GUI by default; `imbalance-studio COMMAND ...` runs a headless command."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Pydantic looks for plugins (validation hooks for observability tools) in the entry
    # points of every installed distribution when the first model is built: ~25 ms of the
    # window's start-up in an environment with torch & co., for hooks we do not use. Set
    # PYDANTIC_DISABLE_PLUGINS yourself (even to "") to have them loaded.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from .cli import COMMANDS, run_cli

    if argv and argv[0] in COMMANDS:
        return run_cli(argv)
    if argv and argv[0] == "help":  # `help` and `help COMMAND`, as git and pip have them
        if argv[1:] and argv[1] not in COMMANDS:
            print(
                f"imbalance-studio: unknown command {argv[1]!r} (commands: {', '.join(COMMANDS)})",
                file=sys.stderr,
            )
            return 2
        argv = [argv[1], "--help"] if argv[1:] else ["--help"]
        if argv[0] in COMMANDS:
            return run_cli(argv)
    from .gui.launch import launch

    return launch(argv)


if __name__ == "__main__":
    sys.exit(main())
