"""Write the details of an unexpected error to a private log file, without secrets.

Textual prints a traceback with local variables on a crash, and a local can hold a
password (SECURITY.md B). The app shows a short message instead and writes the traceback,
without locals and with known secrets masked, to a 0600 file under the XDG state folder.
"""

from __future__ import annotations

import platform
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from stratus_tui import __version__
from stratus_tui.config import paths

MASK = "********"


def write_crash_log(error: BaseException, *, secrets: Iterable[str] = ()) -> Path:
    path = paths.private_file(paths.private_dir(paths.state_dir()) / "crash.log")
    details = "".join(traceback.format_exception(error))
    for secret in secrets:
        if secret:
            details = details.replace(secret, MASK)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    header = f"--- {stamp} stratus-tui {__version__}, Python {platform.python_version()}\n"
    with path.open("a", encoding="utf-8", errors="replace") as log:
        log.write(header + details + "\n")
    return path
