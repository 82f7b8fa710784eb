"""Where stratus-tui keeps its files (XDG via platformdirs), and how it creates them.

Everything the TUI creates (cache, exports, logs, the demo database) is private to the user:
files 0600 in folders 0700 (SECURITY.md D).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "stratus-tui"
CONFIG_ENV = "STRATUS_TUI_CONFIG"  # points at another config file (tests, several setups)


def config_file() -> Path:
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.yaml"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME))


def state_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP_NAME))


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed; the folder itself ends up 0700.

    Missing parents are made 0700 too (``mkdir(parents=True)`` would make them with the
    umask, 0755): an XDG folder such as ``~/.cache`` created by stratus-tui is private,
    as the XDG Base Directory specification asks. Existing parents keep their mode.
    """
    missing = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """Create an empty 0600 file in a private folder if it does not exist yet."""
    private_dir(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(descriptor)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return path
