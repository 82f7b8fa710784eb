"""How fresh the local history is, and the first sync's progress (rows, rate, ETA)."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from stratus_tui.widgets.safe import safe


def duration(seconds: float) -> str:
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class SyncStatus(Vertical):
    DEFAULT_CSS = """
    SyncStatus { height: auto; padding: 0 1; color: $text-muted; }
    SyncStatus ProgressBar { display: none; }
    SyncStatus.-syncing ProgressBar { display: block; }
    SyncStatus #sync-text.-error { color: $text-warning; }
    SyncStatus Bar { width: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Static("History: not synced yet", id="sync-text")
        yield ProgressBar(total=None, show_eta=False, show_percentage=True)

    def show_progress(self, rows: int, expected: int | None, rate: float) -> None:
        self.add_class("-syncing")
        bar = self.query_one(ProgressBar)
        bar.update(total=expected, progress=rows)
        eta = ""
        if expected and rate > 0:
            eta = f", {duration((expected - rows) / rate)} left"
        self._say(f"History: syncing {rows:,} rows ({rate:,.0f}/s{eta})")

    def show_waiting(self) -> None:
        self._say("History: another stratus-tui is syncing; waiting for it")

    def show_synced(self, as_of: datetime | None) -> None:
        self.remove_class("-syncing")
        when = f"as of {as_of.astimezone():%H:%M}" if as_of else "not synced yet"
        self._say(f"History {when}")

    def show_error(self, text: str, as_of: datetime | None) -> None:
        self.remove_class("-syncing")
        when = f"; showing history as of {as_of.astimezone():%H:%M}" if as_of else ""
        self._say(f"History not synced: {text}{when}", error=True)

    def _say(self, text: str, *, error: bool = False) -> None:
        label = self.query_one("#sync-text", Static)
        label.set_class(error, "-error")
        label.update(safe(text, max_length=None))  # error texts can hold server words
