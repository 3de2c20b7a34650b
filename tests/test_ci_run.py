"""`.ci/run` fails loudly when a tool the tests need cannot be installed, instead of going on
to a test run whose packaging checks would silently skip."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / ".ci" / "run"
UTILITIES = ("dirname", "mktemp", "tail", "rm", "cat")


def _bin(tmp_path: Path, stubs: dict[str, str]) -> Path:
    """A PATH of its own: the few real utilities the script uses, plus shell-script stubs."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in UTILITIES:
        real = shutil.which(name)
        if real is None:
            pytest.skip(f"{name} is not installed")
        (folder / name).symlink_to(real)
    for name, body in stubs.items():
        stub = folder / name
        stub.write_text(f"#!{shutil.which('bash')}\n{body}\n")
        stub.chmod(0o755)
    return folder


def _run(tmp_path: Path, stubs: dict[str, str]) -> subprocess.CompletedProcess:
    marker = tmp_path / "make-ran"
    stubs = {"make": f'echo "CI=$CI $*" > "{marker}"', **stubs}
    env = {"PATH": str(_bin(tmp_path, stubs)), "HOME": str(tmp_path)}
    bash = shutil.which("bash")
    assert bash
    return subprocess.run(
        [bash, str(SCRIPT)], capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path
    )


MISSING = {"dpkg": "exit 1"}  # dpkg -s: some package is not installed
TOOLS = {"desktop-file-validate": "exit 0", "appstreamcli": "exit 0"}


def test_a_failed_apt_install_stops_ci_with_the_reason(tmp_path):
    apt = 'echo "E: Unable to locate package appstream" >&2; exit 100'
    proc = _run(tmp_path, {**MISSING, "apt-get": apt})
    assert proc.returncode != 0
    assert "apt-get could not install" in proc.stderr and "Unable to locate" in proc.stderr
    assert not (tmp_path / "make-ran").exists(), "the tests must not run without their tools"


def test_a_validator_still_missing_after_the_install_stops_ci(tmp_path):
    proc = _run(tmp_path, {**MISSING, "apt-get": "exit 0", "appstreamcli": "exit 0"})
    assert proc.returncode != 0
    assert "desktop-file-validate is missing" in proc.stderr
    assert proc.stderr.count("\n") == 1  # one line
    assert not (tmp_path / "make-ran").exists()


def test_with_every_tool_the_tests_run_under_ci_true(tmp_path):
    proc = _run(tmp_path, {**MISSING, "apt-get": "exit 0", **TOOLS})
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "make-ran").read_text().strip() == "CI=true test"


def test_the_script_is_executable():
    assert os.access(SCRIPT, os.X_OK)
