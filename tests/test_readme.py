"""The README stays true: the two Quick start commands and the keys table."""

from __future__ import annotations

import re
from pathlib import Path

from stratus_tui.keys import KEYS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_quick_start_has_exactly_the_demo_and_the_test_command() -> None:
    commands = re.findall(r"^python3 -m venv .*$", README, flags=re.MULTILINE)
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/stratus-tui demo",
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/pytest",
    ]


def test_keys_table_lists_every_binding_with_its_default() -> None:
    for key in KEYS:
        shown = ", ".join(
            {"question_mark": "?", "slash": "/"}.get(name, name) for name in key.keys.split(",")
        )
        assert f"| `{key.id}` | `{shown}` | {key.description} |" in README, key.id


def test_screenshots_exist() -> None:
    for link in re.findall(r"\]\((snapshots/[^)]+\.svg)\)", README):
        path = Path(__file__).resolve().parent.parent / link.replace("%5B", "[").replace("%5D", "]")
        assert path.is_file(), link
