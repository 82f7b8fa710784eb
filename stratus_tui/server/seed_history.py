"""Demo history: four months of conversations and daily license usage snapshots.

Volume follows each team's local clock (zoneinfo, so daylight-saving changes are where they
really are): every UTC hour of the window gets a weight per team from its local hour and
weekday, and the requested number of conversations is shared out by largest remainder so the
total is exact. Rows are made lazily, hour by hour, and written with raw ``executemany``:
peewee's ``insert_many`` is an order of magnitude slower for a million rows.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from peewee import fn

from stratus_tui.server import db

BATCH_SIZE = 50_000
HOUR = 3600

# Relative volume by local hour on a weekday: peaks at 10:00 and 14:00-15:00, a dip at lunch.
# fmt: off
HOUR_SHAPE = (
    0.02, 0.015, 0.01, 0.01, 0.015, 0.03, 0.08, 0.30, 0.70, 0.88, 1.00, 0.90,
    0.72, 0.80, 0.98, 0.96, 0.76, 0.50, 0.25, 0.13, 0.08, 0.05, 0.04, 0.03,
)
# fmt: on
WEEKEND_SHAPE = 0.1
# Share of inbound conversations nobody answers: fewer agents at lunch, at the end of the
# day and at night.
# fmt: off
HOUR_LOSS = (
    0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.20, 0.10, 0.06, 0.06, 0.06, 0.06,
    0.18, 0.08, 0.06, 0.06, 0.15, 0.09, 0.12, 0.15, 0.22, 0.22, 0.22, 0.25,
)
# fmt: on
WEEKEND_EXTRA_LOSS = 0.04
VOICEMAIL_SHARE = 0.3

# Conversation mix; the rest are inbound calls through a service.
IM_SHARE = 0.08
DIRECT_SHARE = 0.05
OUTBOUND_SHARE = 0.10

ACCEPTED_WAIT_MEAN = 25.0
LOST_WAIT_MEAN = 70.0
# Log-normal talk time: mean = exp(mu + sigma^2 / 2).
DURATION_SIGMA = 0.9
CALL_MU = math.log(240.0) - DURATION_SIGMA**2 / 2
IM_MU = math.log(480.0) - DURATION_SIGMA**2 / 2
REPEAT_CALLER_SHARE = 0.06

# Customer numbers by country calling code: a prefix, then seven random digits.
CUSTOMER_PREFIXES = {
    "+41": ("+4179", "+4178", "+4176", "+4144", "+4131", "+4161"),
    "+49": ("+49151", "+49160", "+49171", "+4930", "+4989", "+4940"),
    "+65": ("+658", "+659", "+656"),
    "+1": ("+1212", "+1646", "+1917", "+1213", "+1310", "+1312", "+1617"),
}
IM_NAMES = ("anna", "li.wei", "jose", "marie", "kenji", "sara", "omar", "lea", "tom", "nina")
IM_DOMAINS = ("gmail.com", "outlook.com", "bluewin.ch", "web.de", "yahoo.com", "icloud.com")

# started_at comes early: rows are made without id and seq, sorted by it, then numbered.
# fmt: off
CONVERSATION_COLUMNS = (
    "id", "seq", "started_at", "tenant_id", "team_id", "service_id", "agent_id", "kind",
    "direction", "direct", "answered_at", "ended_at", "outcome", "wait_seconds",
    "duration_seconds", "voicemail", "customer_id",
)
USAGE_COLUMNS = (
    "tenant_id", "ou_id", "date", "concurrent_agents", "configured_agents", "supervisors",
    "services",
)
# fmt: on


@dataclass(frozen=True)
class Window:
    """The history's time range in epoch seconds: [start, end)."""

    start: int
    end: int


@dataclass(frozen=True)
class TeamHistory:
    """What the conversation generator needs to know about one team."""

    team_id: int
    tenant_id: int
    time_zone: str
    calling_code: str  # a key of CUSTOMER_PREFIXES
    weight: float
    agent_ids: tuple[int, ...]  # active members
    call_service_ids: tuple[int, ...]
    outbound_service_ids: tuple[int, ...]  # call services that may dial out
    service_ids: tuple[int, ...]


def history_window(now: int) -> Window:
    """From the first day of the month four months back (UTC) to the start of now's hour."""
    moment = datetime.fromtimestamp(now, UTC)
    months = moment.year * 12 + moment.month - 1 - 4
    start = datetime(months // 12, months % 12 + 1, 1, tzinfo=UTC)
    return Window(start=int(start.timestamp()), end=now - now % HOUR)


def allocate(weights: Sequence[float], total: int, offset: float = 0.5) -> list[int]:
    """Split ``total`` in proportion to ``weights`` exactly: each gets its quota rounded.

    Rounding follows the running sum (shifted by ``offset``, in [0, 1)), so the counts add up
    to ``total`` and every part gets the floor or the ceiling of its quota. Largest-remainder
    rounding is exact too, but it starves the many parts whose quota is below one (night and
    weekend hours at a few thousand calls), which would erase the weekend.
    """
    weight_sum = math.fsum(weights)
    if total <= 0 or weight_sum <= 0:
        return [0] * len(weights)
    scale = total / weight_sum
    counts = []
    running, before = 0.0, 0
    for weight in weights:
        running += weight * scale
        after = min(math.floor(running + offset), total)
        counts.append(after - before)
        before = after
    counts[-1] += total - before  # float rounding may leave the running sum a hair short
    return counts


def _shape_key(moment: datetime) -> int:
    """Index into the per-hour tables: local hour, plus 24 on weekends."""
    return moment.hour + (24 if moment.weekday() >= 5 else 0)


def _hour_tables() -> tuple[list[float], list[float], list[float]]:
    """Volume, loss probability and accepted wait mean, indexed by ``_shape_key``."""
    volume = [*HOUR_SHAPE, *(shape * WEEKEND_SHAPE for shape in HOUR_SHAPE)]
    loss = [*HOUR_LOSS, *(min(0.5, p + WEEKEND_EXTRA_LOSS) for p in HOUR_LOSS)]
    # Queues grow at the peaks: waits stretch with the weekday volume of that hour.
    waits = [ACCEPTED_WAIT_MEAN * (0.55 + 0.6 * shape) for shape in HOUR_SHAPE] * 2
    return volume, loss, waits


@dataclass(frozen=True)
class _Plan:
    hours: int
    shape_keys: list[list[int]]  # [team][hour]
    counts: list[int]  # hour-major: counts[hour * teams + team]


def _plan(rng: random.Random, teams: Sequence[TeamHistory], window: Window, calls: int) -> _Plan:
    hours = max(0, (window.end - window.start) // HOUR)
    volume, _, _ = _hour_tables()
    first_day = datetime.fromtimestamp(window.start, UTC).date()
    days = hours // 24 + 3
    shape_keys: list[list[int]] = []
    day_weights: list[list[float]] = []
    for team in teams:
        zone = ZoneInfo(team.time_zone)
        keys: list[int] = []
        weights: list[float] = []
        # Some days are busier than others (a campaign, an outage elsewhere, the weather).
        day_factor = [rng.uniform(0.8, 1.2) for _ in range(days)]
        for hour in range(hours):
            local = datetime.fromtimestamp(window.start + hour * HOUR, zone)
            keys.append(_shape_key(local))
            weights.append(day_factor[(local.date() - first_day).days + 1])
        shape_keys.append(keys)
        day_weights.append(weights)
    cell_weights = [
        team.weight * volume[shape_keys[t][hour]] * day_weights[t][hour] * rng.uniform(0.8, 1.2)
        for hour in range(hours)
        for t, team in enumerate(teams)
    ]
    return _Plan(
        hours=hours, shape_keys=shape_keys, counts=allocate(cell_weights, calls, rng.random())
    )


def team_histories(shapes: dict[int, tuple[float, str]]) -> list[TeamHistory]:
    """The seeded teams, read back for the generator.

    ``shapes`` gives each team's share of the volume and its country calling code.
    """
    member, user, service = db.TeamMember, db.User, db.Service
    agents: dict[int, list[int]] = {}
    active_members = (
        member.select(member.team, member.user)
        .join(user, on=(member.user == user.id))
        .where(user.active == True)
        .order_by(member.team, member.user)
    )
    for team_id, agent_id in db.tuples(active_members):
        agents.setdefault(team_id, []).append(agent_id)
    services: dict[int, list[tuple[int, str, str]]] = {}
    columns = (service.team, service.id, service.kind, service.direction)
    for team_id, service_id, kind, direction in db.tuples(service.select(*columns)):
        services.setdefault(team_id, []).append((service_id, kind, direction))
    result = []
    teams = db.Team.select(db.Team.id, db.Team.tenant, db.Team.time_zone).order_by(db.Team.id)
    for team_id, tenant_id, zone in db.tuples(teams):
        if team_id not in shapes:
            continue  # a team added later through the API: no demo history
        own = sorted(services.get(team_id, []))
        calls = [(service_id, way) for service_id, kind, way in own if kind == "call"]
        weight, calling_code = shapes[team_id]
        result.append(
            TeamHistory(
                team_id=team_id,
                tenant_id=tenant_id,
                time_zone=zone,
                calling_code=calling_code,
                weight=weight,
                agent_ids=tuple(agents.get(team_id, ())),
                call_service_ids=tuple(service_id for service_id, _ in calls),
                outbound_service_ids=tuple(s for s, way in calls if way != "inbound"),
                service_ids=tuple(service_id for service_id, _, _ in own),
            )
        )
    return result


def _team_customers(rng: random.Random, team: TeamHistory) -> tuple[tuple[str, ...], list[str]]:
    prefixes = CUSTOMER_PREFIXES[team.calling_code]
    regulars = [f"{rng.choice(prefixes)}{rng.randrange(10**7):07d}" for _ in range(30)]
    return prefixes, regulars


def _conversation_rows(
    rng: random.Random,
    teams: Sequence[TeamHistory],
    window: Window,
    calls: int,
    first: tuple[int, int] = (1, 1),
) -> Iterator[tuple[Any, ...]]:
    """Rows in CONVERSATION_COLUMNS order, chronological, numbered from ``first`` (id, seq)."""
    plan = _plan(rng, teams, window, calls)
    _, loss_table, wait_table = _hour_tables()
    customers = [_team_customers(rng, team) for team in teams]
    for team in teams:
        if not team.agent_ids or not team.call_service_ids:
            raise ValueError(f"team {team.team_id} needs an active agent and a call service")
    random_ = rng.random
    gauss = rng.gauss
    log = math.log
    exp = math.exp
    end = window.end
    team_count = len(teams)
    by_start = itemgetter(0)
    made = 0
    first_id, first_seq = first
    service: int | None
    for hour in range(plan.hours):
        hour_start = window.start + hour * HOUR
        rows: list[tuple[Any, ...]] = []
        append = rows.append
        for t in range(team_count):
            count = plan.counts[hour * team_count + t]
            if not count:
                continue
            team = teams[t]
            key = plan.shape_keys[t][hour]
            loss = loss_table[key]
            wait_mean = wait_table[key]
            tenant_id, team_id = team.tenant_id, team.team_id
            agents, n_agents = team.agent_ids, len(team.agent_ids)
            calls_in, n_calls_in = team.call_service_ids, len(team.call_service_ids)
            calls_out = team.outbound_service_ids or team.call_service_ids
            n_calls_out = len(calls_out)
            anything, n_anything = team.service_ids, len(team.service_ids)
            prefixes, regulars = customers[t]
            n_prefixes, n_regulars = len(prefixes), len(regulars)
            for _ in range(count):
                started = hour_start + int(random_() * HOUR)
                mix = random_()
                if mix < IM_SHARE:
                    kind, direction, direct = "im", "inbound", 0
                    service = anything[int(random_() * n_anything)]
                    name = IM_NAMES[int(random_() * 10)]
                    domain = IM_DOMAINS[int(random_() * 6)]
                    number = int(random_() * 1000)
                    if random_() < 0.5:
                        customer = f"sip:{name}{number}@{domain}"
                    else:
                        customer = f"{name}{number}@{domain}"
                    lost = random_() < loss
                    mu = IM_MU
                else:
                    kind = "call"
                    if random_() < REPEAT_CALLER_SHARE:
                        customer = regulars[int(random_() * n_regulars)]
                    else:
                        prefix = prefixes[int(random_() * n_prefixes)]
                        customer = f"{prefix}{int(random_() * 10_000_000):07d}"
                    mu = CALL_MU
                    if mix < IM_SHARE + DIRECT_SHARE:
                        direction = "inbound" if random_() < 0.5 else "outbound"
                        direct, service, lost = 1, None, False
                    elif mix < IM_SHARE + DIRECT_SHARE + OUTBOUND_SHARE:
                        direction, direct, lost = "outbound", 0, False
                        service = calls_out[int(random_() * n_calls_out)]
                    else:
                        direction, direct = "inbound", 0
                        service = calls_in[int(random_() * n_calls_in)]
                        lost = random_() < loss
                if lost:
                    wait = 5 + int(-(LOST_WAIT_MEAN - 5) * log(1.0 - random_()))
                    ended = min(started + wait, end)
                    wait = ended - started
                    voicemail = 1 if kind == "call" and random_() < VOICEMAIL_SHARE else 0
                    # fmt: off
                    append((
                        started, tenant_id, team_id, service, None, kind, direction, 0,
                        None, ended, "lost", wait, 0, voicemail, customer,
                    ))
                    # fmt: on
                    continue
                if direction == "inbound":
                    wait = 2 + int(-(wait_mean - 2) * log(1.0 - random_()))
                else:
                    wait = 3 + int(-7.0 * log(1.0 - random_()))  # ringing at the other end
                answered = started + wait
                duration = 1 + int(exp(mu + DURATION_SIGMA * gauss()))
                ended = answered + duration
                if ended > end:
                    # The history stops at the window's end: nothing may end after it.
                    answered = min(answered, end)
                    wait = answered - started
                    ended = end
                    duration = ended - answered
                agent = agents[int(random_() * n_agents)]
                # fmt: off
                append((
                    started, tenant_id, team_id, service, agent, kind, direction, direct,
                    answered, ended, "accepted", wait, duration, 0, customer,
                ))
                # fmt: on
        rows.sort(key=by_start)
        for row in rows:
            yield (first_id + made, first_seq + made, *row)
            made += 1


def _insert_sql(table: str, columns: Sequence[str]) -> str:
    names = ", ".join(f'"{column}"' for column in columns)
    marks = ", ".join("?" for _ in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({marks})'  # noqa: S608 (names are ours)


def generate_conversations(
    rng: random.Random,
    teams: Sequence[TeamHistory],
    window: Window,
    calls: int,
    batch_size: int = BATCH_SIZE,
    *,
    first: tuple[int, int] = (1, 1),
    rebuild_indexes: bool = True,
) -> int:
    """Insert exactly ``calls`` conversations into the bound database; returns the count.

    ``first`` is the (id, seq) of the first row; ``rebuild_indexes=False`` keeps the
    indexes in place, which is faster for a few rows added to a big table (a top-up).
    """
    table = db.Conversation._meta.table_name
    sql = _insert_sql(table, CONVERSATION_COLUMNS)
    rows = _conversation_rows(rng, teams, window, calls, first)
    connection = db.database.connection()
    written = 0
    with db.database.atomic():
        # Building the indexes once at the end takes a third of the time of updating them
        # row by row (random customer ids scatter their index). Their definitions come from
        # the schema itself, and the whole swap is one transaction.
        indexes = connection.execute(
            "SELECT name, sql FROM sqlite_master"
            " WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            (table,),
        ).fetchall()
        if not rebuild_indexes:
            indexes = []
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        while batch := list(islice(rows, batch_size)):
            connection.executemany(sql, batch)
            written += len(batch)
        for _, definition in indexes:
            connection.execute(definition)
    return written


def _snapshot_dates(window: Window, time_zone: str) -> list[date]:
    """The days whose local midnight snapshot falls in the window."""
    first = datetime.fromtimestamp(window.start, UTC).date()
    last = datetime.fromtimestamp(window.end, ZoneInfo(time_zone)).date()
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


@dataclass(frozen=True)
class _UnitNow:
    """One org unit's counts today: the end point of its license usage history."""

    tenant_id: int
    ou_id: int
    time_zone: str  # the tenant's: snapshots are taken at its local midnight
    agents: int
    supervisors: int
    services: int


def _units_now() -> list[_UnitNow]:
    """Every org unit but the hidden System roots, with today's counts from the database."""
    user, member, role, service = db.User, db.TeamMember, db.UserRole, db.Service
    in_a_team = user.id.in_(member.select(member.user))
    agents = dict(
        db.tuples(
            user.select(user.ou, fn.COUNT(user.id))
            .where(user.active == True, in_a_team)
            .group_by(user.ou)
        )
    )
    supervisors = dict(
        db.tuples(
            user.select(user.ou, fn.COUNT(user.id))
            .join(role, on=(role.user == user.id))
            .where(role.role == "team_admin")
            .group_by(user.ou)
        )
    )
    services = dict(
        db.tuples(service.select(service.ou, fn.COUNT(service.id)).group_by(service.ou))
    )
    units = (
        db.OrgUnit.select(db.OrgUnit.id, db.OrgUnit.tenant, db.Tenant.time_zone)
        .join(db.Tenant)
        .where(db.OrgUnit.is_system == False)
        .order_by(db.OrgUnit.id)
    )
    return [
        _UnitNow(tenant, ou, zone, agents.get(ou, 0), supervisors.get(ou, 0), services.get(ou, 0))
        for ou, tenant, zone in db.tuples(units)
    ]


def generate_license_usage(rng: random.Random, window: Window) -> int:
    """Insert a snapshot per day and org unit, ending at today's counts; returns the count."""
    rows: list[tuple[Any, ...]] = []
    for unit in _units_now():
        days = _snapshot_dates(window, unit.time_zone)
        last = max(1, len(days) - 1)
        for index, day in enumerate(days):
            # Teams grew over the months: start ~8% below today's count.
            configured = round(unit.agents * (1 - 0.08 * (last - index) / last))
            if day.weekday() < 5:
                concurrent = round(configured * rng.uniform(0.3, 0.8))
            else:
                concurrent = round(configured * rng.uniform(0.05, 0.2))
            # fmt: off
            rows.append((unit.tenant_id, unit.ou_id, day.isoformat(), concurrent, configured,
                         unit.supervisors, unit.services))
            # fmt: on
    # Chronological, as the server would have written them night after night.
    rows.sort(key=itemgetter(2))
    with db.database.atomic():
        db.database.connection().executemany(
            _insert_sql(db.LicenseUsage._meta.table_name, USAGE_COLUMNS), rows
        )
    return len(rows)
