"""``stratus-tui status``: can the system route calls? For people and for monitoring.

Signs in, reads ``GET /instances``, judges it with :func:`stratus_tui.health.evaluate` (the
same evaluation as the dashboard), logs out, prints the verdict and exits with the level:
0 ok, 1 degraded, 2 calls cannot be routed, 3 could not tell (one line on stderr).
``--json`` prints the stable shape of ``docs/status.schema.json`` instead of the table.
The output and the exit codes are documented in ``docs/status.md``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stratus_tui.api.errors import StratusError
from stratus_tui.commands import INTERRUPTED, CommandError, emit, say_error
from stratus_tui.health import Health, Level, evaluate
from stratus_tui.text import clean

if TYPE_CHECKING:
    from stratus_tui.api.models import ServerInstance
    from stratus_tui.commands.connect import Target

SCHEMA = "stratus-tui/status/1"
UNKNOWN = 3  # exit code: the status could not be told
WIDTH = 80
GAP = "  "
ELLIPSIS = "…"
GREEN, RED, YELLOW, BOLD, RESET = "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[1m", "\x1b[0m"
STATE_COLOURS = {"running": GREEN, "stopped": RED, "degraded": YELLOW}
LEVEL_COLOURS = {Level.OK: GREEN, Level.DEGRADED: YELLOW, Level.DOWN: RED}


@dataclass(frozen=True)
class Symbols:
    running: str
    stopped: str
    degraded: str

    def for_state(self, state: str) -> str:
        return str(getattr(self, state, self.degraded))


UNICODE_SYMBOLS = Symbols("✔", "✖", "▲")
ASCII_SYMBOLS = Symbols("+", "X", "!")  # for a terminal that cannot show the others


# --- the command ---------------------------------------------------------------------------


def run(*, profile: str | None, url: str | None, user: str | None, as_json: bool) -> int:
    """The whole command; returns the exit code. Never raises, never prints a traceback."""
    target: Target | None = None
    try:
        from stratus_tui.commands.connect import resolve_target

        target = resolve_target(profile=profile, url=url, user=user)
        for warning in target.warnings:
            say_error("status", f"warning: {warning}")
        instances = asyncio.run(_fetch(target))
    except KeyboardInterrupt:
        say_error("status", "interrupted")
        return INTERRUPTED
    except (CommandError, StratusError) as error:
        return _could_not_tell(str(error), target, as_json)
    except Exception as error:  # the last resort: a monitoring script gets 3, not a trace
        return _could_not_tell(
            f"unexpected error: {type(error).__name__}: {error}", target, as_json
        )
    health = evaluate(instances)
    if as_json:
        document = status_document(health, instances, target, checked_at=_now())
        emit(json.dumps(document, indent=2) + "\n")
    else:
        emit(render(health, instances, colour=use_colour(), symbols=_symbols()))
    return int(health.level)


async def _fetch(target: Target) -> list[ServerInstance]:
    from stratus_tui.api import models
    from stratus_tui.commands.connect import signed_in

    async with signed_in(target) as client:
        return await client.get_list("/instances", models.ServerInstance)


def _could_not_tell(message: str, target: Target | None, as_json: bool) -> int:
    if as_json:
        document = unknown_document(message, target, checked_at=_now())
        emit(json.dumps(document, indent=2) + "\n")
    say_error("status", message)
    return UNKNOWN


def _now() -> datetime:
    return datetime.now(UTC)


def use_colour(stream: Any = None) -> bool:
    """ANSI colour only on a terminal, and not when NO_COLOR is set (https://no-color.org)."""
    stream = sys.stdout if stream is None else stream
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _symbols() -> Symbols:
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        "✔✖▲…".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return ASCII_SYMBOLS
    return UNICODE_SYMBOLS


# --- JSON ----------------------------------------------------------------------------------


def status_document(
    health: Health, instances: Sequence[ServerInstance], target: Target, *, checked_at: datetime
) -> dict[str, Any]:
    """The ``--json`` answer (docs/status.schema.json). Names are cleaned like on screen."""
    return {
        "schema": SCHEMA,
        "level": health.level.name.lower(),
        "exit_code": int(health.level),
        "summary": health.summary,
        "checked_at": _iso(checked_at),
        "server": target.url,
        "user": clean(target.username),
        "missing": list(health.missing),
        "problems": [
            {"instance": clean(p.instance), "component": p.component, "what": clean(p.what)}
            for p in health.problems
        ],
        "components": {"running": health.running, "total": health.total},
        "instances": [
            {
                "id": instance.id,
                "name": clean(instance.name),
                "host": clean(instance.host),
                "role": instance.role,
                "components": [
                    {
                        "abbreviation": part.abbreviation,
                        "name": clean(part.name),
                        "mode": part.mode,
                        "version": clean(part.version),
                        "state": part.state,
                        "last_heartbeat": None
                        if part.last_heartbeat is None
                        else _iso(part.last_heartbeat),
                    }
                    for part in instance.components
                ],
            }
            for instance in instances
        ],
    }


def unknown_document(
    message: str, target: Target | None, *, checked_at: datetime
) -> dict[str, Any]:
    """The ``--json`` answer when the status could not be told (exit code 3)."""
    error = " ".join(clean(message).split())
    return {
        "schema": SCHEMA,
        "level": "unknown",
        "exit_code": UNKNOWN,
        "summary": f"The status could not be checked: {error}",
        "checked_at": _iso(checked_at),
        "server": None if target is None else target.url,
        "user": None if target is None else clean(target.username),
        "error": error,
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the table -----------------------------------------------------------------------------

HEADERS = ("INSTANCE", "ROLE", "HOST", "COMP", "MODE", "VERSION", "STATE")
# Columns that give way, in this order, when the table would be wider than the terminal.
SHRINK_ORDER = (2, 0, 5)
MIN_WIDTH = 8


def render(
    health: Health,
    instances: Sequence[ServerInstance],
    *,
    colour: bool,
    symbols: Symbols = UNICODE_SYMBOLS,
    width: int = WIDTH,
) -> str:
    """The human answer: verdict, one row per component, problems, the count."""

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{RESET}" if colour else text

    verdict_symbol = {Level.OK: symbols.running, Level.DEGRADED: symbols.degraded}.get(
        health.level, symbols.stopped
    )
    verdict = textwrap.fill(f"{verdict_symbol} {health.summary}", width, subsequent_indent="  ")
    lines = [paint(verdict, BOLD + LEVEL_COLOURS[health.level]), ""]
    rows: list[tuple[list[str], str]] = []  # cells, and the state for its colour
    for instance in instances:
        first = True
        for part in instance.components:
            state = f"{symbols.for_state(part.state)} {_state_word(part.state)}"
            head = (
                [clean(instance.name), instance.role, clean(instance.host)] if first else [""] * 3
            )
            rows.append(
                ([*head, part.abbreviation, part.mode, clean(part.version), state], part.state)
            )
            first = False
    if rows:
        widths = _column_widths([list(HEADERS), *(cells for cells, _ in rows)], width)
        lines.append(_line(list(HEADERS), widths))
        for cells, state in rows:
            text = _line(cells[:-1], widths[:-1]) + GAP + paint(cells[-1], STATE_COLOURS[state])
            lines.append(text)
    else:
        lines.append("The server reports no instances.")
    if health.problems:
        lines += ["", "Problems:"]
        for problem in health.problems:
            where = " ".join(filter(None, (clean(problem.instance), problem.component)))
            mark = symbols.stopped if problem.what == "stopped" else symbols.degraded
            item = f"  {mark} {where}: {clean(problem.what)}"
            lines.append(textwrap.fill(item, width, subsequent_indent="    "))
    lines += ["", f"{health.running} of {health.total} components running"]
    return "\n".join(lines) + "\n"


def _state_word(state: str) -> str:
    return state if state == "running" else state.upper()


def _column_widths(table: list[list[str]], limit: int) -> list[int]:
    widths = [max(cells(row[column]) for row in table) for column in range(len(table[0]))]
    excess = sum(widths) + len(GAP) * (len(widths) - 1) - limit
    while excess > 0:
        column = max(SHRINK_ORDER, key=lambda index: (widths[index], -SHRINK_ORDER.index(index)))
        if widths[column] <= MIN_WIDTH:
            break
        widths[column] -= 1
        excess -= 1
    return widths


def _line(values: list[str], widths: list[int]) -> str:
    return GAP.join(fit(value, width) for value, width in zip(values, widths, strict=True)).rstrip()


def cells(text: str) -> int:
    """Terminal columns ``text`` takes: wide (CJK) characters two, combining marks none."""
    return sum(_char_cells(char) for char in text)


def _char_cells(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) == "Cf":
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def fit(text: str, width: int) -> str:
    """``text`` padded or cut (with …) to exactly ``width`` columns."""
    if cells(text) > width:
        kept, used = [], 0
        for char in text:
            size = _char_cells(char)
            if used + size > width - 1:
                break
            kept.append(char)
            used += size
        text = "".join(kept) + ELLIPSIS
    return text + " " * (width - cells(text))
