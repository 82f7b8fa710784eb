"""``stratus-tui export reporting`` and ``export lost-calls``: a team's CSV and lost-calls PDF.

Both sign in like the other headless commands, bring the local cache's history up to date
first (the same sync as ``stratus-tui sync``, progress on stderr), find the team by name
among the teams the user may see, and write the file through ``export.reporting``:

- ``reporting``: every conversation of the last quarter and the running month (the
  reporting CSV window, in the team's time zone), as CSV;
- ``lost-calls``: the lost calls from ``--since`` to ``--until`` (whole days in the team's
  time zone, both included; by default the last 7 days and today), as PDF.

Exit codes: 0 written (the path on stdout), 1 the file could not be written, 3 the data
could not be had (config, password, connection, sign-in, the server's refusal, the cache,
a team not found), 130 interrupted. Every failure is one line on stderr.
"""

from __future__ import annotations

import asyncio
import difflib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from stratus_tui.commands import CommandError, emit, export_failed, say_error
from stratus_tui.text import clean

if TYPE_CHECKING:
    from stratus_tui.cache.store import Cache
    from stratus_tui.cache.sync import Progress
    from stratus_tui.commands.connect import Target
    from stratus_tui.export.report_csv import ReportTeam

LOST_CALLS_DAYS = 7  # --since defaults to this many days before today
LISTED = 8  # team names at most in a "not found" message


def lost_calls_days(
    since: date | None, until: date | None, today: date | None = None
) -> tuple[date, date]:
    """``--since`` and ``--until`` with their defaults (7 days ago and today, local date).

    Raises ``ValueError`` with the message for the usage error when since is after until.
    """
    until = until or today or date.today()
    since = since or until - timedelta(days=LOST_CALLS_DAYS)
    if since > until:
        raise ValueError(f"--since {since} is after --until {until}")
    return since, until


@dataclass(frozen=True)
class _Ready:
    """What a command has after signing in and syncing: the cache and the team (the sync
    stored the services too, which the exports name from the cache)."""

    cache: Cache
    team: ReportTeam


def run_reporting(
    *,
    profile: str | None,
    url: str | None,
    user: str | None,
    team: str,
    output: Path | None,
    err: TextIO | None = None,
) -> int:
    """``export reporting``; returns the exit code. Never raises, never prints a traceback."""
    from stratus_tui.cache import reports
    from stratus_tui.export.csv import default_export_dir
    from stratus_tui.export.reporting import default_file_name, export_report_csv

    def write(ready: _Ready) -> str:
        now = datetime.now(UTC)
        start, end = reports.csv_window(now, ready.team.time_zone)
        path = output or default_export_dir() / default_file_name(
            ready.team.name, start, end, "csv"
        )
        count = export_report_csv(ready.cache, ready.team, path, now=now)
        return f"Wrote {_count(count, 'conversation')} of {_shown(ready.team)} to {path}\n"

    return _run("export reporting", profile, url, user, team, write, err)


def run_lost_calls(
    *,
    profile: str | None,
    url: str | None,
    user: str | None,
    team: str,
    since: date,
    until: date,
    output: Path | None,
    err: TextIO | None = None,
) -> int:
    """``export lost-calls`` for the days ``since`` to ``until`` (both included)."""
    from stratus_tui.cache import reports
    from stratus_tui.export.csv import default_export_dir
    from stratus_tui.export.reporting import default_file_name, export_lost_calls_pdf

    def write(ready: _Ready) -> str:
        start, end = reports.custom_range(since, until, ready.team.time_zone)
        path = output or default_export_dir() / default_file_name(
            ready.team.name, since, until, "pdf"
        )
        count = export_lost_calls_pdf(ready.cache, ready.team, path, start, end)
        return f"Wrote {_count(count, 'lost call')} of {_shown(ready.team)} to {path}\n"

    return _run("export lost-calls", profile, url, user, team, write, err)


def find_team(teams: Sequence[ReportTeam], wanted: str) -> ReportTeam:
    """The team called ``wanted`` (exactly, else ignoring case; or its id).

    Raises ``CommandError`` naming close matches (or some of the teams there are).
    """
    folded = wanted.casefold()
    for matches in (
        lambda team: team.name == wanted,
        lambda team: team.name.casefold() == folded,
        lambda team: str(team.id) == wanted.strip(),
    ):
        found = [team for team in teams if matches(team)]
        if len(found) == 1:
            return found[0]
        if found:
            ids = ", ".join(str(team.id) for team in found)
            raise CommandError(
                f"{len(found)} teams are named {_quoted(wanted)} (ids {ids}): pass --team ID"
            )
    if not teams:
        raise CommandError("you may not see any team, so there is nothing to export")
    names = {team.name.casefold(): team.name for team in teams}
    close = [names[key] for key in difflib.get_close_matches(folded, names, n=LISTED, cutoff=0.5)]
    if close:
        hint = "did you mean " + " or ".join(_quoted(name) for name in close) + "?"
    else:
        shown = sorted(names.values(), key=str.casefold)
        more = f" and {len(shown) - LISTED} more" if len(shown) > LISTED else ""
        hint = "your teams: " + ", ".join(_quoted(name) for name in shown[:LISTED]) + more
    raise CommandError(f"no team named {_quoted(wanted)} among the teams you may see; {hint}")


def _run(
    name: str,
    profile: str | None,
    url: str | None,
    user: str | None,
    team: str,
    write: Callable[[_Ready], str],
    err: TextIO | None,
) -> int:
    """Sign in, sync, find the team, then ``write``: one convention for both commands."""
    from stratus_tui.commands.sync import ProgressLine

    progress = ProgressLine(err or sys.stderr)
    ready: _Ready | None = None
    try:
        from stratus_tui.commands.connect import resolve_target

        target = resolve_target(profile=profile, url=url, user=user)
        for warning in target.warnings:
            say_error(name, f"warning: {warning}")
        try:
            ready = asyncio.run(_prepare(name, target, team, progress))
        finally:
            progress.finish()
        summary = write(ready)
    except (KeyboardInterrupt, Exception) as error:  # one line, never a traceback
        return export_failed(name, error)
    finally:
        if ready is not None:
            ready.cache.close()
    emit(summary)
    return 0


async def _prepare(name: str, target: Target, wanted: str, progress: Progress) -> _Ready:
    from stratus_tui.cache.store import ADHOC_PROFILE, Cache
    from stratus_tui.cache.sync import sync_history
    from stratus_tui.commands.connect import signed_in
    from stratus_tui.export.reporting import cached_teams

    async with signed_in(target) as client:
        me = await client.me()
        cache = await asyncio.to_thread(
            Cache.open, target.profile or ADHOC_PROFILE, target.url, me.upn
        )
        try:
            if cache.notice:
                say_error(name, f"note: {cache.notice}")
            # The server refuses a user without reporting rights here (GET /teams): its
            # message is the one line the user sees.
            result = await sync_history(client, cache, user=me, on_progress=progress)
            for notice in result.notices:
                say_error(name, f"note: {notice}")
            teams = await asyncio.to_thread(cached_teams, cache, me.time_zone or "UTC")
            team = find_team(teams, wanted)
        except BaseException:
            cache.close()
            raise
    return _Ready(cache, team)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _shown(team: ReportTeam) -> str:
    return clean(team.name, max_length=80)


def _quoted(name: str) -> str:
    return "'" + clean(name, max_length=60) + "'"
