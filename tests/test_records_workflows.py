"""records/workflows.py without a UI: rows with the services using each workflow, the form's
requests, the definition made readable, and workflow files (written privately and
atomically; anything that is not an export refused with one clear line)."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stratus_tui.api import models
from stratus_tui.records.editing import Reference
from stratus_tui.records.requests import RequestRefused
from stratus_tui.records.rows import Lookups
from stratus_tui.records.workflows import (
    MAX_FILE_BYTES,
    STARTERS,
    WORKFLOW_COLUMNS,
    WORKFLOWS,
    WorkflowFileError,
    WorkflowReference,
    default_file_name,
    definition_lines,
    definition_summary,
    read_workflow_document,
    read_workflow_file,
    workflow_cells,
    workflow_create,
    workflow_fields,
    workflow_update,
    workflow_values,
    write_workflow_file,
)
from tests.hostile import HOSTILE

FLOW = {
    "start": "welcome",
    "steps": {
        "goodbye": {"type": "hangup"},
        "voicemail": {"type": "voicemail", "timeout_seconds": 120, "next": "goodbye"},
        "queue": {"type": "queue", "timeout_seconds": 300, "next": "voicemail"},
        "menu": {"type": "menu", "text": "Press 1", "options": {"2": "voicemail", "1": "queue"}},
        "welcome": {"type": "announcement", "text": "Grüezi", "next": "menu"},
        "orphan": {"type": "transfer", "target": "sip:desk@example.com"},
    },
}  # fmt: skip


def workflow(**changes: Any) -> models.Workflow:
    data = {"id": 7, "tenant_id": 1, "ou_id": 3, "name": "Standard", "type": "inbound",
            "definition": FLOW, "service_ids": [12, 11, 99], "version": 4}  # fmt: skip
    return models.Workflow.model_validate({**data, **changes})


def service(service_id: int, name: str) -> models.Service:
    return models.Service.model_validate(
        {
            "id": service_id,
            "tenant_id": 1,
            "team_id": 1,
            "ou_id": 3,
            "kind": "call",
            "name": name,
            "address": "sip:a@example.com",
            "display_name": name,
            "endpoints": [],
            "distribution": {},
            "max_concurrent_sessions": 5,
            "workflow_id": 7,
            "emergency_routing": False,
            "trait_ids": [],
            "version": 1,
        }
    )


def document(**changes: Any) -> models.WorkflowDocument:
    exported = datetime(2026, 11, 22, 12, tzinfo=UTC)
    data = {"name": "Standard", "type": "inbound", "definition": FLOW,
            "exported_at": exported, "signature": "ab" * 32}  # fmt: skip
    return models.WorkflowDocument.model_validate({**data, **changes})


def test_cells_name_the_services_using_the_workflow() -> None:
    reference = WorkflowReference.of(
        Reference(org_units=[models.OrgUnit.model_validate(
            {"id": 3, "tenant_id": 1, "name": "Zürich", "parent_id": None, "version": 1,
             "is_system": False})]),
        [service(11, "zoë line"), service(12, "Billing")],
    )  # fmt: skip
    cells = workflow_cells(workflow(), reference.lookups())
    assert len(cells) == len(WORKFLOW_COLUMNS)
    assert cells == ("Standard", "inbound", "Zürich", "3", "#99, Billing, zoë line")
    # Plain lookups (no services known yet): ids, never a failure.
    assert workflow_cells(workflow(), Lookups.empty())[4] == "#11, #12, #99"
    assert WORKFLOWS.listing == "workflow:NYOUS"


def test_the_form_creates_from_a_starter_and_updates_only_name_and_ou() -> None:
    for kind in ("inbound", "survey"):
        created = workflow_create({"name": "New", "type": kind, "ou_id": 3})
        assert created.definition == models.WorkflowDefinition.model_validate(STARTERS[kind])
    with pytest.raises(RequestRefused) as refused:
        workflow_create({"name": "", "type": "inbound", "ou_id": 3})
    assert "name" in refused.value.field_errors
    update = workflow_update({"name": "Renamed", "definition": "ignored"})
    assert update.model_dump(exclude_unset=True) == {"name": "Renamed"}
    assert workflow_values(workflow())["definition"] == "6 steps, starting at welcome"


def test_the_hidden_system_root_is_not_offered() -> None:
    units = [
        models.OrgUnit.model_validate({"id": unit_id, "tenant_id": 1, "name": name,
                                       "parent_id": None, "version": 1, "is_system": system})
        for unit_id, name, system in ((1, "System", True), (2, "Zürich", False))
    ]  # fmt: skip
    ou = {f.name: f for f in workflow_fields(Reference(org_units=units), creating=True)}["ou_id"]
    assert ou.choices == ((2, "Zürich"),)


def test_the_definition_reads_in_call_order() -> None:
    lines = definition_lines(FLOW)
    names = [line.split(":")[0] for line in lines if not line.startswith(" ")]
    assert names == ["welcome", "menu", "queue", "voicemail", "goodbye", "orphan"]
    assert "  key 1 → queue" in lines and "  after 120 s → goodbye" in lines
    assert "  to sip:desk@example.com" in lines and "  “Grüezi”" in lines
    odd = {"start": "x", "flavour": "newer"}
    assert definition_lines(odd) == json.dumps(odd, indent=2).splitlines()
    assert definition_summary(odd) == "not a definition this version can read"


def test_default_file_names_are_safe_for_any_file_system() -> None:
    assert default_file_name("Standard inbound") == "workflow-Standard-inbound.json"
    assert default_file_name("../../etc/passwd") == "workflow-etc-passwd.json"
    assert default_file_name(HOSTILE["osc52_clipboard"]) == "workflow-52-c-SGk.json"
    assert default_file_name("") == "workflow-export.json"
    assert len(default_file_name(HOSTILE["very_long"])) == len("workflow-.json") + 40


def test_a_written_file_is_private_and_reads_back_as_the_same_document(tmp_path: Path) -> None:
    target = tmp_path / "new" / "flow.json"
    size = write_workflow_file(target, document(name=HOSTILE["cjk_rtl"]))
    assert target.stat().st_size == size
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert [p.name for p in tmp_path.joinpath("new").iterdir()] == ["flow.json"]
    assert read_workflow_document(target) == document(name=HOSTILE["cjk_rtl"])
    body = read_workflow_file(target, ou_id=3)
    assert (body.ou_id, body.name, body.document.name) == (3, None, HOSTILE["cjk_rtl"])
    # What the server signs (the JSON form of the model) is unchanged by the round trip.
    assert body.document.model_dump(mode="json") == document(name=HOSTILE["cjk_rtl"]).model_dump(
        mode="json"
    )


def write(tmp_path: Path, content: bytes | str) -> Path:
    path = tmp_path / "in.json"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("my notes", "it is not JSON (Expecting value, line 1 column 1)"),
        (b"\xff\xfe{}", "it is not a text file (not UTF-8)"),
        ("[1, 2]", "it is JSON, but not a Stratus workflow export"),
        ('{"format": "other"}', "it is JSON, but not a Stratus workflow export"),
        ('{"format": "stratus-workflow", "format": "x"}', "the key 'format' appears twice"),
        ('{"format": "stratus-workflow", "n": NaN}', "NaN is not a number JSON allows"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"format": "stratus-workflow", "name": "\\ud800"}', "unpaired surrogate"),
        ('{"format": "stratus-workflow", "name": "x"}', "not a workflow export this version"),
    ],
)
def test_what_is_not_an_export_is_refused_with_the_reason(
    tmp_path: Path, content: bytes | str, reason: str
) -> None:
    with pytest.raises(WorkflowFileError) as refused:
        read_workflow_file(write(tmp_path, content), ou_id=3)
    assert str(refused.value).startswith("in.json cannot be imported: ")
    assert reason in str(refused.value)


def test_unusable_paths_and_sizes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(WorkflowFileError, match="does not exist"):
        read_workflow_document(tmp_path / "missing.json")
    with pytest.raises(WorkflowFileError, match="is a folder"):
        read_workflow_document(tmp_path)
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(WorkflowFileError, match="not a regular file"):
        read_workflow_document(fifo)
    big = document().model_dump(mode="json")
    big["padding"] = "x" * MAX_FILE_BYTES
    with pytest.raises(WorkflowFileError, match="larger than 1 MiB"):
        read_workflow_document(write(tmp_path, json.dumps(big)))
    unknown = {**document().model_dump(mode="json"), "extra": 1}
    with pytest.raises(WorkflowFileError, match="extra: Extra inputs are not permitted"):
        read_workflow_document(write(tmp_path, json.dumps(unknown)))
    # A byte-order mark (Windows editors) is fine.
    path = write(tmp_path, b"\xef\xbb\xbf" + document().model_dump_json().encode())
    assert read_workflow_document(path) == document()
