"""Reading a page of the conversation feed fast: one parse that also checks every type.

The feed carries millions of rows, so the generic ``answers.decode`` (pydantic, then a
second strict parse for duplicate keys) would cost more than storing the rows. Here one
pydantic-core pass parses the JSON *and* checks each cell against the row's strict type
(``Row``: ints that are ints, the enumerations, booleans that are booleans), which is about
twice as fast as ``json.loads`` alone. What that parser lets through is checked cheaply:

- duplicate keys: only the page object has keys (rows are arrays of scalars, checked), and
  each of its keys appears once as a literal token unless the body spells a key with
  ``\\u`` escapes, in which case the strict (slow) duplicate check runs;
- lone surrogates, NaN, deep nesting: refused by the parser itself;
- the page's own logic: ``fields`` names the columns in ``CONVERSATION_FIELDS`` order,
  sequence numbers rise and come after ``after``, ``has_more`` comes with rows.

A server that sends more columns than this client knows (a newer one) is read too: the
known columns are picked by name, then checked the same way (slower, but correct).
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter, lt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt, StrictStr, ValidationError

from stratus_tui.api import models
from stratus_tui.api.answers import JSON_TYPES, Answer, check_strict_json, invalid_answer
from stratus_tui.api.errors import BadResponse

FIELDS = list(models.CONVERSATION_FIELDS)
SEQ = FIELDS.index("seq")
_KEYS = (b'"fields"', b'"rows"', b'"next_cursor"', b'"has_more"', b'"latest_seq"')

# One row of the feed, in CONVERSATION_FIELDS order, as the cache stores it.
# fmt: off
Row = tuple[
    StrictInt, StrictInt, StrictInt, StrictInt, StrictInt | None, StrictInt | None,
    Literal["call", "im"], Literal["inbound", "outbound"], StrictBool, StrictInt,
    StrictInt | None, StrictInt, Literal["accepted", "lost"], StrictInt, StrictInt,
    StrictBool, StrictStr,
]
# fmt: on


class _TypedPage(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    fields: list[str]
    rows: list[Row]
    next_cursor: int
    has_more: bool
    latest_seq: int | None = None


class _AnyPage(BaseModel):
    """Any columns: for a server that sends fields this client does not know."""

    model_config = ConfigDict(extra="ignore", strict=True)
    fields: list[str]
    rows: list[list[Any]]
    next_cursor: int
    has_more: bool
    latest_seq: int | None = None


class _Rows(BaseModel):
    model_config = ConfigDict(strict=True)
    rows: list[Row]


@dataclass(frozen=True)
class RawPage:
    """A feed page as received, not read yet: ``decode()`` it where the CPU time suits
    (the cache's sync reads it in its worker thread, between storing two pages)."""

    answer: Answer
    base_url: str
    after: int

    def decode(self) -> models.ConversationPage:
        return decode_page(self.answer, self.base_url, self.after)


def decode_page(answer: Answer, base_url: str, after: int) -> models.ConversationPage:
    """The page in ``answer`` (a 2xx answer to ``GET /conversations?after=...``), checked.

    ``rows`` are tuples in ``CONVERSATION_FIELDS`` order. Raises ``BadResponse`` with one
    sentence for anything off the contract; nothing is half-read.
    """
    what = answer.what
    body = answer.body
    if answer.looks_like_html():
        raise BadResponse.html_page(base_url, what)
    if answer.media_type not in JSON_TYPES:
        raise BadResponse.not_json(what, answer.media_type)
    if not body.strip():
        raise BadResponse.empty(what)
    if b"\\u" in body or any(body.count(key) > 1 for key in _KEYS):
        # Rare: a key may be spelled twice. Let the strict (slow) parser read it all first.
        try:
            check_strict_json(body)
        except RecursionError:
            raise BadResponse.too_deep(what) from None
        except ValueError as exc:
            raise BadResponse.malformed(what, str(exc)) from None
    try:
        page: _TypedPage | _AnyPage = _TypedPage.model_validate_json(body)
    except ValidationError as exc:
        page = _other_columns(body, what, exc)
    except RecursionError:
        raise BadResponse.too_deep(what) from None
    if page.fields != FIELDS:
        page = _project(page, what)
    assert isinstance(page, _TypedPage)
    _check_order(page, after, what)
    return models.ConversationPage.model_construct(
        fields=FIELDS,
        rows=page.rows,
        next_cursor=page.next_cursor,
        has_more=page.has_more,
        latest_seq=page.latest_seq,
    )


def _other_columns(body: bytes, what: str, error: ValidationError) -> _AnyPage:
    """The page read with any columns, when its rows do not fit ``Row`` as sent."""
    try:
        page = _AnyPage.model_validate_json(body)
    except ValidationError:
        raise invalid_answer(what, error) from None
    if page.fields == FIELDS:  # our columns, wrong values: report the first one
        raise invalid_answer(what, error) from None
    return page


def _project(page: _TypedPage | _AnyPage, what: str) -> _TypedPage:
    """Our columns picked by name from a page with other (more, or reordered) fields."""
    missing = [name for name in FIELDS if name not in page.fields]
    if missing or len(set(page.fields)) != len(page.fields):
        problem = f"missing {', '.join(missing)}" if missing else "a column is named twice"
        raise BadResponse.off_contract(what, "fields", problem)
    width = len(page.fields)
    for index, row in enumerate(page.rows):
        if len(row) != width:
            raise BadResponse.off_contract(
                what, f"rows.{index}", f"has {len(row)} values for {width} fields"
            )
    pick = itemgetter(*(page.fields.index(name) for name in FIELDS))
    try:
        rows = _Rows.model_validate({"rows": [pick(row) for row in page.rows]}).rows
    except ValidationError as exc:
        raise invalid_answer(what, exc) from None
    return _TypedPage.model_construct(
        fields=FIELDS,
        rows=rows,
        next_cursor=page.next_cursor,
        has_more=page.has_more,
        latest_seq=page.latest_seq,
    )


def _check_order(page: _TypedPage, after: int, what: str) -> None:
    """Rows newer than ``after``, oldest change first; a cursor that moves forward."""
    seqs = list(map(itemgetter(SEQ), page.rows))
    if seqs:
        if seqs[0] <= after:
            problem = f"a row's seq {seqs[0]} is not after the cursor {after}"
            raise BadResponse.off_contract(what, "rows", problem)
        if not all(map(lt, seqs, seqs[1:])):
            raise BadResponse.off_contract(what, "rows", "the rows are not in seq order")
        if page.next_cursor < seqs[-1]:
            problem = f"{page.next_cursor} is before the last row's seq {seqs[-1]}"
            raise BadResponse.off_contract(what, "next_cursor", problem)
    elif page.has_more:
        raise BadResponse.off_contract(what, "has_more", "true on a page without rows")
    if page.next_cursor < after:
        problem = f"{page.next_cursor} goes back before {after}"
        raise BadResponse.off_contract(what, "next_cursor", problem)
