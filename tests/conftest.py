import os
import sys
import tempfile
from pathlib import Path

import pytest

# Headless Qt and no network for albumentations, before anything imports them.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["NO_ALBUMENTATIONS_UPDATE"] = "1"

sys.path.insert(0, str(Path(__file__).parent))

from datasets import write_bad_corpus, write_digits
from user_dirs import XDG_VARS

# Also for the whole session, not only inside each test: a debounced autosave or a worker that
# finishes after its test (when monkeypatch has put the real folders back) must not write into
# the real user folders, where the app would later offer it for recovery.
_SESSION_DIRS = Path(tempfile.mkdtemp(prefix="imbalance-studio-tests-"))
for _var in XDG_VARS:  # (user_dirs kept the user's own values)
    os.environ[_var] = str(_SESSION_DIRS / _var.lower())


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep thumbnails, demo data, autosaves and settings out of the real user folders."""
    base = tmp_path_factory.getbasetemp() / "user-dirs"
    monkeypatch.setenv("XDG_CACHE_HOME", str(base / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(base / "state"))


@pytest.fixture(scope="session")
def digits_root(tmp_path_factory) -> Path:
    """scikit-learn's digits written as an imbalanced ImageFolder (150 ... 8 per class)."""
    root = tmp_path_factory.mktemp("digits")
    write_digits(root)
    return root


@pytest.fixture
def bad_corpus(tmp_path) -> tuple[Path, dict]:
    root = tmp_path / "bad-corpus"
    root.mkdir()
    return root, write_bad_corpus(root)


@pytest.fixture(scope="session")
def tiny_diffusion_model(tmp_path_factory) -> Path:
    """A tiny, randomly initialised Stable Diffusion img2img model folder (needs the
    [diffusion] extra; tests using it are skipped without it)."""
    pytest.importorskip("diffusers")
    pytest.importorskip("transformers")
    from tiny_diffusion import write_tiny_model

    return write_tiny_model(tmp_path_factory.mktemp("tiny-diffusion") / "model")
