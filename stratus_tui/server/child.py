"""``python -m stratus_tui.server.child``: the reference server as ``stratus-tui demo``'s child.

Loopback only, and it stops when its standard input reaches end of file, that is when the
process holding the other end (``stratus_tui.demo.DemoServer``) exits, however it exits.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from pathlib import Path

from stratus_tui.server.seed import SeedOptions
from stratus_tui.server.serve import serve


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stratus_tui.server.child")
    parser.add_argument("--db", type=Path, required=True, help="database file (kept)")
    parser.add_argument("--port", type=int, default=0, help="default 0: a free port")
    parser.add_argument("--calls", type=int, help="conversations to generate for a new file")
    parser.add_argument("--seed", type=int, help="demo data seed for a new file")
    args = parser.parse_args(argv)
    # The parent reads these through pipes and files: UTF-8, one line at a time.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8", errors="replace", line_buffering=True)
    defaults = SeedOptions()
    options = SeedOptions(
        seed=defaults.seed if args.seed is None else args.seed,
        calls=defaults.calls if args.calls is None else args.calls,
    )
    return serve(
        host="127.0.0.1",
        port=args.port,
        db_path=args.db,
        options=options,
        explicit_seed=args.seed is not None or args.calls is not None,
        watch_stdin=True,
        identity_provider=True,  # O365 sign-in works in the demo, without Microsoft
        support_bot=True,  # and live chat gets an answer
    )


if __name__ == "__main__":
    sys.exit(main())
