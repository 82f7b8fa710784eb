"""The lost-calls PDF: a title page with the team, the range and the totals, then a table.

fpdf2 with the Unicode TTF fonts shipped in ``stratus_tui/fonts`` (its built-in fonts are
Latin-1 only: "Ł" raises). DejaVu Sans prints Łukasz and Zoë; DroidSansFallbackFull
supplies CJK ("王"), loaded only when some text needs it (it is 4 MB). fpdf is imported
inside ``write_lost_calls_pdf``: the import alone costs 300 ms that the TUI must not pay
at start.

Speed (10,000 lost calls in 3 s or less, bench/export_pdf.py): fpdf2's ``table()`` is ~8x
slower than a ``cell()`` loop, and ``cell()`` itself (fragments, fallback and markdown
checks per call) still costs ~4 s here. So the table's rows are drawn with ``text()`` at
computed positions, the header rows and footers with ``cell()``. ``text()`` knows no
fallback font, so a value with a glyph DejaVu lacks goes through ``cell()`` with the
fallback switched on for that value only: switched on for every cell it slows the whole
table down.

Server text is hostile (SECURITY.md A): it is never given to fpdf's markdown or HTML modes,
its controls and bidi overrides become "�" (``text.clean``; the fonts have no control
pictures), and a value wider than its column is cut with "…". The file is written through
``atomic_write``: private (0600), whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from stratus_tui.export.atomic import atomic_write, export_error
from stratus_tui.text import ELLIPSIS, REPLACEMENT, clean

FONTS = Path(__file__).resolve().parent.parent / "fonts"
FONT, FALLBACK = "DejaVu", "Fallback"
MARGIN = 15.0  # mm, A4 portrait: 180 mm of table width
ROW = 5.0  # mm per table row
BODY_PT = 8.5
# (title, width in mm, alignment): 180 mm in all. The fixed-format columns are as wide as
# their longest value ("UTC+05:45", "2026-10-26") or title; the rest goes to the two texts.
COLUMNS = (
    ("Time offset", 22.0, "L"),
    ("Date", 20.0, "L"),
    ("Time", 16.0, "L"),
    ("Service", 47.0, "L"),
    ("Customer identifier", 60.0, "L"),
    ("Wait", 15.0, "R"),
)
PROGRESS_EVERY = 500  # rows between two progress(count) calls
LONGEST_TEXT = 300  # characters of server text kept before fitting it to a column
# text.clean shows C0 controls as control pictures, which no font here has: print "�".
_PICTURES = {code: REPLACEMENT for code in range(0x2400, 0x2425)}


class LostCall(NamedTuple):
    started_at: int  # epoch seconds
    service: str
    customer: str
    wait_seconds: int


def offset_text(seconds: int) -> str:
    """A UTC offset as "+01:00", "-03:30"."""
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    return f"{sign}{hours:02d}:{rest // 60:02d}"


def duration_text(seconds: float) -> str:
    """Seconds as minutes:seconds ("1:05"), from an hour on as "1:02:05"."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def write_lost_calls_pdf(
    path: Path,
    *,
    team_name: str,
    time_zone: str,
    start: datetime,
    end: datetime,
    rows: Iterable[LostCall],
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> int:
    """Write the lost calls ``rows`` (oldest first) of [start, end) to ``path``.

    ``start``/``end`` are aware; times print in ``time_zone`` (an IANA name). Returns the
    number of rows. Raises ``ExportError`` when the file cannot be written (the old file,
    if any, stays as it was); an exception from ``rows`` or ``progress`` passes unchanged.
    """
    calls = list(rows)  # the title page's totals come before the table
    printer = _Printer(team_name)
    printer.title_page(time_zone, start, end, calls, now or datetime.now(UTC))
    printer.table(calls, ZoneInfo(time_zone), progress)
    data = printer.pdf.output()
    path = Path(path)
    with atomic_write(path) as stream:
        try:
            stream.write(data)
        except OSError as error:
            raise export_error(f"cannot write {path}", error) from None
    if progress is not None:
        progress(len(calls))
    return len(calls)


def printable(text: object, max_length: int = LONGEST_TEXT) -> str:
    """Server text fit for print: controls and bidi overrides as "�", at most ``max_length``."""
    return clean(text, max_length=max_length).translate(_PICTURES)


class _Printer:
    """One document: fonts, page furniture and text drawn fast where it can be."""

    def __init__(self, team_name: str) -> None:
        from fpdf import FPDF  # here: 300 ms of import

        pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        pdf.set_auto_page_break(False)  # this class breaks pages, repeating the header
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
        pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        pdf.set_creator("stratus-tui")
        self.pdf: Any = pdf
        self.team = printable(team_name)
        pdf.set_title(f"Lost calls: {self.team}")
        self.widths: dict[tuple[str, str, float], float] = {}
        self.pdf.set_font(FONT, "", BODY_PT)
        # No ASCII character is wider than this: shorter ASCII values need no measuring.
        self.widest_ascii = max(self.char_width(chr(code)) for code in range(32, 127))
        # Where cell() puts the baseline in a row: text() draws there too, so both agree.
        self.baseline = ROW / 2 + 0.3 * BODY_PT / pdf.k

    # --- pages ---------------------------------------------------------------------------

    def title_page(
        self,
        time_zone: str,
        start: datetime,
        end: datetime,
        calls: Sequence[LostCall],
        now: datetime,
    ) -> None:
        pdf = self.pdf
        self.new_page()
        width = pdf.epw
        pdf.set_font(FONT, "B", 22)
        pdf.cell(width, 12, "Lost calls", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "B", 14)
        team = self.drawable(self.team)
        self.with_fallback(team, lambda: pdf.multi_cell(width, 7, team))
        pdf.ln(6)
        waits = [call.wait_seconds for call in calls]
        lines = (
            ("Time zone", f"{printable(time_zone, 60)} (the team's; the table shows local times)"),
            ("From", _moment(start)),
            ("Until", f"{_moment(end)}, not included"),
            ("Lost calls", f"{len(calls):,}"),
            ("Average wait", duration_text(sum(waits) / len(waits)) if waits else "none"),
            ("Longest wait", duration_text(max(waits)) if waits else "none"),
        )
        for label, value in lines:
            pdf.set_font(FONT, "B", 11)
            pdf.cell(35, 7, label)
            pdf.set_font(FONT, "", 11)
            pdf.cell(width - 35, 7, value, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(
            width,
            5,
            "Lost: an inbound call to one of the team's services that no agent answered "
            "(the caller hung up in the queue, timed out, was rejected or sent to voicemail). "
            f"Created {_moment(now.astimezone(ZoneInfo(time_zone)))} by stratus-tui.",
        )

    def table(
        self, calls: Sequence[LostCall], zone: ZoneInfo, progress: Callable[[int], None] | None
    ) -> None:
        pdf = self.pdf
        bottom = pdf.h - MARGIN - 8  # the footer's space
        offset_x, date_x, time_x, service_x, customer_x, wait_x = (
            left + pdf.c_margin for left in _lefts()
        )
        wait_right = wait_x + COLUMNS[5][1] - 2 * pdf.c_margin
        service_w, customer_w = COLUMNS[3][1], COLUMNS[4][1]
        offsets: dict[Any, str] = {}
        services: dict[str, str] = {}
        y = self.table_page()
        if not calls:
            pdf.set_xy(MARGIN, y)
            pdf.cell(pdf.epw, ROW * 2, "No lost calls in this range.")
        for count, call in enumerate(calls, 1):
            if y + ROW > bottom:
                y = self.table_page()
            if count % 2 == 0:  # stripes guide the eye along a row
                pdf.rect(MARGIN, y, pdf.epw, ROW, style="F")
            moment = datetime.fromtimestamp(call.started_at, zone)
            delta = moment.utcoffset()
            offset = offsets.get(delta)
            if offset is None:
                offset = offsets[delta] = _utc_offset(moment)
            line = y + self.baseline
            pdf.text(offset_x, line, offset)
            pdf.text(date_x, line, moment.strftime("%Y-%m-%d"))
            pdf.text(time_x, line, moment.strftime("%H:%M:%S"))
            service = services.get(call.service)
            if service is None:  # a few services, thousands of rows: fit each name once
                service = services[call.service] = self.fit(printable(call.service), service_w)
            self.put(service_x, y, service_w, service)
            self.put(customer_x, y, customer_w, self.fit(printable(call.customer), customer_w))
            waited = self.fit(duration_text(call.wait_seconds), COLUMNS[5][1])
            pdf.text(wait_right - self.width(waited), line, waited)
            y += ROW
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(count)

    def new_page(self) -> None:
        """A page with its footer: the team and "Page n of N" (N filled in at the end)."""
        pdf = self.pdf
        pdf.add_page()
        pdf.set_font(FONT, "", 7.5)
        pdf.set_text_color(90)
        pdf.set_xy(MARGIN, pdf.h - MARGIN - 4)
        left = self.fit(f"stratus-tui · lost calls of {self.team}", pdf.epw - 30)
        self.with_fallback(left, lambda: pdf.cell(pdf.epw - 30, 4, left))
        pdf.cell(30, 4, f"Page {pdf.page_no()} of {{nb}}", align="R")
        pdf.set_text_color(0)
        pdf.set_xy(MARGIN, MARGIN)

    def table_page(self) -> float:
        """A new page with the table's header row; returns where the first row goes."""
        pdf = self.pdf
        self.new_page()
        pdf.set_font(FONT, "B", BODY_PT)
        pdf.set_fill_color(225)
        for title, width, align in COLUMNS:
            pdf.cell(width, ROW + 1, title, align=align, fill=True)
        pdf.set_font(FONT, "", BODY_PT)
        pdf.set_fill_color(244)  # the stripes
        return MARGIN + ROW + 1

    # --- text ----------------------------------------------------------------------------

    def put(self, x: float, top: float, width: float, shown: str) -> None:
        """``shown`` (fitted) at ``x`` in a table cell ``width`` wide: by the fast ``text()``
        unless DejaVu lacks a glyph (``x`` is past the cell's margin)."""
        pdf = self.pdf
        if self.needs_fallback(shown):
            pdf.set_xy(x - pdf.c_margin, top)
            self.with_fallback(shown, lambda: pdf.cell(width, ROW, shown))
        else:
            pdf.text(x, top + self.baseline, shown)

    def fit(self, text: str, width: float) -> str:
        """``text`` as it fits in a cell ``width`` wide (cut with "…" when it does not)."""
        room = width - 2 * self.pdf.c_margin
        text = self.drawable(text)
        if text.isascii() and len(text) * self.widest_ascii <= room:
            return text
        widths = [self.char_width(character) for character in text]
        if sum(widths) <= room:
            return text
        room -= self.char_width(ELLIPSIS)
        used = 0.0
        for count, each in enumerate(widths):
            used += each
            if used > room:
                return text[:count].rstrip() + ELLIPSIS
        return text  # not reached: the whole text was wider than the room

    def width(self, text: str) -> float:
        """The printed width of ``text`` in the current font."""
        return sum(self.char_width(character) for character in text)

    def char_width(self, character: str) -> float:
        """One character's printed width (remembered): fpdf2 measures a text, shaping
        off, as the sum of its characters, and a measure through it costs ~20 µs."""
        pdf = self.pdf
        key = (character, pdf.font_style, pdf.font_size_pt)
        found = self.widths.get(key)
        if found is None:
            found = self.with_fallback(character, lambda: pdf.get_string_width(character))
            self.widths[key] = found
        return float(found)

    def needs_fallback(self, text: str) -> bool:
        if text.isascii():
            return False
        glyphs = self.pdf.current_font.cmap
        return any(ord(character) not in glyphs for character in text)

    def drawable(self, text: str) -> str:
        """``text`` with "�" for what no font here has (else it prints as an empty box)."""
        if not self.needs_fallback(text):
            return text
        regular, fallback = self.pdf.current_font.cmap, self.fallback_font().cmap
        return "".join(c if ord(c) in regular or ord(c) in fallback else REPLACEMENT for c in text)

    def fallback_font(self) -> Any:
        """The CJK font, added to the document the first time a text needs it."""
        key = FALLBACK.lower()  # fpdf2's key of a family's regular style
        if key not in self.pdf.fonts:
            self.pdf.add_font(FALLBACK, "", str(FONTS / "DroidSansFallbackFull.ttf"))
        return self.pdf.fonts[key]

    def with_fallback(self, text: str, draw: Callable[[], Any]) -> Any:
        """``draw()`` with the fallback font switched on if ``text`` needs it."""
        if not self.needs_fallback(text):
            return draw()
        self.fallback_font()
        self.pdf.set_fallback_fonts([FALLBACK], exact_match=False)
        try:
            return draw()
        finally:
            self.pdf.set_fallback_fonts([])


def _lefts() -> list[float]:
    lefts, x = [], MARGIN
    for _, width, _ in COLUMNS:
        lefts.append(x)
        x += width
    return lefts


def _utc_offset(value: datetime) -> str:
    """The offset of an aware datetime as "UTC+01:00"."""
    delta = value.utcoffset()
    return "UTC" + offset_text(int(delta.total_seconds()) if delta is not None else 0)


def _moment(value: datetime) -> str:
    """An aware datetime as "2026-11-15 00:00 (UTC+01:00)"."""
    return f"{value:%Y-%m-%d %H:%M} ({_utc_offset(value)})"
