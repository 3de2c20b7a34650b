"""Finding the commands: --help names every one, `help [COMMAND]` and --version answer."""

import pytest

from imbalance_studio import __version__
from imbalance_studio.__main__ import main
from imbalance_studio.cli import COMMANDS


def test_help_names_every_headless_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for name in COMMANDS:
        assert name in text
    assert "inspect" in text and "recipes" in text and "evaluate" in text


def test_help_alone_is_the_main_help_and_help_command_is_that_command(capsys):
    with pytest.raises(SystemExit):
        main(["help"])
    assert "Headless commands" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["help", "scan"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("usage: imbalance-studio scan ")


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"imbalance-studio {__version__}"


def test_help_on_an_unknown_command_says_so(capsys):
    assert main(["help", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'nosuch'" in err and "scan" in err
