"""`stratus-tui sync`'s progress display and options, at function level."""

from __future__ import annotations

import io

import pytest

from stratus_tui.cache.sync import SyncProgress
from stratus_tui.cli import main
from stratus_tui.commands.sync import ProgressLine, clock_text, progress_text


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_line_tells_rows_rate_and_time_left() -> None:
    step = SyncProgress(rows=250_000, fraction=0.25, elapsed=2.0)
    assert step.expected == 1_000_000 and step.rate == 125_000 and step.eta == pytest.approx(6.0)
    line = progress_text(step, bar=True)
    assert "250,000 of ~1,000,000 rows" in line and "[#####...............]" in line
    assert "125,000 rows/s" in line and "about 0:06 left" in line
    unknown = progress_text(SyncProgress(rows=10, fraction=None, elapsed=1.0), bar=True)
    assert unknown == "History: 10 rows  10 rows/s"
    assert "waiting" in progress_text(SyncProgress(0, None, 0.0, waiting=True), bar=True)
    assert clock_text(3725) == "1:02:05" and clock_text(65) == "1:05"


def test_on_a_terminal_the_bar_is_redrawn_in_place() -> None:
    stream, clock = Terminal(), Clock()
    show = ProgressLine(stream, clock=clock)
    show(SyncProgress(1000, 0.1, 1.0))
    clock.now = 0.05
    show(SyncProgress(2000, 0.2, 1.05))  # too soon: skipped
    clock.now = 0.5
    show(SyncProgress(5000, 0.5, 1.5))
    show(SyncProgress(10_000, 1.0, 2.0))  # the last one is always drawn
    show.finish()
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and "\x1b[K" in text
    assert "2,000" not in text and "100%" in text


def test_elsewhere_a_plain_line_every_few_seconds() -> None:
    stream, clock = io.StringIO(), Clock()
    show = ProgressLine(stream, clock=clock)
    for second in range(12):
        clock.now = float(second)
        show(SyncProgress(second * 1000, second / 12, float(second)))
    show(SyncProgress(12_000, 1.0, 12.0))
    show.finish()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and all(line.startswith("History: ") for line in lines)
    assert "\r" not in stream.getvalue() and "[" not in stream.getvalue()


def test_waiting_for_another_sync_is_said_on_its_own_line() -> None:
    stream = Terminal()
    show = ProgressLine(stream, clock=Clock())
    show(SyncProgress(10, 0.5, 1.0))
    show(SyncProgress(0, None, 0.0, waiting=True))
    lines = stream.getvalue().split("\n")
    assert lines[1].startswith("Another stratus-tui is syncing this cache")


@pytest.mark.parametrize("size", ["0", "10001", "many"])
def test_a_bad_page_size_is_a_usage_error_with_exit_3(
    size: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["sync", "--url", "http://x", "--user", "u", "--page-size", size])
    assert stopped.value.code == 3
    assert "--page-size" in capsys.readouterr().err


def test_sync_without_a_password_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "--url", "http://127.0.0.1:9", "--user", "u@x"]) == 3
    assert (
        capsys.readouterr().err == "stratus-tui sync: set STRATUS_PASSWORD to the password of u@x\n"
    )


def test_cache_with_no_caches(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cache"]) == 0
    assert capsys.readouterr().out.startswith("No local cache of every profile")
    assert main(["--profile", "lab", "cache", "--purge"]) == 0
    assert "of the profile 'lab'" in capsys.readouterr().out
