"""A list's rows stored ready to show: the Agents page paints 50,000 rows from the cache.

Parsing 50,000 cached JSON records and resolving their team and OU names takes seconds
here; reading back rows that were made once (``records/rows.py``) takes tens of ms. So
next to each kind's entities the cache keeps ``listing(kind, id, cells)``: one row per
item, its cells joined by the unit separator (``SEP``, "\\x1f"). A separator inside a value
is stored as "␟" (its control picture, which is also how the table would show it), so
a row always comes back with as many cells as it went in.

All rows of a kind have the same number of cells (a kind is one list's columns): a write
with mixed widths is refused, and rows of another width already stored (an older
version's columns) are dropped by the next write. That lets ``load_listing``, the hot
path, ask SQLite for ONE string of every cell (``group_concat``) and the ids as one JSON
array, split it with one ``str.split`` and regroup it with ``zip``: C code throughout, no
Python per row (a ``fetchall`` and a split per row took twice as long). The garbage
collector is paused meanwhile: 50,000 new tuples would otherwise start full collections
over the whole (large) heap of a running app, a third of the time.

Functions block: the UI calls them in a thread. Rows come back in id order.
"""

from __future__ import annotations

import gc
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from stratus_tui.cache.store import Cache

SEP = "\x1f"
SEP_PICTURE = "\u241f"  # ␟
UPSERT = "INSERT OR REPLACE INTO listing (kind, id, cells) VALUES (?, ?, ?)"
# Ids and cells from one scan, so they line up; the primary key (kind, id) gives the
# order without a sort.
LOAD = (
    "SELECT json_group_array(id), group_concat(cells, char(31)) "
    "FROM (SELECT id, cells FROM listing WHERE kind = ? ORDER BY id)"
)


def join_cells(cells: Sequence[str]) -> str:
    """One stored text for a row's cells. A separator inside a value becomes "␟"; a lone
    surrogate (SQLite stores UTF-8, which cannot hold one) becomes "\ufffd", as the table
    would show it anyway (``text.clean``)."""
    text = SEP.join(cell.replace(SEP, SEP_PICTURE) if SEP in cell else cell for cell in cells)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = "".join("\ufffd" if 0xD800 <= ord(char) < 0xE000 else char for char in text)
    return text


def _records(
    kind: str, rows: Iterable[tuple[int, Sequence[str]]]
) -> tuple[list[tuple[str, int, str]], int | None]:
    """The rows to write and their (one) width; mixed or empty widths are refused."""
    records = [(kind, int(row_id), join_cells(cells)) for row_id, cells in rows]
    widths = {text.count(SEP) + 1 for _, _, text in records}
    if len(widths) > 1:
        raise ValueError(f"every row of a listing needs as many cells: found {sorted(widths)}")
    return records, widths.pop() if widths else None


def _drop_other_widths(connection: sqlite3.Connection, kind: str, width: int) -> None:
    """Rows of ``kind`` stored with another number of cells (an older version's columns)
    would garble ``load_listing``: they go, and the next full refresh stores them anew."""
    row = connection.execute("SELECT cells FROM listing WHERE kind = ? LIMIT 1", (kind,)).fetchone()
    if row is not None and str(row[0]).count(SEP) + 1 != width:
        connection.execute("DELETE FROM listing WHERE kind = ?", (kind,))


def store_listing(cache: Cache, kind: str, rows: Iterable[tuple[int, Sequence[str]]]) -> None:
    """Replace every row of ``kind`` with ``rows`` (id, cells), in one transaction."""
    records, _ = _records(kind, rows)  # before taking the lock: the write stays short
    with cache.write() as connection:
        connection.execute("DELETE FROM listing WHERE kind = ?", (kind,))
        connection.executemany(UPSERT, records)


def put_listing_rows(cache: Cache, kind: str, rows: Iterable[tuple[int, Sequence[str]]]) -> None:
    """Add or replace some rows of ``kind`` (one saved record, a bulk edit)."""
    records, width = _records(kind, rows)
    if width is None:
        return
    with cache.write() as connection:
        _drop_other_widths(connection, kind, width)
        connection.executemany(UPSERT, records)


def delete_listing_rows(cache: Cache, kind: str, ids: Iterable[int]) -> None:
    """Forget some rows of ``kind`` (unknown ids are no error)."""
    keys = [(kind, int(row_id)) for row_id in ids]
    if keys:
        with cache.write() as connection:
            connection.executemany("DELETE FROM listing WHERE kind = ? AND id = ?", keys)


def load_listing(cache: Cache, kind: str) -> tuple[list[int], list[tuple[str, ...]]]:
    """Every row of ``kind`` as (ids, cells), in id order; ([], []) when there is none."""
    with cache.read() as connection:
        ids_json, joined = connection.execute(LOAD, (kind,)).fetchone()
    if joined is None:
        return [], []
    ids: list[int] = json.loads(ids_json)
    with _collector_paused():
        flat = joined.split(SEP)
        width, rest = divmod(len(flat), len(ids))
        if rest == 0:
            return ids, list(zip(*([iter(flat)] * width), strict=True))
    return _load_row_by_row(cache, kind)  # only if the width rule was broken meanwhile


def load_first_rows(cache: Cache, kind: str, count: int) -> tuple[list[int], list[tuple[str, ...]]]:
    """The first ``count`` rows (id order): a screenful to paint while the rest loads."""
    return _load_row_by_row(cache, kind, count)


def _load_row_by_row(
    cache: Cache, kind: str, count: int = -1
) -> tuple[list[int], list[tuple[str, ...]]]:
    with cache.read() as connection:
        rows = connection.execute(
            "SELECT id, cells FROM listing WHERE kind = ? ORDER BY id LIMIT ?", (kind, count)
        ).fetchall()
    return [row_id for row_id, _ in rows], [tuple(text.split(SEP)) for _, text in rows]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collection while a load makes its tuples (see the module docstring).

    Process-wide for a few tens of ms; left as it was found (off stays off)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
