"""Write the details of an unexpected error to a private log file, without secrets.

Textual prints a traceback with local variables on a crash, and a local can hold a
password (SECURITY.md B). The app shows a short message instead and writes the traceback,
without locals and with known secrets masked, to a 0600 file under the XDG state folder.
"""

from __future__ import annotations

import platform
import re
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from stratus_tui import __version__
from stratus_tui.config import paths

MASK = "********"
# A JSON Web Token (three base64url parts, the first two JSON objects): O365 access and ID
# tokens are JWTs. Masked whether or not the caller knew of it.
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+")


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret (longest first) and every JWT replaced by MASK."""
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return JWT.sub(MASK, text)


def write_crash_log(error: BaseException, *, secrets: Iterable[str] = ()) -> Path:
    path = paths.private_file(paths.private_dir(paths.state_dir()) / "crash.log")
    details = mask("".join(traceback.format_exception(error)), secrets)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    header = f"--- {stamp} stratus-tui {__version__}, Python {platform.python_version()}\n"
    with path.open("a", encoding="utf-8", errors="replace") as log:
        log.write(header + details + "\n")
    return path
