"""Run `imbalance-studio` in a subprocess, as a user's shell would, for the CLI tests."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(*args: object, timeout: float = 60) -> subprocess.CompletedProcess:
    """The command's exit status and text output; a hang (a FIFO opened, an endless read of
    /dev/zero) fails at `timeout` instead of blocking the suite."""
    env = dict(os.environ, NO_ALBUMENTATIONS_UPDATE="1")
    return subprocess.run(
        [sys.executable, "-m", "imbalance_studio", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
