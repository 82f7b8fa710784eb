"""Benchmark: the lost-calls PDF of 10,000 lost calls, against a bare fpdf2 cell() loop.

    .venv/bin/python bench/export_pdf.py [--calls 10000] [--runs 3]

Lost calls shaped like the demo data's (four weeks in Europe/Zurich, a few services,
E.164 numbers, some SIP and mail addresses, one value in a hundred with Zoë, Łukasz or 王,
which needs the CJK fallback font). Interleaved run by run (this machine is noisy):

- export: ``write_lost_calls_pdf`` (Unicode fonts, title page, totals, header row and page
  numbers on every page, cleaned and fitted cells, atomic 0600 file);
- baseline: the same rows through a bare ``cell()`` loop with a core font (Helvetica, no
  fitting, no header, no title page) into a file.

Prints the import of fpdf (paid once per process) and medians of the runs. Target: the
export of 10,000 lost calls in 3 s or less.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from stratus_tui.export.pdf import LostCall, duration_text, write_lost_calls_pdf

ZONE = ZoneInfo("Europe/Zurich")
START = datetime(2026, 10, 26, tzinfo=ZONE)
END = datetime(2026, 11, 23, tzinfo=ZONE)
SERVICES = ("Support L1 Hotline", "Support L1 Callback", "Support L1 VIP line")
TARGET = 3.0  # seconds for 10,000 lost calls


def lost_calls(count: int) -> list[LostCall]:
    rnd = random.Random(3)
    lo, hi = int(START.timestamp()), int(END.timestamp())
    rows = []
    for _ in range(count):
        roll = rnd.random()
        if roll < 0.01:
            customer = rnd.choice(("zoë.müller@example.ch", "Łukasz Kowalski", "王小明"))
        elif roll < 0.15:
            customer = f"sip:customer{rnd.randrange(10**6)}@contoso-partners.example.com"
        else:
            customer = f"+4144{rnd.randrange(10**7):07d}"
        rows.append(
            LostCall(rnd.randrange(lo, hi), rnd.choice(SERVICES), customer, rnd.randrange(600))
        )
    return sorted(rows)


def export(rows: list[LostCall], path: Path) -> None:
    write_lost_calls_pdf(
        path, team_name="Support L1", time_zone="Europe/Zurich", start=START, end=END, rows=rows
    )


def baseline(rows: list[LostCall], path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_font("helvetica", size=8.5)
    pdf.add_page()
    for call in rows:
        moment = datetime.fromtimestamp(call.started_at, ZONE)
        offset = moment.strftime("%z")
        pdf.cell(24, 5, f"UTC{offset[:3]}:{offset[3:]}")
        pdf.cell(22, 5, moment.strftime("%Y-%m-%d"))
        pdf.cell(17, 5, moment.strftime("%H:%M:%S"))
        pdf.cell(52, 5, call.service)
        pdf.cell(47, 5, call.customer.encode("latin-1", "replace").decode("latin-1"))
        pdf.cell(18, 5, duration_text(call.wait_seconds), align="R", new_x="LMARGIN", new_y="NEXT")
    path.write_bytes(pdf.output())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = lost_calls(args.calls)
    started = time.perf_counter()
    import fpdf  # noqa: F401  (timed: the first export in a process pays it)

    imported = time.perf_counter() - started
    times: dict[str, list[float]] = {"export": [], "baseline": []}
    with tempfile.TemporaryDirectory(prefix="export-pdf-bench-") as folder:
        for _ in range(args.runs):
            for name, function in (("export", export), ("baseline", baseline)):
                path = Path(folder) / f"{name}.pdf"
                started = time.perf_counter()
                function(rows, path)
                seconds = time.perf_counter() - started
                times[name].append(seconds)
                print(f"  {name:8} {seconds:5.2f} s  ({path.stat().st_size / 2**20:.1f} MiB)")
    ours, bare = (statistics.median(times[name]) for name in ("export", "baseline"))
    print(f"{args.calls:,} lost calls; medians of {args.runs} runs:")
    print(f"  import fpdf (once per process)     {imported:6.2f} s")
    print(f"  export (write_lost_calls_pdf)      {ours:6.2f} s   (target <= {TARGET:.0f} s)")
    print(f"  export + the import                {ours + imported:6.2f} s")
    print(f"  baseline (bare cell() loop, core)  {bare:6.2f} s")
    print(f"  export / target                    {ours / TARGET:6.2f}x")
    print(f"  export / baseline                  {ours / bare:6.2f}x")


if __name__ == "__main__":
    main()
