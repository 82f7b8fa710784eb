"""The hostile corpus on every page and in every export (SECURITY.md A, issue 11 point 1).

Each storable corpus string is seeded into the reference server as an org unit, a team, an
agent, a trait, a responsibility, a duty profile, a workflow (name and a step's text), a
service, customer identifiers of lost and accepted calls, a chat message and a failed privacy
export's reason; one instance and one component version carry some too. One admin then walks
every page, moves onto every row so its detail is shown, opens forms, trees, the workflow
definition, every hostile team's report, and runs each export from the TUI.

What is checked:
- nothing crashes, and every page shows the strings literally (the cleaned text is on screen,
  so no markup was read, and no segment carries the data's ``@click`` action);
- the bytes Textual wrote for the terminal (captured from the driver) hold no escape
  sequence, C1 control, BEL or bidi control that came from data;
- the CSV exports neutralise formula cells and give the data back otherwise unchanged; the
  PDF is built and its text holds the names without control characters.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.content import Content
from textual.drivers.headless_driver import HeadlessDriver
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from stratus_tui.app import StratusApp
from stratus_tui.export.csv import neutralise
from stratus_tui.screens.dialogs import SaveAsDialog
from stratus_tui.screens.form import FormScreen
from stratus_tui.screens.pages.agents import AgentsPage
from stratus_tui.screens.pages.chat import ChatPage
from stratus_tui.screens.pages.home import HomePage
from stratus_tui.screens.pages.privacy import PrivacyPage
from stratus_tui.screens.pages.records_page import RecordsPage
from stratus_tui.screens.pages.reporting import ReportingPage
from stratus_tui.screens.pages.services import ServicesPage
from stratus_tui.screens.pages.settings import SettingsPage
from stratus_tui.screens.pages.settings_trees import TreeSection
from stratus_tui.screens.pages.settings_workflows import WorkflowsSection
from stratus_tui.server import db
from stratus_tui.text import clean
from stratus_tui.widgets.chat_log import ChatBubble
from stratus_tui.widgets.team_list import TeamList
from tests.conftest import ADMIN, NOW, user_id
from tests.hostile import HOSTILE, UNSTORABLE
from tests.test_privacy_page import fill, until_done
from tests.tui import settle, sign_in, wait_for_screen

STORABLE = {key: text for key, text in HOSTILE.items() if key not in UNSTORABLE}
EXPORT_TEAM = "csv_formula"  # the team whose report holds every hostile customer
# A control sequence Textual itself writes: CSI (styles, cursor moves, synchronised output),
# OSC 8 hyperlinks and OSC 22 pointer shapes. Anything else with ESC came from elsewhere.
TEXTUAL_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\]8;[^\x1b\x07]*\x1b\\|\x1b\]22;[a-z-]*\x07"
)
# Sequences in the corpus that Textual never writes: seen in the output, they came from data.
DATA_SEQUENCES = ("\x1b]52;", "\x1b[2J", "\x1b[31m", "\x1b]8;;https://evil")
C1_AND_BIDI = re.compile(
    "[\x00-\x08\x0b-\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)


def shown_form(text: str, width: int = 20) -> str:
    """The start of ``text`` as a table or label shows it: cleaned, one line, no padding."""
    return clean(text).replace("\n", " ")[:width].strip()


@pytest.fixture
def terminal_output(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What Textual writes for the terminal: the headless driver made to receive it."""
    written: list[str] = []
    monkeypatch.setattr(HeadlessDriver, "is_headless", property(lambda self: False))
    monkeypatch.setattr(HeadlessDriver, "write", lambda self, data: written.append(data))
    return written


def _next_seq() -> Iterator[int]:
    last = db.Conversation.select(db.Conversation.seq).order_by(db.Conversation.seq.desc()).first()
    seq = last.seq if last else 0
    while True:
        seq += 1
        yield seq


def seed_hostile_tenant() -> dict[str, dict[str, int]]:
    """Every storable corpus string as one record of each kind in the admin's tenant."""
    admin = db.User.get_by_id(user_id(ADMIN))
    tenant = admin.tenant
    root = db.OrgUnit.get((db.OrgUnit.tenant == tenant) & db.OrgUnit.is_system)
    survey = db.Workflow.get((db.Workflow.tenant == tenant) & (db.Workflow.type == "survey"))
    definition = json.loads(survey.definition)
    tenant.live_chat_enabled = True
    tenant.save()
    seqs = _next_seq()
    ids: dict[str, dict[str, int]] = {}
    export_team: db.Team | None = None
    for number, (key, text) in enumerate(STORABLE.items()):
        ou = db.OrgUnit.create(tenant=tenant, parent=root, name=text)
        db.LicenseUsage.create(
            tenant=tenant, ou=ou, date="2026-11-21", concurrent_agents=1, configured_agents=1,
            supervisors=0, services=1,
        )  # fmt: skip
        team = db.Team.create(tenant=tenant, ou=ou, name=text, time_zone="Europe/Zurich")
        export_team = team if key == EXPORT_TEAM else export_team
        upn = f"hostile{number}@demo.stratus"
        agent = db.User.create(
            tenant=tenant, ou=ou, first_name=text, last_name=key, upn=upn, upn_key=upn,
            sip_uri=f"sip:{upn}",
        )  # fmt: skip
        db.UserRole.create(user=agent, role="team_member")
        db.TeamMember.create(team=team, user=agent)
        trait = db.Trait.create(tenant=tenant, ou=ou, name=text)
        db.Responsibility.create(tenant=tenant, ou=ou, name=text)
        db.DutyProfile.create(tenant=tenant, ou=ou, name=text)
        definition["steps"]["q1"]["text"] = text
        workflow = db.Workflow.create(
            tenant=tenant, ou=ou, name=text, type="survey", definition=json.dumps(definition)
        )
        service = db.Service.create(
            tenant=tenant, team=team, ou=ou, kind="call", name=text,
            address=f"sip:hostile-service{number}@demo.stratus", display_name=text,
            workflow=workflow,
        )  # fmt: skip
        db.ServiceTrait.create(service=service, trait=trait)
        db.ChatMessage.create(
            tenant=tenant, user=admin, author="support", author_name=text or "x", text=text,
            sent_at=NOW - 3600 + number,
        )  # fmt: skip
        db.PrivacyExport.create(
            tenant=tenant, requested_by=admin.id, requested_by_name=text, subject_kind="customer",
            subject=text, date_from="2026-11-01", date_to="2026-11-21", state="failed",
            error=text, created_at=NOW - 7200 + number, finished_at=NOW - 7100,
        )  # fmt: skip
        ids[key] = {"team": team.id, "agent": agent.id, "service": service.id}
    assert export_team is not None
    # The export team's calls all went to the first hostile agent: its privacy export then
    # holds every hostile customer.
    first_agent = ids[next(iter(STORABLE))]["agent"]
    agent_of = {ids[key]["team"]: {key: ids[key]["agent"]} for key in STORABLE}
    agent_of[export_team.id] = dict.fromkeys(STORABLE, first_agent)
    for number, (key, text) in enumerate(STORABLE.items()):
        started = NOW - 6 * 3600 + number * 60
        for team_id, outcome in ((ids[key]["team"], "lost"), (export_team.id, "lost"),
                                 (export_team.id, "accepted")):  # fmt: skip
            db.Conversation.create(
                seq=next(seqs), tenant_id=tenant.id, team_id=team_id,
                service_id=ids[key]["service"], agent_id=agent_of[team_id][key], kind="call",
                direction="inbound", direct=False, started_at=started,
                answered_at=started + 20 if outcome == "accepted" else None,
                ended_at=started + 200, outcome=outcome, wait_seconds=20,
                duration_seconds=180 if outcome == "accepted" else 0, voicemail=False,
                customer_id=text,
            )  # fmt: skip
    instance = db.Instance.select().order_by(db.Instance.id).first()
    instance.name = STORABLE["csi_7bit"]
    instance.save()
    db.Component.update(version=STORABLE["click_action"]).where(
        db.Component.instance == instance
    ).execute()
    return ids


def screen_text(app: StratusApp) -> str:
    """The whole screen as plain text, after checking no segment carries the data's action."""
    strips = app.screen._compositor.render_strips()
    for strip in strips:
        for segment in strip:
            meta = segment.style.meta if segment.style is not None else {}
            assert "app.quit" not in str(meta.get("@click", "")), segment
    return "\n".join(strip.text for strip in strips)


def assert_terminal_output_clean(written: list[str]) -> None:
    output = "".join(written)
    assert output, "the driver received nothing: the capture is not working"
    for sequence in DATA_SEQUENCES:
        assert sequence not in output, sequence
    leftover = TEXTUAL_SEQUENCE.sub("", output)
    found = re.search("\x1b", leftover) or C1_AND_BIDI.search(leftover)
    if found is not None:
        near = leftover[max(found.start() - 40, 0) : found.start() + 40]
        raise AssertionError(f"{found.group()!r} in the terminal output, near {near!r}")


def assert_inert(content: Content) -> str:
    """A detail as the pane shows it: no action or style from data, no control character."""
    assert not any("app.quit" in str(span.style) for span in content.spans)
    assert C1_AND_BIDI.search(content.plain) is None and "\x1b" not in content.plain
    return content.plain


async def visit_rows(pilot: Pilot[Any], page: RecordsPage[Any], app: StratusApp) -> str:
    """Every hostile record's detail as the pane shows it, and two of them moved onto in the
    table (each step costs a screen update: two stand for the rest)."""
    hostile = hostile_ids(page)
    details = [assert_inert(page.detail(page.records[record_id])) for record_id in hostile]
    page.table.focus()
    for record_id in {hostile[0], hostile[len(hostile) // 2]}:
        assert page.table.move_cursor_to(record_id), record_id
        await pilot.pause()
        await settle(pilot)
        details.append(screen_text(app))
    return "\n".join(details)


async def visit_tree(pilot: Pilot[Any], section: TreeSection[Any], app: StratusApp) -> str:
    tree = section.tree_view
    tree.focus()
    texts = set(STORABLE.values())
    hostile = [node for node in tree.root.children if section.records[node.data].name in texts]
    seen = []
    for node in hostile[:2]:
        tree.move_cursor(node)
        await pilot.pause()
        seen.append(screen_text(app))
    return "\n".join(seen) + "\n".join(str(node.label) for node in hostile)


async def open_and_close_form(pilot: Pilot[Any], page: RecordsPage[Any], record_id: int) -> None:
    page.table.move_cursor_to(record_id)
    await pilot.pause()
    await pilot.press("e")
    await wait_for_screen(pilot, FormScreen)
    await settle(pilot)
    screen_text(pilot.app)  # type: ignore[arg-type]
    await pilot.press("escape")
    await settle(pilot)
    assert not isinstance(pilot.app.screen, FormScreen)


def hostile_ids(page: RecordsPage[Any]) -> list[int]:
    """The records named from the corpus (a name, or an agent's first name)."""
    texts = set(STORABLE.values())
    return [
        record_id
        for record_id, record in page.records.items()
        if texts & {getattr(record, name, None) for name in ("name", "first_name", "subject")}
    ]


async def save_as(pilot: Pilot[Any], key: str, target: Path) -> None:
    await pilot.press(key)
    dialog = await wait_for_screen(pilot, SaveAsDialog)
    dialog.query_one("#path", Input).value = str(target)
    await pilot.press("enter")
    await settle(pilot)
    assert target.stat().st_mode & 0o777 == 0o600  # noqa: ASYNC240 (a test's check)


def assert_every_name_shown(text: str, what: str, width: int = 20) -> None:
    flat = text.replace("\n", " ")
    missing = [key for key, value in STORABLE.items() if shown_form(value, width) not in flat]
    assert not missing, f"{what}: not shown literally: {missing}"


def assert_csv_round_trips(path: Path, column: str, expected: set[str]) -> None:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    cells = {row[column] for row in rows}
    for text in expected:
        written = neutralise(text)
        assert written in cells, (text, sorted(cells)[:5])
        if written != text and not text.startswith("'"):  # defused: a ' in front, no NUL
            assert written.removeprefix("'") == text.replace("\x00", ""), text


async def test_every_page_and_export_shows_the_corpus_literally(
    make_app: Callable[..., StratusApp], terminal_output: list[str], tmp_path: Path
) -> None:
    ids = seed_hostile_tenant()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, ADMIN)
        await settle(pilot)  # the dashboard and the first history sync

        # Home: the services card, the instance and its component versions.
        app.screen.query_one(HomePage).focus()
        home = screen_text(app)
        assert shown_form(STORABLE["csi_7bit"], 10) in home
        await save_as(pilot, "d", tmp_path / "license.csv")

        # Agents and services: every row's detail, and the forms of the hostile ones.
        for key, kind in (("2", AgentsPage), ("3", ServicesPage)):
            await pilot.press(key)
            await settle(pilot)
            page = app.screen.query_one(kind)
            shown = await visit_rows(pilot, page, app)
            assert_every_name_shown(shown, kind.__name__, 12)
            hostile = hostile_ids(page)
            assert len(hostile) == len(STORABLE), kind.__name__
            await open_and_close_form(pilot, page, hostile[0])

        # Data Privacy: the failed exports' subjects and reasons; an export of the agent who
        # took every hostile customer's call, downloaded.
        await pilot.press("4")
        await settle(pilot)
        privacy = app.screen.query_one(PrivacyPage)
        assert_every_name_shown(await visit_rows(pilot, privacy, app), "privacy", 12)
        privacy.table.focus()
        await pilot.press("n")
        await wait_for_screen(pilot, FormScreen)
        await fill(pilot, {"subject_kind": "agent", "subject": "hostile0@demo.stratus",
                           "date_from": "2026-11-01", "date_to": "2026-11-30"})  # fmt: skip
        await pilot.press("ctrl+s")
        await settle(pilot)
        job = db.PrivacyExport.get(db.PrivacyExport.subject == "hostile0@demo.stratus")
        await until_done(pilot, privacy, job.id)
        await privacy.save_export(job.id, tmp_path / "privacy.csv").wait()

        # Live Chat: the support's names and messages.
        await pilot.press("5")
        await settle(pilot)
        screen_text(app)
        bubbles = app.screen.query_one(ChatPage).query(ChatBubble)
        assert_every_name_shown("\n".join(assert_inert(b.visual) for b in bubbles), "chat")

        # Settings: every section, trees and lists, the workflows' definitions and export.
        await pilot.press("ctrl+b", "6")  # out of the chat's input first
        await settle(pilot)
        settings = app.screen.query_one(SettingsPage)
        for section_id in ("org-units", "traits", "duty-profiles", "responsibilities", "teams"):
            await settings.open_section(section_id)
            await settle(pilot)
            section = settings.query_one(f"#{section_id}")
            if isinstance(section, TreeSection):
                shown = await visit_tree(pilot, section, app)
            else:
                assert isinstance(section, RecordsPage)
                shown = await visit_rows(pilot, section, app)
            assert_every_name_shown(shown, section_id, 12)
            await pilot.press("escape")
            await settle(pilot)
        await settings.open_section("workflows")
        await settle(pilot)
        workflows = settings.query_one(WorkflowsSection)
        for record_id in hostile_ids(workflows)[:2]:
            workflows.table.move_cursor_to(record_id)
            await pilot.press("i")  # the definition, with the hostile step text
            await settle(pilot)
            screen_text(app)
        await save_as(pilot, "d", tmp_path / "workflow.json")
        json.loads((tmp_path / "workflow.json").read_text())

        # Reporting: the team list, every hostile team's report, both exports.
        await pilot.press("7")
        await settle(pilot)
        reporting = app.screen.query_one(ReportingPage)
        team_list = reporting.query_one(TeamList)
        screen_text(app)
        table = team_list.query_one(DataTable)
        rows = "\n".join(str(table.get_row_at(row)[0]) for row in range(table.row_count))
        assert_every_name_shown(rows, "team list", 12)
        some_teams = {ids[key]["team"] for key in ("click_action", "very_long")}
        for team in [team for team in team_list.teams if team.id in some_teams]:
            reporting.open_team(team)
            await settle(pilot)
            screen_text(app)
        export_team = next(t for t in team_list.teams if t.id == ids[EXPORT_TEAM]["team"])
        reporting.open_team(export_team)
        await settle(pilot)
        await save_as(pilot, "d", tmp_path / "report.csv")
        await save_as(pilot, "l", tmp_path / "lost.pdf")
        assert app.is_running

    assert_terminal_output_clean(terminal_output)
    texts = set(STORABLE.values())
    assert_csv_round_trips(tmp_path / "report.csv", "customer identifier", texts)
    assert_csv_round_trips(tmp_path / "report.csv", "service", texts)
    assert_csv_round_trips(tmp_path / "report.csv", "team", {STORABLE[EXPORT_TEAM]})
    assert_csv_round_trips(tmp_path / "license.csv", "org unit", texts)
    assert_csv_round_trips(tmp_path / "privacy.csv", "customer_id", texts)
    assert_lost_calls_pdf(tmp_path / "lost.pdf")


def assert_lost_calls_pdf(path: Path) -> None:
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    assert C1_AND_BIDI.search(text) is None
    assert "\x1b" not in text
    for key in ("click_action", "bad_markup", "csv_formula", "todo_brackets"):
        assert STORABLE[key][:12] in text, key
    assert "王小明" in text  # the CJK fallback font
