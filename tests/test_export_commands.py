"""`stratus-tui export reporting` and `export lost-calls`: ``cli.main`` in-process against the
reference server in a child process on a loopback port (one server for the module)."""

from __future__ import annotations

import csv
import re
import sqlite3
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from stratus_tui.cache import reports
from stratus_tui.cli import main
from stratus_tui.commands import CommandError
from stratus_tui.commands.reporting import find_team, lost_calls_days
from stratus_tui.export.report_csv import ReportTeam
from tests.conftest import ADMIN, MEMBER, TEAMADMIN, Served

pytestmark = pytest.mark.socket

WROTE = re.compile(r"Wrote ([\d,]+) (?:conversations|lost calls) of Support L1 to (.+)\n")


@pytest.fixture(scope="module")
def server(seeded_loopback_server: Served) -> tuple[str, Path]:
    """The seeded server (its history topped up to the current hour) and its database."""
    return seeded_loopback_server.url, seeded_loopback_server.database


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The password set, and a home folder whose Downloads folder takes the default files."""
    monkeypatch.setenv("STRATUS_PASSWORD", "demo")
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "Downloads").mkdir()
    return tmp_path / "Downloads"


def team_rows(database: Path, where: str, params: list[object]) -> list[tuple[int, ...]]:
    """(id, started_at, customer) of Support L1's conversations matching ``where``."""
    with closing(sqlite3.connect(database)) as connection:
        team, zone = connection.execute(
            "SELECT id, time_zone FROM team WHERE name = 'Support L1'"
        ).fetchone()
        assert zone == "Europe/Zurich"
        return connection.execute(
            f"SELECT id, started_at, customer_id FROM conversation WHERE team_id = ? AND {where}"
            " ORDER BY started_at, id",
            [team, *params],
        ).fetchall()


def wrote(output: str) -> tuple[int, Path]:
    found = WROTE.fullmatch(output)
    assert found, output
    return int(found.group(1).replace(",", "")), Path(found.group(2))


def test_reporting_writes_the_teams_csv_window(
    server: tuple[str, Path], home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, database = server
    code = main(["export", "reporting", "--url", url, "--user", ADMIN, "--team", "support l1"])
    out, err = capsys.readouterr()
    assert code == 0, err
    count, path = wrote(out)
    now = datetime.now(UTC)
    start, _ = reports.csv_window(now, "Europe/Zurich")
    today = now.astimezone(start.tzinfo).date()
    assert path == home / f"stratus-report-Support-L1-{start.date()}-to-{today}.csv"
    assert path.stat().st_mode & 0o777 == 0o600
    with path.open(encoding="utf-8-sig", newline="") as stream:
        lines = list(csv.reader(stream))[1:]
    expected = team_rows(
        database,
        "started_at >= ? AND started_at < ?",
        [int(start.timestamp()), int(now.timestamp())],
    )
    assert count == len(lines) == len(expected) > 1000
    assert [int(line[0]) for line in lines] == [row[0] for row in expected]
    assert {line[3] for line in lines} == {"Support L1"} and all(
        line[5] for line in lines if line[4]
    )


def test_lost_calls_writes_the_pdf_of_the_days_asked(
    server: tuple[str, Path], home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, database = server
    output = tmp_path / "pdfs" / "lost.pdf"
    args = ["export", "lost-calls", "--url", url, "--user", TEAMADMIN, "--team", "Support L1"]
    code = main([*args, "--since", "2026-11-09", "--until", "2026-11-21", "--output", str(output)])
    out, err = capsys.readouterr()
    assert code == 0, err
    count, path = wrote(out)
    assert path == output and output.stat().st_mode & 0o777 == 0o600
    start, end = reports.custom_range(date(2026, 11, 9), date(2026, 11, 21), "Europe/Zurich")
    lost = team_rows(
        database,
        "started_at >= ? AND started_at < ? AND kind = 'call' AND direction = 'inbound'"
        " AND direct = 0 AND outcome = 'lost'",
        [int(start.timestamp()), int(end.timestamp())],
    )
    assert count == len(lost) > 20
    text = "\n".join(page.extract_text() for page in PdfReader(output).pages)
    assert f"Lost calls {count}" in " ".join(text.split())
    assert [row[2] for row in lost] == re.findall(r"\+\d{8,}", text.split("Wait", 1)[1])
    # The defaults: the last 7 days and today, named after them, in the Downloads folder.
    assert main(args) == 0
    _, path = wrote(capsys.readouterr().out)
    today = date.today()
    assert (
        path == home / f"stratus-lost-calls-Support-L1-{today - timedelta(days=7)}-to-{today}.pdf"
    )


def test_a_team_member_gets_the_servers_refusal(
    server: tuple[str, Path], home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = server
    code = main(["export", "reporting", "--url", url, "--user", MEMBER, "--team", "Sales"])
    assert code == 3
    err = capsys.readouterr().err
    assert err == "stratus-tui export reporting: Team members may not see teams\n"
    assert not list(home.iterdir())


def test_a_team_not_seen_names_close_matches_or_the_users_teams(
    server: tuple[str, Path], home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = server
    args = ["export", "lost-calls", "--url", url, "--user", TEAMADMIN, "--team"]
    assert main([*args, "Suport L1"]) == 3
    assert capsys.readouterr().err == (
        "stratus-tui export lost-calls: no team named 'Suport L1' among the teams you may see;"
        " did you mean 'Support L1' or 'Support L2'?\n"
    )
    assert main([*args, "Billing"]) == 3  # another team of the tenant: not the user's
    assert capsys.readouterr().err == (
        "stratus-tui export lost-calls: no team named 'Billing' among the teams you may see;"
        " your teams: 'Support L1', 'Support L2'\n"
    )


def test_a_file_that_cannot_be_written_exits_1(
    server: tuple[str, Path], home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = server
    (tmp_path / "a-file").write_text("")
    output = tmp_path / "a-file" / "report.csv"
    args = ["export", "reporting", "--url", url, "--user", ADMIN, "--team", "Billing"]
    assert main([*args, "--output", str(output)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("stratus-tui export reporting: cannot write ") and err.count("\n") == 1
    assert "is a file, not a folder" in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--since", "2026-11-31"], "argument --since: must be a date like 2026-07-01"),
        (["--until", "yesterday"], "argument --until: must be a date like 2026-07-01"),
        (["--since", "2026-11-22", "--until", "2026-11-21"], "--since 2026-11-22 is after"),
        (["--since", "2999-01-01"], "--since 2999-01-01 is after --until"),
    ],
)
def test_bad_dates_are_usage_errors(
    options: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["export", "lost-calls", "--url", "http://x", "--user", "u", "--team", "T", *options])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_the_team_is_required_and_the_password_too(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["export", "reporting", "--url", "http://x", "--user", "u"])
    assert stopped.value.code == 2 and "--team" in capsys.readouterr().err
    assert (
        main(["export", "reporting", "--url", "http://127.0.0.1:9", "--user", "u", "--team", "T"])
        == 3
    )
    assert capsys.readouterr().err == (
        "stratus-tui export reporting: set STRATUS_PASSWORD to the password of u\n"
    )


def test_default_days_and_finding_a_team() -> None:
    today = date(2026, 11, 22)
    assert lost_calls_days(None, None, today) == (date(2026, 11, 15), today)
    assert lost_calls_days(None, date(2026, 1, 3), today) == (date(2025, 12, 27), date(2026, 1, 3))
    assert lost_calls_days(today, None, today) == (today, today)
    teams = [
        ReportTeam(1, "Support", "UTC"),
        ReportTeam(2, "support", "UTC"),
        ReportTeam(3, "Sales", "UTC"),
        ReportTeam(4, "Sales", "UTC"),
        ReportTeam(5, "Billing", "UTC"),
    ]
    assert find_team(teams, "support").id == 2  # the exact name first
    assert find_team(teams, "BILLING").id == 5  # then ignoring case
    with pytest.raises(CommandError, match="2 teams are named 'SUPPORT'"):
        find_team(teams, "SUPPORT")
    assert find_team(teams, "4").id == 4  # the id, for a name two teams share
    with pytest.raises(
        CommandError, match=r"2 teams are named 'Sales' \(ids 3, 4\): pass --team ID"
    ):
        find_team(teams, "Sales")
    with pytest.raises(CommandError, match="you may not see any team"):
        find_team([], "Sales")
    hostile = [ReportTeam(5, "\x1b[2J" + "x" * 500, "UTC")]
    with pytest.raises(CommandError) as refused:
        find_team(hostile, "y")
    assert "\x1b" not in str(refused.value) and len(str(refused.value)) < 200
