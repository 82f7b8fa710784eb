"""The ``stratus-tui`` command. Everything heavy is imported inside the command that needs it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from stratus_tui import __version__


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be 0 to 65535 (0: any free port)")
    return value


def _seconds(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 86_400:
        raise argparse.ArgumentTypeError("must be 1 to 86,400 seconds")
    return value


def _count(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _page_size(text: str) -> int:
    value = _count(text)
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError("must be 1 to 10,000")
    return value


def _job_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a job number like 12") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be a job number like 12")
    return value


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a date like 2026-07-01") from None


class Parser(argparse.ArgumentParser):
    """``usage_exit``: the exit code of a usage error. ``status`` uses 3 ("could not tell"),
    because its 0, 1 and 2 are verdicts a monitoring script acts on."""

    usage_exit = 2

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(self.usage_exit, f"{self.prog}: error: {message}\n")


def _connection_options() -> Parser:
    """--profile | --url with --user: the options of every headless command."""
    options = Parser(add_help=False)
    choice = options.add_mutually_exclusive_group()
    choice.add_argument(
        "--profile",
        dest="command_profile",
        metavar="NAME",
        help="a profile of the config file (default: the default profile)",
    )
    choice.add_argument(
        "--url", metavar="URL", help="the server's address instead of a profile (needs --user)"
    )
    options.add_argument(
        "--user",
        metavar="NAME",
        help="the user to sign in as (with --url, or instead of the profile's username); "
        "the password is read from the STRATUS_PASSWORD environment variable",
    )
    return options


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
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
    serve.add_argument(
        "--o365-demo",
        action="store_true",
        help="also run a local O365 identity provider (HTTPS on loopback) and point the "
        "demo O365 applications at it",
    )
    serve.add_argument(
        "--idle-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="for developers: end sessions after SECONDS without activity (default 600); "
        "clients take the limit from the login answer, so the warning and the expiry "
        "can be tried in seconds",
    )

    connection = _connection_options()
    status = commands.add_parser(
        "status",
        parents=[connection],
        help="can calls be routed? (exit 0 ok, 1 degraded, 2 down, 3 could not tell)",
        description="Sign in, read the state of every server instance and component, and "
        "say whether calls can be routed. Exit code: 0 all running, 1 degraded (calls can "
        "be routed), 2 calls cannot be routed, 3 the status could not be told (one line on "
        "stderr). See docs/status.md.",
    )
    status.usage_exit = 3
    status.add_argument(
        "--json", action="store_true", help="print JSON (docs/status.schema.json) for scripts"
    )
    status.set_defaults(leaf=status)

    export = commands.add_parser(
        "export",
        help="write data to a file (CSV, PDF)",
        description="Write data from the server to a file, CSV-injection-safe and atomically.",
    )
    kinds = export.add_subparsers(dest="export_kind", metavar="WHAT", required=True)
    usage = kinds.add_parser(
        "license-usage",
        parents=[connection],
        help="daily license usage per org unit",
        description="Daily license usage per org unit as CSV (the rows your role may see). "
        "Exit code: 0 written, 1 the file could not be written, 3 the data could not be "
        "fetched.",
    )
    usage.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="the CSV file (default: license-usage-<today>.csv in your Downloads folder)",
    )
    usage.add_argument("--from", dest="date_from", type=_date, metavar="DATE", help="first day")
    usage.add_argument("--to", dest="date_to", type=_date, metavar="DATE", help="last day")
    usage.set_defaults(leaf=usage)
    privacy = kinds.add_parser(
        "privacy",
        parents=[connection],
        help="the rows of a finished data-privacy export job (CSV)",
        description="Write the conversations a data-privacy export job found (start it on "
        "the Data Privacy page) as CSV. Exit code: 0 written, 1 the file could not be "
        "written, 3 the data could not be had (also: the job is not done yet, or failed). "
        "See docs/privacy.md.",
    )
    privacy.add_argument(
        "--job", type=_job_id, required=True, metavar="ID", help="the export job's id"
    )
    privacy.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="the CSV file (default: stratus-privacy-export-<id>.csv in your Downloads folder)",
    )
    privacy.set_defaults(leaf=privacy)
    team_help = "the team's name (or id), among the teams you may see"
    report = kinds.add_parser(
        "reporting",
        parents=[connection],
        help="a team's conversations of the last 4 months (CSV)",
        description="Sync the local cache, then write every conversation of the team from "
        "the first day of the month three months ago until now as CSV, with times local to "
        "the team and in UTC. Exit code: 0 written, 1 the file could not be written, 3 the "
        "data could not be had. See docs/exports.md.",
    )
    report.add_argument("--team", required=True, metavar="NAME", help=team_help)
    report.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="the CSV file (default: stratus-report-<team>-<days>.csv in your Downloads folder)",
    )
    report.set_defaults(leaf=report)
    lost = kinds.add_parser(
        "lost-calls",
        parents=[connection],
        help="a team's lost calls of a range of days (PDF)",
        description="Sync the local cache, then write the team's lost calls from --since to "
        "--until (whole days in the team's time zone) as PDF. Exit code: 0 written, 1 the "
        "file could not be written, 3 the data could not be had. See docs/exports.md.",
    )
    lost.add_argument("--team", required=True, metavar="NAME", help=team_help)
    lost.add_argument(
        "--since", type=_date, metavar="DATE", help="first day (default: 7 days before today)"
    )
    lost.add_argument("--until", type=_date, metavar="DATE", help="last day (default: today)")
    lost.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="the PDF file (default: stratus-lost-calls-<team>-<days>.pdf in your Downloads "
        "folder)",
    )
    lost.set_defaults(leaf=lost)

    sync = commands.add_parser(
        "sync",
        parents=[connection],
        help="fill or refresh the local cache (conversation history), with progress",
        description="Sign in and bring the local cache's conversation history up to date: "
        "the first time all of it (the last 4 months), then only what is new or changed. "
        "An interrupted sync resumes where it stopped. Exit code: 0 synced, 3 could not "
        "sync (one line on stderr). See docs/cache.md.",
    )
    sync.usage_exit = 3
    sync.add_argument(
        "--page-size",
        type=_page_size,
        default=10_000,
        metavar="N",
        help="conversations per request (1 to 10,000; default 10,000)",
    )
    sync.set_defaults(leaf=sync)

    cache = commands.add_parser(
        "cache",
        help="list the local caches, or delete them (--purge)",
        description="List the local cache files (one per profile and user) with their "
        "size and last sync, or delete them with --purge.",
    )
    cache.add_argument("--purge", action="store_true", help="delete the caches")
    cache.add_argument(
        "--profile",
        dest="command_profile",
        metavar="NAME",
        help="only this profile's caches (default: every profile's)",
    )
    cache.set_defaults(leaf=cache)
    return parser


def _connection(args: argparse.Namespace) -> dict[str, Any]:
    """The server and user options, with ``--profile`` before the command merged in."""
    leaf: argparse.ArgumentParser = args.leaf
    profile = args.command_profile
    if args.profile is not None:
        if profile is not None and profile != args.profile:
            leaf.error(f"two different profiles: --profile {args.profile} and {profile}")
        profile = args.profile
    if profile is not None and args.url is not None:
        leaf.error("argument --url: not allowed with argument --profile")
    if args.url is not None and not args.user:
        leaf.error("--url needs --user (the user to sign in as)")
    return {"profile": profile, "url": args.url, "user": args.user}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:  # reported by the command's own parser, so `status` exits 3 for it too
        getattr(args, "leaf", parser).error(f"unrecognized arguments: {' '.join(extras)}")
    if args.command == "status":
        from stratus_tui.commands import status

        return status.run(**_connection(args), as_json=args.json)
    if args.command == "export" and args.export_kind == "reporting":
        from stratus_tui.commands import reporting

        return reporting.run_reporting(**_connection(args), team=args.team, output=args.output)
    if args.command == "export" and args.export_kind == "lost-calls":
        from stratus_tui.commands import reporting

        try:
            since, until = reporting.lost_calls_days(args.since, args.until)
        except ValueError as error:
            args.leaf.error(str(error))
        return reporting.run_lost_calls(
            **_connection(args), team=args.team, since=since, until=until, output=args.output
        )
    if args.command == "export" and args.export_kind == "privacy":
        from stratus_tui.commands import export

        return export.run_privacy(**_connection(args), job=args.job, output=args.output)
    if args.command == "export":
        from stratus_tui.commands import export

        if args.date_from and args.date_to and args.date_from > args.date_to:
            args.leaf.error("--from must not be after --to")
        return export.run_license_usage(
            **_connection(args), output=args.output, date_from=args.date_from, date_to=args.date_to
        )
    if args.command == "sync":
        from stratus_tui.commands import sync

        return sync.run(**_connection(args), page_size=args.page_size)
    if args.command == "cache":
        from stratus_tui.commands import cache

        profile = args.command_profile
        if args.profile is not None and profile is not None and profile != args.profile:
            args.leaf.error(f"two different profiles: --profile {args.profile} and {profile}")
        return cache.run(purge=args.purge, profile=profile or args.profile)
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
            identity_provider=args.o365_demo,
            idle_timeout=args.idle_timeout,
        )
    if args.command == "demo":
        from stratus_tui.launch import run_demo

        return run_demo()
    from stratus_tui.launch import run_tui

    return run_tui(args.profile)


if __name__ == "__main__":
    sys.exit(main())
