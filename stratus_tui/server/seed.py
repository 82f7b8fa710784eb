"""Deterministic demo data for the reference server (DOMAIN.md, "Demo data").

Everything random comes from ``random.Random(options.seed)`` and generators derived from it,
so the same options give the same rows in every table except the salted password hashes and
``setting``. Entities are few and go through peewee; the history is bulk-inserted by
``seed_history``.
"""

from __future__ import annotations

import json
import random
import time
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stratus_tui.server import db, passwords, seed_history, top_up
from stratus_tui.server.seed_data import (
    ACCOUNTS,
    DUTY_PROFILES,
    FIRST_NAMES,
    LAST_NAMES,
    RESPONSIBILITIES,
    TEAMS,
    TENANTS,
    TRAITS,
    TRANSLITERATION,
    TeamSpec,
    TenantSpec,
    workflow_definitions,
)
from stratus_tui.server.seed_data import DEMO_ACCOUNTS as DEMO_ACCOUNTS

DEMO_PASSWORD = "demo"  # noqa: S105 (documented in the README for every demo account)

SERVICE_LANGUAGE = {"+41": "German", "+49": "German", "+65": "English", "+1": "English"}
COMPONENTS_VERSION = "8.6.2107.3"
RECORDING_VERSION = "8.6.2105.1"
BACKEND_COMPONENTS = ("PS", "ICH", "AC", "AM", "CIC", "CI", "CR")
BE01_ACTIVE = frozenset({"PS", "ICH", "AC", "AM"})
LINK_FIELDS: dict[type[db.BaseModel], tuple[Any, Any]] = {
    db.UserRole: (db.UserRole.user, db.UserRole.role),
    db.TeamMember: (db.TeamMember.user, db.TeamMember.team),
    db.TeamManager: (db.TeamManager.user, db.TeamManager.team),
    db.UserTrait: (db.UserTrait.user, db.UserTrait.trait),
    db.UserResponsibility: (db.UserResponsibility.user, db.UserResponsibility.responsibility),
}


@dataclass(frozen=True)
class SeedOptions:
    seed: int = 7
    calls: int = 150_000  # exactly this many conversations are generated in total
    now: int | None = None  # epoch seconds (UTC), None: now; history ends at the start of its hour
    hash_password: Callable[[str], str] = passwords.hash_password  # tests pass a cheaper one


@dataclass(frozen=True)
class SeedSummary:
    tenants: int
    users: int
    teams: int
    services: int
    conversations: int
    license_usage_rows: int
    seconds: float


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits of ``text`` with accents removed; "" for CJK."""
    decomposed = unicodedata.normalize("NFKD", text.translate(TRANSLITERATION))
    return "".join(ch for ch in decomposed.lower() if ch.isascii() and ch.isalnum())


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class _Tenant:
    """The ids of one tenant's seeded entities, for the next steps to link to."""

    spec: TenantSpec
    id: int = 0
    units: dict[str, int] = field(default_factory=dict)  # name -> id, without System
    responsibilities: dict[str, int] = field(default_factory=dict)
    duty_profiles: list[tuple[int, float]] = field(default_factory=list)  # (id, share)
    traits: dict[str, int] = field(default_factory=dict)  # leaves only
    workflows: dict[str, int] = field(default_factory=dict)


@dataclass
class _TeamState:
    spec: TeamSpec
    id: int
    tenant: _Tenant
    services: list[tuple[int, str, str]] = field(default_factory=list)  # id, kind, direction
    agents: list[tuple[int, bool]] = field(default_factory=list)  # (id, active), main team only


def _create_tenant(rng: random.Random, spec: TenantSpec) -> _Tenant:
    tenant = _Tenant(spec)
    tenant.id = db.Tenant.create(
        name=spec.name,
        time_zone=spec.time_zone,
        agents_allowed=spec.agents_allowed,
        supervisors_allowed=spec.supervisors_allowed,
        retention_days=365,
        live_chat_enabled=spec.live_chat_enabled,
    ).id
    system = db.OrgUnit.create(tenant=tenant.id, parent=None, name="System", is_system=True)
    top = db.OrgUnit.create(tenant=tenant.id, parent=system.id, name=spec.name).id
    tenant.units[spec.name] = top
    for name in spec.units:
        tenant.units[name] = db.OrgUnit.create(tenant=tenant.id, parent=top, name=name).id
    if spec.name == "Contoso":
        azure_tenant = _guid(rng)
        authority = f"https://login.microsoftonline.com/{azure_tenant}"
        db.O365App.create(
            tenant=tenant.id,
            domain=spec.domain,
            azure_tenant_id=azure_tenant,
            client_id=_guid(rng),
            authority=authority,
        )
    owner = {"tenant": tenant.id, "ou": top}
    for name in RESPONSIBILITIES:
        tenant.responsibilities[name] = db.Responsibility.create(name=name, **owner).id
    links = []
    for name, days, start, end, levels, enabled, share in DUTY_PROFILES:
        hours = json.dumps([{"weekday": day, "start": start, "end": end} for day in days])
        profile = db.DutyProfile.create(
            name=name, working_hours=hours, escalation_levels=levels, **owner
        ).id
        tenant.duty_profiles.append((profile, share))
        links += [(profile, tenant.responsibilities[r]) for r in enabled]
    db.DutyProfileResponsibility.insert_many(links).execute()
    for root, leaves in TRAITS:
        parent = db.Trait.create(name=root, parent=None, **owner).id
        for leaf in leaves:
            tenant.traits[leaf] = db.Trait.create(name=leaf, parent=parent, **owner).id
    for name, (kind, definition) in workflow_definitions(spec.name).items():
        text = json.dumps(definition, sort_keys=True)
        tenant.workflows[name] = db.Workflow.create(
            name=name, type=kind, definition=text, **owner
        ).id
    return tenant


def _create_services(rng: random.Random, team: _TeamState) -> list[tuple[int, int]]:
    """A hotline for every team, for some a mail service and a callback line; trait links."""
    spec, tenant = team.spec, team.tenant
    slug = "-".join(ascii_slug(word) for word in spec.name.split())
    domain = tenant.spec.domain
    extras = rng.choice((0, 1, 1, 2))
    plans = [("call", f"{spec.name} Hotline", f"sip:{slug}@{domain}")]
    if extras >= 1:
        plans.append(("mail", f"{spec.name} Mail", f"{slug}@{domain}"))
    if extras >= 2:
        plans.append(("call", f"{spec.name} Callback", f"sip:{slug}-callback@{domain}"))
    numbers = (f"tel:{spec.phone_prefix}{number:04d}" for number in range(100, 10_000, 10))
    leaves = sorted(tenant.traits.values())
    links: list[tuple[int, int]] = []
    for index, (kind, name, address) in enumerate(plans):
        endpoints = []
        if kind == "call":
            endpoints.append({"address": next(numbers), "label": "Main line"})
            if rng.random() < 0.4:
                endpoints.append({"address": next(numbers), "label": "Backup line"})
        weighted = rng.random() < 0.5
        direction = "both" if kind == "call" and (index > 0 or rng.random() < 0.2) else "inbound"
        workflow = None
        if kind == "call":
            workflow = tenant.workflows["Standard inbound" if rng.random() < 0.8 else "After hours"]
        service = db.Service.create(
            tenant=tenant.id,
            team=team.id,
            ou=tenant.units[spec.unit],
            kind=kind,
            name=name,
            address=address,
            display_name=name,
            endpoints=json.dumps(endpoints),
            priority="weighted_round_robin" if weighted else "strict",
            wrr_level=rng.randint(1, 7) if weighted else None,
            direction=direction,
            max_concurrent_sessions=rng.randint(5, 50),
            workflow=workflow,
            emergency_routing=kind == "call" and rng.random() < 0.3,
        ).id
        team.services.append((service, kind, direction))
        # Hotlines ask for the team's language; a few services want one more trait.
        traits = [tenant.traits[SERVICE_LANGUAGE[spec.calling_code]]] if index == 0 else []
        traits += [t for t in rng.sample(leaves, rng.randint(0, 1)) if t not in traits]
        links += [(service, trait) for trait in traits]
    return links


class _People:
    """Users, and their links collected for a few bulk inserts at the end."""

    def __init__(self) -> None:
        self.count = 0
        self.upn_keys: set[str] = {account.upn.lower() for account in ACCOUNTS}
        # (user id, other id) pairs per link table, in LINK_FIELDS order.
        self.links: dict[type[db.BaseModel], list[tuple[int, Any]]] = {
            model: [] for model in LINK_FIELDS
        }

    def add(self, teams: list[int], roles: list[str], **row: Any) -> int:
        user = db.User.create(upn_key=row["upn"].lower(), sip_uri=f"sip:{row['upn']}", **row).id
        self.count += 1
        self.links[db.UserRole] += [(user, role) for role in roles]
        self.links[db.TeamMember] += [(user, team) for team in teams]
        return int(user)

    def unique_upn(self, first: str, last: str, domain: str) -> str:
        number = self.count + 1
        parts = [ascii_slug(first) or f"agent{number}", ascii_slug(last) or f"agent{number}"]
        local = ".".join(dict.fromkeys(parts))  # a single "agentN" when both are CJK
        candidate, suffix = local, 1
        while f"{candidate}@{domain}" in self.upn_keys:
            suffix += 1
            candidate = f"{local}{suffix}"
        self.upn_keys.add(f"{candidate}@{domain}")
        return f"{candidate}@{domain}"

    def write_links(self) -> None:
        for model, rows in self.links.items():
            if rows:
                model.insert_many(rows, fields=list(LINK_FIELDS[model])).execute()


def _create_accounts(
    people: _People, tenants: dict[str, _Tenant], teams: dict[str, _TeamState], hashes: list[str]
) -> None:
    for account, password_hash in zip(ACCOUNTS, hashes, strict=True):
        tenant = tenants[account.tenant] if account.tenant else None
        user = people.add(
            [teams[name].id for name in account.teams],
            [account.role],
            tenant=tenant.id if tenant else None,
            ou=tenant.units[account.unit] if tenant and account.unit else None,
            first_name=account.first_name,
            last_name=account.last_name,
            upn=account.upn,
            password_hash=password_hash,
            active=True,
            duty_profile=tenant.duty_profiles[0][0] if tenant and account.teams else None,
        )
        people.links[db.TeamManager] += [(user, teams[name].id) for name in account.managed_teams]


def _create_agents(rng: random.Random, people: _People, teams: list[_TeamState]) -> None:
    for team in teams:
        tenant = team.tenant
        siblings = [other.id for other in teams if other.tenant is tenant and other is not team]
        profiles, shares = zip(*tenant.duty_profiles, strict=True)
        traits, duties = sorted(tenant.traits.values()), sorted(tenant.responsibilities.values())
        # ~3% inactive, a fixed number per team: the license figures must not depend on luck.
        inactive = set(rng.sample(range(team.spec.agents), round(team.spec.agents * 0.03)))
        for number in range(team.spec.agents):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            upn = people.unique_upn(first, last, tenant.spec.domain)
            second_team = [rng.choice(siblings)] if rng.random() < 0.15 else []
            active = number not in inactive
            user = people.add(
                [team.id, *second_team],
                ["team_member"],
                tenant=tenant.id,
                ou=tenant.units[team.spec.unit],
                first_name=first,
                last_name=last,
                upn=upn,
                password_hash=None,
                active=active,
                directory_synced=rng.random() < 0.7,
                duty_profile=rng.choices(profiles, shares)[0],
            )
            team.agents.append((user, active))
            chosen = sorted(rng.sample(traits, rng.choice((0, 1, 1, 2, 2, 3))))
            people.links[db.UserTrait] += [(user, trait) for trait in chosen]
            chosen = sorted(rng.sample(duties, rng.randint(1, 3)))
            people.links[db.UserResponsibility] += [(user, duty) for duty in chosen]
        # Supervisors: one per team, two in big ones (Demo Corp stays under its license of 15).
        candidates = [user for user, active in team.agents if active]
        for user in rng.sample(candidates, 2 if team.spec.agents >= 20 else 1):
            people.links[db.UserRole].append((user, "team_admin"))
            people.links[db.TeamManager].append((user, team.id))


def _create_instances(rng: random.Random, end: int) -> None:
    """Two backends sharing the components as active/passive pairs, three frontends."""
    components = []
    for name, port, abbreviations in (
        ("be01", 6001, BACKEND_COMPONENTS),
        ("be02", 6002, BACKEND_COMPONENTS),
        ("fe01", 5061, ("SMD", "FE")),
        ("fe02", 5061, ("SMD", "FE")),
        ("fe03", 5061, ("SMD", "FE")),
    ):
        host = f"{name}.demo.stratus"
        instance = db.Instance.create(
            name=f"STRATUS-{name.upper()}",
            host=host,
            role="backend" if name.startswith("be") else "frontend",
            application_id=f"urn:application:stratus-{name}",
            fqdn=host,
            port=port,
        ).id
        for abbreviation in abbreviations:
            # BE01 runs PS, ICH, AC and AM actively, BE02 the rest: one active per pair.
            active = name.startswith("fe") or (abbreviation in BE01_ACTIVE) == (name == "be01")
            version = RECORDING_VERSION if abbreviation == "CR" else COMPONENTS_VERSION
            mode, heartbeat = ("active" if active else "passive"), end - rng.randint(2, 20)
            components.append((instance, abbreviation, mode, version, "running", heartbeat))
    db.Component.insert_many(components).execute()  # in the model's field order


def seed_demo(options: SeedOptions = SeedOptions()) -> SeedSummary:
    """Fill the database already bound by db.open_database() (it must be empty)."""
    started = time.perf_counter()
    if not db.is_empty():
        raise RuntimeError("seed_demo needs an empty database")
    now = int(time.time()) if options.now is None else options.now
    window = seed_history.history_window(now)
    # Demo data, not secrets. Separate streams: another call count changes only the history.
    master = random.Random(options.seed)  # noqa: S311
    entity_rng, history_rng, usage_rng = (
        random.Random(master.getrandbits(64))  # noqa: S311
        for _ in range(3)
    )
    # One by one: each account gets its own salt.
    hashes = [options.hash_password(DEMO_PASSWORD) for _ in ACCOUNTS]
    with db.database.atomic():
        tenants = {spec.name: _create_tenant(entity_rng, spec) for spec in TENANTS}
        teams: list[_TeamState] = []
        for spec in TEAMS:
            tenant = tenants[spec.tenant]
            ou = tenant.units[spec.unit]
            team = db.Team.create(tenant=tenant.id, ou=ou, name=spec.name, time_zone=spec.time_zone)
            teams.append(_TeamState(spec, team.id, tenant))
        service_traits = [link for team in teams for link in _create_services(entity_rng, team)]
        db.ServiceTrait.insert_many(service_traits).execute()
        people = _People()
        _create_accounts(people, tenants, {team.spec.name: team for team in teams}, hashes)
        _create_agents(entity_rng, people, teams)
        people.write_links()
        _create_instances(entity_rng, window.end)
        shapes = {team.id: (team.spec.weight, team.spec.calling_code) for team in teams}
        history_teams = seed_history.team_histories(shapes)
        conversations = seed_history.generate_conversations(
            history_rng, history_teams, window, options.calls
        )
        top_up.remember_history(options.seed, history_teams, window, conversations)
        usage_rows = seed_history.generate_license_usage(usage_rng, window)
    return SeedSummary(
        tenants=len(tenants),
        users=people.count,
        teams=len(teams),
        services=sum(len(team.services) for team in teams),
        conversations=conversations,
        license_usage_rows=usage_rows,
        seconds=time.perf_counter() - started,
    )
