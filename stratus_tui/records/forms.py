"""Form fields and their state: validation as the user types, the modified set, the changes.

Pure Python (no Textual): ``widgets/form_fields.py`` draws a ``FieldSpec``, and
``screens/form.py`` keeps a ``FormState`` in step with what the user types.

Values as ``FormState.values`` holds them (what the widgets report):

========== =============================================================================
text       the text as typed (``None`` counts as empty)
choice     one of the spec's choice values, or ``None`` (shown as "— none —")
multi      a tuple of choice values, in any order
bool       ``True`` / ``False``
int        the text as typed, or an ``int`` (a starting value), or ``None``
endpoints  a tuple of ``(address, label)`` pairs, in the user's order
========== =============================================================================

Normalised values (what ``modified()`` compares, what ``changes()`` and ``value()`` give, and
what ``shown_if`` and ``check_all`` receive):

========== =============================================================================
text       stripped text; ``None`` when empty (an optional SIP URI left empty clears it)
choice     the value, or ``None``
multi      a ``list`` in the order of the spec's choices (values not among them after,
           sorted by their text), no duplicates: so the order never counts as a change
bool       ``bool``
int        ``int``; ``None`` when empty; text that is not a whole number stays text (it is
           an error, so it is never sent)
endpoints  a ``list`` of ``(address, label)`` tuples, both stripped, in the user's order
========== =============================================================================

A field whose ``shown_if`` is false is hidden: not validated, never modified, never sent.
A ``read_only`` field is shown but never validated, modified or sent.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from stratus_tui.api import validation

FieldKind = Literal["text", "choice", "multi", "bool", "int", "endpoints"]
Values = Mapping[str, Any]

NONE_LABEL = "— none —"  # an optional choice left empty
EMPTY = "—"  # how an empty value reads
MAX_ENDPOINTS = 200  # the contract's limit
MAX_LABEL = 200  # an endpoint label's longest


@dataclass(frozen=True)
class FieldSpec:
    name: str  # the request field, flat ("wrr_level", not "distribution.wrr_level")
    label: str
    kind: FieldKind
    required: bool = False
    check: Callable[[Any], str | None] | None = None  # api.validation rules: message or None
    choices: tuple[tuple[Any, str], ...] = ()  # (value, label) for choice / multi
    minimum: int | None = None  # int
    maximum: int | None = None
    read_only: str | None = None  # why it cannot be edited here ("synced from the directory")
    help: str = ""  # one line under the field
    placeholder: str = ""
    shown_if: Callable[[Values], bool] | None = None  # given the normalised values

    def choice_label(self, value: Any) -> str:
        for choice, label in self.choices:
            if choice == value:
                return label
        return EMPTY if value is None else str(value)


def empty_value(kind: FieldKind) -> Any:
    """A field's value when the starting values leave it out."""
    return {"text": "", "multi": (), "bool": False, "endpoints": ()}.get(kind)


def normalise(spec: FieldSpec, value: Any) -> Any:
    if spec.kind == "text":
        text = "" if value is None else str(value).strip()
        return text or None
    if spec.kind == "int":
        if value is None or isinstance(value, int):
            return value
        text = str(value).strip()
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            return text
    if spec.kind == "bool":
        return bool(value)
    if spec.kind == "multi":
        chosen = list(value or ())
        order = [choice for choice, _ in spec.choices if choice in chosen]
        others = sorted({item for item in chosen if item not in order}, key=str)
        return order + others
    if spec.kind == "endpoints":
        return [(str(address).strip(), str(label).strip()) for address, label in value or ()]
    return value  # choice


def _int_error(spec: FieldSpec, value: Any) -> str | None:
    if not isinstance(value, int):
        return "must be a whole number"
    low, high = spec.minimum, spec.maximum
    if low is not None and high is not None and not low <= value <= high:
        return f"must be between {low} and {high}"
    if low is not None and value < low:
        return f"must be at least {low}"
    if high is not None and value > high:
        return f"must be at most {high}"
    return None


def endpoint_error(address: str, label: str = "") -> str | None:
    """One endpoint on its own: the address's format, the label's length."""
    error = validation.endpoint_address_error(address.strip())
    if error:
        return f"{address.strip()} {error}" if address.strip() else "the address is required"
    if len(label.strip()) > MAX_LABEL:
        return f"a label must be at most {MAX_LABEL} characters"
    return validation.unstorable_text_error(label)


def add_endpoint_error(pairs: Sequence[tuple[str, str]], address: str, label: str) -> str | None:
    """Why ``(address, label)`` cannot be added to ``pairs``, or None."""
    if error := endpoint_error(address, label):
        return error
    if any(existing.strip() == address.strip() for existing, _ in pairs):
        return f"{address.strip()} is listed already"
    if len(pairs) >= MAX_ENDPOINTS:
        return f"at most {MAX_ENDPOINTS} endpoints"
    return None


def field_error(spec: FieldSpec, value: Any, initial: Any = None) -> str | None:
    """The message for a (shown, editable) field's value, or None.

    A choice that is not among the choices is an error only when the user picked it: a
    starting value the lists do not know (an id the page could not look up) is left alone.
    """
    normal = normalise(spec, value)
    if spec.kind == "text":
        if normal is None:
            return "is required" if spec.required else None
        if error := validation.unstorable_text_error(normal):
            return error
        return spec.check(normal) if spec.check else None
    if spec.kind == "int":
        if normal is None:
            return "is required" if spec.required else None
        return _int_error(spec, normal) or (spec.check(normal) if spec.check else None)
    if spec.kind == "choice":
        if normal is None:
            return "is required" if spec.required else None
        if normal not in {choice for choice, _ in spec.choices} and normal != initial:
            return "must be one of the choices"
    if spec.kind == "multi" and spec.required and not normal:
        return "is required: choose at least one"
    if spec.kind == "endpoints":
        if spec.required and not normal:
            return "is required: add at least one"
        if len(normal) > MAX_ENDPOINTS:
            return f"at most {MAX_ENDPOINTS} endpoints"
        seen: set[str] = set()
        for address, label in normal:
            if error := endpoint_error(address, label):
                return error
            if address in seen:
                return f"{address} is listed twice"
            seen.add(address)
    return spec.check(normal) if spec.check else None


def display_value(spec: FieldSpec, value: Any) -> str:
    """A value as the user reads it. Raw text: render it through ``widgets.safe``."""
    normal = normalise(spec, value)
    if spec.kind == "bool":
        return "yes" if normal else "no"
    if normal is None or normal == []:
        return EMPTY
    if spec.kind == "choice":
        return spec.choice_label(normal)
    if spec.kind == "multi":
        return ", ".join(spec.choice_label(item) for item in normal)
    if spec.kind == "endpoints":
        return ", ".join(f"{address} ({label})" if label else address for address, label in normal)
    return str(normal)


class FormState:
    """The values of one form as the user edits them, against the values it started from."""

    def __init__(
        self,
        specs: Sequence[FieldSpec],
        initial: Values,
        check_all: Callable[[Values], dict[str, str]] | None = None,
    ) -> None:
        self.specs: dict[str, FieldSpec] = {spec.name: spec for spec in specs}
        self._check_all = check_all
        self._initial = {
            name: initial.get(name, empty_value(spec.kind)) for name, spec in self.specs.items()
        }
        self.values: dict[str, Any] = dict(self._initial)

    @property
    def initial(self) -> Mapping[str, Any]:
        """The values the form is based on (the record as loaded, or theirs after a rebase)."""
        return MappingProxyType(self._initial)

    def set(self, name: str, value: Any) -> None:
        spec = self.specs[name]
        if spec.read_only:
            raise ValueError(f"{name} is read-only: {spec.read_only}")
        self.values[name] = value

    def value(self, name: str) -> Any:
        """The field's value normalised (as ``changes()`` would send it)."""
        return normalise(self.specs[name], self.values[name])

    def normalised(self) -> dict[str, Any]:
        """Every field's value normalised, hidden and read-only ones included."""
        return {name: normalise(spec, self.values[name]) for name, spec in self.specs.items()}

    def shown(self, name: str, normalised: Values | None = None) -> bool:
        spec = self.specs[name]
        if spec.shown_if is None:
            return True
        return bool(spec.shown_if(self.normalised() if normalised is None else normalised))

    def _editable(self) -> list[FieldSpec]:
        normal = self.normalised()
        return [s for s in self.specs.values() if not s.read_only and self.shown(s.name, normal)]

    def errors(self) -> dict[str, str]:
        """Field name -> message, for shown, editable fields; ``""`` holds a form-wide one.

        ``check_all`` runs as the user types too (an address that does not fit the kind is
        said at once, not after the other fields are done), but a field's own message comes
        first; a message it gives for a field that is hidden or read-only is form-wide.
        """
        found: dict[str, str] = {}
        editable = self._editable()
        for spec in editable:
            error = field_error(spec, self.values[spec.name], self._initial[spec.name])
            if error:
                found[spec.name] = error
        if self._check_all is None:
            return found
        names = {spec.name for spec in editable}
        for name, message in self._check_all(self.normalised()).items():
            if not message or name in found:
                continue
            if name in names:
                found[name] = message
            else:
                label = self.specs[name].label + ": " if name in self.specs else ""
                found[""] = "; ".join(filter(None, [found.get(""), label + message]))
        return found

    def modified(self) -> builtins.set[str]:
        """Shown, editable fields whose value differs from the starting one."""
        return {
            spec.name
            for spec in self._editable()
            if normalise(spec, self.values[spec.name]) != normalise(spec, self._initial[spec.name])
        }

    def changes(self) -> dict[str, Any]:
        """The modified fields' normalised values: what a PATCH sends."""
        return {name: self.value(name) for name in self.specs if name in self.modified()}

    def revert(self, name: str) -> Any:
        """Put one field back as it started; returns that value."""
        self.values[name] = self._initial[name]
        return self.values[name]

    def rebase(self, initial: Values) -> None:
        """A new base (the server's current record); the user's changes kept on top.

        Fields ``initial`` leaves out keep their old base.
        """
        mine = {name: self.values[name] for name in self.modified()}
        self._initial = {name: initial.get(name, old) for name, old in self._initial.items()}
        self.values = {**self._initial, **mine}

    def display(self, name: str, value: Any) -> str:
        """A value as the user reads it (choice labels, yes/no, "—"). Render via ``safe()``."""
        return display_value(self.specs[name], value)
