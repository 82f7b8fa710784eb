"""The ``stratus-tui`` command. Everything heavy is imported inside the command that needs it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from stratus_tui import __version__


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be 0 to 65535 (0: any free port)")
    return value


def _count(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stratus-tui",
        description="A terminal UI for Stratus Agent contact-center administrators.",
    )
    parser.add_argument("--version", action="version", version=f"stratus-tui {__version__}")
    parser.add_argument("--profile", metavar="NAME", help="the server profile to use (config file)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser(
        "demo",
        help="try stratus-tui on a built-in demo server (no set-up)",
        description="Start the reference server with demo data on a free loopback port and "
        "open the TUI on it; the server stops when the TUI exits. The demo data is kept in "
        "your data folder, so the second start is fast.",
    )

    serve = commands.add_parser(
        "serve",
        help="run the reference Stratus server with demo data",
        description="Run the reference Stratus server. Without --db it generates demo data "
        "into a temporary database; with --db it uses that file, generating it if new.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: loopback)"
    )
    serve.add_argument(
        "--port", type=_port, default=4444, help="port (default 4444; 0: a free one)"
    )
    serve.add_argument("--db", type=Path, help="database file (kept; generated when missing)")
    serve.add_argument("--seed", type=int, help="demo data seed (default 7)")
    serve.add_argument("--calls", type=_count, help="conversations to generate (default 150,000)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        from stratus_tui.server.seed import SeedOptions
        from stratus_tui.server.serve import serve

        defaults = SeedOptions()
        options = SeedOptions(
            seed=defaults.seed if args.seed is None else args.seed,
            calls=defaults.calls if args.calls is None else args.calls,
        )
        return serve(
            host=args.host,
            port=args.port,
            db_path=args.db,
            options=options,
            explicit_seed=args.seed is not None or args.calls is not None,
        )
    if args.command == "demo":
        from stratus_tui.launch import run_demo

        return run_demo()
    from stratus_tui.launch import run_tui

    return run_tui(args.profile)


if __name__ == "__main__":
    sys.exit(main())
