"""FormScreen and ConflictScreen as a unit: specs and a ``submit`` defined here, no server.

The end-to-end tests (the Agents and Services pages against the reference server) live with
the pages; these drive the shared editor itself: validation as the user types, what ctrl+s
sends, the server's answers, leaving, conflicts, read-only, hostile text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.app import App
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select, SelectionList, Static

from stratus_tui.api import validation
from stratus_tui.records.conflict import Conflict, SaveOutcome
from stratus_tui.records.forms import FieldSpec
from stratus_tui.screens.conflict import ConflictScreen
from stratus_tui.screens.dialogs import ChoiceDialog
from stratus_tui.screens.form import SERVER_CHANGED, FormScreen
from stratus_tui.text import clean
from stratus_tui.widgets.form_fields import EndpointsField, FormField
from tests.hostile import HOSTILE
from tests.tui import settle


def _wrr(values: Mapping[str, Any]) -> bool:
    return values.get("priority") == "weighted_round_robin"


def _sip(value: Any) -> str | None:
    return validation.sip_uri_error(value)


SPECS = [
    FieldSpec("name", "Name", "text", required=True),
    FieldSpec("sip_uri", "SIP URI", "text", check=_sip, placeholder="sip:alice@example.com"),
    FieldSpec("upn", "UPN", "text", read_only="synced from the directory: change it there"),
    FieldSpec(
        "priority",
        "Distribution",
        "choice",
        required=True,
        choices=(("strict", "strict"), ("weighted_round_robin", "weighted round robin")),
    ),
    FieldSpec("wrr_level", "Level", "int", required=True, minimum=1, maximum=7, shown_if=_wrr),
    FieldSpec("workflow_id", "Workflow", "choice", choices=((5, "Main"), (6, "Night"))),
    FieldSpec("trait_ids", "Traits", "multi", choices=((1, "French"), (2, "German"))),
    FieldSpec("active", "Active", "bool"),
    FieldSpec("max_sessions", "Max sessions", "int", minimum=1, maximum=100),
    FieldSpec("endpoints", "Endpoints", "endpoints", help="Enter adds, Delete removes"),
]
INITIAL = {
    "name": "Support",
    "sip_uri": "sip:support@example.com",
    "upn": "support@example.com",
    "priority": "strict",
    "wrr_level": None,
    "workflow_id": 5,
    "trait_ids": (1,),
    "active": True,
    "max_sessions": 10,
    "endpoints": (("tel:+41445550100", "Reception"),),
}
SAVED = SaveOutcome(saved=True)


class Recorder:
    """A ``submit`` that records what it was given and answers from a list."""

    def __init__(self, *outcomes: SaveOutcome) -> None:
        self.calls: list[tuple[dict[str, Any], str | None]] = []
        self.outcomes = list(outcomes)

    async def __call__(self, changes: dict[str, Any], etag: str | None) -> SaveOutcome:
        self.calls.append((changes, etag))
        return self.outcomes.pop(0)


class FormApp(App[None]):
    def __init__(self, form: FormScreen) -> None:
        super().__init__()
        self.form = form
        self.results: list[bool | None] = []

    def on_mount(self) -> None:
        self.push_screen(self.form, self.results.append)


def form_app(
    submit: Recorder,
    specs: list[FieldSpec] = SPECS,
    initial: Mapping[str, Any] = INITIAL,
    **options: Any,
) -> FormApp:
    return FormApp(FormScreen("Support", specs, initial, etag='"3"', submit=submit, **options))


def field(app: FormApp, name: str) -> FormField:
    return app.form.query_one(f"#field-{name}", FormField)


def error_text(app: FormApp, name: str) -> str:
    box = field(app, name).query_one(".field-body > .field-error", Static)
    return "" if box.has_class("-empty") else str(box.render())


def type_into(app: FormApp, name: str, text: str) -> None:
    """Set an Input's value as typing would (key presses are slow; tested once below)."""
    field(app, name).query_one(Input).value = text


def form_error(app: FormApp) -> str:
    return str(app.form.query_one("#form-error", Static).render())


async def save(pilot: Pilot[Any]) -> None:
    await pilot.press("ctrl+s")
    await settle(pilot)


async def test_typing_shows_the_error_next_to_the_field_and_marks_it_modified() -> None:
    app = form_app(Recorder())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert error_text(app, "max_sessions") == ""
        box = field(app, "max_sessions").query_one(Input)
        box.focus()
        box.cursor_position = len(box.value)
        await pilot.press("x")
        assert error_text(app, "max_sessions") == "✗ must be a whole number"
        assert field(app, "max_sessions").has_class("-modified")
        assert "● modified (1)" in str(app.form.query_one("#form-title", Static).render())
        assert "● Max sessions" in str(field(app, "max_sessions").query_one(Static).render())
        type_into(app, "max_sessions", "500")
        await pilot.pause()
        assert error_text(app, "max_sessions") == "✗ must be between 1 and 100"
        type_into(app, "max_sessions", "10")
        await pilot.pause()
        assert error_text(app, "max_sessions") == ""
        assert not field(app, "max_sessions").has_class("-modified")


async def test_save_with_errors_sends_nothing_and_focuses_the_field() -> None:
    submit = Recorder()
    app = form_app(submit)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        type_into(app, "sip_uri", "alice")
        await pilot.pause()
        app.form.query_one("#field-name Input").focus()
        await save(pilot)
        assert submit.calls == []
        assert error_text(app, "sip_uri") == "✗ " + str(validation.sip_uri_error("alice"))
        assert app.focused is field(app, "sip_uri").query_one(Input)
        assert app.screen is app.form


async def test_save_sends_only_the_changes_with_the_etag_and_closes() -> None:
    submit = Recorder(SAVED)
    app = form_app(submit)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        type_into(app, "name", "  Sales ")
        field(app, "trait_ids").query_one(SelectionList).select(2)
        field(app, "active").query_one(Checkbox).value = False
        field(app, "priority").query_one(Select).value = "weighted_round_robin"
        await pilot.pause()
        assert field(app, "wrr_level").display  # shown once priority is round robin
        assert error_text(app, "wrr_level") == ""  # untouched: not shouted at yet
        await save(pilot)
        assert submit.calls == []
        assert error_text(app, "wrr_level") == "✗ is required"
        type_into(app, "wrr_level", "3")
        await pilot.pause()
        await save(pilot)
        assert submit.calls == [
            (
                {
                    "name": "Sales",
                    "priority": "weighted_round_robin",
                    "wrr_level": 3,
                    "trait_ids": [1, 2],
                    "active": False,
                },
                '"3"',
            )
        ]
        assert app.results == [True]


async def test_nothing_changed_closes_without_sending() -> None:
    submit = Recorder()
    app = form_app(submit)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await save(pilot)
        assert submit.calls == []
        assert app.results == [False]


async def test_the_servers_field_errors_and_messages_show_and_keep_the_values() -> None:
    hostile = HOSTILE["click_action"]
    submit = Recorder(
        SaveOutcome(saved=False, field_errors={"name": hostile, "nope": "odd"}),
        SaveOutcome(saved=False, message="The server is not reachable"),
    )
    app = form_app(submit)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        type_into(app, "name", "Sales")
        await pilot.pause()
        await save(pilot)
        assert error_text(app, "name") == f"✗ {hostile}"  # literally, no action
        assert form_error(app) == "✗ odd"
        assert app.form.state.values["name"] == "Sales"
        assert not app.form.query_one("#fields").disabled
        await save(pilot)
        assert form_error(app) == "✗ The server is not reachable"
        assert app.form.state.changes() == {"name": "Sales"}
        assert app.results == []
        type_into(app, "name", "Sales desk")
        await pilot.pause()
        assert error_text(app, "name") == ""  # the server's message goes once edited


async def test_escape_with_changes_asks_and_keep_editing_keeps_the_values() -> None:
    app = form_app(Recorder())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        type_into(app, "name", "Sales")
        await pilot.pause()
        await pilot.press("escape")
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("enter")  # the default answer: keep editing
        await pilot.pause()
        assert app.screen is app.form
        assert field(app, "name").query_one(Input).value == "Sales"
        await pilot.press("escape")
        await pilot.pause()
        app.screen.query_one("#discard").press()
        await pilot.pause()
        assert app.results == [False]


async def test_escape_without_changes_and_request_leave() -> None:
    app = form_app(Recorder())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        left: list[str] = []
        app.form.request_leave(lambda: left.append("then"))
        await pilot.pause()
        assert left == ["then"]
        assert app.results == [False]


async def test_revert_field_puts_the_focused_field_back() -> None:
    app = form_app(Recorder())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        type_into(app, "name", "Sales")
        field(app, "name").query_one(Input).focus()
        await pilot.pause()
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert field(app, "name").query_one(Input).value == "Support"
        assert app.form.state.modified() == set()


def stale(theirs: dict[str, Any]) -> SaveOutcome:
    # base and mine left empty: the form fills them in itself
    return SaveOutcome(saved=False, conflict=Conflict({}, {}, theirs, '"9"'))


THEIRS = {**INITIAL, "name": "Helpdesk", "max_sessions": 20, "workflow_id": 6}


async def conflict_answer(pilot: Pilot[Any], key: str) -> None:
    await settle(pilot)
    assert isinstance(pilot.app.screen, ConflictScreen)
    await pilot.press(key)
    await settle(pilot)


async def test_a_conflict_reapplied_sends_mine_on_their_version() -> None:
    submit = Recorder(stale(THEIRS), SAVED)
    app = form_app(submit)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        type_into(app, "name", "Sales")
        field(app, "active").query_one(Checkbox).value = False
        type_into(app, "max_sessions", "20")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await conflict_answer(pilot, "r")
        assert submit.calls[1] == ({"name": "Sales", "active": False}, '"9"')
        assert app.results == [True]


async def test_the_conflict_screen_shows_both_sides() -> None:
    submit = Recorder(stale(THEIRS))
    app = form_app(submit)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        type_into(app, "name", "Sales")
        type_into(app, "sip_uri", "sip:sales@example.com")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConflictScreen)
        rows = [
            " | ".join(str(cell.render()) for cell in row.query(Static))
            for row in screen.query(".row")
        ]
        assert rows[1:] == [
            "⚠ Name\nboth changed | Support | ● Helpdesk | ● Sales",
            "SIP URI | sip:support@example.com | (unchanged) | ● sip:sales@example.com",
            "Workflow | Main | ● Night | (unchanged)",
            "Max sessions | 10 | ● 20 | (unchanged)",
        ]
        await pilot.press("t")
        await settle(pilot)
        assert app.results == [False]
        assert len(submit.calls) == 1


async def test_a_conflict_edited_on_is_rebased_with_their_fields_marked() -> None:
    submit = Recorder(stale(THEIRS), SAVED)
    app = form_app(submit)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        type_into(app, "sip_uri", "sip:sales@example.com")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await conflict_answer(pilot, "escape")
        form = app.form
        assert app.screen is form
        assert form.etag == '"9"'
        assert field(app, "max_sessions").query_one(Input).value == "20"
        assert field(app, "sip_uri").query_one(Input).value == "sip:sales@example.com"
        note = field(app, "workflow_id").query_one(".field-note", Static)
        assert str(note.render()) == SERVER_CHANGED and not note.has_class("-empty")
        assert form.state.changes() == {"sip_uri": "sip:sales@example.com"}
        await save(pilot)
        assert submit.calls[1] == ({"sip_uri": "sip:sales@example.com"}, '"9"')


async def test_a_read_only_form_refuses_to_save() -> None:
    submit = Recorder()
    app = form_app(submit, read_only="Profile lab is read-only")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not app.form.query(Input)  # every field is text
        await save(pilot)
        assert submit.calls == []
        assert app.screen is app.form
        assert any("read-only" in n.message for n in app._notifications)
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [False]


async def test_endpoints_add_and_remove_and_typed_but_not_added_blocks_saving() -> None:
    submit = Recorder(SAVED)
    app = form_app(submit)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        endpoints = field(app, "endpoints")
        assert isinstance(endpoints, EndpointsField)
        address, label = endpoints.query(Input)
        address.value, label.value = "tel:0800", "Bad"
        label.focus()
        await pilot.press("enter")
        assert "must be tel: followed by" in str(
            endpoints.query_one(".endpoint-problem", Static).render()
        )
        address.value = "sip:desk@example.com"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert submit.calls == []  # typed but not added: would be lost
        assert "press Enter to add" in error_text(app, "endpoints")
        label.focus()
        await pilot.press("enter")
        assert endpoints.pairs == (
            ("tel:+41445550100", "Reception"),
            ("sip:desk@example.com", "Bad"),
        )
        endpoints.query_one("EndpointList").focus()
        await pilot.press("delete")  # the first (highlighted) one
        await pilot.pause()
        assert endpoints.pairs == (("sip:desk@example.com", "Bad"),)
        await save(pilot)
        assert submit.calls == [({"endpoints": [("sip:desk@example.com", "Bad")]}, '"3"')]


async def test_hostile_values_and_labels_render_literally_and_do_not_count_as_changes() -> None:
    # the server cannot store the others (SECURITY.md A5), so no record starts with them
    unstorable = {"empty", "lone_surrogate", "nul_and_bell"}
    cases = {key: text for key, text in HOSTILE.items() if key not in unstorable}
    specs = [FieldSpec(key, key, "text") for key in cases]
    specs.append(FieldSpec("pick", "Pick", "choice", choices=tuple(enumerate(cases.values()))))
    specs.append(FieldSpec("many", "Many", "multi", choices=tuple(enumerate(cases.values()))))
    specs.append(FieldSpec("shown", "Shown", "text", read_only=HOSTILE["click_action"]))
    initial = {**cases, "pick": 0, "many": (1, 2), "shown": HOSTILE["osc52_clipboard"]}
    submit = Recorder()
    app = FormApp(FormScreen(HOSTILE["csi_7bit"], specs, initial, etag="1", submit=submit))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        form = app.form
        for key, text in cases.items():
            assert field(app, key).query_one(Input).value == clean(text)
        assert form.state.modified() == set()
        assert form.state.errors() == {}
        title = form.query_one("#form-title", Static).render()
        assert isinstance(title, Content) and "␛[2J" in title.plain
        shown = field(app, "shown").query_one(".field-value", Static).render()
        assert isinstance(shown, Content) and shown.plain == clean(HOSTILE["osc52_clipboard"])
        help_line = str(field(app, "shown").query_one(".field-help", Static).render())
        assert help_line == "read-only: [@click=app.quit]x[/]"
        many = field(app, "many").query_one(SelectionList)
        prompts = [str(many.get_option_at_index(i).prompt) for i in range(3)]
        assert prompts[0] == "[@click=app.quit]x[/]" and prompts[1] == "[/oops]"
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "\x9b" not in svg and "\u202e" not in svg
        assert "[@click=app.quit]x[/]" in svg.replace("&#160;", " ")
        await save(pilot)
        assert submit.calls == []
        assert app.results == [False]  # nothing to save
