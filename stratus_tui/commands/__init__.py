"""Headless commands (``stratus-tui status``, ``stratus-tui export``): no Textual anywhere.

They run from scripts and monitoring, so they follow one convention: results on stdout,
every failure as ONE line on stderr (no traceback, not even on Ctrl+C: exit 130) and a
documented exit code. Server text in any message is cleaned before it is printed.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TextIO

from stratus_tui.text import clean

INTERRUPTED = 130  # the shell's code for "stopped by Ctrl+C"
FILE_PROBLEM = 1  # exports: the file could not be written
NO_DATA = 3  # exports: nothing to write (sign-in, server, no such team or job...)


class CommandError(Exception):
    """A problem to report as one line on stderr (config, password, arguments)."""


def say_error(command: str, message: str) -> None:
    """One line on stderr: ``stratus-tui status: <message>``, cleaned and on one line."""
    line = " ".join(clean(message).split())
    emit(f"stratus-tui {command}: {line}\n", sys.stderr)


def emit(text: str, stream: TextIO | None = None) -> None:
    """Print ``text`` even where the terminal cannot encode it; a closed pipe is no error."""
    target = sys.stdout if stream is None else stream
    encoding = getattr(target, "encoding", None) or "utf-8"
    text = text.encode(encoding, "replace").decode(encoding)
    try:
        target.write(text)
        target.flush()
    except BrokenPipeError:
        # `stratus-tui status | head -1`: the reader left. Point stdout at /dev/null so the
        # interpreter's final flush does not complain, and carry on to the exit code.
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, target.fileno())
            os.close(devnull)


def export_failed(command: str, error: BaseException) -> int:
    """An export's failure as one line on stderr, and its exit code (never a traceback).

    ``CommandError``, the client's and the cache's errors mean there was nothing to write;
    a file problem is its own code; anything else is said as unexpected.
    """
    from stratus_tui.api.errors import StratusError
    from stratus_tui.cache.store import CacheError
    from stratus_tui.export.atomic import ExportError

    if isinstance(error, KeyboardInterrupt):
        say_error(command, "interrupted")
        return INTERRUPTED
    if isinstance(error, ExportError):
        say_error(command, str(error))
        return FILE_PROBLEM
    if isinstance(error, CommandError | StratusError | CacheError):
        say_error(command, str(error))
        return NO_DATA
    say_error(command, f"unexpected error: {type(error).__name__}: {error}")
    return NO_DATA
