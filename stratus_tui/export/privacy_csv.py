"""A finished data-privacy export as CSV: ``stratus-tui export privacy`` and the Data Privacy
page write it with ``write_privacy_csv``.

The columns are the export's ``fields`` in the server's order (``CONVERSATION_FIELDS``:
id, seq, tenant_id, ..., customer_id). Times (``*_at``, epoch seconds from the server) are
written as ISO 8601 in UTC (``2026-11-22T12:00:00+00:00``), booleans as ``true``/``false``.
Everything goes through the one CSV writer (``export.csv.write_csv``): UTF-8 with a byte
order mark, CSV injection neutralised, written atomically, 0600.

The file name says nothing about the subject (a UPN or a customer's phone number would be
personal data in every folder listing): ``stratus-privacy-export-<job id>.csv``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stratus_tui.api.errors import BadResponse
from stratus_tui.export.csv import write_csv

if TYPE_CHECKING:
    from stratus_tui.api.models import PrivacyExportResult


def default_privacy_file_name(job_id: int) -> str:
    return f"stratus-privacy-export-{job_id}.csv"


def write_privacy_csv(
    result: PrivacyExportResult,
    path: Path,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the export's rows to ``path``; returns the number of rows written.

    Raises ``ExportError`` (the file could not be written; the old file, if any, stays as
    it was) or ``BadResponse`` (a row does not have one value per field; nothing written).
    ``progress(rows)`` is called every 10,000 rows. Blocking: call it from a worker thread.
    """
    fields = list(result.fields)
    return write_csv(path, fields, _rows(fields, result.rows), progress=progress)


def _rows(fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> Iterator[list[Any]]:
    times = [index for index, name in enumerate(fields) if name.endswith("_at")]
    for number, row in enumerate(rows, 1):
        if len(row) != len(fields):
            raise BadResponse(
                f"Row {number} of the privacy export has {len(row)} values for "
                f"{len(fields)} fields; no file was written"
            )
        cells = list(row)
        for index in times:
            value = cells[index]
            if type(value) is int:
                cells[index] = _utc(value)
        yield cells


def _utc(epoch: int) -> str:
    try:
        return datetime.fromtimestamp(epoch, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return str(epoch)  # out of datetime's range: the number as the server sent it
