"""Two people edited one record: what each changed, where they clash, what reapplying sends.

``Conflict`` compares form values (the form's field names). Lists of plain values (ids, role
names) compare as sets, because their order never means anything in a form; lists of pairs
or mappings (endpoints) compare in order. ``SaveOutcome`` is what a form's ``submit`` answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_SCALARS = (str, int, float, bool, type(None))


def canonical(value: Any, *, top: bool = True) -> Any:
    """``value`` in a form where equal means "the same to the user".

    A field's list of plain values compares as a set; the items inside it (an endpoint's
    ``(address, label)``) and lists of anything else keep their order.
    """
    if isinstance(value, Mapping):
        return tuple(sorted((str(key), canonical(item, top=False)) for key, item in value.items()))
    if isinstance(value, (list, tuple, set, frozenset)):
        items = tuple(canonical(item, top=False) for item in value)
        unordered = isinstance(value, (set, frozenset))
        if unordered or (top and all(isinstance(item, _SCALARS) for item in items)):
            return frozenset(Counter(items).items())
        return items
    return value


def same(left: Any, right: Any) -> bool:
    return bool(canonical(left) == canonical(right))


@dataclass(frozen=True)
class Conflict:
    base: Mapping[str, Any]  # the record the form was based on (form field names)
    mine: Mapping[str, Any]  # the user's changes
    theirs: Mapping[str, Any]  # the server's current record
    theirs_etag: str

    def their_changes(self) -> set[str]:
        """Fields where theirs differs from the base."""
        names = set(self.base) | set(self.theirs)
        return {n for n in names if not same(self.theirs.get(n), self.base.get(n))}

    def my_changes(self) -> set[str]:
        return set(self.mine)

    def clashes(self) -> set[str]:
        """Fields both changed, to different values."""
        theirs = self.their_changes()
        return {n for n in self.mine if n in theirs and not same(self.mine[n], self.theirs.get(n))}

    def reapplied(self) -> dict[str, Any]:
        """Mine minus what theirs already has: send it with ``theirs_etag``."""
        return {n: v for n, v in self.mine.items() if not same(v, self.theirs.get(n))}

    def fields(self) -> set[str]:
        """Every field either side changed."""
        return self.their_changes() | self.my_changes()


@dataclass(frozen=True)
class SaveOutcome:
    """A form's ``submit`` answer.

    ``saved``: done, the form closes. Otherwise the form stays open with everything typed,
    and shows ``field_errors`` (the server's 422, by form field name; ``""`` is form-wide)
    next to the fields, ``message`` in its error line, or the ``conflict`` (a 412). For a
    conflict only ``theirs`` and ``theirs_etag`` need to be right: the form fills in
    ``base`` and ``mine`` itself (it knows what it was based on and what it sent).
    """

    saved: bool
    message: str = ""
    field_errors: dict[str, str] = field(default_factory=dict)
    conflict: Conflict | None = None
