"""The fixed part of the demo data: tenants, teams, demo accounts, names, settings.

Kept apart from the generator (``seed``) so that what the demo contains reads at a glance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stratus_tui.server.seed_history import CUSTOMER_PREFIXES

CALLING_CODES = tuple(CUSTOMER_PREFIXES)


@dataclass(frozen=True)
class TenantSpec:
    name: str
    time_zone: str
    agents_allowed: int
    supervisors_allowed: int
    live_chat_enabled: bool
    domain: str
    units: tuple[str, ...]  # org units below the tenant's top unit


@dataclass(frozen=True)
class TeamSpec:
    tenant: str
    name: str
    unit: str
    time_zone: str
    phone_prefix: str  # the team's own numbers: prefix + 4 digits; its country code
    agents: int
    weight: float  # share of the conversation volume

    @property
    def calling_code(self) -> str:
        return next(code for code in CALLING_CODES if self.phone_prefix.startswith(code))


@dataclass(frozen=True)
class Account:
    upn: str
    role: str
    first_name: str
    last_name: str
    tenant: str | None = None
    unit: str | None = None
    teams: tuple[str, ...] = ()
    managed_teams: tuple[str, ...] = ()


# fmt: off
TENANTS = (
    TenantSpec("Demo Corp", "Europe/Zurich", 150, 15, True, "demo.stratus",
                ("Sales", "Customer Support", "Finance", "Asia Pacific")),
    TenantSpec("Contoso", "America/New_York", 80, 8, False, "contoso.com",
                ("Helpdesk", "Field Service")),
)
# Demo Corp's 142 generated agents (5 of them inactive) and two demo accounts in teams sit
# just under its license of 150, so the UI shows its "near the limit" warning.
TEAMS = tuple(TeamSpec(tenant, *team) for tenant, teams in (
    ("Demo Corp", (
        ("Sales Switzerland", "Sales", "Europe/Zurich", "+4144555", 22, 0.60),
        ("Sales Germany", "Sales", "Europe/Berlin", "+4930555", 18, 0.45),
        ("Support L1", "Customer Support", "Europe/Zurich", "+4144556", 34, 1.00),
        ("Support L2", "Customer Support", "Europe/Zurich", "+4144557", 20, 0.55),
        ("Billing", "Finance", "Europe/Zurich", "+4131555", 14, 0.35),
        ("Support APAC", "Asia Pacific", "Asia/Singapore", "+656555", 18, 0.40),
        ("Reception", "Demo Corp", "Europe/Zurich", "+4144558", 16, 0.25),
    )),
    ("Contoso", (
        ("Helpdesk East", "Helpdesk", "America/New_York", "+1212555", 22, 0.95),
        ("Helpdesk West", "Helpdesk", "America/Los_Angeles", "+1213555", 16, 0.60),
        ("Onboarding", "Contoso", "America/New_York", "+1646555", 10, 0.25),
        ("Field Service", "Field Service", "America/Chicago", "+1312555", 12, 0.30),
    )),
) for team in teams)
SUPPORT_L = ("Support L1", "Support L2")
ACCOUNTS = (
    Account("sysadmin@demo.stratus", "system_admin", "Søren", "Nørgaard"),
    Account("admin@demo.stratus", "tenant_admin", "Zoë", "Müller", "Demo Corp", "Demo Corp"),
    Account("teamadmin@demo.stratus", "team_admin", "Łukasz", "Kowalski", "Demo Corp",
             "Customer Support", SUPPORT_L, SUPPORT_L),
    Account("member@demo.stratus", "team_member", "Amélie", "Dubois", "Demo Corp", "Sales",
             ("Sales Switzerland",)),
    Account("admin@contoso.com", "tenant_admin", "Megan", "Bowen", "Contoso", "Contoso"),
)
# fmt: on
DEMO_ACCOUNTS: tuple[tuple[str, str], ...] = tuple((a.upn, a.role) for a in ACCOUNTS)

# fmt: off
FIRST_NAMES = (
    "Zoë", "Łukasz", "Jürgen", "Amélie", "Søren", "Björn", "Zoltán", "Ümit", "Siobhán",
    "Małgorzata", "Ştefan", "José", "Ngọc", "Chloé", "Anna", "Luca", "Noah", "Mia", "Wei", "Mei",
    "Hiroshi", "Fatma", "Liam", "Olivia", "Sofía", "François", "Ayşe", "Pål", "Emma", "Raphaël",
    "伟", "芳",
)
LAST_NAMES = (
    "Müller", "王", "李", "Nakamura", "O'Brien", "Dubois", "Nørgaard", "Kovačević", "Şahin",
    "García", "Schröder", "Ødegaard", "Meier", "Keller", "Rossi", "Smith", "Nguyễn", "Lefèvre",
    "Jovanović", "Novák", "Weiß", "Tanaka", "Johnson", "Hernández", "Kowalczyk", "Åberg",
    "Bianchi", "陈", "Yılmaz", "Brennan",  # noqa: RUF001 (a Turkish dotless i, on purpose)
)
# Letters NFKD does not decompose into an ASCII base letter.
TRANSLITERATION = str.maketrans({
    "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "æ": "ae", "Æ": "AE", "ß": "ss", "đ": "d", "Đ": "D",
    "ı": "i", "œ": "oe", "Œ": "OE",  # noqa: RUF001
})
# fmt: on

RESPONSIBILITIES = ("Inbound calls", "Outbound calls", "Mail", "Chat", "Escalations")
WEEKDAYS, WEEKEND = range(5), range(5, 7)
# name: (weekdays, start, end, escalation levels, responsibilities, share of agents)
DUTY_PROFILES = (
    ("Office hours", WEEKDAYS, "08:00", "18:00", 2, ("Inbound calls", "Mail"), 0.5),
    ("Early shift", WEEKDAYS, "07:00", "15:00", 1, ("Inbound calls", "Outbound calls"), 0.2),
    ("Late shift", WEEKDAYS, "12:00", "20:00", 1, ("Inbound calls", "Chat"), 0.2),
    ("Weekend on-call", WEEKEND, "09:00", "17:00", 1, ("Inbound calls", "Escalations"), 0.1),
)
TRAITS = (
    ("Languages", ("German", "French", "Italian", "English", "中文")),
    ("Products", ("Mobile", "Broadband")),
    ("Skills", ("Billing expert",)),
)


def workflow_definitions(tenant: str) -> dict[str, tuple[str, dict[str, Any]]]:
    greeting = "Grüezi and welcome to" if tenant == "Demo Corp" else "Welcome to"
    voicemail = {"type": "voicemail", "timeout_seconds": 120, "next": "goodbye"}
    hangup = {"type": "hangup"}
    # fmt: off
    standard = {"start": "welcome", "steps": {
        "welcome": {"type": "announcement", "text": f"{greeting} {tenant}.", "next": "menu"},
        "menu": {"type": "menu", "text": "Press 1 for an agent, 2 to leave a message.",
                 "options": {"1": "queue", "2": "voicemail"}, "timeout_seconds": 10,
                 "next": "queue"},
        "queue": {"type": "queue", "timeout_seconds": 300, "next": "voicemail"},
        "voicemail": voicemail,
        "goodbye": hangup,
    }}
    after_hours = {"start": "closed", "steps": {
        "closed": {"type": "announcement", "text": f"{tenant} is closed. Please leave a message.",
                   "next": "voicemail"},
        "voicemail": voicemail,
        "goodbye": hangup,
    }}
    survey = {"start": "q1", "steps": {
        "q1": {"type": "question", "text": "How satisfied were you, from 1 to 5?",
               "timeout_seconds": 15, "next": "q2"},
        "q2": {"type": "question", "text": "Was your issue solved? 1 yes, 2 no.",
               "timeout_seconds": 15, "next": "thanks"},
        "thanks": {"type": "announcement", "text": "Thank you!", "next": "goodbye"},
        "goodbye": hangup,
    }}
    # fmt: on
    return {
        "Standard inbound": ("inbound", standard),
        "After hours": ("inbound", after_hours),
        "Customer survey": ("survey", survey),
    }
