"""Reading and changing configuration records: the cache paints at once, the server decides.

``Editor`` is what the configuration pages talk to (never httpx or SQLite directly):

- ``cached_listing`` gives a list's rows from the local cache, ready to show, so a page of
  50,000 agents paints before the server has answered anything;
- ``fetch_all`` reads the whole list from the server and keeps the cache in step;
- ``create`` / ``update`` / ``delete`` change one record. Updates and deletes carry the ETag
  the user's edit was based on (``If-Match``); a stale one raises ``StaleVersion`` from the
  client, and nothing is overwritten. On a ``read_only`` profile every change raises
  ``ReadOnlyProfile`` before any request is built (SECURITY.md D).

The cache is only a cache: when it is missing or fails, the editor works without it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from stratus_tui.api import models
from stratus_tui.api.errors import (
    InvalidInput,
    NotFound,
    StaleVersion,
    StratusError,
    Unauthenticated,
)
from stratus_tui.records.conflict import Conflict, SaveOutcome
from stratus_tui.records.requests import server_field
from stratus_tui.records.rows import (
    AGENT_COLUMNS,
    SERVICE_COLUMNS,
    Lookups,
    agent_cells,
    service_cells,
)
from stratus_tui.records.table import Column

if TYPE_CHECKING:
    from stratus_tui.api.client import StratusClient
    from stratus_tui.cache.store import Cache

M = TypeVar("M", bound=models.Resource)

READ_ONLY_MESSAGE = "This profile is read-only: the change was not sent to the server."


@dataclass(frozen=True)
class Saved(Generic[M]):
    """What ``Editor.save`` did: the form's outcome, and the server's version of the record
    (the saved one, or theirs after a conflict; None when nothing is known). ``gone``: the
    record is gone from the server (deleted meanwhile): nothing was saved, nothing recreated."""

    outcome: SaveOutcome
    record: M | None = None
    gone: bool = False


def deleted_meanwhile(noun: str) -> str:
    """What a form says when the server no longer has the record it edits (404)."""
    return (
        f"This {noun} is gone from the server (deleted by someone else meanwhile, or moved "
        f"out of what you may see): nothing was saved, and it was not created again. Your "
        f"changes are still in the form; leave it with escape."
    )


class ReadOnlyProfile(Exception):
    """A change was asked for on a read-only profile; nothing was sent."""

    def __init__(self, message: str = READ_ONLY_MESSAGE) -> None:
        super().__init__(message)


@dataclass(frozen=True)
class RecordKind(Generic[M]):
    """One editable list: where it lives on the server, in the cache, and how a row reads."""

    kind: str  # the cache's entity and listing kind
    path: str
    model: type[M]
    noun: str  # "agent": for messages
    columns: tuple[Column, ...]
    cells: Callable[[M, Lookups], tuple[str, ...]]

    def item_path(self, record_id: int) -> str:
        return f"{self.path}/{record_id}"

    @property
    def listing(self) -> str:
        """The cache's listing kind, naming the columns' order ("user:NUARTODP"): rows
        cached by a version with other columns are not read as these."""
        return f"{self.kind}:{''.join(column.hotkey or '?' for column in self.columns)}"


AGENTS: RecordKind[models.User] = RecordKind(
    "user", "/users", models.User, "agent", AGENT_COLUMNS, agent_cells
)
SERVICES: RecordKind[models.Service] = RecordKind(
    "service", "/services", models.Service, "service", SERVICE_COLUMNS, service_cells
)


@dataclass
class Reference:
    """The records a form offers as choices and a list shows by name."""

    org_units: list[models.OrgUnit] = field(default_factory=list)
    teams: list[models.Team] = field(default_factory=list)
    duty_profiles: list[models.DutyProfile] = field(default_factory=list)
    traits: list[models.Trait] = field(default_factory=list)
    responsibilities: list[models.Responsibility] = field(default_factory=list)
    workflows: list[models.Workflow] = field(default_factory=list)

    def org_unit_choices(self) -> tuple[tuple[int, str], ...]:
        """Org units to choose from: the hidden System root is not one (DOMAIN.md)."""
        return tuple((unit.id, unit.name) for unit in self.org_units if not unit.is_system)

    def lookups(self) -> Lookups:
        return Lookups(
            org_units={unit.id: unit.name for unit in self.org_units},
            teams={team.id: team.name for team in self.teams},
            duty_profiles={item.id: item.name for item in self.duty_profiles},
            traits={item.id: item.name for item in self.traits},
            responsibilities={item.id: item.name for item in self.responsibilities},
            workflows={item.id: item.name for item in self.workflows},
        )


# attribute of Reference -> (path, model, cache kind)
REFERENCE_SOURCES: dict[str, tuple[str, type[models.Resource], str]] = {
    "org_units": ("/org-units", models.OrgUnit, "org_unit"),
    "teams": ("/teams", models.Team, "team"),
    "duty_profiles": ("/duty-profiles", models.DutyProfile, "duty_profile"),
    "traits": ("/traits", models.Trait, "trait"),
    "responsibilities": ("/responsibilities", models.Responsibility, "responsibility"),
    "workflows": ("/workflows", models.Workflow, "workflow"),
}

Listing = tuple[list[int], list[tuple[str, ...]]]


class Editor:
    def __init__(
        self,
        client: StratusClient,
        cache: Cache | None,
        *,
        read_only: bool,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.cache = cache
        self.read_only = read_only
        self.now = now

    # --- reading -----------------------------------------------------------------------

    async def cached_listing(self, kind: RecordKind[Any], first: int = 0) -> Listing | None:
        """The list as last seen, ready to show (``first``: only that many rows, a screenful
        to paint at once); None when there is no cache or no list yet."""
        from stratus_tui.cache.listing import load_first_rows, load_listing

        if first:
            ids, cells = await self._cache_call(
                load_first_rows, kind.listing, first, default=([], [])
            )
        else:
            ids, cells = await self._cache_call(load_listing, kind.listing, default=([], []))
        return (ids, cells) if ids else None

    async def cached_age(self, kind: RecordKind[Any]) -> int | None:
        """When the cached list was last fetched whole (epoch seconds), None if never."""
        value = await self._cache_call(_get_state, f"fetched:{kind.kind}")
        return None if value is None else int(value)

    async def cached_record(self, kind: RecordKind[M], record_id: int) -> M | None:
        data = await self._cache_call(_get_entity, kind.kind, str(record_id), default=None)
        return None if data is None else _parse(kind.model, data)

    async def cached_reference(self) -> Reference | None:
        """The choices as last seen (None: never fetched)."""
        reference = Reference()
        for attribute, (_, model, cache_kind) in REFERENCE_SOURCES.items():
            items, fetched = await self._cache_call(_get_entities, cache_kind, default=({}, None))
            if fetched is None:
                return None
            parsed = [_parse(model, data) for data in items.values()]
            setattr(reference, attribute, [item for item in parsed if item is not None])
        return reference

    async def fetch_reference(self, *, background: bool = False) -> Reference:
        """Every list of choices, concurrently; kept in the cache for the next start."""
        attributes = list(REFERENCE_SOURCES)
        lists = await asyncio.gather(
            *(
                self.client.get_all(path, model, background=background)
                for path, model, _ in REFERENCE_SOURCES.values()
            )
        )
        reference = Reference(**dict(zip(attributes, lists, strict=True)))  # type: ignore[arg-type]
        stamp = int(self.now())
        for attribute, items in zip(attributes, lists, strict=True):
            payload = {str(item.id): item.model_dump_json() for item in items}  # type: ignore[attr-defined]
            await self._cache_call(_put_entities, REFERENCE_SOURCES[attribute][2], payload, stamp)
        return reference

    async def fetch_all(
        self, kind: RecordKind[M], reference: Reference, *, background: bool = False
    ) -> tuple[list[M], Listing]:
        """The whole list from the server and its rows; the cache's copy is replaced."""
        records = await self.client.get_all(kind.path, kind.model, background=background)
        listing = await asyncio.to_thread(listing_of, kind, records, reference.lookups())
        await self.remember_all(kind, records, listing)
        return records, listing

    async def load(self, kind: RecordKind[M], record_id: int) -> tuple[M, str | None]:
        """One record fresh from the server with its ETag: what an edit is based on."""
        return await self.client.get_with_etag(kind.item_path(record_id), kind.model)

    # --- changing ----------------------------------------------------------------------

    def check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyProfile()

    async def create(self, kind: RecordKind[M], body: models.Request) -> tuple[M, str | None]:
        self.check_writable()
        return await self.client.create(kind.path, body, kind.model)

    async def update(
        self, kind: RecordKind[M], record_id: int, body: models.Request, *, etag: str
    ) -> tuple[M, str | None]:
        self.check_writable()
        return await self.client.update(kind.item_path(record_id), body, kind.model, etag=etag)

    async def delete(self, kind: RecordKind[Any], record_id: int, *, etag: str) -> None:
        self.check_writable()
        await self.client.delete(kind.item_path(record_id), etag=etag)

    async def save(
        self,
        kind: RecordKind[M],
        record: M | None,
        body: models.Request,
        *,
        etag: str | None,
        base: Mapping[str, Any],
        changes: Mapping[str, Any],
        values: Callable[[M], dict[str, Any]],
        rename: Mapping[str, str] | None = None,
    ) -> Saved[M]:
        """Create (``record`` None) or update with ``If-Match``, and say what a form shows:
        saved, the server's field messages, or a conflict with their current version.
        ``Unauthenticated`` is left to the caller (the session ends)."""
        try:
            if record is None:
                saved, _ = await self.create(kind, body)
            else:
                record_id: int = record.id  # type: ignore[attr-defined]
                saved, _ = await self.update(kind, record_id, body, etag=etag or etag_of(record))
        except ReadOnlyProfile as error:
            return Saved(SaveOutcome(False, message=str(error)))
        except NotFound as error:
            if record is None:
                return Saved(SaveOutcome(False, message=str(error)))
            # A PATCH of a record someone deleted: say so plainly, never create it again.
            return Saved(SaveOutcome(False, message=deleted_meanwhile(kind.noun)), gone=True)
        except StaleVersion:
            assert record is not None  # only an update carries a version
            try:
                theirs, their_etag = await self.load(kind, record.id)  # type: ignore[attr-defined]
            except NotFound:  # changed, then deleted, before we could read theirs
                return Saved(SaveOutcome(False, message=deleted_meanwhile(kind.noun)), gone=True)
            except StratusError as error:
                message = f"Someone else changed it meanwhile, and {error}"
                return Saved(SaveOutcome(False, message=message))
            conflict = Conflict(base, changes, values(theirs), their_etag or etag_of(theirs))
            return Saved(SaveOutcome(False, conflict=conflict), theirs)
        except Unauthenticated:
            raise
        except InvalidInput as error:
            found = {server_field(k, rename or {}): v for k, v in error.field_errors.items()}
            return Saved(SaveOutcome(False, message=str(error), field_errors=found))
        except StratusError as error:
            return Saved(SaveOutcome(False, message=str(error)))
        return Saved(SaveOutcome(True), saved)

    # --- the cache ---------------------------------------------------------------------

    async def remember_all(
        self, kind: RecordKind[M], records: Sequence[M], listing: Listing
    ) -> None:
        """Replace the cache's copy of the list (serialising 50,000 records: in a thread)."""
        await self._cache_call(_store_all, kind, records, listing, int(self.now()))

    async def remember(self, kind: RecordKind[M], record: M, reference: Reference) -> None:
        """One created or changed record, so the list shows it at the next start too."""
        from stratus_tui.cache.listing import put_listing_rows

        record_id: int = record.id  # type: ignore[attr-defined]
        cells = kind.cells(record, reference.lookups())
        await self._cache_call(put_listing_rows, kind.listing, [(record_id, cells)])
        await self._cache_call(
            _put_entities,
            kind.kind,
            {str(record_id): record.model_dump_json()},
            int(self.now()),
            replace_kind=False,
        )

    async def forget(self, kind: RecordKind[Any], record_id: int) -> None:
        from stratus_tui.cache.listing import delete_listing_rows

        await self._cache_call(delete_listing_rows, kind.listing, [record_id])
        await self._cache_call(_delete_entities, kind.kind, [str(record_id)])

    async def _cache_call(
        self,
        function: Callable[..., Any],
        *args: Any,
        default: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Run a blocking cache call in a thread; a failing cache costs speed, not the page."""
        from stratus_tui.cache.store import CacheError

        cache = self.cache
        if cache is None:
            return default
        try:
            return await asyncio.to_thread(function, cache, *args, **kwargs)
        except CacheError:
            return default


# Cache methods as plain functions of the cache, as listing's are, for _cache_call.
def _store_all(
    cache: Cache, kind: RecordKind[Any], records: Sequence[Any], listing: Listing, stamp: int
) -> None:
    from stratus_tui.cache.listing import store_listing

    store_listing(cache, kind.listing, zip(*listing, strict=True))
    payload = {str(item.id): item.model_dump_json() for item in records}
    cache.put_entities(kind.kind, payload, stamp)


def _get_state(cache: Cache, key: str) -> str | None:
    return cache.get_state(key)


def _get_entity(cache: Cache, kind: str, key: str) -> str | None:
    return cache.get_entity(kind, key)


def _get_entities(cache: Cache, kind: str) -> tuple[dict[str, str], int | None]:
    return cache.get_entities(kind)


def _put_entities(
    cache: Cache, kind: str, items: dict[str, str], stamp: int, *, replace_kind: bool = True
) -> None:
    cache.put_entities(kind, items, stamp, replace_kind=replace_kind)


def _delete_entities(cache: Cache, kind: str, keys: list[str]) -> None:
    cache.delete_entities(kind, keys)


def listing_of(kind: RecordKind[M], records: Sequence[M], lookups: Lookups) -> Listing:
    """Rows ready to show (CPU-bound for big lists: run it in a thread)."""
    ids = [record.id for record in records]  # type: ignore[attr-defined]
    return ids, [kind.cells(record, lookups) for record in records]


def _parse(model: type[M], data: str) -> M | None:
    """A cached record; one the current contract cannot read is skipped, not fatal."""
    try:
        return model.model_validate_json(data)
    except ValidationError:
        return None


def etag_of(record: Any) -> str:
    """The ETag of the version a record was read at (the contract: the quoted version)."""
    return f'"{record.version}"'


def as_values(record: BaseModel) -> dict[str, Any]:
    """A record as plain values (lists stay lists): the base of a form."""
    return record.model_dump(mode="python")
