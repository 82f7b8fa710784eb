"""The reference server's history top-up: later demos and benchmarks get new calls."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from stratus_tui.server import db
from stratus_tui.server.top_up import SETTING, history_end, top_up_history
from tests.conftest import NOW, TEST_CALLS

HOUR = 3600


def new_rows(after_seq: int) -> list[tuple[object, ...]]:
    return (
        db.database.connection()
        .execute(
            "SELECT id, seq, team_id, started_at, ended_at, customer_id FROM conversation"
            " WHERE seq > ? ORDER BY seq",
            (after_seq,),
        )
        .fetchall()
    )


def test_seeding_records_how_to_continue(server_db: Path) -> None:
    info = json.loads(db.Setting.get_by_id(SETTING).value)
    assert info["seed"] == 7 and info["end"] == NOW == history_end()
    assert info["calls_per_day"] > 0 and info["density"] > 0
    assert len(info["teams"]) == db.Team.select().count()
    assert top_up_history(NOW) == 0 and top_up_history(NOW + HOUR - 1) == 0  # up to date


def test_a_top_up_continues_ids_and_seq_up_to_the_current_hour(server_db: Path) -> None:
    top = db.Conversation.select(db.Conversation.seq).order_by(-db.Conversation.seq).scalar()
    added = top_up_history(NOW + 5 * HOUR + 1234)
    rows = new_rows(top)
    assert added == len(rows) > 0
    assert [row[1] for row in rows] == list(range(top + 1, top + added + 1))
    assert [row[0] for row in rows] == list(range(TEST_CALLS + 1, TEST_CALLS + added + 1))
    assert all(NOW <= row[3] < NOW + 5 * HOUR and row[4] <= NOW + 5 * HOUR for row in rows)
    assert history_end() == NOW + 5 * HOUR
    # An hour on: only that hour is added.
    again = top_up_history(NOW + 6 * HOUR)
    assert all(NOW + 5 * HOUR <= row[3] < NOW + 6 * HOUR for row in new_rows(top + added))
    assert again == len(new_rows(top + added))


def test_the_density_follows_the_seeded_one(server_db: Path) -> None:
    # Sunday noon to the next Sunday noon: a whole week, weekdays and weekend.
    days = 7
    added = top_up_history(NOW + days * 24 * HOUR)
    info = json.loads(db.Setting.get_by_id(SETTING).value)
    assert 0.8 * info["calls_per_day"] * days < added < 1.25 * info["calls_per_day"] * days


def test_the_same_database_and_time_give_the_same_rows(template_db: Path, tmp_path: Path) -> None:
    results = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.sqlite3"
        shutil.copyfile(template_db, path)
        database = db.open_database(path)
        top_up_history(NOW + 3 * HOUR)
        results.append(new_rows(0)[-50:])
        database.close()
    assert results[0] == results[1]


def test_a_database_seeded_before_top_ups_is_left_alone(server_db: Path) -> None:
    db.Setting.delete().where(db.Setting.key == SETTING).execute()
    assert history_end() is None and top_up_history(NOW + 10 * HOUR) == 0
