"""``stratus-tui serve``: open (or generate) a database and run the server on a socket."""

from __future__ import annotations

import os
import signal
import socket
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

from stratus_tui.server import db
from stratus_tui.server.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, SeedOptions, seed_demo
from stratus_tui.server.top_up import top_up_history

if TYPE_CHECKING:
    from stratus_tui.server.idp_serve import RunningIdentityProvider

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
# Seconds an idle kept-alive connection stays open: far longer than clients keep one idle
# (stratus-tui 4 s, httpx's default 5 s). uvicorn's default, 5 s, is barely past the
# client's: on a loaded machine a client that decided to reuse a connection at 3.9 s sent
# its request after the server had closed it, and got "closed the connection without a
# valid answer" (bench/load.py, 1 poll in ~4,000).
KEEP_ALIVE = 30
IDP_FOLDER = "idp"  # the demo identity provider's certificate and keys, next to the database


def listen(host: str, port: int) -> socket.socket:
    """A listening socket: connections queue from here on, before uvicorn starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY on accepted connections only for
    # sockets that say so. Without it, Nagle's algorithm meets the client's delayed ACK and
    # every answer on a kept-alive connection waits ~40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    return sock


def prepare_database(path: Path, options: SeedOptions, explicit_seed: bool, out: TextIO) -> None:
    db.open_database(path)
    if db.is_empty():
        print(f"Generating demo data ({options.calls:,} conversations)…", file=out, flush=True)
        summary = seed_demo(options)
        print(
            f"  {summary.tenants} tenants, {summary.teams} teams, {summary.users} users, "
            f"{summary.services} services, {summary.conversations:,} conversations "
            f"in {summary.seconds:.1f} s",
            file=out,
            flush=True,
        )
    else:
        if explicit_seed:
            print(
                f"Using the existing data in {path} (--seed and --calls apply to a new file)",
                file=out,
            )
        added = top_up_history(int(time.time()))
        if added:
            print(f"Added {added:,} conversations up to the current hour", file=out, flush=True)


def serve(
    *,
    host: str,
    port: int,
    db_path: Path | None,
    options: SeedOptions,
    explicit_seed: bool,
    out: TextIO = sys.stdout,
    watch_stdin: bool = False,
    identity_provider: bool = False,
    support_bot: bool = False,
    idle_timeout: int | None = None,
) -> int:
    """Run until Ctrl+C or SIGTERM, or with ``watch_stdin`` until standard input closes.

    ``identity_provider``: also run the local O365 identity provider (HTTPS on loopback, its
    files in an ``idp`` folder next to the database) and point the demo O365 applications
    at it, so O365 sign-in works without Microsoft. ``support_bot``: answer live chats
    automatically as IT support (``support_bot.py``), so the demo's chat answers.
    ``idle_timeout``: end sessions after this many seconds without user activity instead of
    10 minutes (a developer's switch: try the expiry warning without waiting, tests).
    """
    import uvicorn  # imported here: `stratus-tui` itself must start fast

    from stratus_tui.server.app import create_app, server_context
    from stratus_tui.server.sessions import SessionPolicy

    # uvicorn shuts down gracefully, then re-raises the signal it caught: turn it into a
    # normal exit so the temporary database is removed either way. SIGINT too: left to
    # Python, asyncio.run's own Ctrl+C handler gets the re-raised signal and cancels a task
    # that is already finishing, and the process exited 0 now and then instead of 130.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGINT, _exit_on_signal)
    if watch_stdin and sys.stdin is not None:
        threading.Thread(target=_stop_at_end_of_stdin, name="watch-stdin", daemon=True).start()
    with ExitStack() as stack:
        if db_path is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="stratus-serve-"))
            db_path = Path(folder) / "stratus.sqlite3"
        try:
            prepare_database(db_path, options, explicit_seed, out)
        except (db.SchemaMismatchError, OSError) as error:
            print(f"stratus-tui serve: {error}", file=sys.stderr)
            return 2
        try:
            sock = listen(host, port)
        except OSError as error:
            print(
                f"stratus-tui serve: cannot listen on {host}:{port}: {error.strerror}",
                file=sys.stderr,
            )
            return 1
        stack.callback(sock.close)
        running: RunningIdentityProvider | None = None
        if identity_provider:
            try:
                running = _start_identity_provider(db_path.parent / IDP_FOLDER)
            except (OSError, RuntimeError) as error:
                print(
                    f"stratus-tui serve: cannot start the O365 identity provider: {error}",
                    file=sys.stderr,
                )
                return 1
            stack.callback(running.stop)
        if support_bot:
            from stratus_tui.server.clock import SystemClock
            from stratus_tui.server.support_bot import run_in_thread

            stack.callback(run_in_thread(SystemClock().now).stop)
        bound_port = sock.getsockname()[1]
        shown_host = f"[{host}]" if ":" in host else host
        print(f"Stratus reference server listening on http://{shown_host}:{bound_port}", file=out)
        if running is not None:
            print(
                f"  Demo O365 sign-in: identity provider on {running.url} (CA {running.ca_path})",
                file=out,
            )
        if support_bot:
            print("  Demo IT support answers live chats automatically", file=out)
        print(f"  API under /api/v1, contract at /openapi.json, data in {db_path}", file=out)
        if idle_timeout is not None:
            print(f"  Sessions end after {idle_timeout} s without activity", file=out)
        if host not in LOOPBACK:
            print(
                "  Warning: reachable from other machines, with well-known demo passwords", file=out
            )
        print(f"  Demo accounts (password {DEMO_PASSWORD!r}):", file=out)
        for user_name, role in DEMO_ACCOUNTS:
            print(f"    {user_name:<26} {role}", file=out)
        print("Press Ctrl+C to stop.", file=out, flush=True)
        config = uvicorn.Config(
            create_app(
                server_context(
                    identity_ca=running.ca_path if running else None,
                    policy=SessionPolicy() if idle_timeout is None else SessionPolicy(idle_timeout),
                )
            ),
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=3,
            timeout_keep_alive=KEEP_ALIVE,
        )
        try:
            uvicorn.Server(config).run(sockets=[sock])
        except KeyboardInterrupt:
            return 130
    return 0


def _start_identity_provider(folder: Path) -> RunningIdentityProvider:
    """The local O365 identity provider, with the demo O365 applications pointed at it."""
    from stratus_tui.server.idp_serve import run_in_thread
    from stratus_tui.server.routes.tenants import microsoft_authority

    apps = list(db.O365App.select())
    domains = {app.domain for app in apps}
    hint = next((name for name, _ in DEMO_ACCOUNTS if name.rsplit("@", 1)[1] in domains), None)
    running = run_in_thread(folder, user_hint=hint or "you@contoso.com")
    for app in apps:
        # Microsoft's own authority as seeded, or an earlier start's (the port changes).
        seeded = app.authority == microsoft_authority(app.azure_tenant_id)
        if seeded or urlsplit(app.authority).hostname == "127.0.0.1":
            authority = running.authority(app.azure_tenant_id)
            if authority != app.authority:
                db.O365App.update(authority=authority, version=db.O365App.version + 1).where(
                    db.O365App.id == app.id
                ).execute()
    return running


def _stop_at_end_of_stdin() -> None:
    """Read standard input to its end, then shut down as on SIGTERM.

    ``stratus-tui demo`` holds the other end of this pipe: the kernel closes it when the parent
    exits, however it exits (even SIGKILL), so the server never outlives the TUI.
    """
    try:
        descriptor = sys.stdin.fileno()
        # os.read, not sys.stdin: a daemon thread blocked inside a buffered reader holds its
        # lock, and the interpreter aborts when it cannot take that lock at exit.
        while os.read(descriptor, 4096):
            pass
    except (OSError, ValueError):
        pass  # unreadable or closed: no parent to wait for either
    os.kill(os.getpid(), signal.SIGTERM)


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
