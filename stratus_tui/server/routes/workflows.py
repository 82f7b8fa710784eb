"""Workflows: call flows with a JSON definition, exported signed and imported only untampered."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from fastapi import APIRouter, Response
from pydantic import ValidationError

from stratus_tui.api import models as m
from stratus_tui.server import convert, db
from stratus_tui.server.convert import utc
from stratus_tui.server.crud import (
    Cursor,
    DbInt,
    IfMatch,
    Limit,
    Search,
    contains,
    created,
    paginate,
    respond,
    save,
    versioned_delete,
)
from stratus_tui.server.deps import Caller, Context
from stratus_tui.server.errors import ProblemError, conflict
from stratus_tui.server.scope import (
    ADMINS,
    STAFF,
    in_tenant,
    org_unit_ref,
    require,
    tenant_condition,
    where,
)

router = APIRouter(tags=["workflows"])


def canonical_definition(definition: m.WorkflowDefinition) -> str:
    return json.dumps(definition.model_dump(exclude_defaults=True), sort_keys=True)


def sign(document: dict[str, Any], key: bytes) -> str:
    """HMAC-SHA256 over the document without its signature, in canonical JSON."""
    body = {name: value for name, value in document.items() if name != "signature"}
    payload = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # surrogatepass: a document with a lone surrogate (never one the server exported) gets a
    # signature that does not match, instead of failing to encode.
    return hmac.new(key, payload.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


@router.get("/workflows")
def list_workflows(
    principal: Caller,
    q: Search = None,
    type: m.WorkflowType | None = None,
    ou_id: DbInt | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> m.Page[m.Workflow]:
    require(principal, STAFF, "see workflows")
    query = db.Workflow.select().where(
        *where(
            tenant_condition(principal, db.Workflow.tenant),
            contains(db.Workflow.name, q),
            None if type is None else db.Workflow.type == type,
            None if ou_id is None else db.Workflow.ou == ou_id,
        )
    )
    return paginate(query, db.Workflow, cursor, limit, convert.workflows)


@router.get("/workflows/{workflow_id}")
def get_workflow(workflow_id: DbInt, principal: Caller, response: Response) -> m.Workflow:
    return respond(
        response, in_tenant(principal, db.Workflow, workflow_id, "workflow"), convert.workflows
    )


@router.post("/workflows", status_code=201)
def create_workflow(body: m.WorkflowCreate, principal: Caller, response: Response) -> m.Workflow:
    require(principal, ADMINS, "change workflows")
    ou = org_unit_ref(principal, body.ou_id)
    with db.database.atomic():
        row = db.Workflow.create(
            tenant=ou.tenant_id,
            ou=ou.id,
            name=body.name,
            type=body.type,
            definition=canonical_definition(body.definition),
        )
    return created(response, "workflows", row, convert.workflows)


@router.patch("/workflows/{workflow_id}")
def update_workflow(
    workflow_id: DbInt,
    body: m.WorkflowUpdate,
    principal: Caller,
    response: Response,
    if_match: IfMatch = None,
) -> m.Workflow:
    require(principal, ADMINS, "change workflows")
    row = in_tenant(principal, db.Workflow, workflow_id, "workflow")
    values: dict[str, Any] = {}
    if body.name is not None:
        values["name"] = body.name
    if body.ou_id is not None:
        values["ou"] = org_unit_ref(principal, body.ou_id, row.tenant_id).id
    if body.definition is not None:
        values["definition"] = canonical_definition(body.definition)
    return save(response, row, if_match, values, "workflow", convert.workflows)


@router.delete("/workflows/{workflow_id}", status_code=204)
def delete_workflow(workflow_id: DbInt, principal: Caller, if_match: IfMatch = None) -> Response:
    require(principal, ADMINS, "change workflows")
    row = in_tenant(principal, db.Workflow, workflow_id, "workflow")
    with db.database.atomic():
        services = db.column(
            db.Service.select(db.Service.name)
            .where(db.Service.workflow == row.id)
            .order_by(db.Service.name)
        )
        if services:
            raise conflict(
                f"This workflow is assigned to the services {', '.join(services[:10])}; "
                "assign them another workflow first",
                kind="in-use",
            )
        versioned_delete(row, if_match, "workflow")
    return Response(status_code=204)


@router.get("/workflows/{workflow_id}/export", summary="A signed document to save as a file")
def export_workflow(workflow_id: DbInt, principal: Caller, context: Context) -> m.WorkflowDocument:
    row = in_tenant(principal, db.Workflow, workflow_id, "workflow")
    unsigned = m.WorkflowDocument(
        name=row.name,
        type=row.type,
        definition=json.loads(row.definition),
        exported_at=utc(context.clock.now()),
        signature="",
    )
    # Signed exactly as an import will see it: the JSON form of the same model.
    signature = sign(unsigned.model_dump(mode="json"), context.signing_key)
    return unsigned.model_copy(update={"signature": signature})


@router.post(
    "/workflows/import", status_code=201, summary="Create a workflow from an exported file"
)
def import_workflow(
    body: m.WorkflowImport, principal: Caller, context: Context, response: Response
) -> m.Workflow:
    require(principal, ADMINS, "change workflows")
    document = body.document.model_dump(mode="json")
    # As bytes: compare_digest refuses str with non-ASCII characters (TypeError).
    expected = sign(document, context.signing_key).encode()
    if not hmac.compare_digest(expected, body.document.signature.encode("utf-8", "surrogatepass")):
        raise ProblemError(
            422,
            "This workflow file was changed after it was exported, or exported by another "
            "server: its signature does not match, so nothing was imported",
            kind="tampered-document",
        )
    try:
        definition = m.WorkflowDefinition.model_validate(body.document.definition)
    except ValidationError as error:
        first = error.errors()[0]
        raise ProblemError(
            422,
            f"The workflow in this file is not valid ({first['msg']}); nothing was imported",
            kind="invalid-document",
        ) from error
    return create_workflow(
        m.WorkflowCreate(
            name=body.name or body.document.name,
            type=body.document.type,
            ou_id=body.ou_id,
            definition=definition,
        ),
        principal,
        response,
    )
