"""What the Home dashboard shows, fetched in one go and handed to the UI as plain data.

A team member sees the instance status only (DOMAIN.md: "Home (status only)"); staff also
see the license and the services. The three requests run concurrently.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from stratus_tui.api import models
from stratus_tui.health import Health, evaluate

if TYPE_CHECKING:
    from stratus_tui.api.client import StratusClient

STAFF = frozenset({"system_admin", "tenant_admin", "team_admin"})
NEAR_LIMIT = 0.9  # a license this full is shown in the warning colour


@dataclass(frozen=True)
class ServicesSummary:
    call: int
    mail: int
    endpoints: int

    @classmethod
    def of(cls, services: list[models.Service]) -> ServicesSummary:
        return cls(
            call=sum(service.kind == "call" for service in services),
            mail=sum(service.kind == "mail" for service in services),
            endpoints=sum(len(service.endpoints) for service in services),
        )


@dataclass(frozen=True)
class LicenseUse:
    """Agents and supervisors against the license, summed over the tenants in view."""

    agents: int
    agents_allowed: int
    supervisors: int
    supervisors_allowed: int

    @classmethod
    def of(cls, licenses: list[models.License]) -> LicenseUse:
        return cls(
            agents=sum(item.agents_configured for item in licenses),
            agents_allowed=sum(item.agents_allowed for item in licenses),
            supervisors=sum(item.supervisors_configured for item in licenses),
            supervisors_allowed=sum(item.supervisors_allowed for item in licenses),
        )

    @staticmethod
    def near(used: int, allowed: int) -> bool:
        return allowed > 0 and used >= allowed * NEAR_LIMIT


@dataclass(frozen=True)
class DashboardData:
    instances: tuple[models.ServerInstance, ...]
    health: Health
    license: LicenseUse | None  # None: not for this role
    services: ServicesSummary | None
    fetched_at: datetime

    @property
    def backend(self) -> list[models.ServerInstance]:
        return [item for item in self.instances if item.role == "backend"]

    @property
    def frontend(self) -> list[models.ServerInstance]:
        return [item for item in self.instances if item.role == "frontend"]


def now() -> datetime:
    """When data was fetched (a function, so tests can fix the clock shown as "as of")."""
    return datetime.now(UTC)


async def load_dashboard(client: StratusClient, role: str, *, background: bool) -> DashboardData:
    """Everything the dashboard shows; ``background`` for automatic refreshes."""
    instances_call = client.get_list("/instances", models.ServerInstance, background=background)
    if role not in STAFF:
        instances = await instances_call
        license_use, services = None, None
    else:
        instances, licenses, service_list = await asyncio.gather(
            instances_call,
            client.get_list("/license", models.License, background=background),
            client.get_all("/services", models.Service, background=background),
        )
        license_use, services = LicenseUse.of(licenses), ServicesSummary.of(service_list)
    return DashboardData(
        instances=tuple(instances),
        health=evaluate(instances),
        license=license_use,
        services=services,
        fetched_at=now(),
    )


def to_json(data: DashboardData) -> str:
    """The dashboard as the cache keeps it, to paint it at once on the next start."""
    return json.dumps(
        {
            "instances": [item.model_dump(mode="json") for item in data.instances],
            "license": None if data.license is None else asdict(data.license),
            "services": None if data.services is None else asdict(data.services),
            "fetched_at": data.fetched_at.isoformat(),
        }
    )


def from_json(text: str) -> DashboardData | None:
    """A cached dashboard, or None when the cache holds something this version cannot read."""
    try:
        raw = json.loads(text)
        instances = [models.ServerInstance.model_validate(item) for item in raw["instances"]]
        license_use = None if raw["license"] is None else LicenseUse(**raw["license"])
        services = None if raw["services"] is None else ServicesSummary(**raw["services"])
        fetched_at = datetime.fromisoformat(raw["fetched_at"])
    except (ValueError, KeyError, TypeError):
        return None
    return DashboardData(
        instances=tuple(instances),
        health=evaluate(instances),
        license=license_use,
        services=services,
        fetched_at=fetched_at,
    )
