"""The table and the JSON of `stratus-tui status`, at function level (no server, no process):
symbols and words, colour on and off, 80 columns, hostile names, the JSON schema.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from stratus_tui.api import models
from stratus_tui.commands import status
from stratus_tui.commands.connect import Target
from stratus_tui.health import evaluate
from tests.hostile import HOSTILE

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "docs" / "status.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def check_schema(document: dict[str, Any]) -> None:
    VALIDATOR.validate(document)


def component(abbreviation: str, state: str = "running", mode: str = "active") -> dict[str, Any]:
    return {
        "id": 1,
        "abbreviation": abbreviation,
        "name": models.COMPONENT_NAMES[abbreviation],
        "mode": mode,
        "version": "8.6.2107.3",
        "state": state,
        "last_heartbeat": "2026-11-22T11:59:50Z",
    }


def instance(name: str, role: str, parts: list[dict[str, Any]], host: str = "") -> Any:
    return models.ServerInstance.model_validate(
        {
            "id": 1,
            "name": name,
            "host": host or f"{name.lower()}.example.com",
            "role": role,
            "trusted_application": {"application_id": "urn:x", "fqdn": "x", "port": 1},
            "components": parts,
        }
    )


def sample(cic_state: str = "running", name: str = "STRATUS-BE02") -> list[Any]:
    minimum = ("PS", "ICH", "AC", "AM")
    return [
        instance(
            "STRATUS-BE01",
            "backend",
            [component(a) for a in minimum] + [component("CIC", mode="passive")],
        ),
        instance(
            name,
            "backend",
            [component(a, mode="passive") for a in minimum] + [component("CIC", cic_state)],
        ),
        instance("STRATUS-FE01", "frontend", [component("FE", "degraded"), component("SMD")]),
    ]


def test_the_table_without_colour_reads_by_symbol_and_word() -> None:
    data = sample("stopped")
    text = status.render(evaluate(data), data, colour=False)
    assert "\x1b" not in text
    assert "✖ STOPPED" in text and "▲ DEGRADED" in text and "✔ running" in text
    assert text.splitlines()[0].startswith("▲ Calls can be routed, but 2 problems")
    assert text.rstrip().endswith("10 of 12 components running")
    assert "Problems:\n  ✖ STRATUS-BE02 CIC: stopped\n  ▲ STRATUS-FE01 FE: degraded" in text


def test_the_table_with_colour_marks_states_and_verdict() -> None:
    data = sample("stopped")
    text = status.render(evaluate(data), data, colour=True)
    assert f"{status.RED}✖ STOPPED{status.RESET}" in text
    assert f"{status.YELLOW}▲ DEGRADED{status.RESET}" in text
    assert f"{status.GREEN}✔ running{status.RESET}" in text
    assert text.startswith(status.BOLD + status.YELLOW)
    assert ANSI.sub("", text) == status.render(evaluate(data), data, colour=False)


def test_the_table_fits_80_columns_with_long_and_wide_names() -> None:
    wide = instance("X" * 90, "frontend", [component("FE")], host="h" * 120 + ".example.com")
    data = [*sample(name="STRATUS-" + "王" * 40), wide]
    text = status.render(evaluate(data), data, colour=False)
    assert max(status.cells(line) for line in text.splitlines()) <= 80
    assert "…" in text
    ascii_text = status.render(evaluate(data), data, colour=False, symbols=status.ASCII_SYMBOLS)
    assert "X STOPPED" not in ascii_text and "! DEGRADED" in ascii_text


def test_hostile_names_are_shown_inert() -> None:
    data = sample(name=HOSTILE["osc52_clipboard"] + HOSTILE["bidi_override"])
    text = status.render(evaluate(data), data, colour=False)
    for forbidden in ("\x1b", "\x07", "\u202e", "\x9b"):
        assert forbidden not in text
    assert "␛]52;c;SGk=␇" in text


def test_the_json_documents_match_the_schema() -> None:
    target = Target("https://stratus.example.com", "monitor@example.com")
    moment = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    for data in (sample(), sample("stopped"), sample()[:1] * 0):
        health = evaluate(data)
        document = status.status_document(health, data, target, checked_at=moment)
        check_schema(document)
        assert document["level"] == health.level.name.lower()
        assert document["checked_at"] == "2026-11-22T12:00:00Z"
    for who in (target, None):
        check_schema(status.unknown_document("Boom\nsecond line", who, checked_at=moment))
    mismatch = status.status_document(evaluate(sample()), sample(), target, checked_at=moment)
    mismatch["exit_code"] = 2
    with pytest.raises(jsonschema.ValidationError):
        check_schema(mismatch)


def test_the_schema_knows_every_component_of_the_contract() -> None:
    assert set(SCHEMA["$defs"]["abbreviation"]["enum"]) == set(models.COMPONENT_NAMES)


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert status.use_colour(Terminal())
    assert not status.use_colour(object())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not status.use_colour(Terminal())


def test_the_headless_commands_never_import_textual() -> None:
    code = (
        "import sys, stratus_tui.cli, stratus_tui.commands.status, stratus_tui.commands.export, "
        "stratus_tui.commands.connect, stratus_tui.api.client\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'textual'], 'UI'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
