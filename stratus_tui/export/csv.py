"""The one CSV writer of stratus-tui: every export (license usage, reporting, privacy) uses it.

**CSV injection** (OWASP "CSV Injection", CWE-1236, SECURITY.md A3). A spreadsheet runs a
cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (``=HYPERLINK(...)`` leaks
data, DDE runs programs); tab, CR, LF and NUL at the start can hide such a prefix, and so can
leading spaces. ``neutralise`` puts a ``'`` before such a text cell, so the spreadsheet shows
it as text.

The one exception: a cell that is *exactly* an E.164 phone number (``+41446681800``) or a
plain signed number (``-12``, ``+3.5``) is written as it is. Made of a sign and digits only,
it cannot hold a formula, and a ``'`` in front of every phone number would make the numbers
unreadable and break every script that reads them back. A phone number written with spaces
(``+41 44 668 18 00``) is not exact E.164 and does get the ``'``.

Cells are also made encodable: NUL characters are removed and lone surrogates (which JSON
lets through, but UTF-8 cannot encode) become U+FFFD.

**Files.** RFC 4180 (``\\r\\n``, quoted only where needed), UTF-8 with a byte order mark,
written atomically (SECURITY.md D): a temp file in the same folder, fsync, ``os.replace``, so
a crash leaves the old file or the whole new one, never half a file or a stray temp file.
Files are 0600; a folder this module creates is 0700. Rows are streamed, never all held.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from stratus_tui.export.atomic import ExportError, atomic_write, export_error

__all__ = [
    "BOM", "PROGRESS_EVERY", "ExportError", "csv_field", "default_export_dir", "neutralise",
    "write_csv",
]  # fmt: skip

PROGRESS_EVERY = 10_000  # rows between two progress(count) calls
# What a spreadsheet may read as the start of a formula (or hide one behind).
DANGEROUS_FIRST = frozenset("=+-@\t\r\n\0")
# A text cell that needs a closer look: a dangerous or space first character (spaces can hide
# a formula behind them). Everything else that is plain ASCII without NUL is written as is.
_LOOK_CLOSER_FIRST = DANGEROUS_FIRST | {" "}
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
SIGNED_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_SURROGATES = re.compile("[\ud800-\udfff]")
_NEEDS_QUOTES = re.compile('[,"\r\n]')
# Without a byte order mark Excel reads a UTF-8 file in the system's legacy code page and
# shows "ZoÃ«" for "Zoë".
BOM = "\ufeff"


def neutralise(cell: object) -> str:
    """``cell`` as the text to write: formulas defused, NUL removed, encodable."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, int | float):
        return str(cell)  # our own number, not text: "-3" is a value, not a formula
    if isinstance(cell, dt.date | dt.time):  # datetime is a date
        return cell.isoformat()
    text = cell if isinstance(cell, str) else str(cell)
    if "\0" in text:
        text = text.replace("\0", "")
    if not text.isascii():
        text = _SURROGATES.sub("\ufffd", text)
    stripped = text.lstrip(" ")
    if not stripped or stripped[0] not in DANGEROUS_FIRST:
        return text
    if E164.fullmatch(text) or SIGNED_NUMBER.fullmatch(text):
        return text
    return "'" + text


def csv_field(cell: object) -> str:
    """``cell`` as it stands in a CSV line: neutralised, then quoted as RFC 4180 says (and
    ``csv.writer`` does) when it holds a comma, a double quote or a line break."""
    text = neutralise(cell)
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def default_export_dir() -> Path:
    """The user's Downloads folder, else Documents, else home (the first that exists)."""
    import platformdirs

    for folder in (platformdirs.user_downloads_dir(), platformdirs.user_documents_dir()):
        if folder and Path(folder).is_dir():
            return Path(folder)
    return Path.home()


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write ``header`` and ``rows`` to ``path`` atomically; returns the number of rows.

    An exception from ``rows`` (or ``progress``) propagates unchanged; a file-system problem
    becomes an :class:`ExportError`. Either way the old file, if any, is left as it was.
    """
    path = Path(path)
    with atomic_write(path) as binary:
        stream = io.TextIOWrapper(binary, encoding="utf-8", newline="", write_through=False)
        try:
            stream.write(BOM)
            count = _write_rows(stream, header, rows, progress, path)
            try:
                stream.flush()
            except OSError as error:
                raise export_error(f"cannot write {path}", error) from None
        finally:
            stream.detach()  # atomic_write owns (and closes) the binary stream
    return count


def _clean_row(row: Sequence[object]) -> list[object]:
    """``row`` ready for ``csv.writer``: the common cells (ASCII text with a harmless first
    character, ints) pass untouched, everything else through :func:`neutralise`; most
    cells of a big export skip its checks (bench/export_csv.py measures the whole)."""
    return [
        cell
        if (
            (type(cell) is str and cell.isascii() and cell[:1] not in _LOOK_CLOSER_FIRST)
            and "\0" not in cell
        )
        or type(cell) is int
        else neutralise(cell)
        for cell in row
    ]


def _write_rows(
    stream: io.TextIOWrapper,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    progress: Callable[[int], None] | None,
    path: Path,
) -> int:
    writer = csv.writer(stream, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    count = 0
    try:
        writer.writerow([neutralise(cell) for cell in header])
    except OSError as error:
        raise export_error(f"cannot write {path}", error) from None
    # Errors of the rows themselves (the iterator, progress) are not the file's: they pass
    # through unchanged; only the file system's become an ExportError.
    for row in rows:
        line = _clean_row(row)
        try:
            writer.writerow(line)
        except OSError as error:
            raise export_error(f"cannot write {path}", error) from None
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    return count
