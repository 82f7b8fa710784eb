"""Data privacy exports as a list and a form, and the retention setting (no Textual).

An export job collects one subject's history (an agent's UPN or a customer identifier) over
a date range; the server runs it and the page follows its state and progress. The form asks
for the subject and the range, and checks the dates as they are typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from stratus_tui.api import models, validation
from stratus_tui.records.editing import RecordKind
from stratus_tui.records.forms import FieldSpec
from stratus_tui.records.requests import build
from stratus_tui.records.rows import Lookups
from stratus_tui.records.table import Column

ACTIVE_STATES = frozenset({"queued", "running"})
RETENTION_RANGE = (1, 3650)
SUBJECT_KINDS = (
    ("customer", "Customer (phone number, SIP address or mail)"),
    ("agent", "Agent (UPN)"),
)

EXPORT_COLUMNS = (  # the state first: it is what the user waits for
    Column("id", "#", 4, numeric=True),
    Column("subject", "Subject", 18, "S", flex=True),
    Column("state", "State", 12, "T"),
    Column("rows", "Rows", 6, numeric=True),
    Column("range", "Days", 20, "D"),
    Column("kind", "Kind", 8, "K"),
    Column("created", "Created", 13, "C"),
)


def state_text(job: models.PrivacyExport) -> str:
    """``running 40%``, ``done``, ``failed``: what the State column says."""
    if job.state == "running":
        return f"running {int(job.progress * 100):d}%"
    return job.state


def days_text(first: date, last: date) -> str:
    """``2026-08-01 to 11-22``: the year once when both days are in it."""
    end = last.strftime("%m-%d") if last.year == first.year else last.isoformat()
    return f"{first.isoformat()} to {end}"


def export_cells(job: models.PrivacyExport, lookups: Lookups) -> tuple[str, ...]:
    return (
        str(job.id),
        job.subject,
        state_text(job),
        f"{job.row_count:,}" if job.state == "done" else "",
        days_text(job.date_from, job.date_to),
        job.subject_kind,
        job.created_at.strftime("%m-%d %H:%M"),
    )


PRIVACY_EXPORTS: RecordKind[models.PrivacyExport] = RecordKind(
    "privacy-export", "/privacy-exports", models.PrivacyExport, "export",
    EXPORT_COLUMNS, export_cells,
)  # fmt: skip


def any_active(jobs: Mapping[int, models.PrivacyExport]) -> bool:
    """Whether the list must be polled: a job is still queued or running."""
    return any(job.state in ACTIVE_STATES for job in jobs.values())


# --- the form ------------------------------------------------------------------------------


def date_error(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        date.fromisoformat(str(value).strip())
    except ValueError:
        return "must be a date like 2026-08-01"
    return None


def subject_error(value: Any) -> str | None:
    return validation.unstorable_text_error(value) if isinstance(value, str) else None


def export_fields() -> list[FieldSpec]:
    return [
        FieldSpec("subject_kind", "Subject", "choice", required=True, choices=SUBJECT_KINDS),
        FieldSpec(
            "subject", "UPN or customer identifier", "text", required=True,
            check=subject_error, placeholder="+41 44 123 45 67, sip:…, name@example.com",
        ),
        FieldSpec("date_from", "From (first day)", "text", required=True, check=date_error,
                  placeholder="YYYY-MM-DD"),
        FieldSpec("date_to", "To (last day)", "text", required=True, check=date_error,
                  placeholder="YYYY-MM-DD", help="Days in the tenant's time zone, both included."),
    ]  # fmt: skip


def export_values(today: date) -> dict[str, Any]:
    """A new export: a customer over the last 4 months (what the history holds)."""
    first = (today.replace(day=1) - timedelta(days=92)).replace(day=1)
    return {
        "subject_kind": "customer",
        "subject": "",
        "date_from": first.isoformat(),
        "date_to": today.isoformat(),
    }


def check_range(values: Mapping[str, Any]) -> dict[str, str]:
    """The form-wide rule: the range is in order (each date is checked on its own first)."""
    start, end = values.get("date_from"), values.get("date_to")
    if date_error(start) or date_error(end) or not start or not end:
        return {}
    if date.fromisoformat(str(start).strip()) > date.fromisoformat(str(end).strip()):
        return {"date_to": "is before the first day"}
    return {}


def export_request(values: Mapping[str, Any]) -> models.Request:
    return build(models.PrivacyExportCreate, values)


# --- retention -----------------------------------------------------------------------------


def retention_text(days: int) -> str:
    return f"History kept {days:,} days"


def retention_warning(old: int, new: int) -> str | None:
    """What shortening the retention destroys (None when nothing is deleted)."""
    if new >= old:
        return None
    return (
        f"Conversations older than {new:,} days will be deleted for the whole tenant, now and "
        f"from then on (it is {old:,} days today). There is no undo."
    )
