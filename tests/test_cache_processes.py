"""`stratus-tui sync` and `stratus-tui cache` for real: child processes against the reference
server on a loopback port. Killed mid-sync, run twice at once, signed in as two users."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from stratus_tui.cache.store import Cache, cache_path
from stratus_tui.server import db
from tests.cache_helpers import cache_ids, check_consistent, kept
from tests.conftest import ADMIN, TEAMADMIN, Served

pytestmark = pytest.mark.socket


@pytest.fixture(scope="module")
def server(seeded_loopback_server: Served) -> Served:
    return seeded_loopback_server


def sync_command(server: Served, user: str, *options: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "stratus_tui",
        "sync",
        "--url",
        server.url,
        "--user",
        user,
        *options,
    ]


def environment() -> dict[str, str]:
    return {**os.environ, "STRATUS_PASSWORD": "demo", "PYTHONUNBUFFERED": "1"}


def count(pattern: str, output: str) -> int:
    found = re.search(pattern, output)
    assert found, output
    return int(found.group(1).replace(",", ""))


def run_sync(server: Served, user: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        sync_command(server, user, *options),
        capture_output=True,
        text=True,
        env=environment(),
        timeout=120,
        check=False,
    )


def stored_cursor(path: Path) -> int:
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as c:
            row = c.execute("SELECT value FROM state WHERE key = 'cursor'").fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0]) if row else 0


def expected_ids(server: Served, user: str) -> set[int]:
    """What the user's cache must hold after a sync now (its scope, minus retention)."""
    with closing(sqlite3.connect(server.database)) as connection:
        tenant = connection.execute(
            "SELECT tenant_id FROM user WHERE upn_key = ?", (user.lower(),)
        ).fetchone()[0]
        zones = dict(connection.execute("SELECT id, time_zone FROM team").fetchall())
        rows = connection.execute(
            "SELECT id, seq, tenant_id, team_id, 0, 0, 0, 0, 0, started_at FROM conversation"
            " WHERE tenant_id = ?",
            (tenant,),
        ).fetchall()
    return kept({row[0]: tuple(row) for row in rows}, zones.__getitem__, time.time())


def integrity(path: Path) -> str:
    with closing(sqlite3.connect(path)) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])


def test_syncs_killed_between_pages_and_mid_write_resume_without_duplicates(
    server: Served,
) -> None:
    """kill -9 once just after a page was stored, then at random moments while pages are
    written: each time the cache passes PRAGMA integrity_check and is consistent, and the
    next sync resumes from the stored cursor, with no conversation twice.
    STRATUS_TEST_KILLS sets how many random kills (2 here; more by hand, docs/cache.md)."""
    path = cache_path("_url", server.url, ADMIN)
    seed = random.randrange(2**32)
    chance = random.Random(seed)
    cursors = []
    for attempt in range(1 + int(os.environ.get("STRATUS_TEST_KILLS", "2"))):
        child = subprocess.Popen(
            sync_command(server, ADMIN, "--page-size", "100" if attempt == 0 else "500"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=environment(),
        )
        start = stored_cursor(path)
        deadline = time.monotonic() + 60
        while stored_cursor(path) == start and time.monotonic() < deadline:
            if child.poll() is not None:
                break
            time.sleep(0.002)
        if attempt:  # a random moment after a page: mostly mid-ingest, in a write
            time.sleep(chance.uniform(0, 0.3))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=15)
        if child.returncode != -signal.SIGKILL:
            break  # it finished first: nothing left to interrupt
        assert integrity(path) == "ok", f"seed {seed}"
        with Cache.open("_url", server.url, ADMIN) as cache:
            check_consistent(cache)
        cursors.append(stored_cursor(path))
    assert len(cursors) >= 2, f"only {len(cursors)} kill(s) before the sync finished"
    assert cursors[0] > 0, "no page was stored before the first kill"
    assert cursors == sorted(cursors), f"seed {seed}"  # each run went on from the last
    interrupted_at = cursors[-1]
    expected = expected_ids(server, ADMIN)
    done = run_sync(server, ADMIN)
    assert done.returncode == 0, done.stderr
    assert integrity(path) == "ok"
    with Cache.open("_url", server.url, ADMIN) as cache:
        ids = cache_ids(cache)
        assert len(ids) == len(set(ids)) and set(ids) == expected
        assert cache.cursor() >= interrupted_at  # went on from where the kills left it
        check_consistent(cache)


def test_two_syncs_of_one_cache_at_once_both_finish(server: Served) -> None:
    path = cache_path("_url", server.url, TEAMADMIN)
    children = [
        subprocess.Popen(
            sync_command(server, TEAMADMIN, "--page-size", "500"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment(),
        )
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=120) for child in children]
    for child, (out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
        assert "locked" not in err and "Traceback" not in err
        assert "Synced" in out
    # One did the work; the other waited, then found little or nothing left.
    # Stored = added - pruned: on the real clock, retention may drop the seed's oldest month.
    stored = [count(r"([\d,]+) new", out) - count(r"([\d,]+) pruned", out) for out, _ in outputs]
    with Cache.open("_url", server.url, TEAMADMIN) as cache:
        ids = cache_ids(cache)
        assert len(ids) == len(set(ids)) == sum(stored)
        check_consistent(cache)
    assert path.exists()


def test_the_command_reports_progress_and_a_summary(server: Served) -> None:
    done = run_sync(server, TEAMADMIN, "--page-size", "50")
    assert done.returncode == 0, done.stderr
    assert re.search(r"^Synced [\d,]+ conversations? in [\d.]+ s", done.stdout, re.M)
    assert "cursor" in done.stdout and str(cache_path("_url", server.url, TEAMADMIN)) in done.stdout
    assert "\r" not in done.stderr  # not a terminal: no bar drawn in place
    assert "Traceback" not in done.stderr


def test_failures_are_one_line_and_exit_3(server: Served, tmp_path: Path) -> None:
    wrong = subprocess.run(
        sync_command(server, ADMIN),
        capture_output=True,
        text=True,
        env={**environment(), "STRATUS_PASSWORD": "wrong"},
        timeout=60,
        check=False,
    )
    assert wrong.returncode == 3 and len(wrong.stderr.strip().splitlines()) == 1
    assert wrong.stderr.startswith("stratus-tui sync: ")
    unreachable = subprocess.run(
        [sys.executable, "-m", "stratus_tui", "sync", "--url", "http://127.0.0.1:9", "--user", "x"],
        capture_output=True,
        text=True,
        env=environment(),
        timeout=60,
        check=False,
    )
    assert unreachable.returncode == 3 and "Cannot reach" in unreachable.stderr
    member = run_sync(server, "member@demo.stratus")
    assert member.returncode == 3 and "team member" in member.stderr
    assert not cache_path("_url", server.url, "member@demo.stratus").exists()


def test_cache_lists_and_purges(server: Served) -> None:
    assert run_sync(server, TEAMADMIN).returncode == 0
    listed = subprocess.run(
        [sys.executable, "-m", "stratus_tui", "cache"], capture_output=True, text=True, check=False
    )
    assert listed.returncode == 0
    assert f"{TEAMADMIN} on {server.url}" in listed.stdout and "conversations" in listed.stdout
    purged = subprocess.run(
        [sys.executable, "-m", "stratus_tui", "cache", "--purge", "--profile", "_url"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert purged.returncode == 0 and "Deleted" in purged.stdout
    assert not cache_path("_url", server.url, TEAMADMIN).exists()
    again = subprocess.run(
        [sys.executable, "-m", "stratus_tui", "cache", "--purge"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0 and "No local cache" in again.stdout


def test_the_server_tops_up_its_history_when_opened_again(
    template_db: Path, tmp_path: Path
) -> None:
    database = tmp_path / "server.sqlite3"
    shutil.copyfile(template_db, database)
    with closing(sqlite3.connect(database)) as connection:  # as if seeded a day earlier
        connection.execute(
            "UPDATE setting SET value = json_set(value, '$.end', json_extract(value, '$.end')"
            " - 86400) WHERE key = 'history'"
        )
        connection.commit()
        before = connection.execute("SELECT count(*), max(seq) FROM conversation").fetchone()
    import io

    from stratus_tui.server.seed import SeedOptions
    from stratus_tui.server.serve import prepare_database

    out = io.StringIO()
    try:
        prepare_database(database, SeedOptions(), False, out)
        after = (
            db.database.connection()
            .execute(
                "SELECT count(*), max(seq), min(seq) FROM conversation WHERE seq > ?", (before[1],)
            )
            .fetchone()
        )
    finally:
        db.database.close()
    assert after[0] > 0 and after[2] == before[1] + 1 and after[1] == before[1] + after[0]
    assert f"Added {after[0]:,} conversations" in out.getvalue()
