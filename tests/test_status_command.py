"""`stratus-tui status` and `stratus-tui export license-usage`, run for real: the command as
a child process against the reference server on a loopback port (one server per module).
The table and the JSON at function level: tests/test_status_output.py.
"""

from __future__ import annotations

import csv
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from stratus_tui.commands import status
from stratus_tui.export.csv import neutralise
from tests.hostile import HOSTILE
from tests.test_status_output import check_schema

ADMIN = "admin@demo.stratus"
SYSADMIN = "sysadmin@demo.stratus"
MEMBER = "member@demo.stratus"  # may see the status, not license usage


# --- the server and the command, as child processes ----------------------------------------


@dataclass(frozen=True)
class Server:
    url: str
    database: Path
    admin: httpx.Client  # signed in as the system admin


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("status-server")
    database, log_path = folder / "server.sqlite3", folder / "server.log"
    command = [sys.executable, "-m", "stratus_tui", "serve", "--port", "0", "--calls", "0"]
    with log_path.open("w") as log:
        child = subprocess.Popen(
            [*command, "--db", str(database)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        deadline = time.monotonic() + 60
        while not (found := re.search(r"listening on (http://\S+)", log_path.read_text())):
            assert child.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
        url = found.group(1)
        with httpx.Client(base_url=f"{url}/api/v1", timeout=10) as admin:
            login = admin.post("/auth/login", json={"username": SYSADMIN, "password": "demo"})
            assert login.status_code == 200, login.text
            admin.headers["Authorization"] = f"Bearer {login.json()['token']}"
            yield Server(url, database, admin)
    finally:
        child.terminate()
        child.wait(timeout=15)


@pytest.fixture
def live(server: Server) -> Iterator[Server]:
    """The module's server; every component is running again after the test."""
    yield server
    for instance in instances(server):
        for part in instance["components"]:
            if part["state"] != "running":
                set_state(server, instance["id"], part["abbreviation"], "running")


def instances(server: Server) -> list[dict[str, Any]]:
    answer = server.admin.get("/instances")
    assert answer.status_code == 200, answer.text
    result: list[dict[str, Any]] = answer.json()
    return result


def set_state(server: Server, instance_id: int, abbreviation: str, state: str) -> None:
    answer = server.admin.put(
        f"/admin/instances/{instance_id}/components/{abbreviation}", json={"state": state}
    )
    assert answer.status_code == 200, answer.text


def backends(server: Server) -> list[dict[str, Any]]:
    return [instance for instance in instances(server) if instance["role"] == "backend"]


Result = subprocess.CompletedProcess[str]


def spawn(*args: str, password: str | None = "demo", **env: str) -> subprocess.Popen[str]:
    """``python -m stratus_tui ARGS`` with STRATUS_PASSWORD (unless None) and NO_COLOR."""
    environment = {**os.environ, "NO_COLOR": "1", **env}
    environment.pop("STRATUS_PASSWORD", None)
    if password is not None:
        environment["STRATUS_PASSWORD"] = password
    return subprocess.Popen(
        [sys.executable, "-m", "stratus_tui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=environment,
    )


def finish(child: subprocess.Popen[str]) -> Result:
    stdout, stderr = child.communicate(timeout=60)
    return subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)


def cli(*args: str, password: str | None = "demo", **env: str) -> Result:
    return finish(spawn(*args, password=password, **env))


def together(*children: subprocess.Popen[str]) -> list[Result]:
    """Commands started together (each takes about a second, mostly imports)."""
    return [finish(child) for child in children]


def status_args(server_url: str, *extra: str) -> tuple[str, ...]:
    return ("status", "--url", server_url, "--user", ADMIN, *extra)


def export_args(server_url: str, *extra: str, user: str = ADMIN) -> tuple[str, ...]:
    return ("export", "license-usage", "--url", server_url, "--user", user, *extra)


def run_status(server_url: str, *extra: str, **options: Any) -> Result:
    return cli(*status_args(server_url, *extra), **options)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("stratus-tui ")
    assert "Traceback" not in result.stderr + result.stdout
    for word in words:
        assert word in result.stderr


# --- status, for real ----------------------------------------------------------------------


@pytest.mark.socket
def test_all_running_exits_0_with_the_verdict_first(live: Server) -> None:
    result, member = together(
        spawn(*status_args(live.url)),
        spawn("status", "--url", live.url, "--user", MEMBER),  # any role may check
    )
    assert result.returncode == member.returncode == 0, result.stderr + member.stderr
    assert member.stdout == result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == "✔ All components are running"
    assert "20 of 20 components running" in result.stdout
    assert "\x1b" not in result.stdout  # NO_COLOR
    assert result.stderr == ""
    assert max(status.cells(line) for line in lines) <= 80


@pytest.mark.socket
def test_ich_stopped_everywhere_means_calls_cannot_be_routed(live: Server) -> None:
    for instance in backends(live):
        set_state(live, instance["id"], "ICH", "stopped")
    result, answer = together(
        spawn(*status_args(live.url)), spawn(*status_args(live.url, "--json"))
    )
    assert result.returncode == 2, result.stderr
    first = result.stdout.splitlines()[0]
    assert "Calls cannot be routed" in first and "ICH" in first
    assert result.stdout.count("✖ STOPPED") == 2
    document = json.loads(answer.stdout)
    assert answer.returncode == 2
    check_schema(document)
    assert document["level"] == "down" and document["exit_code"] == 2
    assert document["missing"] == ["ICH"]
    assert {p["instance"] for p in document["problems"] if p["component"] == "ICH"} == {
        instance["name"] for instance in backends(live)
    }


@pytest.mark.socket
def test_cic_stopped_on_one_backend_is_degraded(live: Server) -> None:
    be02 = next(i for i in backends(live) if i["name"] == "STRATUS-BE02")
    set_state(live, be02["id"], "CIC", "stopped")
    result, answer = together(
        spawn(*status_args(live.url)), spawn(*status_args(live.url, "--json"))
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("▲ Calls can be routed")
    assert "✖ STRATUS-BE02 CIC: stopped" in result.stdout
    assert "19 of 20 components running" in result.stdout
    assert answer.returncode == 1
    document = json.loads(answer.stdout)
    check_schema(document)
    assert document["level"] == "degraded" and document["missing"] == []
    assert document["problems"] == [
        {"instance": "STRATUS-BE02", "component": "CIC", "what": "stopped"}
    ]


@pytest.mark.socket
def test_a_profile_from_the_config_file_before_or_after_the_command(
    live: Server, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"profiles:\n  lab:\n    url: {live.url}\n    username: {ADMIN}\n")
    config.chmod(0o600)
    env = {"STRATUS_TUI_CONFIG": str(config)}
    after, before, both = together(
        spawn("status", "--profile", "lab", **env),
        spawn("--profile", "lab", "status", **env),
        spawn("--profile", "lab", "status", "--profile", "prod", **env),
    )
    assert after.returncode == before.returncode == 0, after.stderr + before.stderr
    assert both.returncode == 3 and "two different profiles" in both.stderr


@pytest.mark.socket
def test_a_wrong_password_is_one_line_and_exit_3(live: Server) -> None:
    result, answer = together(
        spawn(*status_args(live.url), password="not-the-password"),
        spawn(*status_args(live.url, "--json"), password="not-the-password"),
    )
    assert result.returncode == 3
    assert result.stdout == ""
    assert_one_line_error(result, "Wrong user name or password")
    assert answer.returncode == 3
    document = json.loads(answer.stdout)
    check_schema(document)
    assert document["level"] == "unknown" and document["error"]
    assert_one_line_error(answer, document["error"])


@pytest.mark.socket
def test_no_password_in_the_environment_is_exit_3(live: Server) -> None:
    result = run_status(live.url, password=None)
    assert result.returncode == 3
    assert_one_line_error(result, f"set STRATUS_PASSWORD to the password of {ADMIN}")


@pytest.mark.socket
def test_a_server_that_is_not_listening_is_exit_3() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nobody listens there
    url = f"http://127.0.0.1:{port}"
    result, answer = together(spawn(*status_args(url)), spawn(*status_args(url, "--json")))
    assert result.returncode == answer.returncode == 3
    assert_one_line_error(result, "Cannot reach the Stratus server", "connection refused")
    check_schema(json.loads(answer.stdout))


def test_usage_errors_exit_3_not_2_which_means_down() -> None:
    *usage, result = together(
        spawn("status", "--bogus"),
        spawn("status", "--url", "http://127.0.0.1:1"),  # no --user
        spawn("status", "--profile", "a", "--url", "http://x", "--user", "u"),
        spawn("status", "--url", "ftp://h", "--user", "u"),
    )
    assert [child.returncode for child in usage] == [3, 3, 3]
    assert result.returncode == 3
    assert_one_line_error(result, "--url must start with https://")


# --- export license-usage, for real --------------------------------------------------------


def server_usage(server: Server) -> list[list[str]]:
    """What the server holds for the admin, as the CSV should hold it (neutralised)."""
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=10) as http:
        token = http.post("/auth/login", json={"username": ADMIN, "password": "demo"}).json()
        http.headers["Authorization"] = f"Bearer {token['token']}"
        names = {t["id"]: t["name"] for t in http.get("/tenants").json()["items"]}
        rows: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            page = http.get("/license-usage", params=params).json()
            rows += page["items"]
            if not (cursor := page["next_cursor"]):
                break
        http.post("/auth/logout")
    columns = ("concurrent_agents", "configured_agents", "supervisors", "services")
    return [
        [neutralise(v) for v in (r["date"], names[r["tenant_id"]], r["ou_name"])]
        + [neutralise(r[c]) for c in columns]
        for r in rows
    ]


@pytest.mark.socket
def test_export_license_usage_writes_the_servers_rows_neutralised(
    live: Server, tmp_path: Path
) -> None:
    usage = live.admin.get("/license-usage", params={"limit": 1000}).json()["items"]
    first, second = sorted({row["ou_id"] for row in usage if row["tenant_id"] == 1})[:2]
    hostile_formula, hostile_escape = '=HYPERLINK("x")', "Ops " + HOSTILE["osc52_clipboard"]
    with sqlite3.connect(live.database, timeout=10) as database:
        original = dict(
            database.execute(
                "SELECT id, name FROM org_unit WHERE id IN (?, ?)", (first, second)
            ).fetchall()
        )
        database.execute("UPDATE org_unit SET name = ? WHERE id = ?", (hostile_formula, first))
        database.execute("UPDATE org_unit SET name = ? WHERE id = ?", (hostile_escape, second))
        database.execute(
            "UPDATE instance SET name = ? WHERE name = 'STRATUS-BE01'",
            ("BE01" + HOSTILE["osc52_clipboard"],),
        )
    try:
        output = tmp_path / "exports" / "x.csv"
        result = cli(*export_args(live.url, "--output", str(output)))
        assert result.returncode == 0, result.stderr
        assert str(output) in result.stdout and "\x1b" not in result.stdout
        assert output.stat().st_mode & 0o777 == 0o600
        assert output.read_bytes().startswith(b"\xef\xbb\xbf")
        with output.open(encoding="utf-8-sig", newline="") as stream:
            written = list(csv.reader(stream))
        header = "date,tenant,org unit,concurrent agents,configured agents,supervisors,services"
        assert written[0] == header.split(",")
        expected = server_usage(live)
        assert len(written) - 1 == len(expected) > 0
        assert written[1:] == expected  # cell by cell
        ou_cells = {row[2] for row in written[1:]}
        assert "'" + hostile_formula in ou_cells and hostile_formula not in ou_cells
        assert hostile_escape in ou_cells  # the ESC is data in the CSV, kept as it is
        assert f"{len(expected)} rows" in result.stdout

        # The same hostile text never reaches the terminal through `status`.
        shown, answer = together(
            spawn(*status_args(live.url)), spawn(*status_args(live.url, "--json"))
        )
        assert shown.returncode == 0
        assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout
        assert "BE01␛]5" in shown.stdout  # shown inert (and cut to fit 80 columns)
        document = json.loads(answer.stdout)
        assert document["instances"][0]["name"] == "BE01␛]52;c;SGk=␇"
    finally:
        with sqlite3.connect(live.database, timeout=10) as database:
            for ou_id, name in original.items():
                database.execute("UPDATE org_unit SET name = ? WHERE id = ?", (name, ou_id))
            database.execute("UPDATE instance SET name = 'STRATUS-BE01' WHERE name LIKE 'BE01%'")


@pytest.mark.socket
def test_export_problems_are_one_line_with_their_exit_codes(live: Server, tmp_path: Path) -> None:
    folder, wrong, member = together(
        spawn(*export_args(live.url, "--output", str(tmp_path))),
        spawn(*export_args(live.url, "--output", str(tmp_path / "x.csv")), password="wrong"),
        spawn(*export_args(live.url, "--output", str(tmp_path / "m.csv"), user=MEMBER)),
    )
    assert folder.returncode == 1
    assert_one_line_error(folder, "it is a folder")
    assert wrong.returncode == 3
    assert_one_line_error(wrong, "Wrong user name or password")
    assert member.returncode == 3
    assert_one_line_error(member)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.socket
def test_export_dates_limit_the_rows(live: Server, tmp_path: Path) -> None:
    days = sorted({row[0] for row in server_usage(live)})
    start, end = days[1], days[3]
    output = tmp_path / "days.csv"
    result, backwards = together(
        spawn(*export_args(live.url, "--from", start, "--to", end, "--output", str(output))),
        spawn(*export_args(live.url, "--from", end, "--to", start)),
    )
    assert result.returncode == 0, result.stderr
    with output.open(encoding="utf-8-sig", newline="") as stream:
        dates = {row[0] for row in list(csv.reader(stream))[1:]}
    assert dates == set(days[1:4])
    assert backwards.returncode == 2 and "--from must not be after --to" in backwards.stderr
