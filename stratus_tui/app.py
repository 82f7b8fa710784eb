"""The Textual app: settings, keymap, the login gate, the session's life, clean exits."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.driver import Driver
from textual.notifications import SeverityLevel
from textual.screen import Screen

from stratus_tui.config.settings import Profile, Settings
from stratus_tui.exits import (
    HANGUP_EXIT,
    LOGOUT_LIMIT,
    TerminalOutput,
    Watchdog,
    exit_signals,
    hung_up,
)
from stratus_tui.keys import spec
from stratus_tui.resources import styles_path
from stratus_tui.screens.bindings import bind
from stratus_tui.screens.login import LoginScreen
from stratus_tui.text import clean

if TYPE_CHECKING:
    from stratus_tui.api.client import StratusClient
    from stratus_tui.api.models import SessionInfo
    from stratus_tui.screens.main import MainScreen
    from stratus_tui.session import ClientFactory, Session

ACTIVITY = (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)


class StratusApp(App[None]):
    TITLE = "stratus-tui"
    # Sign-in is the default screen (never pushed, so its own CSS_PATH would not load).
    CSS_PATH = styles_path("login.tcss")
    BINDINGS = [
        bind("quit", "quit", priority=True),
        bind("palette", "command_palette", show=False, priority=True),
        bind("help", "help"),
        bind("suspend", "suspend_process", show=False),
    ]

    def __init__(
        self,
        settings: Settings,
        profile: Profile,
        *,
        client_factory: ClientFactory | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        demo_accounts: Sequence[tuple[str, str]] = (),
        demo_password: str | None = None,
        use_cache: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.profile = profile
        self._client_factory = client_factory
        self.clock = clock  # idle time and expiry
        self.wall_clock = wall_clock  # what "now" is for history and reports (tests pin it)
        self.demo = (demo_accounts, demo_password)
        self.session: Session | None = None
        self.main_screen: MainScreen | None = None
        self._crash: BaseException | None = None
        self.server_unreachable = False
        self.use_cache = use_cache
        self._watchdog = Watchdog()  # armed when leaving on a signal (stratus_tui.exits)
        self._event_loop: asyncio.AbstractEventLoop | None = None
        self._terminal: TerminalOutput | None = None  # the real terminal's stream, if any
        self._leaving = False

    def on_mount(self) -> None:
        if self.settings.theme:
            self.theme = self.settings.theme
        self.set_keymap(self.settings.keymap)
        self.set_interval(1.0, self.check_session)
        self._catch_signals()
        if self._terminal is not None:  # a real terminal, not a test's headless one
            self.set_interval(1.0, self._check_terminal)
        for warning in self.settings.warnings:  # e.g. a password over plain http
            self.notify(warning, severity="warning", timeout=15)

    def get_default_screen(self) -> Screen[Any]:
        # Sign-in is the bottom of the stack: painted first (no blank screen before it),
        # and what every ended session returns to.
        accounts, password = self.demo
        return LoginScreen(self.profile, demo_accounts=accounts, demo_password=password)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every notification, from any widget, ends here: never markup, never escapes.

        Messages carry server words (error details, names) and file paths, and Textual
        reads a notification as markup by default, where ``[/oops]`` raises.
        """
        super().notify(
            clean(message, keep="\n"),
            title=clean(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def keys_for(self, binding_id: str) -> list[str]:
        """The keys of a binding today (with the user's keymap applied)."""
        keys = self.settings.keymap.get(binding_id) or spec(binding_id).keys
        return [key.strip() for key in keys.split(",")]

    def key_for(self, binding_id: str) -> str:
        """How the (first) key of a binding reads today."""
        return self.get_key_display(Binding(self.keys_for(binding_id)[0], ""))

    # --- the session --------------------------------------------------------------------

    def open_client(self, profile: Profile) -> StratusClient:
        if self._client_factory is not None:
            return self._client_factory(profile)
        from stratus_tui.session import open_client

        return open_client(profile)

    def signed_in(self, client: StratusClient, info: SessionInfo, *, o365: bool = False) -> None:
        self._start_session(client, info, o365)

    @work(exclusive=True, group="sign-in", exit_on_error=False)
    async def _start_session(self, client: StratusClient, info: SessionInfo, o365: bool) -> None:
        # Imported here, not at start-up: sign-in is painted without them.
        from stratus_tui.auth.idle import IdleClock
        from stratus_tui.screens.main import MainScreen
        from stratus_tui.session import Session, open_cache

        # The server's idle limit, not a constant: its policy is the authority.
        idle = IdleClock.for_limit(info.idle_timeout_seconds, clock=self.clock)
        session = Session(self.profile, client, info.user, idle, o365=o365)
        if self.use_cache:
            session.cache, notice = await asyncio.to_thread(open_cache, self.profile, info.user)
            if notice:
                self.notify(notice, title="Local cache", severity="warning", timeout=10)
        self.session = session
        self.main_screen = MainScreen(session)
        self.push_screen(self.main_screen)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, ACTIVITY) and self.session is not None:
            self.session.idle.user_input()
        await super().on_event(event)

    def check_session(self) -> None:
        """Once a second: warn, expire, or tell the server the user is still there."""
        session = self.session
        if session is None or not self.screen_stack:  # shutting down: nothing to show it on
            return
        from stratus_tui.auth.idle import IdleState, expired_message
        from stratus_tui.screens.expiry import ExpiryWarning

        state = session.idle.state()
        left = session.idle.seconds_left()
        if isinstance(self.screen, ExpiryWarning):
            self.screen.show_seconds_left(left)
        if self.main_screen is not None and self.main_screen.is_mounted:
            self.main_screen.show_time_left(left)
        if state is IdleState.EXPIRED:
            self.end_session(expired_message(session.idle.idle_limit))
        elif state is IdleState.WARNING and not isinstance(self.screen, ExpiryWarning):
            self.push_screen(ExpiryWarning(left), self._warning_closed)
        elif session.idle.keepalive_due():
            self.keepalive()

    def _warning_closed(self, continued: bool | None) -> None:
        if continued and self.session is not None:
            self.session.idle.user_input()
            self.keepalive()

    @work(exclusive=True, group="keepalive", exit_on_error=False)
    async def keepalive(self) -> None:
        from stratus_tui.api.errors import StratusError, Unauthenticated

        session = self.session
        if session is None:
            return
        try:
            await session.keepalive()
        except Unauthenticated as error:
            if self.session is session:
                self.end_session(str(error))
            return
        except StratusError as error:
            session.idle.keepalive_failed()
            if not self.server_unreachable:  # say it once per outage, not every retry
                self.server_unreachable = True
                self.notify(str(error), title="Server unreachable", severity="warning", timeout=10)
            return
        if self.server_unreachable:
            self.server_unreachable = False
            self.notify("The server answers again.", title="Connection restored")

    def end_session(self, message: str | None = None) -> None:
        """Back to sign-in: drop every screen (and unsaved edit), in-flight work and token."""
        session, self.session = self.session, None
        if session is None:
            return
        self.main_screen = None
        self.workers.cancel_all()
        # Every screen above sign-in goes, and with it every unsaved edit.
        while len(self.screen_stack) > 1:
            self.pop_screen()
        login = self.screen_stack[0]
        if isinstance(login, LoginScreen):
            login.reset(message, username=session.user.upn)
        self.run_worker(session.end(), group="logout", exit_on_error=False)

    def action_logout(self) -> None:
        session = self.session
        if session is None or session.cache is None:
            self.end_session("You have logged out.")
            self._logged_out(session)  # after: ending a session cancels every worker
            return
        from stratus_tui.screens.dialogs import ChoiceDialog

        def answered(choice: str | None) -> None:
            if choice is None or self.session is not session:
                return
            purge = choice == "delete"
            self.end_session(
                "You have logged out." + (" Your local cache is deleted." if purge else "")
            )
            self._logged_out(session)
            if purge and session.cache is not None:
                self.run_worker(asyncio.to_thread(session.cache.purge), exit_on_error=False)

        self.push_screen(
            ChoiceDialog(
                "Log out",
                "Keep this user's local cache (history and last known state) on this machine "
                "for a faster start next time, or delete it?",
                [("keep", "Log out, keep the cache"), ("delete", "Log out, delete the cache")],
            ),
            answered,
        )

    def _logged_out(self, session: Session | None) -> None:
        """An explicit log out also forgets a kept O365 sign-in: no silent one next time."""
        if session is not None and session.o365:
            from stratus_tui.auth.token_store import forget_sign_in

            profile = session.profile
            forget = asyncio.to_thread(forget_sign_in, profile.o365_cache, profile.name)
            self.run_worker(forget, exit_on_error=False)

    async def action_quit(self) -> None:
        if self.session is not None:
            session, self.session = self.session, None
            await session.end()
        self.exit()

    # --- help and the command palette ---------------------------------------------------

    def action_help(self) -> None:
        from stratus_tui.screens.help import HelpScreen, help_for  # Markdown: load on demand

        if isinstance(self.screen, HelpScreen):
            return
        sections = help_for(self.screen.focused)
        extra = [getattr(self.screen, "HELP", None)]
        if self.main_screen is not None and self.screen is self.main_screen:
            extra.insert(0, self.main_screen.page_help())
        for text in extra:
            if isinstance(text, str) and text.strip() and text.strip() not in sections:
                sections.append(text.strip())
        self.push_screen(HelpScreen(sections, self.key_for))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Help for this page and the keys", self.action_help)
        if self.session is None:
            return
        from stratus_tui.navigation import visible_pages

        main = self.main_screen

        def leaving(then: Callable[[], object]) -> Callable[[], None]:
            # From a form with unsaved changes the form asks first (FormScreen).
            def go() -> None:
                leave = getattr(screen, "request_leave", None)
                if leave is not None:
                    leave(then)
                else:
                    then()

            return go

        if main is not None:
            for page in visible_pages(self.session.user):
                yield SystemCommand(
                    f"Go to {page.title}",
                    page.summary,
                    leaving(functools.partial(main.open_page, page.id)),
                )
        if main is not None and main.syncs_history:
            yield SystemCommand(
                "Sync history now", "Fetch new call history at once", main.sync_history
            )
        yield SystemCommand(
            "Log out", "End the session and return to sign-in", leaving(self.action_logout)
        )

    # --- clean exits (the hazards and their remedies: stratus_tui/exits.py) -----------------

    def get_driver_class(self) -> type[Driver]:
        driver = super().get_driver_class()
        if sys.platform == "win32" or driver.__name__ != "LinuxDriver":
            return driver  # Windows, or a driver chosen by TEXTUAL_DRIVER
        app = self

        class Terminal(driver):  # type: ignore[valid-type,misc]
            """Textual's Linux driver, writing through ``TerminalOutput`` (``_file`` is
            private Textual API: Textual is pinned, tests/test_signals.py checks it)."""

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                stream: Any = getattr(self, "_file")  # noqa: B009 (private, untyped)
                self._file = app._terminal = TerminalOutput(stream, app._terminal_gone)

        return Terminal

    def _catch_signals(self) -> None:
        self._event_loop = loop = asyncio.get_running_loop()
        for number, code in exit_signals().items():
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(number, self._leave, code)
                # asyncio runs that handler when the loop next turns, which a loop blocked
                # on a terminal nobody reads never does. A Python handler runs even there
                # (it interrupts the blocked wait): it arms the watchdog at once. asyncio's
                # wake-up (set_wakeup_fd) happens beneath it, and closing the loop puts
                # the default handler back.
                signal.signal(number, self._signalled)

    def _signalled(self, number: int, frame: object) -> None:
        self._watchdog.arm(exit_signals()[number])

    def _terminal_gone(self) -> None:
        """From Textual's writer thread: a write failed, the terminal is gone."""
        self._watchdog.arm(HANGUP_EXIT)
        if self._event_loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: leaving anyway
                self._event_loop.call_soon_threadsafe(self._leave, HANGUP_EXIT)

    def _check_terminal(self) -> None:
        """Once a second: a terminal that hung up with nothing written yet is gone too."""
        if sys.__stdin__ is not None and hung_up(sys.__stdin__.fileno()):
            self._leave(HANGUP_EXIT)

    def _leave(self, code: int) -> None:
        """SSH dropped, the terminal gone, or told to stop: log out briefly, restore the
        terminal, exit 129 / 143; the watchdog ends the process if that takes too long.
        Once: a second reason to leave (the terminal fails during the logout) changes
        nothing, and never cancels the logout under way."""
        self._watchdog.arm(code)
        if not self._leaving:
            self._leaving = True
            self._log_out_and_exit(code)

    @work(group="leave", exit_on_error=False)
    async def _log_out_and_exit(self, code: int) -> None:
        session, self.session = self.session, None
        if session is not None:
            await session.end(limit=LOGOUT_LIMIT)
        self.exit(return_code=code)

    def _handle_exception(self, error: Exception) -> None:
        self._crash = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        # Textual's default prints a traceback with local variables, where a password or
        # token may sit (SECURITY.md B). These two hooks are private Textual API: Textual is
        # pinned exactly and tests/test_app_exits.py checks the behaviour on every upgrade.
        from rich.text import Text

        from stratus_tui.auth.token_store import MemoryStore
        from stratus_tui.crashlog import write_crash_log

        error = self._crash or RuntimeError("unknown error")
        # The session's token, and the O365 tokens a sign-in kept in memory.
        secrets = [*(self.session.secrets() if self.session else []), *MemoryStore.secrets()]
        try:
            path: object = write_crash_log(error, secrets=secrets)
        except OSError as log_error:
            path = f"(the log could not be written: {log_error})"
        self.bell()
        self.panic(
            Text(
                f"stratus-tui stopped on an unexpected error: {type(error).__name__}.\n"
                f"Details (no passwords or tokens) are in {path}"
            )
        )
