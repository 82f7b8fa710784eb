"""Bad input gets a clear problem+json 4xx and writes nothing; stale writes get 412."""

from __future__ import annotations

import json

import httpx
import pytest

from stratus_tui.server import db
from tests.conftest import assert_problem, named


async def test_malformed_json_is_400(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    answer = await client.post(
        "/teams", content=b'{"name": "x",', headers={**admin, "Content-Type": "application/json"}
    )
    problem = assert_problem(answer, 400)
    assert problem["detail"] == "The request body is not valid JSON"


async def test_schema_errors_name_the_field(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    before = db.Team.select().count()
    answer = await client.post("/teams", json={"name": "", "ou_id": "seven"}, headers=admin)
    problem = assert_problem(answer, 422)
    fields = {tuple(error["loc"]) for error in problem["errors"]}  # type: ignore[attr-defined]
    assert ("body", "name") in fields
    assert ("body", "ou_id") in fields
    assert db.Team.select().count() == before


async def test_unknown_fields_are_refused(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    answer = await client.post(
        "/teams", json={"name": "x", "ou_id": 1, "colour": "red"}, headers=admin
    )
    assert_problem(answer, 422)


@pytest.mark.parametrize("text", ["bad\udc80name", "nul\x00name"])
async def test_unstorable_text_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str], text: str
) -> None:
    escaped = json.dumps(text)  # JSON can carry what the database cannot store
    body = f'{{"name": {escaped}, "ou_id": {named(db.OrgUnit, "Sales")}}}'
    answer = await client.post(
        "/teams", content=body.encode(), headers={**admin, "Content-Type": "application/json"}
    )
    problem = assert_problem(answer, 422)
    assert str(problem["detail"]).startswith("name: ")
    assert not db.Team.select().where(db.Team.name.startswith(text[:3])).exists()


async def test_markup_and_escapes_are_data_and_stored_as_sent(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    hostile = "[@click=app.quit]x[/] \x1b]52;c;SGk=\x07 \u202e"
    answer = await client.post(
        "/teams", json={"name": hostile, "ou_id": named(db.OrgUnit, "Sales")}, headers=admin
    )
    assert answer.status_code == 201
    assert answer.json()["name"] == hostile.strip()


async def test_oversized_body_is_413(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    answer = await client.post("/teams", content=b"x" * (1024 * 1024 + 1), headers=admin)
    assert_problem(answer, 413)


async def test_unknown_route_and_method_are_problems(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    assert_problem(await client.get("/nothing-here", headers=admin), 404)
    assert_problem(await client.put("/teams", headers=admin), 405)


async def test_bad_reference_is_422_not_500(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    answer = await client.post("/teams", json={"name": "x", "ou_id": 999_999}, headers=admin)
    problem = assert_problem(answer, 422)
    assert "organization unit" in str(problem["detail"])


async def test_get_returns_the_etag_and_a_matching_update_bumps_it(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    team = named(db.Team, "Billing")
    read = await client.get(f"/teams/{team}", headers=admin)
    assert read.headers["etag"] == '"1"'
    changed = await client.patch(
        f"/teams/{team}", json={"name": "Billing & Payments"}, headers={**admin, "If-Match": '"1"'}
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] == '"2"'
    assert changed.json()["version"] == 2


async def test_update_without_if_match_is_428(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    team = named(db.Team, "Billing")
    answer = await client.patch(f"/teams/{team}", json={"name": "x"}, headers=admin)
    assert_problem(answer, 428)


async def test_stale_update_is_412_and_changes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    team = named(db.Team, "Billing")
    first = await client.patch(
        f"/teams/{team}", json={"name": "First"}, headers={**admin, "If-Match": '"1"'}
    )
    assert first.status_code == 200
    second = await client.patch(
        f"/teams/{team}", json={"name": "Second"}, headers={**admin, "If-Match": '"1"'}
    )
    problem = assert_problem(second, 412)
    assert "changed by someone else" in str(problem["detail"])
    assert second.headers["etag"] == '"2"'
    assert db.Team.get_by_id(team).name == "First"


async def test_stale_delete_is_412_and_deletes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    unit = named(db.Responsibility, "Chat")
    await client.patch(
        f"/responsibilities/{unit}", json={"name": "Chats"}, headers={**admin, "If-Match": '"1"'}
    )
    answer = await client.delete(f"/responsibilities/{unit}", headers={**admin, "If-Match": '"1"'})
    assert_problem(answer, 412)
    assert db.Responsibility.get_or_none(db.Responsibility.id == unit) is not None


async def test_null_for_a_required_field_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    team = named(db.Team, "Billing")
    answer = await client.patch(
        f"/teams/{team}", json={"name": None}, headers={**admin, "If-Match": '"1"'}
    )
    problem = assert_problem(answer, 422)
    assert "name cannot be null" in str(problem["detail"])


async def test_org_unit_in_use_says_what_uses_it(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    unit = named(db.OrgUnit, "Sales")
    answer = await client.delete(f"/org-units/{unit}", headers={**admin, "If-Match": '"1"'})
    problem = assert_problem(answer, 409)
    assert "still used by" in str(problem["detail"])
    assert "team" in str(problem["detail"])


async def test_org_unit_cannot_move_below_itself(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    top = db.OrgUnit.get(db.OrgUnit.name == "Demo Corp")
    child = db.OrgUnit.get(db.OrgUnit.name == "Sales")
    answer = await client.patch(
        f"/org-units/{top.id}", json={"parent_id": child.id}, headers={**admin, "If-Match": '"1"'}
    )
    assert_problem(answer, 422)


async def test_directory_synced_names_are_read_only(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    synced = db.User.get(db.User.directory_synced == True)
    answer = await client.patch(
        f"/users/{synced.id}", json={"first_name": "Renamed"}, headers={**admin, "If-Match": '"1"'}
    )
    problem = assert_problem(answer, 422)
    assert "synced from the directory" in str(problem["detail"])
    same = await client.patch(
        f"/users/{synced.id}",
        json={"first_name": synced.first_name, "active": True},
        headers={**admin, "If-Match": '"1"'},
    )
    assert same.status_code == 200


async def test_service_address_must_fit_its_kind(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    service = db.Service.get(db.Service.kind == "call")
    answer = await client.patch(
        f"/services/{service.id}",
        json={"address": "hotline@demo.stratus"},
        headers={**admin, "If-Match": '"1"'},
    )
    problem = assert_problem(answer, 422)
    assert "SIP URI" in str(problem["detail"])
