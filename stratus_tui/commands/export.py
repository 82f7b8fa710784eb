"""``stratus-tui export license-usage`` (daily license usage per org unit) and ``export
privacy`` (a finished data-privacy export job), as CSV.

The rows come from ``license_usage_rows``, which the dashboard's "Download CSV" calls too,
and go through the one CSV writer (``stratus_tui.export.csv``): injection-safe, atomic,
0600. The caller's role decides on the server which rows there are (a team admin sees the
org units of their teams). Exit codes: 0 written, 1 the file could not be written, 3 the
data could not be fetched (config, password, connection, sign-in, the server's answer; for
``privacy`` also a job that is not done: "job 12 is running (40%)").
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from stratus_tui.commands import CommandError, emit, export_failed, say_error
from stratus_tui.export.csv import default_export_dir, write_csv

if TYPE_CHECKING:
    from stratus_tui.api.client import StratusClient
    from stratus_tui.api.models import PrivacyExport, PrivacyExportResult
    from stratus_tui.commands.connect import Target


LICENSE_USAGE_HEADER: tuple[str, ...] = (
    "date",
    "tenant",
    "org unit",
    "concurrent agents",
    "configured agents",
    "supervisors",
    "services",
)
LicenseUsageRow = tuple[date, str, str, int, int, int, int]


async def license_usage_rows(
    client: StratusClient, date_from: date | None = None, date_to: date | None = None
) -> list[LicenseUsageRow]:
    """Every row of ``GET /license-usage`` in ``LICENSE_USAGE_HEADER``'s order.

    Values are raw (a hostile org unit name stays as it is): ``write_csv`` neutralises them
    for the file, and a screen must render them through ``text.clean``.
    """
    from stratus_tui.api import models

    params = {
        "date_from": None if date_from is None else date_from.isoformat(),
        "date_to": None if date_to is None else date_to.isoformat(),
    }
    tenants, usage = await asyncio.gather(
        client.get_all("/tenants", models.Tenant),
        client.get_all("/license-usage", models.LicenseUsage, params=params),
    )
    names = {tenant.id: tenant.name for tenant in tenants}
    return [
        (
            row.date,
            names.get(row.tenant_id, f"tenant {row.tenant_id}"),
            row.ou_name,
            row.concurrent_agents,
            row.configured_agents,
            row.supervisors,
            row.services,
        )
        for row in usage
    ]


def default_license_usage_path(today: date | None = None) -> Path:
    day = date.today() if today is None else today
    return default_export_dir() / f"license-usage-{day.isoformat()}.csv"


def run_license_usage(
    *,
    profile: str | None,
    url: str | None,
    user: str | None,
    output: Path | None,
    date_from: date | None,
    date_to: date | None,
) -> int:
    """The whole command; returns the exit code. Never raises, never prints a traceback."""
    name = "export license-usage"
    try:
        from stratus_tui.commands.connect import resolve_target

        target = resolve_target(profile=profile, url=url, user=user)
        for warning in target.warnings:
            say_error(name, f"warning: {warning}")
        path = output if output is not None else default_license_usage_path()
        rows = asyncio.run(_fetch(target, date_from, date_to))
        count = write_csv(path, LICENSE_USAGE_HEADER, rows)
    except (KeyboardInterrupt, Exception) as error:  # one line, never a traceback
        return export_failed(name, error)
    emit(f"Wrote {count} row{'' if count == 1 else 's'} of license usage to {path}\n")
    return 0


async def _fetch(
    target: Target, date_from: date | None, date_to: date | None
) -> list[LicenseUsageRow]:
    from stratus_tui.commands.connect import signed_in

    async with signed_in(target) as client:
        return await license_usage_rows(client, date_from, date_to)


# --- export privacy ----------------------------------------------------------------------


def job_not_done(job: PrivacyExport) -> str | None:
    """Why a job's rows cannot be had yet (None: it is done), as one line."""
    if job.state == "done":
        return None
    if job.state == "failed":
        return f"job {job.id} failed: {job.error or 'no reason given'}"
    if job.state == "running":
        return f"job {job.id} is running ({job.progress:.0%}); try again when it is done"
    return f"job {job.id} is {job.state}; try again when it is done"


def run_privacy(
    *,
    profile: str | None,
    url: str | None,
    user: str | None,
    job: int,
    output: Path | None,
) -> int:
    """``export privacy --job ID``: the job's rows as CSV; returns the exit code."""
    name = "export privacy"
    try:
        from stratus_tui.commands.connect import resolve_target
        from stratus_tui.export.privacy_csv import default_privacy_file_name, write_privacy_csv

        target = resolve_target(profile=profile, url=url, user=user)
        for warning in target.warnings:
            say_error(name, f"warning: {warning}")
        path = output or default_export_dir() / default_privacy_file_name(job)
        result = asyncio.run(_fetch_privacy(target, job))
        count = write_privacy_csv(result, path)
    except (KeyboardInterrupt, Exception) as error:  # one line, never a traceback
        return export_failed(name, error)
    # The subject (a UPN, a customer's phone number) is left out: scripts keep their output.
    emit(f"Wrote {count} row{'' if count == 1 else 's'} of privacy export job {job} to {path}\n")
    return 0


async def _fetch_privacy(target: Target, job: int) -> PrivacyExportResult:
    from stratus_tui.api import models
    from stratus_tui.api.errors import NotFound
    from stratus_tui.commands.connect import signed_in

    async with signed_in(target) as client:
        try:
            found = await client.get(f"/privacy-exports/{job}", models.PrivacyExport)
        except NotFound:
            raise CommandError(f"no privacy export job {job} that you may see") from None
        problem = job_not_done(found)
        if problem is not None:
            raise CommandError(problem)
        return await client.get(f"/privacy-exports/{job}/result", models.PrivacyExportResult)
