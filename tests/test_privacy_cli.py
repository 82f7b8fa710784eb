"""`stratus-tui export privacy`: ``cli.main`` in-process against `stratus-tui serve` in a child
process on a loopback port, whose start also fails the export jobs a dead server left."""

from __future__ import annotations

import csv
import shutil
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from stratus_tui.api.models import CONVERSATION_FIELDS
from stratus_tui.cli import main
from stratus_tui.export.privacy_csv import default_privacy_file_name
from tests.conftest import ADMIN, CONTOSO_ADMIN, Served, serve_child

pytestmark = pytest.mark.socket
NAME = "stratus-tui export privacy: "


@dataclass(frozen=True)
class Server:
    url: str
    database: Path
    stale_job: int  # left running by the server before this one


def insert_job(database: Path, state: str, progress: float = 0.0, error: str | None = None) -> int:
    """A job written straight into the server's database (as a server that died would)."""
    with closing(sqlite3.connect(database, timeout=10)) as connection, connection:
        tenant, requester = connection.execute(
            "SELECT tenant_id, id FROM user WHERE upn_key = ?", (ADMIN,)
        ).fetchone()
        cursor = connection.execute(
            "INSERT INTO privacy_export (tenant_id, requested_by, requested_by_name, team_scope,"
            " subject_kind, subject, date_from, date_to, state, progress, row_count, error,"
            " created_at) VALUES (?, ?, 'Zoë', '', 'customer', '+41445550000', '2026-01-01',"
            " '2026-12-31', ?, ?, 0, ?, ?)",
            (tenant, requester, state, progress, error, int(time.time())),
        )
        return int(cursor.lastrowid or 0)


@pytest.fixture(scope="module")
def server(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    database = tmp_path_factory.mktemp("privacy-cli") / "server.sqlite3"
    shutil.copyfile(template_db, database)
    stale = insert_job(database, "running", 0.3)
    served: Served
    with serve_child(database) as served:
        # It says it listens before its start-up work: answering means that work is done.
        answer = httpx.get(f"{served.url}/api/v1/health", timeout=30)
        assert answer.status_code == 200
        yield Server(served.url, database, stale)


@pytest.fixture
def admin(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=10) as client:
        login = client.post("/auth/login", json={"username": ADMIN, "password": "demo"})
        assert login.status_code == 200, login.text
        client.headers["Authorization"] = f"Bearer {login.json()['token']}"
        yield client


@pytest.fixture(autouse=True)
def password(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STRATUS_PASSWORD", "demo")
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "Downloads").mkdir()


def export(server: Server, job: int, *options: str, user: str = ADMIN) -> int:
    return main(["export", "privacy", "--url", server.url, "--user", user, "--job", str(job),
                 *options])  # fmt: skip


def customer_of(database: Path) -> str:
    """A caller of Demo Corp with many conversations."""
    with closing(sqlite3.connect(database, timeout=10)) as connection:
        row = connection.execute(
            "SELECT customer_id FROM conversation JOIN tenant ON tenant.id = tenant_id"
            " WHERE tenant.name = 'Demo Corp' AND customer_id LIKE '+%'"
            " GROUP BY customer_id ORDER BY count(*) DESC, customer_id LIMIT 1"
        ).fetchone()
    return str(row[0])


def finished_job(admin: httpx.Client, customer: str) -> dict[str, Any]:
    answer = admin.post(
        "/privacy-exports",
        json={
            "subject_kind": "customer",
            "subject": customer,
            "date_from": "2026-01-01",
            "date_to": "2026-12-31",
        },
    )
    assert answer.status_code == 202, answer.text
    deadline = time.monotonic() + 30
    while True:
        job: dict[str, Any] = admin.get(f"/privacy-exports/{answer.json()['id']}").json()
        if job["state"] == "done":
            return job
        assert job["state"] in ("queued", "running") and time.monotonic() < deadline, job
        time.sleep(0.05)


def as_csv(row: tuple[Any, ...]) -> list[str]:
    cells = []
    for name, value in zip(CONVERSATION_FIELDS, row, strict=True):
        if value is None:
            cells.append("")
        elif name.endswith("_at"):
            cells.append(datetime.fromtimestamp(value, UTC).isoformat())
        elif name in ("direct", "voicemail"):
            cells.append("true" if value else "false")
        else:
            cells.append(str(value))
    return cells


def test_a_job_a_dead_server_left_running_failed_when_it_started(
    server: Server, admin: httpx.Client
) -> None:
    job = admin.get(f"/privacy-exports/{server.stale_job}").json()
    assert job["state"] == "failed"
    assert job["error"] == "the server restarted before this export finished; start it again"


def test_a_finished_job_is_written_as_csv(
    server: Server, admin: httpx.Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    customer = customer_of(server.database)
    job = finished_job(admin, customer)
    path = tmp_path / "exports" / "subject.csv"
    assert export(server, job["id"], "--output", str(path)) == 0
    out, err = capsys.readouterr()
    count = job["row_count"]
    assert out == f"Wrote {count} rows of privacy export job {job['id']} to {path}\n"
    assert customer not in out and err == ""
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as stream:
        header, *rows = list(csv.reader(stream))
    with closing(sqlite3.connect(server.database, timeout=10)) as connection:
        expected = connection.execute(
            f"SELECT {', '.join(CONVERSATION_FIELDS)} FROM conversation"
            " WHERE customer_id = ? AND tenant_id = (SELECT tenant_id FROM user"
            " WHERE upn_key = ?) ORDER BY id",
            (customer, ADMIN),
        ).fetchall()
    assert header == list(CONVERSATION_FIELDS)
    assert rows == [as_csv(row) for row in expected] and len(rows) == count >= 10
    # Without --output: the Downloads folder, a name that does not say whose data it is.
    assert export(server, job["id"]) == 0
    default = tmp_path / "Downloads" / default_privacy_file_name(job["id"])
    assert default.read_bytes() == path.read_bytes()


@pytest.mark.parametrize(
    ("state", "progress", "error", "message"),
    [
        ("running", 0.4, None, "job {id} is running (40%); try again when it is done"),
        ("queued", 0.0, None, "job {id} is queued; try again when it is done"),
        ("failed", 0.0, "the agent x@demo.stratus no longer exists",
         "job {id} failed: the agent x@demo.stratus no longer exists"),
    ],
)  # fmt: skip
def test_a_job_that_is_not_done_exits_3_saying_why(
    server: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    state: str,
    progress: float,
    error: str | None,
    message: str,
) -> None:
    job = insert_job(server.database, state, progress, error)
    path = tmp_path / "never.csv"
    assert export(server, job, "--output", str(path)) == 3
    out, err = capsys.readouterr()
    assert out == "" and err == NAME + message.format(id=job) + "\n"
    assert not path.exists() and list(tmp_path.iterdir()) == [tmp_path / "Downloads"]


def test_a_job_not_seen_exits_3(
    server: Server, admin: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    assert export(server, 999_999) == 3
    assert capsys.readouterr().err == NAME + "no privacy export job 999999 that you may see\n"
    # Another tenant's job is not even confirmed to exist.
    job = finished_job(admin, customer_of(server.database))
    assert export(server, job["id"], user=CONTOSO_ADMIN) == 3
    assert capsys.readouterr().err == NAME + f"no privacy export job {job['id']} that you may see\n"


def test_a_file_that_cannot_be_written_exits_1(
    server: Server, admin: httpx.Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = finished_job(admin, customer_of(server.database))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert export(server, job["id"], "--output", str(blocker / "x.csv")) == 1
    err = capsys.readouterr().err
    assert err.startswith(NAME + "cannot write") and err.count("\n") == 1


def test_the_password_and_a_job_number_are_required(
    server: Server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("STRATUS_PASSWORD")
    assert export(server, 1) == 3
    assert capsys.readouterr().err == NAME + f"set STRATUS_PASSWORD to the password of {ADMIN}\n"
    for bad in ("0", "x"):
        with pytest.raises(SystemExit) as raised:
            main(["export", "privacy", "--url", server.url, "--user", ADMIN, "--job", bad])
        assert raised.value.code == 2
        assert "must be a job number" in capsys.readouterr().err
