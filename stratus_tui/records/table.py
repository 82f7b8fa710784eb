"""A big list of plain-text rows, filtered as the user types and sorted by any column.

The Agents page holds up to 50,000 rows of eight cells; every keystroke in the filter and
every sort must answer within a frame or two on a slow machine (PERFORMANCE.md: a filter
keystroke painted within 50 ms, a sort within 200 ms). So the work is done once and kept:

- **One haystack per row**: the row's cells casefolded (and NFC-normalised, so a
  decomposed "Zoë" from the server still matches a typed one), joined by a separator a
  query cannot contain. Filtering is then one substring test per row, run by C code
  (``compress`` over ``map(contains, ...)``), not a Python loop. Building them costs
  more than the rest of the constructor (~60 ms for 50,000 rows here), so it waits for
  the first filter, or for ``prepare()``, which the table runs in a thread after its
  first paint.
- **Narrowing**: the last few answers are kept; a query that contains an earlier one
  ("ann" after "an") filters that earlier answer instead of every row, and going back
  ("an" after "ann") finds its answer kept.
- **Sort orders per column**, built on first use and kept: keys casefolded for text,
  numbers for numeric columns; stable, ties broken by id ascending in both directions.
- **Edits patch, not rebuild**: ``upsert`` and ``remove`` move one id inside each kept
  order (a binary search and a list insert; a column whose cell did not change is not
  touched), update one haystack, and forget the kept answers (rebuilt in a few ms).

Cells are raw server text: the widget that draws them makes them safe (``text.clean``).
"""

from __future__ import annotations

import math
import threading
import unicodedata
from bisect import bisect_left, insort
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from operator import contains
from typing import Any

SEPARATOR = "\x00"  # between a row's cells in its haystack: a query holding it is refused
_ANSWERS = 16  # answers kept for narrowing and going back


@dataclass(frozen=True)
class Column:
    key: str  # "name", "upn", ...
    label: str  # header text
    width: int  # preferred width in cells
    hotkey: str = ""  # an upper-case letter: pressing it sorts by this column, again flips
    flex: bool = False  # takes the room left over
    numeric: bool = False  # sorts as a number (cells hold digits)


def fold(text: str) -> str:
    """``text`` as the filter compares it: casefolded, composed (NFC) when not ASCII."""
    folded = text.casefold()
    if folded.isascii() or unicodedata.is_normalized("NFC", folded):
        return folded
    return unicodedata.normalize("NFC", folded)


def number_key(cell: str) -> float:
    """A numeric cell's sort key; text that is not a finite number sorts after numbers."""
    try:
        value = float(cell.strip().replace(",", ""))
    except ValueError:
        return math.inf
    return value if math.isfinite(value) else math.inf


class RowSet:
    """Rows by id, in the order given (new rows go last); see the module docstring."""

    def __init__(
        self, columns: Sequence[Column], ids: Sequence[int], cells: Sequence[Sequence[str]]
    ) -> None:
        if len(ids) != len(cells):
            raise ValueError(f"{len(ids)} ids but {len(cells)} rows of cells")
        self.columns: tuple[Column, ...] = tuple(columns)
        self._index = {column.key: number for number, column in enumerate(self.columns)}
        width = len(self.columns)
        if all(type(row) is tuple for row in cells) and all(map(width.__eq__, map(len, cells))):
            self._cells: dict[int, tuple[str, ...]] = dict(zip(ids, cells, strict=True))  # type: ignore[arg-type]
        else:
            self._cells = {
                row_id: self._fit(row, width) for row_id, row in zip(ids, cells, strict=True)
            }
        # Haystacks: built by the first filter, or before it by ``prepare`` in a thread.
        # Same insertion order as _cells, so values() lines up with the ids.
        self._hay: dict[int, str] | None = None
        self._generation = 0  # counts changes: a haystack built meanwhile is stale
        self._lock = threading.Lock()  # changes vs. a snapshot for ``prepare``
        self._building = threading.Lock()  # one haystack build at a time
        self._keys: dict[str, dict[int, Any]] = {}  # column -> id -> sort key
        # (column, descending) -> ids. A descending order is kept reversed (ascending by
        # key, ties by id descending), so that one ascending bisect patches both.
        self._orders: dict[tuple[str, bool], list[int]] = {}
        self._answers: OrderedDict[tuple[str | None, bool, str], list[int]] = OrderedDict()

    @staticmethod
    def _fit(row: Sequence[str], width: int) -> tuple[str, ...]:
        """Exactly ``width`` cells (a short row is padded with empty ones)."""
        values = tuple(row)
        if len(values) != width:
            values = (values + ("",) * width)[:width]
        return values

    def __len__(self) -> int:
        return len(self._cells)

    def __contains__(self, row_id: object) -> bool:
        return row_id in self._cells

    def cells(self, row_id: int) -> tuple[str, ...]:
        return self._cells[row_id]

    def column(self, key: str) -> Column:
        return self.columns[self._column_number(key)]

    def _column_number(self, key: str) -> int:
        try:
            return self._index[key]
        except KeyError:
            raise KeyError(f"no column {key!r}") from None

    # --- answers -----------------------------------------------------------------------

    def view(self, query: str = "", sort: str | None = None, descending: bool = False) -> list[int]:
        """Row ids in display order: those with ``query`` (case-insensitive, casefolded)
        anywhere in any one cell, sorted by column ``sort`` (None: the given order)."""
        if sort is not None:
            self._column_number(sort)
        else:
            descending = False
        needle = fold(query)
        key = (sort, descending, needle)
        kept = self._answers.get(key)
        if kept is not None:
            self._answers.move_to_end(key)
            return list(kept)
        if not needle:
            answer = list(self._ordered(sort, descending))
        elif SEPARATOR in needle:  # it could match across cells: look at each cell
            answer = [
                row_id
                for row_id in self._ordered(sort, descending)
                if any(needle in fold(cell) for cell in self._cells[row_id])
            ]
        else:
            answer = self._filter(sort, descending, needle)
        self._answers[key] = answer
        while len(self._answers) > _ANSWERS:
            self._answers.popitem(last=False)
        return list(answer)

    def prepare(self) -> None:
        """Build the filter's haystacks now rather than at the first keystroke.

        Safe in a thread (the table starts it after its first paint, so that building
        50,000 haystacks delays neither that paint nor the first filter). A haystack
        built while the rows changed is dropped; the next filter builds its own."""
        with self._building:  # a filter meanwhile waits for this rather than build twice
            if self._hay is not None:
                return
            with self._lock:
                generation, rows = self._generation, list(self._cells.items())
            hay = self._build_hay(rows)
            with self._lock:
                if self._hay is None and self._generation == generation:
                    self._hay = hay

    def _haystacks(self) -> dict[int, str]:
        if self._hay is None:
            with self._building:
                if self._hay is None:  # (``prepare`` may have built it while we waited)
                    hay = self._build_hay(list(self._cells.items()))
                    with self._lock:
                        self._hay = hay
        assert self._hay is not None
        return self._hay

    @staticmethod
    def _build_hay(rows: list[tuple[int, tuple[str, ...]]]) -> dict[int, str]:
        join = SEPARATOR.join
        return {row_id: fold(join(row)) for row_id, row in rows}

    def _filter(self, sort: str | None, descending: bool, needle: str) -> list[int]:
        """The ids (in order) whose haystack holds ``needle``: from the smallest kept
        answer (same order) whose query ``needle`` contains, else from all rows."""
        ids: list[int] | None = None
        for (kept_sort, kept_descending, kept_query), kept in self._answers.items():
            if (
                kept_sort == sort
                and kept_descending == descending
                and kept_query in needle
                and (ids is None or len(kept) < len(ids))
            ):
                ids = kept
        hay = self._haystacks()
        haystacks: Iterable[str]
        if ids is not None:
            haystacks = map(hay.__getitem__, ids)
        elif sort is None:
            ids, haystacks = list(self._cells), hay.values()  # same order: no lookups
        else:
            ids = self._ordered(sort, descending)
            haystacks = map(hay.__getitem__, ids)
        return list(compress(ids, map(contains, haystacks, repeat(needle))))

    def _ordered(self, sort: str | None, descending: bool) -> list[int]:
        """All ids in the given order, or sorted (kept per column and direction)."""
        if sort is None:
            return list(self._cells)
        stored = self._orders.get((sort, descending))
        if stored is None:
            keys = self._sort_keys(sort)
            by_id = sorted(self._cells)
            if descending:
                by_id.reverse()  # stored ascending by key, ties by id descending
            stored = sorted(by_id, key=keys.__getitem__)
            self._orders[(sort, descending)] = stored
        return stored[::-1] if descending else stored

    def _sort_keys(self, sort: str) -> dict[int, Any]:
        keys = self._keys.get(sort)
        if keys is None:
            make = self._key_maker(sort)
            number = self._column_number(sort)
            keys = {row_id: make(row[number]) for row_id, row in self._cells.items()}
            self._keys[sort] = keys
        return keys

    def _key_maker(self, sort: str) -> Callable[[str], Any]:
        return number_key if self.column(sort).numeric else fold

    # --- changes -----------------------------------------------------------------------

    def upsert(self, row_id: int, cells: Sequence[str]) -> None:
        """Add the row, or change it in place; shows in the next ``view``."""
        row = self._fit(cells, len(self.columns))
        old = self._cells.get(row_id)
        if old == row:
            return
        self._answers.clear()
        for sort, keys in self._keys.items():
            number = self._index[sort]
            if old is not None and old[number] == row[number]:
                continue
            new_key = self._key_maker(sort)(row[number])
            for descending in (False, True):
                order = self._orders.get((sort, descending))
                if order is None:
                    continue
                tie = -row_id if descending else row_id
                if old is not None:
                    self._take_out(order, keys[row_id], row_id, keys, descending)
                insort(order, row_id, key=_order_key(keys, descending, row_id, new_key, tie))
            keys[row_id] = new_key
        with self._lock:  # with the generation: ``prepare`` sees both or neither
            self._generation += 1
            self._cells[row_id] = row
            if self._hay is not None:
                self._hay[row_id] = fold(SEPARATOR.join(row))

    def remove(self, row_id: int) -> None:
        """Forget the row (an unknown id is not an error: it is gone either way)."""
        if row_id not in self._cells:
            return
        self._answers.clear()
        for sort, keys in self._keys.items():
            for descending in (False, True):
                order = self._orders.get((sort, descending))
                if order is not None:
                    self._take_out(order, keys[row_id], row_id, keys, descending)
            del keys[row_id]
        with self._lock:
            self._generation += 1
            del self._cells[row_id]
            if self._hay is not None:
                del self._hay[row_id]

    @staticmethod
    def _take_out(
        order: list[int], key: Any, row_id: int, keys: dict[int, Any], descending: bool
    ) -> None:
        tie = -row_id if descending else row_id
        where = bisect_left(order, (key, tie), key=_order_key(keys, descending))
        if where < len(order) and order[where] == row_id:
            del order[where]
        else:  # keys that do not order totally (never expected): find it the slow way
            order.remove(row_id)


def _order_key(
    keys: dict[int, Any],
    descending: bool,
    new_id: int | None = None,
    new_key: Any = None,
    new_tie: int = 0,
) -> Callable[[int], tuple[Any, int]]:
    """The total order a stored list is sorted by: (key, id), or (key, -id) for the
    reversed descending one. ``new_id`` is looked up as ``(new_key, new_tie)``: its key
    is not in ``keys`` yet while it is being inserted."""

    def order_key(row_id: int) -> tuple[Any, int]:
        if row_id == new_id:
            return new_key, new_tie
        return keys[row_id], -row_id if descending else row_id

    return order_key
