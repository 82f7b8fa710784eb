"""The lost-calls PDF (export/pdf.py), read back with pypdf: title page, every row, Unicode,
hostile text, the file. One test exports from a cache synced from the reference server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from pypdf import PdfReader

from stratus_tui.cache import reports
from stratus_tui.export.atomic import ExportError
from stratus_tui.export.pdf import LostCall, duration_text, write_lost_calls_pdf
from stratus_tui.export.report_csv import ReportTeam
from stratus_tui.export.reporting import export_lost_calls_pdf
from stratus_tui.server import db
from stratus_tui.server.app import server_context
from stratus_tui.server.clock import FakeClock
from tests.cache_helpers import server_rows, sync_as
from tests.conftest import ADMIN
from tests.hostile import HOSTILE

ZURICH = ZoneInfo("Europe/Zurich")
START = datetime(2026, 11, 15, tzinfo=ZURICH)
END = datetime(2026, 11, 23, tzinfo=ZURICH)
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ROW_LINE = re.compile(r"UTC[+-]\d\d:\d\d \d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")


def pages(path: Path) -> list[str]:
    """Each page's text, runs of white space made one space per line."""
    return [
        "\n".join(" ".join(line.split()) for line in page.extract_text().splitlines())
        for page in PdfReader(path).pages
    ]


def table_lines(texts: list[str]) -> list[str]:
    return [line for text in texts[1:] for line in text.splitlines() if ROW_LINE.match(line)]


def line_of(call: LostCall, zone: ZoneInfo = ZURICH) -> str:
    moment = datetime.fromtimestamp(call.started_at, zone)
    offset = moment.strftime("%z")
    return (
        f"UTC{offset[:3]}:{offset[3:]} {moment:%Y-%m-%d %H:%M:%S} {call.service} "
        f"{call.customer} {duration_text(call.wait_seconds)}"
    )


def calls(count: int) -> list[LostCall]:
    first = int(START.timestamp())
    services = ("Support hotline", "Łukasz's line", "王 service", "Zoë Müller")
    return [
        LostCall(first + n * 600, services[n % 4], f"+4144555{n:04d}", 7 + n % 300)
        for n in range(count)
    ]


def write(
    path: Path, rows: list[LostCall], team: str = "Łukasz Zoë 王 Support", **kw: object
) -> int:
    options: dict[str, object] = {
        "team_name": team,
        "time_zone": "Europe/Zurich",
        "start": START,
        "end": END,
        "rows": rows,
        "now": NOW,
    }
    options.update(kw)
    return write_lost_calls_pdf(path, **options)  # type: ignore[arg-type]


def test_title_page_totals_and_every_row_with_a_header_on_each_page(tmp_path: Path) -> None:
    rows = calls(120)
    path = tmp_path / "lost.pdf"
    steps: list[int] = []
    assert write(path, rows, progress=steps.append) == 120
    texts = pages(path)
    title = texts[0]
    for expected in (
        "Lost calls\nŁukasz Zoë 王 Support",
        "Time zone Europe/Zurich",
        "From 2026-11-15 00:00 (UTC+01:00)",
        "Until 2026-11-23 00:00 (UTC+01:00), not included",
        "Lost calls 120",
        f"Average wait {duration_text(sum(r.wait_seconds for r in rows) / 120)}",
        "Longest wait 2:06",
        "Created 2026-11-22 13:00 (UTC+01:00)",
    ):
        assert expected in title
    assert not ROW_LINE.search(title)
    assert table_lines(texts) == [line_of(row) for row in rows]
    assert len(texts) >= 4  # the title and three pages of table
    for number, text in enumerate(texts, 1):
        assert f"Page {number} of {len(texts)}" in text
        assert text.startswith("stratus-tui · lost calls of Łukasz Zoë 王 Support")
        if number > 1:
            assert "Time offset Date Time Service Customer identifier Wait" in text
    assert steps == [120]  # every 500 rows, and the total at the end


async def test_the_lost_calls_of_a_synced_team_and_range(
    server_app: FastAPI, server_db: Path, clock: FakeClock, tmp_path: Path
) -> None:
    server_app.state.context = server_context(clock=clock)
    cache, _ = await sync_as(server_app, ADMIN, tmp_path)
    row = db.Team.get(db.Team.name == "Support L1")
    team = ReportTeam(int(row.id), str(row.name), str(row.time_zone))
    services = {int(s.id): str(s.name) for s in db.Service.select()}
    start, end = reports.custom_range(date(2026, 11, 9), date(2026, 11, 21), team.time_zone)
    lo, hi = int(start.timestamp()), int(end.timestamp())
    lost = sorted(
        server_rows(
            "team_id = ? AND started_at >= ? AND started_at < ? AND kind = 'call'"
            " AND direction = 'inbound' AND direct = 0 AND outcome = 'lost'",
            [team.id, lo, hi],
        ).values(),
        key=lambda r: (r[9], r[0]),
    )
    path = tmp_path / "lost.pdf"
    assert export_lost_calls_pdf(cache, team, path, start, end, services=services) == len(lost)
    assert len(lost) > 20
    texts = pages(path)
    assert f"Lost calls {len(lost)}" in texts[0] and "Support L1" in texts[0]
    assert f"Longest wait {duration_text(max(r[13] for r in lost))}" in texts[0]
    zone = ZoneInfo(team.time_zone)
    want = [line_of(LostCall(r[9], services[r[4]], r[16], r[13]), zone) for r in lost]
    assert table_lines(texts) == want
    cache.close()


def test_an_empty_range_says_so(tmp_path: Path) -> None:
    path = tmp_path / "none.pdf"
    assert write(path, [], team="Support L1") == 0
    texts = pages(path)
    assert "Lost calls 0" in texts[0] and "Average wait none" in texts[0]
    assert "No lost calls in this range." in texts[1] and len(texts) == 2
    # Nothing needed the CJK font: it is not in the file (it would cost time and size).
    assert b"DroidSans" not in path.read_bytes()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_prints_cleaned_and_cut_to_fit(name: str, tmp_path: Path) -> None:
    text = HOSTILE[name]
    rows = [LostCall(int(START.timestamp()) + 60, text, text, 30)]
    path = tmp_path / "hostile.pdf"
    assert write(path, rows, team=text) == 1
    texts = pages(path)
    joined = "\n".join(texts)
    for forbidden in ("\x1b", "\x9b", "\u202e", "\x00", "\x07", "\ud800"):
        assert forbidden not in joined
    line = table_lines(texts)[0]
    assert line.startswith("UTC+01:00 2026-11-15 00:01:00 ") and line.endswith(" 0:30")
    if name == "very_long":
        assert "Ł…" in line and len(line) < 120
        assert len(texts) == 2  # the title page holds the (shortened) name
    if name == "cjk_rtl":
        assert "王小明" in line and "王小明" in texts[0]
    if name == "osc52_clipboard":
        assert "]52;c;SGk=" in line  # shown, not active


def test_the_file_is_private_and_a_failed_write_leaves_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out" / "lost.pdf"
    write(path, calls(3))
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    before = path.read_bytes()

    def failing_replace(self: Path, target: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", failing_replace)
    with pytest.raises(ExportError, match=r"cannot write .*lost\.pdf: no space left on device"):
        write(path, calls(5))
    monkeypatch.undo()

    def broken_rows() -> Iterator[LostCall]:
        yield calls(1)[0]
        raise RuntimeError("the cache went away")

    with pytest.raises(RuntimeError, match="went away"):
        write(path, broken_rows())  # type: ignore[arg-type]
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["lost.pdf"]
