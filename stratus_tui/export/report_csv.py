"""The reporting CSV of a team: every conversation of four months, a million rows in seconds.

One row per conversation in ``REPORT_HEADER`` order: every field of a conversation, the
team and service names, and each time both local (the team's time zone, ISO 8601 with its
offset) and in UTC. The file is RFC 4180 with a byte order mark, written atomically, 0600,
like every export (``export.csv``); names and customer identifiers are neutralised there.

Speed (issue: >= 200k rows/s; bench/export_csv.py; docs/exports.md has the figures). On
the 2-core machine this was built on, sqlite3 alone takes ~3.5 us a row to hand over the
17 raw columns, and ``csv.writer`` as long again: a plain writer manages ~125k rows/s.
So this module does what the general writer cannot:

- ``cache.reports.rows_for_csv`` hands over 11 values, not 17 (the team is known, five
  enumerations and booleans come packed as one number of ``FLAG_*`` bits);
- a line is one f-string; its pieces are made once where they can be: the team's and the
  services' names (neutralised and quoted once each), the texts of the flags, the time
  time texts per minute (``_MinuteTexts``); only the customer identifier is checked per row;
- text leaves in chunks of ``CHUNK`` lines as UTF-8 bytes;
- with more than one core and more than ``PART_MIN_ROWS`` rows, the window is cut at
  row-count quantiles (``reports.split_starts``) and each later part is written by a child
  process (``python -m stratus_tui.export.report_csv``) into a private temp file next to
  the target, while this process writes the first; the parts are then appended in order.
  Rows with the same start stay in one part, so the file is byte for byte what one process
  writes (a test checks). A child that cannot be started makes this process write that
  part itself. A part's temp file stays locked while its child or this process lives
  (``atomic.locked_temp``; the child writes through the inherited descriptor), and a
  child whose parent died (``kill -9``) removes its part and stops: nothing is left for
  the next export's clean-up but what a kill of both leaves.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from stratus_tui.cache import reports
from stratus_tui.cache.reports import FLAG_DIRECT, FLAG_IM, FLAG_LOST, FLAG_OUTBOUND, FLAG_VOICEMAIL
from stratus_tui.cache.rollup import LocalClock
from stratus_tui.cache.store import CacheError, reader
from stratus_tui.export.atomic import ExportError, atomic_write, export_error, locked_temp
from stratus_tui.export.csv import BOM, PROGRESS_EVERY, csv_field
from stratus_tui.export.pdf import offset_text

REPORT_HEADER: tuple[str, ...] = (
    "conversation id", "tenant id", "team id", "team", "service id", "service",
    "agent id", "kind", "direction", "direct",
    "started (local)", "answered (local)", "ended (local)",
    "started (UTC)", "answered (UTC)", "ended (UTC)",
    "outcome", "wait seconds", "duration seconds", "voicemail", "customer identifier",
)  # fmt: skip
CHUNK = PROGRESS_EVERY  # lines per write, and so per progress step
PART_MIN_ROWS = 100_000  # fewer rows per part than this are not worth a process
MAX_PARTS = 4
Progress = Callable[[int], None]

_BOOL = ("false", "true")
# The texts of the FLAG_* bits: ",kind,direction,direct," and the outcome and voicemail.
_MIDDLES = tuple(
    f",{('call', 'im')[bool(f & FLAG_IM)]},{('inbound', 'outbound')[bool(f & FLAG_OUTBOUND)]},"
    f"{_BOOL[bool(f & FLAG_DIRECT)]},"
    for f in range(32)
)
_OUTCOMES = tuple(("accepted", "lost")[bool(f & FLAG_LOST)] for f in range(32))
_VOICEMAILS = tuple(_BOOL[bool(f & FLAG_VOICEMAIL)] for f in range(32))
_CUSTOMERS_KEPT = 65_536  # customer identifiers remembered with their CSV text


class TeamLike(Protocol):
    """What the export needs of a team (the page's ``TeamRow`` and ``ReportTeam`` fit)."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def time_zone(self) -> str: ...


@dataclass(frozen=True)
class ReportTeam:
    """A team as the exports take it (from the cache's team entities, or a helper's job)."""

    id: int
    name: str
    time_zone: str


def header_line() -> str:
    return ",".join(csv_field(name) for name in REPORT_HEADER) + "\r\n"


def report_chunks(
    connection: Any,
    team: TeamLike,
    services: Mapping[int, str],
    start_ts: int,
    end_ts: int,
) -> Iterator[tuple[str, int]]:
    """The CSV lines of the team's conversations started in [start_ts, end_ts), oldest
    first, as (text of up to ``CHUNK`` lines, their count). A service the mapping does not
    name gets an empty name."""
    # Times: ``minute_texts`` gives (local text up to the minute, the 60 local second
    # texts with the offset, UTC text up to the minute) for a timestamp's UTC minute;
    # inlined here, as a call per time stamp would cost a third of the row.
    minute_texts = _MinuteTexts(team.time_zone)
    get, describe, utc_seconds = minute_texts.get, minute_texts.describe, _SECONDS_UTC
    middles, outcomes, voicemails = _MIDDLES, _OUTCOMES, _VOICEMAILS
    names: dict[object, str] = {"": "", **{k: csv_field(v) for k, v in services.items()}}
    team_cells = f"{team.id},{csv_field(team.name)}"
    customers: dict[str, str] = {}
    lines: list[str] = []
    add = lines.append
    for (
        number, tenant, service, agent, flags, started, answered, ended, wait, duration, customer,
    ) in reports.rows_for_csv(connection, team.id, start_ts, end_ts):  # fmt: skip
        minute, s_sec = divmod(started, 60)
        s_min = get(minute) or describe(minute)
        minute, e_sec = divmod(ended, 60)
        e_min = get(minute) or describe(minute)
        if answered is None:
            answered_local = answered_utc = ""
        else:
            minute, a_sec = divmod(answered, 60)
            a_min = get(minute) or describe(minute)
            answered_local = a_min[0] + a_min[1][a_sec]
            answered_utc = a_min[2] + utc_seconds[a_sec]
        customer_cell = customers.get(customer)
        if customer_cell is None:
            if len(customers) >= _CUSTOMERS_KEPT:
                customers.clear()
            customer_cell = customers[customer] = csv_field(customer)
        add(
            f"{number},{tenant},{team_cells},{service},{names.get(service, '')},{agent}"
            f"{middles[flags]}{s_min[0]}{s_min[1][s_sec]},{answered_local},"
            f"{e_min[0]}{e_min[1][e_sec]},{s_min[2]}{utc_seconds[s_sec]},{answered_utc},"
            f"{e_min[2]}{utc_seconds[e_sec]},{outcomes[flags]},{wait},{duration},"
            f"{voicemails[flags]},{customer_cell}\r\n"
        )
        if len(lines) == CHUNK:
            yield "".join(lines), CHUNK
            lines.clear()
    if lines:
        yield "".join(lines), len(lines)


_MINUTES_KEPT = 4096  # rows come in time order: old minutes are not needed again
_SECONDS_UTC = tuple(f"{n:02d}Z" for n in range(60))
_HOURS_MINUTES = tuple(f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60))
MinuteText = tuple[str, tuple[str, ...], str]


class _MinuteTexts(dict[int, MinuteText]):
    """UTC minute -> ("YYYY-MM-DDTHH:MM:" local, ("SS+HH:MM" for SS in 0..59), the same
    UTC text): ISO 8601 times without ``datetime`` per value, which would cost more than
    the rest of the row. Filled by ``describe`` as rows come. A UTC minute has one offset:
    zones change offset on quarter hours (as ``LocalClock`` relies on) by whole minutes, so
    the local text is exact, daylight saving and half-hour zones included.
    """

    def __init__(self, time_zone: str) -> None:
        super().__init__()
        self.clock = LocalClock(time_zone)
        self.days: dict[int, str] = {}  # day since the epoch -> "YYYY-MM-DDT"
        self.seconds_with: dict[int, tuple[str, ...]] = {}  # offset -> the 60 second texts

    def describe(self, minute: int) -> MinuteText:
        if len(self) >= _MINUTES_KEPT:
            self.clear()
        offset = self.clock.offset(minute * 60)
        seconds = self.seconds_with.get(offset)
        if seconds is None:
            suffix = offset_text(offset)
            seconds = self.seconds_with[offset] = tuple(f"{n:02d}{suffix}" for n in range(60))
        local_day, local_minute = divmod(minute + offset // 60, 1440)
        utc_day, utc_minute = divmod(minute, 1440)
        text = self[minute] = (
            self._day(local_day) + _HOURS_MINUTES[local_minute],
            seconds,
            self._day(utc_day) + _HOURS_MINUTES[utc_minute],
        )
        return text

    def _day(self, day: int) -> str:
        text = self.days.get(day)
        if text is None:
            text = self.days[day] = datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%dT")
        return text


# --- the file --------------------------------------------------------------------------------


def write_report_csv(
    cache_path: Path,
    team: TeamLike,
    services: Mapping[int, str],
    start_ts: int,
    end_ts: int,
    path: Path,
    *,
    progress: Progress | None = None,
    parts: int | None = None,
) -> int:
    """Write the CSV of the team's conversations started in [start_ts, end_ts) to ``path``
    atomically; returns the row count. ``parts``: at most so many processes share the work
    (default: the cores this process may use, up to ``MAX_PARTS``).

    Each part reads its own snapshot of the cache (a sync may commit in between); the parts
    are disjoint ranges of start times, so no row is written twice or cut in two.
    Raises ``ExportError`` (the file) or ``CacheError`` (the cache); the old file stays.
    """
    path, cache_path = Path(path), Path(cache_path)
    with reader(cache_path) as connection:
        count = reports.conversation_count(connection, team.id, start_ts, end_ts)
        wanted = min(parts or _usable_cores(), MAX_PARTS, count // PART_MIN_ROWS) or 1
        cuts = reports.cut_starts(connection, team.id, start_ts, end_ts, count, wanted)
        bounds = [start_ts, *cuts, end_ts]
        shown = 0

        def report(rows: int) -> None:  # helpers' rows are estimated: never show a step back
            nonlocal shown
            if progress is not None and min(rows, count) > shown:
                shown = min(rows, count)
                progress(shown)

        with atomic_write(path) as stream, _Helpers(path) as helpers:
            for first, last in itertools.pairwise(bounds[1:]):  # the first part is written here
                helpers.start(cache_path, team, services, first, last)
            _write(stream, path, (BOM + header_line()).encode())
            written = 0
            for text, lines in report_chunks(connection, team, services, bounds[0], bounds[1]):
                _write(stream, path, text.encode())
                written += lines
                report(written + helpers.estimate(written, stream.tell()))
            for part in helpers.parts:
                if part.process is None:  # no helper could be started: write it here
                    chunks = report_chunks(connection, team, services, part.first, part.last)
                    for text, lines in chunks:
                        _write(stream, path, text.encode())
                        written += lines
                else:
                    written += helpers.append(part, stream)
                report(written + helpers.estimate(written, stream.tell()))
    if progress is not None and shown != written:  # the sync changed the range meanwhile
        progress(written)
    return written


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):  # the cores this process may run on (containers)
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _write(stream: BinaryIO, path: Path, data: bytes) -> None:
    try:
        stream.write(data)
    except OSError as error:
        raise export_error(f"cannot write {path}", error) from None


@dataclass
class _Part:
    first: int
    last: int
    file: Path
    descriptor: int  # open (and so locked) until the part is appended or dropped
    process: subprocess.Popen[bytes] | None
    appended: bool = False


class _Helpers:
    """The child processes writing the later parts, each into its own temp file."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.parts: list[_Part] = []

    def start(
        self, cache_path: Path, team: TeamLike, services: Mapping[int, str], first: int, last: int
    ) -> None:
        try:  # 0600, beside the target: same file system
            descriptor, name = locked_temp(self.target.parent, f".{self.target.name}.part.")
        except OSError as error:
            raise export_error(f"cannot create a file in {self.target.parent}", error) from None
        job = {
            "cache": str(cache_path), "team": [team.id, team.name, team.time_zone],
            "services": {str(k): v for k, v in services.items()},
            "first": first, "last": last, "part": str(name), "fd": descriptor,
            "parent": os.getpid(),
        }  # fmt: skip
        part = _Part(first, last, name, descriptor, None)
        self.parts.append(part)
        package_root = str(Path(__file__).resolve().parents[2])
        python_path = os.pathsep.join(filter(None, (package_root, os.environ.get("PYTHONPATH"))))
        try:
            part.process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,  # one pipe: read at the end, no deadlock
                env={**os.environ, "PYTHONPATH": python_path},
                pass_fds=(descriptor,),  # the part's file, and with it its lock
            )
            assert part.process.stdin is not None
            part.process.stdin.write(json.dumps(job).encode())
            part.process.stdin.close()
        except OSError:
            if part.process is not None:
                part.process.kill()
                part.process.wait()
            part.process = None

    def estimate(self, rows_here: int, bytes_here: int) -> int:
        """About how many rows the helpers wrote so far (from their files' sizes)."""
        if not rows_here or not bytes_here:
            return 0
        size = 0
        for part in self.parts:
            if part.process is not None and not part.appended:
                with contextlib.suppress(OSError):
                    size += part.file.stat().st_size
        return size * rows_here // bytes_here

    def append(self, part: _Part, stream: BinaryIO) -> int:
        """Wait for the part's helper, copy its file to ``stream``; returns its row count."""
        assert part.process is not None and part.process.stdout is not None
        out = part.process.stdout.read()
        part.process.wait()
        answer = _answer(out)
        if part.process.returncode != 0 or "rows" not in answer:
            message = (
                answer.get("message")
                or _last_line(out)
                or f"a helper process of the export ended with {part.process.returncode}"
            )
            if answer.get("error") == "cache":
                raise CacheError(message)
            raise ExportError(f"cannot write {self.target}: {message}")
        try:
            _copy(part.file, stream)
        except OSError as error:
            raise export_error(f"cannot write {self.target}", error) from None
        part.appended = True
        _drop(part)
        return int(answer["rows"])

    def __enter__(self) -> _Helpers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for part in self.parts:  # still running only when the export failed
            if part.process is not None and part.process.poll() is None:
                part.process.kill()
                part.process.wait()
            if part.process is not None and part.process.stdout is not None:
                part.process.stdout.close()
            _drop(part)


def _drop(part: _Part) -> None:
    """Remove a part's temp file, then close (and so unlock) it; done once."""
    if part.descriptor >= 0:
        with contextlib.suppress(OSError):
            part.file.unlink()
        os.close(part.descriptor)
        part.descriptor = -1


def _copy(source: Path, stream: BinaryIO) -> None:
    """Append ``source`` to ``stream``: in the kernel where it can (Linux), else in blocks."""
    stream.flush()
    with source.open("rb") as part:
        size, done = os.fstat(part.fileno()).st_size, 0
        with contextlib.suppress(AttributeError, OSError):  # no sendfile to a file here
            while done < size:
                sent = os.sendfile(stream.fileno(), part.fileno(), done, size - done)
                if not sent:
                    break
                done += sent
        part.seek(done)
        while block := part.read(1 << 20):
            stream.write(block)


def _answer(out: bytes) -> dict[str, Any]:
    """The helper's answer: a JSON object on its last line of output, else {}."""
    with contextlib.suppress(ValueError):
        answer = json.loads(_last_line(out) or "{}")
        if isinstance(answer, dict):
            return answer
    return {}


def _last_line(out: bytes) -> str:
    lines = out.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else ""


def _helper_main() -> int:
    """A helper process: read the job (JSON on stdin), write the part, answer on stdout."""
    job = json.load(sys.stdin)
    team = ReportTeam(*job["team"])
    services = {int(key): name for key, name in job["services"].items()}
    rows = 0
    try:
        with reader(Path(job["cache"])) as connection, os.fdopen(job["fd"], "wb") as out:
            for text, lines in report_chunks(connection, team, services, job["first"], job["last"]):
                if os.getppid() != job["parent"]:  # the export was killed: its part is litter
                    with contextlib.suppress(OSError):
                        Path(job["part"]).unlink()
                    print(json.dumps({"error": "file", "message": "the export was stopped"}))
                    return 1
                out.write(text.encode())
                rows += lines
    except CacheError as error:
        print(json.dumps({"error": "cache", "message": str(error)}))
        return 1
    except OSError as error:
        reason = (error.strerror or str(error) or type(error).__name__).lower()
        print(json.dumps({"error": "file", "message": reason}))
        return 1
    print(json.dumps({"rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(_helper_main())
