"""RowSet against a naive implementation: random rows, non-ASCII, empty cells, edits."""

from __future__ import annotations

import random
import time
import unicodedata

import pytest

from stratus_tui.records.table import Column, RowSet, fold, number_key

COLUMNS = (
    Column("name", "Name", 20, "N", flex=True),
    Column("ou", "OU", 10, "O"),
    Column("count", "Count", 5, "C", numeric=True),
)
WORDS = [
    "Zoë",
    "zoe",
    "ZOË",
    "Łukasz",
    "łukasz",
    "王",
    "王小明",
    "Ann",
    "anna",
    "",
    "Straße",
    "b",
    "ß",
]
QUERIES = [
    "",
    "a",
    "an",
    "ann",
    "anna",
    "zoë",
    "zoe",
    "ZO",
    "ł",
    "王",
    "ss",
    "straße",
    "1",
    "x",
    "ë",
]


def naive(rows: dict[int, tuple[str, ...]], order: list[int], query: str, sort: str | None,
          descending: bool) -> list[int]:  # fmt: skip
    needle = unicodedata.normalize("NFC", query.casefold())

    def folded(cell: str) -> str:
        return unicodedata.normalize("NFC", cell.casefold())

    ids = [i for i in order if any(needle in folded(cell) for cell in rows[i])]
    if sort is None:
        return ids
    number = [c.key for c in COLUMNS].index(sort)
    numeric = COLUMNS[number].numeric

    def key(i: int) -> object:
        cell = rows[i][number]
        return number_key(cell) if numeric else folded(cell)

    ids.sort(key=lambda i: i)  # ties by id ascending, in both directions
    return sorted(ids, key=key, reverse=descending)


def random_row(rng: random.Random) -> tuple[str, ...]:
    name = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 3)))
    count = rng.choice(["", "7", "12", "3", "100", "x", "2.5", "-1", "nan", "inf"])
    return (name, rng.choice(WORDS), count)


@pytest.mark.parametrize("seed", range(6))
def test_views_match_a_naive_filter_and_sort_through_edits(seed: int) -> None:
    rng = random.Random(seed)
    ids = rng.sample(range(1, 5000), 300)
    rows = {i: random_row(rng) for i in ids}
    order = list(ids)
    rowset = RowSet(COLUMNS, ids, [rows[i] for i in ids])
    sorts = [None, "name", "ou", "count"]
    for step in range(120):
        query = rng.choice(QUERIES)
        sort, descending = rng.choice(sorts), rng.random() < 0.5
        expected = naive(rows, order, query, sort, descending if sort else False)
        assert rowset.view(query, sort, descending) == expected, (step, query, sort, descending)
        # Typing on: narrowing from the answer just given must agree too.
        longer = query + rng.choice(["a", "n", "ë", "z", ""])
        assert rowset.view(longer, sort, descending) == naive(
            rows, order, longer, sort, descending if sort else False
        )
        action = rng.random()
        if action < 0.3:  # change a row
            row_id = rng.choice(order)
            rows[row_id] = random_row(rng)
            rowset.upsert(row_id, rows[row_id])
        elif action < 0.45:  # add a row
            row_id = rng.randint(1, 6000)
            if row_id not in rows:
                order.append(row_id)
            rows[row_id] = random_row(rng)
            rowset.upsert(row_id, rows[row_id])
        elif action < 0.55 and order:  # remove a row
            row_id = rng.choice(order)
            order.remove(row_id)
            del rows[row_id]
            rowset.remove(row_id)
        assert len(rowset) == len(order)


def test_casefold_rules_and_cells() -> None:
    decomposed = unicodedata.normalize("NFD", "Zoë")
    rowset = RowSet(COLUMNS, [1, 2, 3], [("Zoë", "", "1"), (decomposed, "", "2"), ("Zoe", "", "")])
    assert rowset.view("zoë") == [1, 2]  # the server's decomposed Zoë matches a typed one
    assert rowset.view("zoe") == [3]
    assert rowset.view("ZOË") == [1, 2]
    assert rowset.view("ë\x00") == []  # a separator in the query never matches across cells
    assert rowset.cells(2) == (decomposed, "", "2")
    assert fold("STRASSE") == fold("Straße")


def test_short_and_long_rows_are_fitted_and_unknown_ids_are_harmless() -> None:
    rowset = RowSet(COLUMNS, [1], [("only",)])
    assert rowset.cells(1) == ("only", "", "")
    rowset.upsert(2, ("a", "b", "c", "extra"))
    assert rowset.cells(2) == ("a", "b", "c")
    rowset.remove(99)
    assert 2 in rowset and 99 not in rowset
    with pytest.raises(KeyError):
        rowset.view(sort="nope")
    with pytest.raises(ValueError):
        RowSet(COLUMNS, [1, 2], [("a",)])


def test_numeric_sort_puts_numbers_in_order_and_text_last() -> None:
    rowset = RowSet(COLUMNS, [1, 2, 3, 4, 5], [("", "", c) for c in ("10", "9", "", "x", "100")])
    assert rowset.view(sort="count") == [2, 1, 5, 3, 4]
    assert rowset.view(sort="count", descending=True) == [3, 4, 5, 1, 2]


def test_fifty_thousand_rows_stay_fast_enough() -> None:
    """Structure, not a timing assertion with a tight bound: generous limits catch an
    accidental quadratic path (bench/agents_page.py measures the real thing)."""
    rng = random.Random(1)
    names = ["Anna", "Zoë", "Łukasz", "王", "Bob", "Chloé", "Mark", "Søren"]
    ids = list(range(1, 50_001))
    cells = [
        (f"{rng.choice(names)} {i}", f"user{i}@example.com", str(rng.randint(0, 99))) for i in ids
    ]
    rowset = RowSet(COLUMNS, ids, cells)
    started = time.perf_counter()
    for query in ("a", "an", "ann", "anna"):
        rowset.view(query, "name")
    rowset.view("anna", "name", descending=True)
    rowset.upsert(25, ("Anna Zed", "x", "1"))
    rowset.remove(26)
    assert rowset.view("anna zed", "name") == [25]
    assert time.perf_counter() - started < 5


def test_prepare_in_a_thread_agrees_with_building_on_demand() -> None:
    import threading

    rng = random.Random(9)
    ids = list(range(1, 3001))
    rows = {i: random_row(rng) for i in ids}
    rowset = RowSet(COLUMNS, ids, [rows[i] for i in ids])
    worker = threading.Thread(target=rowset.prepare)
    worker.start()
    for step in range(40):  # changes while the haystacks may be being built
        row_id = rng.choice(ids)
        rows[row_id] = random_row(rng)
        rowset.upsert(row_id, rows[row_id])
        if step % 10 == 0:
            assert rowset.view("a") == naive(rows, ids, "a", None, False)
    worker.join()
    rowset.prepare()  # built already: nothing to do
    for query in QUERIES:
        assert rowset.view(query, "name") == naive(rows, ids, query, "name", False)
