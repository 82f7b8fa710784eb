"""Demo history that keeps up with the clock: a top-up from the last hour generated to now.

``seed_demo`` records how it made the history (the ``history`` setting: seed, density, the
teams' shares and the window's end). ``top_up_history`` continues from that end to the
start of the current hour with the same generator, at the same density: the number of
conversations follows the teams' hourly and weekly shape, so a quiet night hour gets a
few and a Monday at 10:00 many. ids and seq continue after the highest ones, as a real
server's would, so a client's feed cursor sees exactly the new rows.

``stratus-tui serve`` (and so ``demo``) tops up whenever it opens an existing database;
benchmarks call ``top_up_history(history_end() + HOUR)`` to add "one new hour".
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from stratus_tui.server import db
from stratus_tui.server.privacy_data import high_water
from stratus_tui.server.seed_history import (
    HOUR,
    TeamHistory,
    Window,
    _hour_tables,
    _shape_key,
    generate_conversations,
    team_histories,
)

SETTING = "history"


def shape_weight(teams: Sequence[TeamHistory], window: Window) -> float:
    """The sum over the window's hours and teams of team weight x local hourly volume.

    The generator shares conversations out in proportion to this (times random day and
    hour factors averaging 1), so conversations per unit of it is the history's density.
    """
    volume, _, _ = _hour_tables()
    total = 0.0
    for team in teams:
        zone = ZoneInfo(team.time_zone)
        hours = range(window.start, window.end, HOUR)
        total += team.weight * sum(
            volume[_shape_key(datetime.fromtimestamp(hour, zone))] for hour in hours
        )
    return total


def remember_history(seed: int, teams: Sequence[TeamHistory], window: Window, calls: int) -> None:
    """Record how the history was generated (call it in the seeding transaction)."""
    weight = shape_weight(teams, window)
    days = max(1, window.end - window.start) / 86_400
    info = {
        "seed": seed,
        "calls_per_day": calls / days,
        "density": calls / weight if weight > 0 else 0.0,
        "end": window.end,
        "teams": {str(team.team_id): [team.weight, team.calling_code] for team in teams},
    }
    _save(info)


def _save(info: dict[str, Any]) -> None:
    table = db.Setting._meta.table_name
    db.database.execute_sql(
        f'INSERT OR REPLACE INTO "{table}" (key, value) VALUES (?, ?)',  # noqa: S608
        (SETTING, json.dumps(info, sort_keys=True)),
    )


def _history_info() -> dict[str, Any] | None:
    row = db.Setting.get_or_none(db.Setting.key == SETTING)
    return None if row is None else dict(json.loads(row.value))


def history_end() -> int | None:
    """Where the generated history ends (epoch seconds), None if it was not recorded."""
    info = _history_info()
    return None if info is None else int(info["end"])


def top_up_history(now: int) -> int:
    """Generate conversations from the history's end to the start of ``now``'s hour.

    Returns how many were added (0 when up to date, or for a database whose seeding was
    not recorded). Deterministic: the same database and ``now`` give the same rows.
    """
    with db.database.atomic():
        info = _history_info()
        if info is None:
            return 0
        window = Window(start=int(info["end"]), end=now - now % HOUR)
        if window.end <= window.start:
            return 0
        shapes = {int(team): (float(w), str(code)) for team, (w, code) in info["teams"].items()}
        teams = [
            team
            for team in team_histories(shapes)
            if team.weight > 0 and team.agent_ids and team.call_service_ids
        ]
        rng = random.Random(f"{info['seed']}:{window.start}:{window.end}")  # noqa: S311
        expected = float(info["density"]) * shape_weight(teams, window)
        calls = int(expected + rng.random()) if teams else 0  # rounds to the expected value
        # The highest ever issued, purged rows included: a cursor never sees a number twice.
        top_id, top_seq = high_water()
        added = generate_conversations(
            rng,
            teams,
            window,
            calls,
            first=(top_id + 1, top_seq + 1),
            rebuild_indexes=False,
        )
        info["end"] = window.end
        _save(info)
    return added
