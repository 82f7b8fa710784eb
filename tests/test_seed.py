"""The demo-data generator: deterministic, exact, valid per the contract, realistically shaped.

Seeding is the slow part, so one module fixture seeds every database the tests compare and
leaves the main one bound; the tests only read.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from stratus_tui.api import models, validation
from stratus_tui.server import db, passwords, seed_history
from stratus_tui.server.seed import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    SeedOptions,
    SeedSummary,
    ascii_slug,
    seed_demo,
)

NOW = int(datetime(2026, 11, 22, 12, 0, tzinfo=UTC).timestamp())
WINDOW_START = int(datetime(2026, 7, 1, tzinfo=UTC).timestamp())
CALLS = 20_000
OPTIONS = SeedOptions(
    seed=7,
    calls=CALLS,
    now=NOW,
    hash_password=functools.partial(passwords.hash_password, n=2**10),
)


@dataclass(frozen=True)
class Seeded:
    summary: SeedSummary
    same_options: dict[str, list[str]]  # table contents of a second run with OPTIONS
    other_seed: dict[str, list[str]]  # ... of a run with another seed
    zero_calls: SeedSummary


def table_contents() -> dict[str, list[str]]:
    """Every table but ``setting``, without password hashes (salted), rows as repr text."""
    connection = db.database.connection()
    names = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' AND name != 'setting' ORDER BY name"
        )
    ]
    contents = {}
    for name in names:
        columns = [
            f'"{row[1]}"'
            for row in connection.execute(f'PRAGMA table_info("{name}")')
            if (name, row[1]) != ("user", "password_hash")
        ]
        listed = ", ".join(columns)
        rows = connection.execute(f'SELECT {listed} FROM "{name}" ORDER BY {listed}')
        contents[name] = [repr(row) for row in rows]
    return contents


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    folder = tmp_path_factory.mktemp("seed")

    def seed(name: str, options: SeedOptions) -> tuple[Any, SeedSummary]:
        database = db.open_database(folder / name)
        return database, seed_demo(options)

    database, _ = seed("same.sqlite3", OPTIONS)
    same_options = table_contents()
    database.close()
    database, _ = seed("other.sqlite3", replace(OPTIONS, seed=8))
    other_seed = table_contents()
    database.close()
    database, zero_calls = seed("zero.sqlite3", replace(OPTIONS, calls=0))
    assert db.Conversation.select().count() == 0
    database.close()
    database, summary = seed("main.sqlite3", OPTIONS)
    yield Seeded(summary, same_options, other_seed, zero_calls)
    database.close()


def rows(sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
    return list(db.database.connection().execute(sql, parameters))


def scalar(sql: str, *parameters: Any) -> Any:
    return rows(sql, *parameters)[0][0]


def team_zones() -> dict[int, ZoneInfo]:
    return {team_id: ZoneInfo(zone) for team_id, zone in rows("SELECT id, time_zone FROM team")}


# --- determinism ---------------------------------------------------------------------------


def test_same_options_give_identical_content(seeded: Seeded) -> None:
    assert table_contents() == seeded.same_options


def test_another_seed_gives_other_content(seeded: Seeded) -> None:
    contents = table_contents()
    assert contents["user"] != seeded.other_seed["user"]
    assert contents["conversation"] != seeded.other_seed["conversation"]
    assert len(seeded.other_seed["conversation"]) == CALLS


def test_zero_calls_seeds_everything_but_history(seeded: Seeded) -> None:
    assert seeded.zero_calls.conversations == 0
    assert seeded.zero_calls.users == seeded.summary.users
    assert seeded.zero_calls.license_usage_rows == seeded.summary.license_usage_rows


# --- conversations -------------------------------------------------------------------------


def test_exactly_the_requested_calls_inside_the_window(seeded: Seeded) -> None:
    assert seeded.summary.conversations == CALLS
    count, first_id, last_id, first, last, latest_end = rows(
        "SELECT COUNT(*), MIN(id), MAX(id), MIN(started_at), MAX(started_at), MAX(ended_at)"
        " FROM conversation"
    )[0]
    assert (count, first_id, last_id) == (CALLS, 1, CALLS)
    end = NOW - NOW % 3600
    assert WINDOW_START <= first < WINDOW_START + 86_400
    assert end - 86_400 < last < end
    assert latest_end <= end
    assert scalar("SELECT COUNT(*) FROM conversation WHERE seq != id") == 0


def test_seq_follows_started_at(seeded: Seeded) -> None:
    starts = [row[0] for row in rows("SELECT started_at FROM conversation ORDER BY seq")]
    assert all(earlier <= later for earlier, later in itertools.pairwise(starts))


def test_history_window_starts_four_months_back() -> None:
    window = seed_history.history_window(NOW + 1234)
    assert (window.start, window.end) == (WINDOW_START, NOW)
    january = int(datetime(2027, 1, 15, 9, 30, tzinfo=UTC).timestamp())
    start = seed_history.history_window(january).start
    assert datetime.fromtimestamp(start, UTC) == datetime(2026, 9, 1, tzinfo=UTC)


def test_volume_peaks_on_weekday_business_hours(seeded: Seeded) -> None:
    zones = team_zones()
    by_hour: Counter[int] = Counter()
    weekday_days: Counter[date] = Counter()
    weekend_days: Counter[date] = Counter()
    for team_id, started in rows("SELECT team_id, started_at FROM conversation"):
        local = datetime.fromtimestamp(started, zones[team_id])
        if local.weekday() < 5:
            by_hour[local.hour] += 1
            weekday_days[local.date()] += 1
        else:
            weekend_days[local.date()] += 1
    assert by_hour[10] > 20 * max(1, by_hour[3])
    assert by_hour[10] > by_hour[12] and by_hour[14] > by_hour[12]
    weekday_mean = sum(weekday_days.values()) / len(weekday_days)
    weekend_mean = sum(weekend_days.values()) / len(weekend_days)
    assert 0.03 * weekday_mean < weekend_mean < 0.25 * weekday_mean


def test_more_calls_are_lost_at_lunch_and_late_afternoon(seeded: Seeded) -> None:
    zones = team_zones()
    offered: Counter[int] = Counter()
    lost: Counter[int] = Counter()
    for team_id, started, outcome in rows(
        "SELECT team_id, started_at, outcome FROM conversation"
        " WHERE kind = 'call' AND direction = 'inbound' AND direct = 0"
    ):
        local = datetime.fromtimestamp(started, zones[team_id])
        if local.weekday() < 5:
            offered[local.hour] += 1
            lost[local.hour] += outcome == "lost"
    rate = {hour: lost[hour] / offered[hour] for hour in (10, 12, 16)}
    assert rate[12] > 1.8 * rate[10]
    assert rate[16] > 1.5 * rate[10]
    assert 0.03 < rate[10] < 0.1


def test_the_mix_has_ims_voicemails_and_direct_calls(seeded: Seeded) -> None:
    mix = Counter(
        {
            (kind, direct, outcome, voicemail): count
            for kind, direct, outcome, voicemail, count in rows(
                "SELECT kind, direct, outcome, voicemail, COUNT(*) FROM conversation"
                " GROUP BY 1, 2, 3, 4"
            )
        }
    )
    ims = sum(count for key, count in mix.items() if key[0] == "im")
    direct = sum(count for key, count in mix.items() if key[1] == 1)
    voicemails = sum(count for key, count in mix.items() if key[3] == 1)
    assert 0.05 * CALLS < ims < 0.11 * CALLS
    assert 0.03 * CALLS < direct < 0.07 * CALLS
    assert voicemails > 0
    assert all(outcome == "lost" for (_, _, outcome, voicemail) in mix if voicemail)
    assert all(outcome == "accepted" for (_, is_direct, outcome, _) in mix if is_direct)


def test_lost_and_accepted_rows_are_consistent(seeded: Seeded) -> None:
    bad_lost = scalar(
        "SELECT COUNT(*) FROM conversation WHERE outcome = 'lost' AND (answered_at IS NOT NULL"
        " OR agent_id IS NOT NULL OR duration_seconds != 0"
        " OR wait_seconds != ended_at - started_at OR direction != 'inbound' OR direct)"
    )
    bad_accepted = scalar(
        "SELECT COUNT(*) FROM conversation WHERE outcome = 'accepted' AND (agent_id IS NULL"
        " OR answered_at != started_at + wait_seconds"
        " OR ended_at != answered_at + duration_seconds)"
    )
    assert (bad_lost, bad_accepted) == (0, 0)
    assert scalar("SELECT COUNT(*) FROM conversation WHERE direct AND service_id IS NOT NULL") == 0
    assert scalar("SELECT COUNT(*) FROM conversation WHERE NOT direct AND service_id IS NULL") == 0
    lost_wait = scalar("SELECT AVG(wait_seconds) FROM conversation WHERE outcome = 'lost'")
    talk = "SELECT AVG(duration_seconds) FROM conversation WHERE outcome = 'accepted' AND kind = ?"
    call_talk, im_talk = scalar(talk, "call"), scalar(talk, "im")
    assert 50 < lost_wait < 90 and 180 < call_talk < 300 and 380 < im_talk < 580


def test_conversations_belong_to_their_teams(seeded: Seeded) -> None:
    foreign_agents = scalar(
        "SELECT COUNT(*) FROM conversation c WHERE agent_id IS NOT NULL AND NOT EXISTS ("
        " SELECT 1 FROM team_member m JOIN user u ON u.id = m.user_id"
        " WHERE m.team_id = c.team_id AND m.user_id = c.agent_id AND u.active)"
    )
    foreign_services = scalar(
        "SELECT COUNT(*) FROM conversation c WHERE service_id IS NOT NULL AND NOT EXISTS ("
        " SELECT 1 FROM service s WHERE s.id = c.service_id AND s.team_id = c.team_id"
        " AND s.tenant_id = c.tenant_id AND (c.kind = 'im' OR s.kind = 'call'))"
    )
    assert (foreign_agents, foreign_services) == (0, 0)


def test_customers_are_phone_numbers_or_addresses(seeded: Seeded) -> None:
    contoso = scalar("SELECT id FROM tenant WHERE name = 'Contoso'")
    repeats = 0
    for tenant_id, kind, customer, count in rows(
        "SELECT tenant_id, kind, customer_id, COUNT(*) FROM conversation GROUP BY 1, 2, 3"
    ):
        if kind == "call":
            assert validation.E164_NUMBER.match(customer), customer
            assert customer.startswith("+1") == (tenant_id == contoso), customer
        else:
            address = customer.removeprefix("sip:")
            assert validation.mail_address_error(address) is None, customer
        repeats += count > 1
    assert repeats > 20


# --- entities ------------------------------------------------------------------------------


def test_demo_accounts_sign_in_with_their_roles(seeded: Seeded) -> None:
    assert [role for _, role in DEMO_ACCOUNTS] == [
        "system_admin",
        "tenant_admin",
        "team_admin",
        "team_member",
        "tenant_admin",
    ]
    for upn, role in DEMO_ACCOUNTS:
        user = db.User.get(db.User.upn_key == upn.lower())
        assert [r.role for r in db.UserRole.select().where(db.UserRole.user == user.id)] == [role]
        assert passwords.verify_password(DEMO_PASSWORD, user.password_hash)
        assert user.sip_uri == f"sip:{upn}" and user.active
    sysadmin = db.User.get(db.User.upn_key == "sysadmin@demo.stratus")
    assert (sysadmin.tenant_id, sysadmin.ou_id) == (None, None)
    teamadmin = db.User.get(db.User.upn_key == "teamadmin@demo.stratus")
    assert (teamadmin.first_name, teamadmin.last_name) == ("Łukasz", "Kowalski")
    managed = rows(
        "SELECT t.name FROM team_manager m JOIN team t ON t.id = m.team_id"
        " WHERE m.user_id = ? ORDER BY t.name",
        teamadmin.id,
    )
    assert managed == [("Support L1",), ("Support L2",)]
    member = db.User.get(db.User.upn_key == "member@demo.stratus")
    teams = rows(
        "SELECT t.name FROM team_member m JOIN team t ON t.id = m.team_id WHERE m.user_id = ?",
        member.id,
    )
    assert teams == [("Sales Switzerland",)]


def test_generated_agents_have_unique_ascii_user_names_and_foreign_names(seeded: Seeded) -> None:
    users = rows(
        "SELECT first_name, last_name, upn, upn_key, sip_uri FROM user WHERE password_hash IS NULL"
    )
    assert 180 <= len(users) <= 220
    names = " ".join(f"{first} {last}" for first, last, *_ in users)
    assert not names.isascii()
    assert any(ch in names for ch in "王李陈")
    for _, _, upn, upn_key, sip_uri in users:
        assert upn.isascii() and upn == upn_key and sip_uri == f"sip:{upn}"
        assert validation.mail_address_error(upn) is None
        assert validation.sip_uri_error(sip_uri) is None
    assert scalar("SELECT COUNT(DISTINCT upn_key) FROM user") == scalar("SELECT COUNT(*) FROM user")


def test_agents_fit_the_licenses(seeded: Seeded) -> None:
    for name, allowed, supervisors_allowed in rows(
        "SELECT name, agents_allowed, supervisors_allowed FROM tenant"
    ):
        agents = scalar(
            "SELECT COUNT(DISTINCT u.id) FROM user u JOIN team_member m ON m.user_id = u.id"
            " JOIN tenant t ON t.id = u.tenant_id WHERE t.name = ? AND u.active",
            name,
        )
        supervisors = scalar(
            "SELECT COUNT(*) FROM user u JOIN user_role r ON r.user_id = u.id"
            " JOIN tenant t ON t.id = u.tenant_id WHERE t.name = ? AND r.role = 'team_admin'",
            name,
        )
        assert 0.6 * allowed < agents <= allowed
        assert 0 < supervisors <= supervisors_allowed
        if name == "Demo Corp":
            assert agents >= 0.9 * allowed  # close enough for the "near the limit" warning


def test_org_units_hang_below_a_hidden_system_root(seeded: Seeded) -> None:
    for tenant_id, name in rows("SELECT id, name FROM tenant"):
        units = rows(
            "SELECT id, parent_id, name, is_system FROM org_unit WHERE tenant_id = ?", tenant_id
        )
        systems = [unit for unit in units if unit[3]]
        assert len(systems) == 1 and systems[0][1:3] == (None, "System")
        top = [unit for unit in units if unit[2] == name]
        assert len(top) == 1 and top[0][1] == systems[0][0]
        assert all(unit[1] is not None for unit in units if not unit[3])


def test_o365_app_for_contoso(seeded: Seeded) -> None:
    app = db.O365App.get()
    assert app.domain == "contoso.com"
    assert validation.guid_error(app.azure_tenant_id) is None
    assert validation.guid_error(app.client_id) is None
    assert app.authority == f"https://login.microsoftonline.com/{app.azure_tenant_id}"


def test_workflows_and_duty_profiles_validate(seeded: Seeded) -> None:
    workflows = rows("SELECT type, definition FROM workflow")
    assert len(workflows) == 6
    for kind, definition in workflows:
        models.WorkflowDefinition.model_validate_json(definition)
        assert kind in ("inbound", "survey")
        assert definition == json.dumps(json.loads(definition), sort_keys=True)
    for (hours,) in rows("SELECT working_hours FROM duty_profile"):
        assert [models.WorkingHours.model_validate(entry) for entry in json.loads(hours)]


def test_services_satisfy_the_contract(seeded: Seeded) -> None:
    services = list(db.Service.select())
    contoso_id = scalar("SELECT id FROM tenant WHERE name = 'Contoso'")
    assert {service.team_id for service in services if service.kind == "call"} == set(
        row[0] for row in rows("SELECT id FROM team")
    )
    priorities = Counter(service.priority for service in services)
    assert priorities["strict"] and priorities["weighted_round_robin"]
    for service in services:
        traits = [
            t
            for (t,) in rows("SELECT trait_id FROM service_trait WHERE service_id = ?", service.id)
        ]
        models.ServiceCreate(
            kind=service.kind,
            name=service.name,
            address=service.address,
            display_name=service.display_name,
            team_id=service.team_id,
            ou_id=service.ou_id,
            endpoints=json.loads(service.endpoints),
            distribution=models.DistributionPolicy(
                priority=service.priority,
                wrr_level=service.wrr_level,
                direction=service.direction,
            ),
            max_concurrent_sessions=service.max_concurrent_sessions,
            workflow_id=service.workflow_id,
            emergency_routing=service.emergency_routing,
            trait_ids=traits,
        )
        contoso = service.tenant_id == contoso_id
        assert service.address.endswith("@contoso.com" if contoso else "@demo.stratus")
        for endpoint in json.loads(service.endpoints):
            codes = ("+1",) if contoso else ("+41", "+49", "+65")
            assert endpoint["address"].removeprefix("tel:").startswith(codes)
    assert scalar("SELECT COUNT(*) FROM service_trait") > 0


def test_minimum_components_run_as_active_passive_pairs(seeded: Seeded) -> None:
    end = NOW - NOW % 3600
    components = rows(
        "SELECT i.name, i.role, c.abbreviation, c.mode, c.state, c.last_heartbeat"
        " FROM component c JOIN instance i ON i.id = c.instance_id"
    )
    backends = [row for row in components if row[1] == "backend"]
    assert {row[0] for row in backends} == {"STRATUS-BE01", "STRATUS-BE02"}
    for abbreviation in models.MINIMUM_COMPONENTS:
        pair = [row for row in backends if row[2] == abbreviation]
        assert len(pair) == 2 and all(row[4] == "running" for row in pair)
        assert sorted(row[3] for row in pair) == ["active", "passive"]
    frontends = [row for row in components if row[1] == "frontend"]
    assert {row[0] for row in frontends} == {f"STRATUS-FE0{n}" for n in (1, 2, 3)}
    assert {(row[2], row[3], row[4]) for row in frontends} == {
        ("SMD", "active", "running"),
        ("FE", "active", "running"),
    }
    assert all(end - 60 < row[5] < end for row in components)


def test_one_license_usage_row_per_org_unit_and_day(seeded: Seeded) -> None:
    days = (date(2026, 11, 22) - date(2026, 7, 1)).days + 1
    units = rows("SELECT id FROM org_unit WHERE NOT is_system")
    assert seeded.summary.license_usage_rows == days * len(units)
    expected = [(date(2026, 7, 1) + timedelta(days=n)).isoformat() for n in range(days)]
    for (ou,) in units:
        usage = rows(
            "SELECT date, concurrent_agents, configured_agents FROM license_usage"
            " WHERE ou_id = ? ORDER BY date",
            ou,
        )
        assert [row[0] for row in usage] == expected
        assert all(concurrent <= configured for _, concurrent, configured in usage)
        assert usage[0][2] <= usage[-1][2]
    system_rows = "SELECT COUNT(*) FROM license_usage u JOIN org_unit o ON o.id = u.ou_id"
    assert scalar(system_rows + " WHERE o.is_system") == 0


# --- helpers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Ødegaard", "odegaard"), ("Łukasz", "lukasz"), ("O'Brien", "obrien"), ("Ştefan", "stefan"),
     ("Ngọc", "ngoc"), ("Weiß", "weiss"), ("王", "")],
)  # fmt: skip
def test_ascii_slug(name: str, slug: str) -> None:
    assert ascii_slug(name) == slug


def test_allocate_is_exact_and_rounds_each_quota() -> None:
    weights = [0.1, 3.7, 0.0, 12.5, 0.33, 7.0] * 50
    for total in (0, 1, 7, 1000, 12_345):
        counts = seed_history.allocate(weights, total, offset=0.73)
        assert sum(counts) == total
        scale = total / sum(weights)
        assert all(
            math.floor(w * scale) <= c <= math.ceil(w * scale)
            for w, c in zip(weights, counts, strict=True)
        )


def test_office_hours_profile(seeded: Seeded) -> None:
    profiles = rows(
        "SELECT p.tenant_id, p.working_hours, p.escalation_levels, r.name FROM duty_profile p"
        " JOIN duty_profile_responsibility l ON l.duty_profile_id = p.id"
        " JOIN responsibility r ON r.id = l.responsibility_id"
        " WHERE p.name = 'Office hours' ORDER BY p.tenant_id, r.name"
    )
    assert [(tenant, name) for tenant, _, _, name in profiles] == [
        (1, "Inbound calls"),
        (1, "Mail"),
        (2, "Inbound calls"),
        (2, "Mail"),
    ]
    for _, hours, levels, _ in profiles:
        assert json.loads(hours) == [
            {"weekday": day, "start": "08:00", "end": "18:00"} for day in range(5)
        ]
        assert levels == 2
