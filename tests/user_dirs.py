"""The user's own XDG folders as they were before the test suite moved them to temporary
ones (conftest imports this first); test_user_folders.py proves the suite writes nothing
there."""

import os

XDG_VARS = ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")
REAL_USER_ENV = {v: os.environ.get(v) for v in XDG_VARS}
