"""Write the server's OpenAPI document: ``python -m stratus_tui.server.openapi docs/openapi.json``.

``docs/openapi.json`` is the committed contract; tests/test_openapi.py fails when the
server drifts from it, so a contract change is always a visible change in review.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any


def openapi_document() -> dict[str, Any]:
    from stratus_tui.server import db
    from stratus_tui.server.app import create_app

    with tempfile.TemporaryDirectory() as folder:
        database = db.open_database(Path(folder) / "openapi.sqlite3")
        try:
            return create_app().openapi()
        finally:
            database.close()


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render(openapi_document())
    if len(argv) > 1:
        Path(argv[1]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
