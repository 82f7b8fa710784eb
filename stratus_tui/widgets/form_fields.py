"""One input widget per ``FieldSpec`` kind, laid out the same way.

Each field is a row: the label on the left ("● " in front when the value differs from the
starting one), on the right the input, a help line and the error ("✗ ..."), so the state
reads without colour. Server text (starting values, choice labels, server messages) is
shown through ``safe()``. A field posts ``FormField.Changed(name, value)`` when the *user*
changes it; ``set_value`` (revert, rebase) changes it quietly.

Text shown in an ``Input`` is cleaned too (an ESC in a name shows as ␛); as long as the user
leaves it alone the field keeps reporting the raw value, so nothing counts as modified just
because it was displayed.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Checkbox, Input, OptionList, Select, SelectionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist
from textual.widgets.selection_list import Selection

from stratus_tui.records.forms import (
    NONE_LABEL,
    FieldSpec,
    add_endpoint_error,
    display_value,
    normalise,
)
from stratus_tui.text import clean
from stratus_tui.widgets.safe import safe

LABEL_WIDTH = 24


class FormField(Horizontal):
    """The row common to every kind: label | input, help line, error line."""

    DEFAULT_CSS = f"""
    FormField {{ height: auto; margin-bottom: 1; }}
    FormField > .field-label {{ width: {LABEL_WIDTH}; padding-right: 1; text-style: bold; }}
    FormField.-modified > .field-label {{ color: $warning; }}
    FormField > .field-body {{ width: 1fr; max-width: 80; height: auto; }}
    FormField .field-help {{ color: $text-muted; }}
    FormField .field-note {{ color: $warning; }}
    FormField .field-error {{ color: $error; text-style: bold; }}
    FormField .-empty {{ display: none; }}
    FormField.-error Input {{ background: $error 20%; }}
    FormField .field-value {{ color: $text; }}
    """

    class Changed(Message):
        def __init__(self, field: FormField, name: str, value: Any) -> None:
            super().__init__()
            self.field = field
            self.name = name
            self.value = value

        @property
        def control(self) -> FormField:
            return self.field

    def __init__(self, spec: FieldSpec, value: Any) -> None:
        super().__init__(id=f"field-{spec.name}")
        self.spec = spec
        self._value = value
        self._modified = False
        self._label = Static(self._label_text(), classes="field-label")
        self._help = Static(safe(spec.help), classes="field-help")
        self._note = Static("", classes="field-note -empty")
        self._error = Static("", classes="field-error -empty")
        self._help.set_class(not spec.help, "-empty")

    @property
    def value(self) -> Any:
        return self._value

    def compose(self) -> ComposeResult:
        yield self._label
        with Vertical(classes="field-body"):
            yield from self.compose_input()
            yield self._help
            yield self._note
            yield self._error

    def compose_input(self) -> ComposeResult:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        """Show ``value`` without reporting it (revert, rebase)."""
        self._value = value
        self.show_value(value)

    def show_value(self, value: Any) -> None:
        raise NotImplementedError

    def focus_input(self) -> None:
        for widget in self.query("Input, Select, SelectionList, Checkbox, OptionList"):
            if widget.focusable:
                widget.focus()
                break
        self.scroll_visible()

    def report(self, value: Any) -> None:
        """The user changed the value: post it, unless it is the same."""
        if normalise(self.spec, value) == normalise(self.spec, self._value):
            self._value = value
            return
        self._value = value
        self.post_message(self.Changed(self, self.spec.name, value))

    def set_modified(self, modified: bool) -> None:
        if modified != self._modified:
            self._modified = modified
            self.set_class(modified, "-modified")
            self._label.update(self._label_text())

    def set_error(self, message: str | None) -> None:
        self.set_class(bool(message), "-error")
        self._error.set_class(not message, "-empty")
        self._error.update(safe(f"✗ {message}", max_length=None) if message else "")

    def set_note(self, note: str) -> None:
        """A second help line, e.g. "changed on the server meanwhile"."""
        self._note.set_class(not note, "-empty")
        self._note.update(safe(note, max_length=None))

    def _label_text(self) -> Any:
        return safe(("● " if self._modified else "  ") + self.spec.label)


class ReadOnlyField(FormField):
    """The value as text, and why it cannot be changed here."""

    def __init__(self, spec: FieldSpec, value: Any) -> None:
        super().__init__(spec, value)
        self._shown = Static(self._text(value), classes="field-value")
        why = spec.read_only
        help_text = "  ".join(filter(None, [f"read-only: {why}" if why else "", spec.help]))
        self._help.update(safe(help_text, max_length=None))
        self._help.set_class(not help_text, "-empty")

    def compose_input(self) -> ComposeResult:
        yield self._shown

    def show_value(self, value: Any) -> None:
        self._shown.update(self._text(value))

    def _text(self, value: Any) -> Any:
        return safe(display_value(self.spec, value), max_length=2000)


class InputField(FormField):
    """text and int: an Input; int text is parsed by the form as the user types."""

    def __init__(self, spec: FieldSpec, value: Any) -> None:
        super().__init__(spec, value)
        self._raw = value
        self._raw_text = self._as_text(value)
        self._input = Input(
            self._raw_text,
            placeholder=spec.placeholder,
            compact=True,
            select_on_focus=False,
        )

    @staticmethod
    def _as_text(value: Any) -> str:
        return "" if value is None else clean(value)

    def compose_input(self) -> ComposeResult:
        yield self._input

    def show_value(self, value: Any) -> None:
        self._raw, self._raw_text = value, self._as_text(value)
        self._input.value = self._raw_text

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.report(self._raw if event.value == self._raw_text else event.value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.screen.focus_next()


class ChoiceField(FormField):
    """One of the choices; an optional one may be left at "— none —"."""

    def __init__(self, spec: FieldSpec, value: Any) -> None:
        super().__init__(spec, value)
        self._known = {choice for choice, _ in spec.choices}
        self._blank_ok = not spec.required or value not in self._known
        self._select: Select[Any] = Select(
            [(safe(label), choice) for choice, label in spec.choices],
            prompt=NONE_LABEL if not spec.required else "— choose —",
            allow_blank=self._blank_ok,
            value=value if value in self._known else Select.NULL,
            compact=True,
        )
        if value is not None and value not in self._known:
            self.set_note(f"now: {display_value(spec, value)} (not in the list)")

    def compose_input(self) -> ComposeResult:
        yield self._select

    def show_value(self, value: Any) -> None:
        if value in self._known:
            self._select.value = value
        elif self._blank_ok:
            self._select.clear()

    @on(Select.Changed)
    def _changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is Select.NULL:
            if self._value not in self._known:
                return  # still an unknown (or no) value: blank is how it shows
            self.report(None)
        else:
            self.report(event.value)


class TickList(SelectionList[Any]):
    """A SelectionList whose boxes read without colour: "✓" ticked, blank not."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        try:
            option = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return strip
        segments = list(strip)
        if len(segments) > 1 and segments[1].text == Checkbox.BUTTON_INNER:
            tick = "✓" if option.value in self.selected else " "
            segments[1] = Segment(tick, segments[1].style)
        return Strip(segments, strip.cell_length)


class MultiField(FormField):
    """Any number of the choices, ticked in a short scrolling list."""

    DEFAULT_CSS = "MultiField SelectionList { height: auto; max-height: 8; }"

    def __init__(self, spec: FieldSpec, value: Any) -> None:
        super().__init__(spec, value)
        chosen = set(value or ())
        self._known = [choice for choice, _ in spec.choices]
        self._list = TickList(
            *[Selection(safe(label), choice, choice in chosen) for choice, label in spec.choices],
            compact=True,
        )
        self._unknown = self._others(value)

    def _others(self, value: Any) -> tuple[Any, ...]:
        others = tuple(item for item in value or () if item not in self._known)
        self.set_note(f"also {len(others)} not listed here (kept)" if others else "")
        return others

    def compose_input(self) -> ComposeResult:
        yield self._list

    def show_value(self, value: Any) -> None:
        self._unknown = self._others(value)
        chosen = set(value or ())
        self._list.deselect_all()
        for choice in self._known:
            if choice in chosen:
                self._list.select(choice)

    @on(SelectionList.SelectedChanged)
    def _changed(self, event: SelectionList.SelectedChanged[Any]) -> None:
        event.stop()
        self.report((*self._list.selected, *self._unknown))


class BoolField(FormField):
    """A checkbox whose label says "yes" or "no" (an X alone differs only by colour)."""

    def __init__(self, spec: FieldSpec, value: Any) -> None:
        super().__init__(spec, value)
        self._box = Checkbox("yes" if value else "no", bool(value), compact=True)

    def compose_input(self) -> ComposeResult:
        yield self._box

    def show_value(self, value: Any) -> None:
        self._box.value = bool(value)

    @on(Checkbox.Changed)
    def _changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self._box.label = "yes" if event.value else "no"
        self.report(event.value)


class EndpointList(OptionList):
    """The endpoints, one a line; Delete removes the highlighted one."""

    BINDINGS = [Binding("delete", "remove", "Remove endpoint", show=False)]

    class Remove(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def on_focus(self) -> None:
        if self.highlighted is None and self.option_count:
            self.highlighted = 0

    def action_remove(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Remove(self.highlighted))


class EndpointsField(FormField):
    """A list of (address, label); type an address and a label below it, Enter adds."""

    DEFAULT_CSS = """
    EndpointsField EndpointList { height: auto; max-height: 8; }
    EndpointsField .endpoint-add { height: 1; }
    EndpointsField .endpoint-add Input { width: 1fr; margin-right: 1; }
    EndpointsField .endpoint-none { color: $text-muted; }
    EndpointsField .endpoint-problem { color: $error; text-style: bold; }
    """

    def __init__(self, spec: FieldSpec, value: Any) -> None:
        super().__init__(spec, value)
        self._list = EndpointList(compact=True)
        self._none = Static(NONE_LABEL, classes="endpoint-none")
        self._address = Input(placeholder="add: tel:+41… or sip:…", compact=True)
        self._address_label = Input(placeholder="label (Enter adds)", compact=True)
        self._problem = Static("", classes="endpoint-problem -empty")

    def compose_input(self) -> ComposeResult:
        yield self._list
        yield self._none
        with Horizontal(classes="endpoint-add"):
            yield self._address
            yield self._address_label
        yield self._problem

    def on_mount(self) -> None:
        self.show_value(self._value)

    def pending(self) -> str | None:
        """Why saving now would lose something typed but not added, or None."""
        if self._address.value.strip() or self._address_label.value.strip():
            return "press Enter to add the endpoint you typed, or clear it"
        return None

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        return tuple(tuple(pair) for pair in self._value or ())

    def show_value(self, value: Any) -> None:
        pairs = tuple(value or ())
        self._list.set_options(
            [Option(safe(display_value(self.spec, (pair,)), max_length=None)) for pair in pairs]
        )
        self._list.display = bool(pairs)
        self._none.display = not pairs

    def _set(self, pairs: tuple[tuple[str, str], ...]) -> None:
        self.show_value(pairs)
        self.report(pairs)

    @on(Input.Submitted)
    def _add(self, event: Input.Submitted) -> None:
        event.stop()
        address, label = self._address.value.strip(), self._address_label.value.strip()
        if not address and not label:
            self.screen.focus_next()
            return
        problem = add_endpoint_error(self.pairs, address, label)
        self._problem.set_class(not problem, "-empty")
        self._problem.update(safe(f"✗ {problem}", max_length=None) if problem else "")
        if problem:
            self._address.focus()
            return
        self._address.value = self._address_label.value = ""
        self._address.focus()
        self._set((*self.pairs, (address, label)))

    @on(Input.Changed)
    def _typing(self, event: Input.Changed) -> None:
        event.stop()
        self._problem.set_class(True, "-empty")

    @on(EndpointList.Remove)
    def _remove(self, event: EndpointList.Remove) -> None:
        event.stop()
        pairs = self.pairs
        if 0 <= event.index < len(pairs):
            self._set(pairs[: event.index] + pairs[event.index + 1 :])
            if self._list.option_count:
                self._list.highlighted = min(event.index, self._list.option_count - 1)
                self._list.focus()
            else:
                self._address.focus()


KINDS: dict[str, type[FormField]] = {
    "text": InputField,
    "int": InputField,
    "choice": ChoiceField,
    "multi": MultiField,
    "bool": BoolField,
    "endpoints": EndpointsField,
}


def make_field(spec: FieldSpec, value: Any, *, read_only: bool = False) -> FormField:
    """The widget for ``spec``; ``read_only`` shows it as text (a view-only form)."""
    if read_only or spec.read_only:
        return ReadOnlyField(spec, value)
    return KINDS[spec.kind](spec, value)


def field_of(widget: Widget | None) -> FormField | None:
    """The field ``widget`` belongs to, if any (for "revert the focused field")."""
    while widget is not None:
        if isinstance(widget, FormField):
            return widget
        parent = widget.parent
        widget = parent if isinstance(parent, Widget) else None
    return None
