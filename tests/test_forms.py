"""Forms and conflicts below the UI: validation, the modified set, changes, rebase, reapply."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from stratus_tui.api import validation
from stratus_tui.records.conflict import Conflict, SaveOutcome, canonical, same
from stratus_tui.records.forms import (
    EMPTY,
    MAX_ENDPOINTS,
    FieldSpec,
    FormState,
    add_endpoint_error,
    display_value,
    field_error,
    normalise,
)

PRIORITIES = (("strict", "strict priority"), ("weighted_round_robin", "weighted round robin"))
TRAITS = ((1, "French"), (2, "German"), (3, "Italian"))


def _wrr(values: Mapping[str, Any]) -> bool:
    return values.get("priority") == "weighted_round_robin"


def _sip(value: Any) -> str | None:
    return validation.sip_uri_error(value)


SPECS = [
    FieldSpec("name", "Name", "text", required=True),
    FieldSpec("sip_uri", "SIP URI", "text", check=_sip),
    FieldSpec("upn", "UPN", "text", read_only="synced from the directory: change it there"),
    FieldSpec("priority", "Distribution", "choice", required=True, choices=PRIORITIES),
    FieldSpec("wrr_level", "Level", "int", required=True, minimum=1, maximum=7, shown_if=_wrr),
    FieldSpec("workflow_id", "Workflow", "choice", choices=((5, "Main"), (6, "Night"))),
    FieldSpec("trait_ids", "Traits", "multi", choices=TRAITS),
    FieldSpec("active", "Active", "bool"),
    FieldSpec("max_sessions", "Max sessions", "int", minimum=1),
    FieldSpec("endpoints", "Endpoints", "endpoints"),
]
INITIAL = {
    "name": "Support",
    "sip_uri": "sip:support@example.com",
    "upn": "support@example.com",
    "priority": "strict",
    "wrr_level": None,
    "workflow_id": 5,
    "trait_ids": (2, 1),
    "active": True,
    "max_sessions": 10,
    "endpoints": (("tel:+41445550100", "Reception"),),
}


def state(**initial: Any) -> FormState:
    return FormState(SPECS, {**INITIAL, **initial})


def spec(name: str) -> FieldSpec:
    return next(item for item in SPECS if item.name == name)


# --- single fields -------------------------------------------------------------------------


def test_a_fresh_form_has_no_errors_and_no_changes() -> None:
    form = state()
    assert form.errors() == {}
    assert form.modified() == set()
    assert form.changes() == {}


def test_text_is_stripped_required_and_checked() -> None:
    form = state()
    form.set("name", "   ")
    assert form.errors() == {"name": "is required"}
    form.set("name", "  Sales ")
    assert form.errors() == {}
    assert form.changes() == {"name": "Sales"}
    form.set("sip_uri", "alice")
    assert form.errors() == {"sip_uri": validation.sip_uri_error("alice")}


def test_text_that_cannot_be_stored_is_refused() -> None:
    form = state()
    form.set("name", "a\x00b")
    assert form.errors() == {"name": "must not contain NUL characters"}


def test_an_empty_optional_text_is_sent_as_none_and_empty_equals_none() -> None:
    form = state()
    form.set("sip_uri", " ")
    assert form.errors() == {}
    assert form.changes() == {"sip_uri": None}
    empty = state(sip_uri="")
    empty.set("sip_uri", None)
    assert empty.modified() == set()


def test_whitespace_only_edits_are_not_changes() -> None:
    form = state()
    form.set("name", " Support  ")
    assert form.modified() == set()


def test_int_parses_as_typed_and_checks_the_range() -> None:
    form = state()
    form.set("max_sessions", "12")
    assert form.changes() == {"max_sessions": 12}
    form.set("max_sessions", "12a")
    assert form.errors() == {"max_sessions": "must be a whole number"}
    form.set("max_sessions", "0")
    assert form.errors() == {"max_sessions": "must be at least 1"}
    form.set("max_sessions", "")
    assert form.errors() == {}
    assert form.changes() == {"max_sessions": None}
    form.set("max_sessions", " 10 ")
    assert form.modified() == set()


def test_int_between_bounds_and_upper_bound_alone() -> None:
    level = spec("wrr_level")
    assert field_error(level, "8") == "must be between 1 and 7"
    assert field_error(level, "7") is None
    assert field_error(level, "") == "is required"
    top = FieldSpec("n", "N", "int", maximum=3)
    assert field_error(top, 4) == "must be at most 3"


def test_choice_must_be_among_the_choices_or_none_when_optional() -> None:
    form = state()
    form.set("workflow_id", None)
    assert form.errors() == {}
    assert form.changes() == {"workflow_id": None}
    form.set("workflow_id", 99)
    assert form.errors() == {"workflow_id": "must be one of the choices"}
    form.set("priority", None)
    assert form.errors()["priority"] == "is required"


def test_an_unknown_starting_choice_is_left_alone() -> None:
    form = state(workflow_id=42)  # an id the page's lookups do not know
    assert form.errors() == {}
    assert form.display("workflow_id", 42) == "42"


def test_multi_ignores_order_and_sends_a_list_in_choice_order() -> None:
    form = state()
    form.set("trait_ids", [1, 2])
    assert form.modified() == set()
    form.set("trait_ids", (3, 1, 2))
    assert form.changes() == {"trait_ids": [1, 2, 3]}
    assert normalise(spec("trait_ids"), (9, 3, 9)) == [3, 9]  # unknown ids kept, once


def test_required_multi() -> None:
    roles = FieldSpec("roles", "Roles", "multi", required=True, choices=(("a", "A"),))
    assert field_error(roles, ()) == "is required: choose at least one"
    assert field_error(roles, ("a",)) is None


def test_bool_changes() -> None:
    form = state()
    form.set("active", False)
    assert form.changes() == {"active": False}


def test_endpoints_are_checked_one_by_one() -> None:
    form = state()
    form.set("endpoints", (("tel:+41445550100", "Reception"), ("tel:0800", "")))
    error = form.errors()["endpoints"]
    assert error.startswith("tel:0800 must be tel: followed by an E.164 number")
    form.set("endpoints", (("tel:+41445550100", "a"), ("tel:+41445550100", "b")))
    assert form.errors() == {"endpoints": "tel:+41445550100 is listed twice"}
    form.set("endpoints", (("sip:desk@example.com", " Desk "), ("tel:+41445550100", "Reception")))
    assert form.errors() == {}
    assert form.changes() == {
        "endpoints": [("sip:desk@example.com", "Desk"), ("tel:+41445550100", "Reception")]
    }


def test_endpoints_order_counts_and_the_limit_holds() -> None:
    pairs = tuple((f"tel:+4144555{n:04d}", "") for n in range(MAX_ENDPOINTS + 1))
    assert field_error(spec("endpoints"), pairs) == f"at most {MAX_ENDPOINTS} endpoints"
    assert field_error(spec("endpoints"), pairs[:MAX_ENDPOINTS]) is None
    assert add_endpoint_error(pairs[:MAX_ENDPOINTS], "tel:+41449999999", "") == (
        f"at most {MAX_ENDPOINTS} endpoints"
    )


def test_adding_an_endpoint() -> None:
    pairs = (("tel:+41445550100", "Reception"),)
    assert add_endpoint_error(pairs, "sip:desk@example.com", "Desk") is None
    assert (
        add_endpoint_error(pairs, " tel:+41445550100 ", "") == "tel:+41445550100 is listed already"
    )
    assert add_endpoint_error(pairs, "", "x") == "the address is required"
    assert add_endpoint_error(pairs, "sip:a@example.com", "x" * 201) is not None


# --- hidden and read-only fields -----------------------------------------------------------


def test_a_hidden_field_is_neither_validated_nor_sent() -> None:
    form = state()
    form.set("wrr_level", "99")
    assert form.errors() == {}
    assert form.changes() == {}
    form.set("priority", "weighted_round_robin")
    assert form.errors() == {"wrr_level": "must be between 1 and 7"}
    form.set("wrr_level", "3")
    assert form.changes() == {"priority": "weighted_round_robin", "wrr_level": 3}
    assert form.shown("wrr_level")


def test_a_read_only_field_cannot_be_set_and_is_never_checked() -> None:
    form = state(upn="not a mail address")
    assert form.errors() == {}
    with pytest.raises(ValueError, match="read-only"):
        form.set("upn", "x@example.com")


# --- form-wide rules -----------------------------------------------------------------------


def test_check_all_runs_as_the_user_types_and_names_fields_or_the_form() -> None:
    seen: list[Mapping[str, Any]] = []

    def check_all(values: Mapping[str, Any]) -> dict[str, str]:
        seen.append(values)
        if values["active"] and values["max_sessions"] == 2:
            return {"max_sessions": "an active service needs 3", "": "look again"}
        if values["max_sessions"] == 3:
            return {"upn": "not this one", "gone": "odd"}
        return {}

    form = FormState(SPECS, INITIAL, check_all)
    form.set("max_sessions", "2")
    assert form.errors() == {"max_sessions": "an active service needs 3", "": "look again"}
    assert seen[-1]["max_sessions"] == 2  # normalised
    form.set("max_sessions", "3")
    assert form.errors() == {"": "UPN: not this one; odd"}
    form.set("name", "")  # a field's own message and check_all's are both said
    assert form.errors() == {"name": "is required", "": "UPN: not this one; odd"}
    form.set("max_sessions", "x")  # its own message wins over check_all's
    assert form.errors()["max_sessions"] == "must be a whole number"


# --- revert, rebase, display ---------------------------------------------------------------


def test_revert_one_field() -> None:
    form = state()
    form.set("name", "Sales")
    form.set("active", False)
    assert form.revert("name") == "Support"
    assert form.modified() == {"active"}


def test_rebase_keeps_mine_on_top_of_the_new_base() -> None:
    form = state()
    form.set("name", "Sales")
    theirs = {**INITIAL, "name": "Helpdesk", "max_sessions": 20}
    form.rebase(theirs)
    assert form.values["max_sessions"] == 20
    assert form.values["name"] == "Sales"
    assert form.initial["name"] == "Helpdesk"
    assert form.changes() == {"name": "Sales"}
    form.rebase({"name": "Sales"})  # they made the same change: nothing left to send
    assert form.changes() == {}
    assert form.values["max_sessions"] == 20  # left out: the old base stays


def test_missing_starting_values_get_empty_ones() -> None:
    form = FormState(SPECS, {})
    assert form.values["trait_ids"] == ()
    assert form.values["active"] is False
    assert form.errors() == {"name": "is required", "priority": "is required"}


def test_display() -> None:
    form = state()
    assert form.display("priority", "weighted_round_robin") == "weighted round robin"
    assert form.display("workflow_id", None) == EMPTY
    assert form.display("trait_ids", (3, 1)) == "French, Italian"
    assert form.display("trait_ids", ()) == EMPTY
    assert form.display("active", True) == "yes"
    assert form.display("active", False) == "no"
    assert form.display("sip_uri", "  ") == EMPTY
    assert form.display("max_sessions", 10) == "10"
    both = (("tel:+41445550100", "Reception"), ("sip:desk@example.com", ""))
    assert form.display("endpoints", both) == "tel:+41445550100 (Reception), sip:desk@example.com"
    assert display_value(spec("endpoints"), ()) == EMPTY


# --- conflicts -----------------------------------------------------------------------------


def conflict(base: dict[str, Any], mine: dict[str, Any], theirs: dict[str, Any]) -> Conflict:
    return Conflict(base=base, mine=mine, theirs=theirs, theirs_etag='"8"')


def test_their_changes_clashes_and_reapplied() -> None:
    base = {"name": "Support", "active": True, "max_sessions": 10, "workflow_id": 5}
    theirs = {**base, "name": "Helpdesk", "max_sessions": 20, "workflow_id": None}
    mine = {"name": "Sales", "active": False, "max_sessions": 20}
    found = conflict(base, mine, theirs)
    assert found.their_changes() == {"name", "max_sessions", "workflow_id"}
    assert found.clashes() == {"name"}  # max_sessions: both changed it, to the same value
    assert found.reapplied() == {"name": "Sales", "active": False}
    assert found.fields() == {"name", "active", "max_sessions", "workflow_id"}


def test_lists_of_ids_compare_as_sets_endpoints_in_order() -> None:
    base = {"trait_ids": (1, 2), "endpoints": (("tel:+41445550100", "A"), ("sip:b@x.ch", "B"))}
    theirs = {"trait_ids": [2, 1], "endpoints": [["sip:b@x.ch", "B"], ["tel:+41445550100", "A"]]}
    found = conflict(base, {"trait_ids": [1, 2, 3]}, theirs)
    assert found.their_changes() == {"endpoints"}
    assert found.reapplied() == {"trait_ids": [1, 2, 3]}
    assert found.clashes() == set()
    assert conflict(base, {"trait_ids": [2, 1]}, theirs).reapplied() == {}


def test_canonical_keeps_pairs_ordered() -> None:
    assert not same([("a", "b")], [("b", "a")])
    assert same({"x": [1, 2]}, {"x": [1, 2]})
    assert same({1, 2}, [2, 1])
    assert canonical(None) is None


def test_save_outcome_defaults() -> None:
    outcome = SaveOutcome(saved=False, message="nope")
    assert outcome.field_errors == {}
    assert outcome.conflict is None
