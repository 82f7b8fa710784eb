"""Workflows: the list's rows, the form, the definition made readable, and workflow files.

The list shows which services use each workflow. The names come from the services list, so
they travel the way every other id → name does: in the lookups. ``WorkflowReference`` is a
``Reference`` that also holds the services, and its ``lookups()`` is a ``WorkflowLookups``
with their names; ``workflow_cells`` keeps ``RecordKind.cells``' signature (record,
lookups), so every place that makes a row (``Editor.fetch_all``, ``Editor.remember``, the
page's pending and confirmed rows) needs no change. Who uses a workflow is the server's own
answer (``Workflow.service_ids``), not recomputed here; a service the lookups do not know
(created since) shows as "#12".

The definition is edited only by importing a file: the form edits name, type (when
creating) and organization unit, and a new workflow starts from a small starter definition.

Files: ``write_workflow_file`` writes the server's signed export as JSON, atomically and
0600 (``export/atomic.py``); ``read_workflow_file`` reads one back for ``POST
/workflows/import`` and refuses, with one line saying why, what is not such a file (too big,
not UTF-8, not JSON, duplicate keys, another shape). Whether the file was changed since the
export only the server can tell (the signature is its secret): it refuses a tampered file
with ``tampered-document``, and nothing is created.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from stratus_tui.api import models, validation
from stratus_tui.records.editing import SERVICES, Editor, RecordKind, Reference, etag_of
from stratus_tui.records.forms import FieldSpec
from stratus_tui.records.requests import build
from stratus_tui.records.rows import Lookups, name_of, names_of
from stratus_tui.records.table import Column

MAX_FILE_BYTES = 1024 * 1024  # the server's request limit: a bigger file could not be sent
TYPES = (("inbound", "inbound"), ("survey", "survey"))

WORKFLOW_COLUMNS: tuple[Column, ...] = (
    Column("name", "Name", 22, "N", flex=True),
    Column("type", "Type", 8, "Y"),
    Column("ou", "OU", 14, "O"),
    Column("count", "Used", 4, "U", numeric=True),
    Column("services", "Services", 24, "S", flex=True),
)


def _no_names() -> dict[int, str]:
    return {}


@dataclass(frozen=True)
class WorkflowLookups(Lookups):
    """The usual names, and the services' (for "used by")."""

    services: Mapping[int, str] = field(default_factory=_no_names)


@dataclass
class WorkflowReference(Reference):
    """The choices and names a page needs, and the services (their names, their current
    workflow and version for switching one)."""

    services: list[models.Service] = field(default_factory=list)

    @classmethod
    def of(cls, reference: Reference, services: list[models.Service]) -> WorkflowReference:
        shared = {item.name: getattr(reference, item.name) for item in fields(Reference)}
        return cls(**shared, services=services)

    def lookups(self) -> WorkflowLookups:
        base = super().lookups()
        shared = {item.name: getattr(base, item.name) for item in fields(Lookups)}
        return WorkflowLookups(**shared, services={s.id: s.name for s in self.services})


class WorkflowEditor(Editor):
    """An ``Editor`` whose reference also holds the services (fetched with the rest)."""

    async def fetch_reference(self, *, background: bool = False) -> Reference:
        reference, services = await asyncio.gather(
            super().fetch_reference(background=background),
            self.client.get_all("/services", models.Service, background=background),
        )
        return WorkflowReference.of(reference, services)

    async def cached_reference(self) -> Reference | None:
        reference = await super().cached_reference()
        return None if reference is None else WorkflowReference.of(reference, [])


def workflow_cells(workflow: models.Workflow, lookups: Lookups) -> tuple[str, ...]:
    """A workflow's row, in ``WORKFLOW_COLUMNS`` order."""
    services = lookups.services if isinstance(lookups, WorkflowLookups) else {}
    values = {
        "name": workflow.name,
        "type": str(workflow.type),
        "ou": name_of(lookups.org_units, workflow.ou_id),
        "count": str(len(workflow.service_ids)),
        "services": names_of(services, workflow.service_ids),
    }
    return tuple(values[column.key] for column in WORKFLOW_COLUMNS)


WORKFLOWS: RecordKind[models.Workflow] = RecordKind(
    "workflow", "/workflows", models.Workflow, "workflow", WORKFLOW_COLUMNS, workflow_cells
)


# --- the form ------------------------------------------------------------------------------

# A new workflow has to have a definition; these are the smallest useful ones, to be
# replaced by importing the real call flow.
STARTERS: dict[str, dict[str, Any]] = {
    "inbound": {
        "start": "welcome",
        "steps": {
            "welcome": {"type": "announcement", "text": "Welcome.", "next": "queue"},
            "queue": {"type": "queue", "timeout_seconds": 300, "next": "goodbye"},
            "goodbye": {"type": "hangup"},
        },
    },
    "survey": {
        "start": "question",
        "steps": {
            "question": {
                "type": "question",
                "text": "How satisfied were you, from 1 to 5?",
                "timeout_seconds": 15,
                "next": "goodbye",
            },
            "goodbye": {"type": "hangup"},
        },
    },
}


def _text_check(value: Any) -> str | None:
    return validation.unstorable_text_error(value) if isinstance(value, str) else None


def workflow_fields(reference: Reference, *, creating: bool) -> list[FieldSpec]:
    return [
        FieldSpec("name", "Name", "text", required=True, check=_text_check),
        FieldSpec("type", "Type", "choice", required=True, choices=TYPES,
                  read_only=None if creating else "a workflow's type cannot change"),
        FieldSpec("ou_id", "Organization unit", "choice", required=True,
                  choices=reference.org_unit_choices()),
        FieldSpec("definition", "Definition", "text",
                  read_only="a call flow comes from a workflow file: import it (u)"),
    ]  # fmt: skip


def workflow_values(workflow: models.Workflow | None) -> dict[str, Any]:
    if workflow is None:
        return {"name": "", "type": "inbound", "ou_id": None,
                "definition": "a starter flow: a greeting or a question, then hang up"}  # fmt: skip
    return {
        "name": workflow.name,
        "type": workflow.type,
        "ou_id": workflow.ou_id,
        "definition": definition_summary(workflow.definition),
    }


def workflow_create(values: Mapping[str, Any]) -> models.WorkflowCreate:
    kind = values.get("type") or "inbound"
    data = {name: values.get(name) for name in ("name", "type", "ou_id")}
    return build(models.WorkflowCreate, {**data, "definition": STARTERS.get(kind, {})})


def workflow_update(changes: Mapping[str, Any]) -> models.WorkflowUpdate:
    editable = {name: value for name, value in changes.items() if name in ("name", "ou_id")}
    return build(models.WorkflowUpdate, editable)


def workflow_title(workflow: models.Workflow | None) -> str:
    return "New workflow" if workflow is None else workflow.name


# --- the definition, readable --------------------------------------------------------------


def _parsed(definition: Mapping[str, Any]) -> models.WorkflowDefinition | None:
    try:
        return models.WorkflowDefinition.model_validate(dict(definition))
    except (ValidationError, TypeError):
        return None


def definition_summary(definition: Mapping[str, Any]) -> str:
    """ "5 steps, starting at welcome"."""
    parsed = _parsed(definition)
    if parsed is None:
        return "not a definition this version can read"
    count = len(parsed.steps)
    return f"{count} step{'s' if count != 1 else ''}, starting at {parsed.start}"


def definition_lines(definition: Mapping[str, Any]) -> list[str]:
    """The call flow step by step, in the order a call meets them (from the start, each
    step's successors next; steps no call reaches last). Raw text: render with ``safe``."""
    parsed = _parsed(definition)
    if parsed is None:  # a newer server's format: show it as it is rather than nothing
        return json.dumps(dict(definition), indent=2, ensure_ascii=False).splitlines()
    order: list[str] = []
    waiting = [parsed.start]
    while waiting:
        name = waiting.pop(0)
        if name in order:
            continue
        order.append(name)
        step = parsed.steps[name]
        keys = [target for _, target in sorted(step.options.items())]  # "1" before "2"
        waiting.extend(target for target in (*keys, step.next) if target)
    order.extend(name for name in parsed.steps if name not in order)
    lines: list[str] = []
    for name in order:
        step = parsed.steps[name]
        lines.append(f"{name}: {step.type}")
        if step.text:
            lines.append(f"  “{step.text}”")
        if step.target:
            lines.append(f"  to {step.target}")
        lines.extend(f"  key {key} → {target}" for key, target in sorted(step.options.items()))
        if step.next:
            after = f"after {step.timeout_seconds} s " if step.timeout_seconds else ""
            lines.append(f"  {after}→ {step.next}")
        elif step.timeout_seconds:
            lines.append(f"  for {step.timeout_seconds} s")
    return lines


# --- files ---------------------------------------------------------------------------------


class WorkflowFileError(Exception):
    """A workflow file cannot be read or used: one line saying why; nothing was sent."""


def default_file_name(workflow_name: str) -> str:
    """``workflow-<name>.json``: letters and digits joined by "-", at most 40, so no slash,
    dot or control character from the server reaches the file system."""
    text = unicodedata.normalize("NFC", workflow_name[:1000])
    words = re.sub(r"-+", "-", "".join(c if c.isalnum() else "-" for c in text)).strip("-")
    return f"workflow-{words[:40].strip('-') or 'export'}.json"


def write_workflow_file(path: Path, document: models.WorkflowDocument) -> int:
    """The signed export as indented JSON, atomically and 0600; returns its size in bytes.
    A file-system problem raises ``export.atomic.ExportError`` (one line)."""
    from stratus_tui.export.atomic import atomic_write

    data = (document.model_dump_json(indent=2) + "\n").encode()
    with atomic_write(Path(path)) as stream:
        stream.write(data)
    return len(data)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise WorkflowFileError(f"the key {key!r} appears twice in one object")
        seen[key] = value
    return seen


def _no_constant(name: str) -> Any:
    raise WorkflowFileError(f"{name} is not a number JSON allows")


def read_workflow_document(path: Path) -> models.WorkflowDocument:
    """The exported document in ``path``; ``WorkflowFileError`` says why it is not one."""
    path = Path(path).expanduser()
    where = f"{path.name} cannot be imported"
    if path.is_dir():
        raise WorkflowFileError(f"{path} is a folder, not a file")
    if path.exists() and not path.is_file():  # a FIFO or device: opening it could hang
        raise WorkflowFileError(f"{where}: it is not a regular file")
    try:
        with path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            raw = stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise WorkflowFileError(f"{path} does not exist") from None
    except OSError as error:
        raise WorkflowFileError(f"{path} cannot be read: {error.strerror or error}") from None
    if max(size, len(raw)) > MAX_FILE_BYTES:
        raise WorkflowFileError(f"{where}: it is larger than 1 MiB, too big for a workflow")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise WorkflowFileError(f"{where}: it is not a text file (not UTF-8)") from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        json.dumps(data, ensure_ascii=False).encode()  # a lone surrogate ("\ud800") fails
    except json.JSONDecodeError as error:
        raise WorkflowFileError(
            f"{where}: it is not JSON ({error.msg}, line {error.lineno} column {error.colno})"
        ) from None
    except WorkflowFileError as error:
        raise WorkflowFileError(f"{where}: {error}") from None
    except RecursionError:
        raise WorkflowFileError(f"{where}: it is nested too deeply") from None
    except UnicodeEncodeError:
        raise WorkflowFileError(f"{where}: it holds unpaired surrogate characters") from None
    if not isinstance(data, dict) or data.get("format") != "stratus-workflow":
        raise WorkflowFileError(f"{where}: it is JSON, but not a Stratus workflow export")
    try:
        return models.WorkflowDocument.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        location = ".".join(str(part) for part in problem["loc"]) or "the document"
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        raise WorkflowFileError(
            f"{where}: it is not a workflow export this version reads: "
            f"{location}: {problem['msg']}{more}"
        ) from None


def read_workflow_file(path: Path, *, ou_id: int, name: str | None = None) -> models.WorkflowImport:
    """The import request for the file at ``path`` into org unit ``ou_id`` (``name``: a new
    name, else the document's). Blocking: run it in a thread."""
    document = read_workflow_document(path)
    try:
        return models.WorkflowImport(document=document, ou_id=ou_id, name=name)
    except ValidationError as error:
        problem = error.errors()[0]
        raise WorkflowFileError(f"{Path(path).name} cannot be imported: {problem['msg']}") from None


# --- the server ----------------------------------------------------------------------------


async def export_document(editor: Editor, workflow_id: int) -> models.WorkflowDocument:
    """The server's signed document of a workflow (a read: allowed on read-only profiles)."""
    return await editor.client.get(f"/workflows/{workflow_id}/export", models.WorkflowDocument)


async def import_document(editor: Editor, body: models.WorkflowImport) -> models.Workflow:
    """Create a workflow from a file's document; refused before sending when read-only."""
    editor.check_writable()
    workflow, _ = await editor.client.create("/workflows/import", body, models.Workflow)
    return workflow


async def switch_workflow(
    editor: Editor, service: models.Service, workflow_id: int
) -> models.Service:
    """Point ``service`` at another workflow (new calls use it at once), on the version it
    was read at: changed meanwhile raises ``StaleVersion`` and nothing changes."""
    body = models.ServiceUpdate(workflow_id=workflow_id)
    saved, _ = await editor.update(SERVICES, service.id, body, etag=etag_of(service))
    return saved
