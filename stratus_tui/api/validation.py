"""Format rules shared by the contract models, the server and the UI's forms.

Plain functions: each returns an error message, or None when the value is fine, so the same
rule can validate a request on the server and a field as the user types in the TUI.
"""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import available_timezones

SIP_URI = re.compile(r"^sip:[^@\s:;]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
MAIL_ADDRESS = re.compile(
    r"^[^@\s:;<>]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
E164_NUMBER = re.compile(r"^\+[1-9][0-9]{6,14}$")
CLOCK_TIME = re.compile(r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$")
DOMAIN_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def sip_uri_error(value: str) -> str | None:
    if SIP_URI.match(value):
        return None
    return "must be a SIP URI such as sip:alice@example.com"


def mail_address_error(value: str) -> str | None:
    if MAIL_ADDRESS.match(value):
        return None
    return "must be a mail address such as alice@example.com"


def endpoint_address_error(value: str) -> str | None:
    """Endpoints are phone numbers (``tel:`` + E.164) or SIP URIs."""
    if value.startswith("tel:"):
        if E164_NUMBER.match(value[4:]):
            return None
        return "must be tel: followed by an E.164 number such as tel:+41445550100"
    return sip_uri_error(value)


def clock_time_error(value: str) -> str | None:
    if CLOCK_TIME.match(value):
        return None
    return "must be a time of day as HH:MM (00:00 to 23:59)"


def domain_error(value: str) -> str | None:
    if DOMAIN_NAME.match(value):
        return None
    return "must be a domain name such as contoso.com"


def guid_error(value: str) -> str | None:
    if GUID.match(value):
        return None
    return "must be a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47"


@cache
def _time_zones() -> frozenset[str]:
    # available_timezones() walks the tz database on every call.
    return frozenset(available_timezones())


def time_zone_error(value: str) -> str | None:
    if value in _time_zones():
        return None
    return "must be an IANA time zone such as Europe/Zurich"


def unstorable_text_error(value: str) -> str | None:
    """Text that cannot be stored or exported faithfully.

    A lone surrogate (``"\\ud800"``) parses from JSON but cannot be encoded as UTF-8, so it
    breaks SQLite and CSV writes later; NUL truncates C strings. Everything else, markup and
    escape sequences included, is data: the server stores it and the UI renders it safely.
    """
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain unpaired surrogate characters"
    return None


def domain_of_user(username: str) -> str:
    """The mail domain of a user name, which decides O365 sign-in ("" when it has none)."""
    local, at, domain = username.strip().rpartition("@")
    domain = domain.lower()
    return domain if at and local and domain_error(domain) is None else ""
