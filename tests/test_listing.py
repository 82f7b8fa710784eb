"""Rows stored ready to show: round trips, replacing, patching, the separator, the speed."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

import pytest

from stratus_tui.cache import schema
from stratus_tui.cache.listing import (
    delete_listing_rows,
    load_listing,
    put_listing_rows,
    store_listing,
)
from stratus_tui.cache.store import NOTICE_VERSION, Cache
from tests.hostile import HOSTILE


def open_cache(tmp_path: Path) -> Cache:
    return Cache.open_path(tmp_path / "cache.sqlite3")


def test_round_trip_keeps_every_cell_and_sorts_by_id(tmp_path: Path) -> None:
    rows = [
        (3, ("Zoë", "", "王小明", "")),
        (1, ("a\x1fb", "\x1f", "Łukasz", "x")),
        (
            2,
            tuple(
                HOSTILE[key] for key in ("osc52_clipboard", "lone_surrogate", "empty", "cjk_rtl")
            ),
        ),
    ]
    with open_cache(tmp_path) as cache:
        store_listing(cache, "agent", rows)
        store_listing(cache, "service", [(1, ("other", "kind", "x", "y"))])
        ids, cells = load_listing(cache, "agent")
    assert ids == [1, 2, 3]
    assert cells[0] == ("a␟b", "␟", "Łukasz", "x")  # a separator inside a value stays one cell
    # A lone surrogate cannot be stored as UTF-8: it is kept as the table would show it.
    assert cells[1] == ("\x1b]52;c;SGk=\x07", "bad\ufffdtext", "", "王小明 مرحبا")
    assert cells[2] == ("Zoë", "", "王小明", "")


def test_store_replaces_the_kind_and_put_delete_patch_it(tmp_path: Path) -> None:
    with open_cache(tmp_path) as cache:
        assert load_listing(cache, "agent") == ([], [])
        store_listing(cache, "agent", [(1, ("a", "b")), (2, ("c", "d"))])
        store_listing(cache, "service", [(1, ("s",))])
        store_listing(cache, "agent", [(2, ("C", "D")), (5, ("e", "f"))])
        assert load_listing(cache, "agent") == ([2, 5], [("C", "D"), ("e", "f")])
        put_listing_rows(cache, "agent", [(5, ("E", "F")), (7, ("g", ""))])
        delete_listing_rows(cache, "agent", [2, 99])
        put_listing_rows(cache, "agent", [])
        delete_listing_rows(cache, "agent", [])
        assert load_listing(cache, "agent") == ([5, 7], [("E", "F"), ("g", "")])
        assert load_listing(cache, "service") == ([1], [("s",)])


def test_rows_of_one_kind_keep_one_width(tmp_path: Path) -> None:
    with open_cache(tmp_path) as cache:
        with pytest.raises(ValueError, match="as many cells"):
            store_listing(cache, "agent", [(1, ("a", "b")), (2, ("c", "d", "e"))])
        store_listing(cache, "agent", [(1, ("a", "b")), (2, ("c", "d"))])
        # Another version's columns: the stale rows go rather than garble the list.
        put_listing_rows(cache, "agent", [(3, ("x", "y", "z"))])
        assert load_listing(cache, "agent") == ([3], [("x", "y", "z")])


def test_rows_written_around_the_width_rule_load_when_they_can(tmp_path: Path) -> None:
    """Only this module writes the table; if the totals do not divide, rows split one by one."""
    with open_cache(tmp_path) as cache:
        with cache.write() as connection:
            connection.executemany(
                "INSERT INTO listing (kind, id, cells) VALUES ('agent', ?, ?)",
                [(1, "a\x1fb\x1fc"), (2, "d"), (3, "e")],
            )
        assert load_listing(cache, "agent") == ([1, 2, 3], [("a", "b", "c"), ("d",), ("e",)])


def test_a_cache_of_the_previous_schema_is_rebuilt_with_the_table(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    Cache.open_path(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TABLE listing")
        connection.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION - 1}")
    connection.close()
    with Cache.open_path(path) as cache:
        assert cache.notice == NOTICE_VERSION
        store_listing(cache, "agent", [(1, ("a",))])
        assert load_listing(cache, "agent") == ([1], [("a",)])


def test_fifty_thousand_rows_load_in_one_pass(tmp_path: Path) -> None:
    """Generous bound (the bench measures): catches a per-row query or a quadratic split."""
    rng = random.Random(3)
    names = ["Anna", "Zoë", "Łukasz", "王", "Søren"]
    rows = [
        (i, (f"{rng.choice(names)} {i}", f"u{i}@example.com", f"sip:u{i}@example.com", "OU",
             "Team 1, Team 2", "team admin", "Day", "yes"))
        for i in range(1, 50_001)
    ]  # fmt: skip
    with open_cache(tmp_path) as cache:
        store_listing(cache, "agent", rows)
        started = time.perf_counter()
        ids, cells = load_listing(cache, "agent")
        elapsed = time.perf_counter() - started
    assert ids == list(range(1, 50_001))
    assert cells[0] == rows[0][1] and cells[-1] == rows[-1][1]
    assert elapsed < 2
