"""The committed contract (docs/openapi.json) matches what the server serves."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from stratus_tui.server.openapi import openapi_document, render

COMMITTED = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def test_committed_openapi_matches_the_server() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render(openapi_document()), (
        "The API contract changed: if you meant it, run "
        "`python -m stratus_tui.server.openapi docs/openapi.json` and commit the result"
    )


async def test_server_serves_its_openapi(client: httpx.AsyncClient) -> None:
    answer = await client.get("http://stratus.test/openapi.json")
    assert answer.status_code == 200
    assert answer.json() == json.loads(COMMITTED.read_text(encoding="utf-8"))
