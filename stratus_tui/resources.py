"""Files shipped with the package: the TCSS styles (and later the PDF font).

The styles live in the top-level ``styles/`` folder of the source tree, and the wheel ships
them inside the package as ``stratus_tui/styles/`` (pyproject's force-include), so both an
editable and a normal install find them.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def styles_path(name: str) -> Path:
    for folder in (PACKAGE / "styles", PACKAGE.parent / "styles"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"the stylesheet {name} is missing from this installation")
