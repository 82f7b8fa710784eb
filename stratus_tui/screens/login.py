"""Sign in: user name and password, and whether O365 sign-in applies to the user's domain.

The API client (httpx, pydantic) is imported in a thread after this screen is painted, so
the first screen appears as fast as a bare Textual app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Label, Static

from stratus_tui.config.settings import Profile
from stratus_tui.widgets.action_button import ActionButton
from stratus_tui.widgets.header import profile_badge
from stratus_tui.widgets.safe import safe

if TYPE_CHECKING:
    from stratus_tui.api.client import StratusClient
    from stratus_tui.api.models import SessionInfo

PREWARM_AFTER = 1.0  # seconds after the first paint
O365_CHECK_DELAY = 0.3  # seconds of typing pause before asking the server about a domain


def domain_of(username: str) -> str:
    """The domain O365 sign-in depends on ("" until the user name has one)."""
    from stratus_tui.api.validation import domain_of_user  # not on the start-up path

    return domain_of_user(username)


class LoginScreen(Screen[None]):
    AUTO_FOCUS = None
    HELP = """
## Sign in

Type your Stratus user name (usually your mail address) and password, then **enter**.

**Sign in with O365** is enabled when your administrator has configured an O365
application for the domain of your user name. It shows an address and a code: open the
address on any device with a browser, type the code and sign in with Microsoft.

Sessions end after 10 minutes without input; you are warned one minute before.
"""

    def __init__(
        self,
        profile: Profile,
        *,
        username: str | None = None,
        message: str | None = None,
        demo_accounts: Sequence[tuple[str, str]] = (),
        demo_password: str | None = None,
    ) -> None:
        super().__init__()
        self.profile = profile
        self.username = username if username is not None else (profile.username or "")
        self.message = message or ""
        self.demo_accounts = demo_accounts
        self.demo_password = demo_password
        self._client: StratusClient | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="login-box"):
            yield Static("Sign in to Stratus", classes="title")
            with Horizontal(id="server-line"):
                yield Label("Server ")
                yield profile_badge(self.profile.name, self.profile.label_color)
                yield Label(safe(f" {self.profile.url}", max_length=60), id="server-url")
            if self.profile.read_only:
                yield Label(" READ-ONLY profile: changes are refused ", classes="read-only")
            username = Input(self.username, placeholder="name@company.com", id="username")
            username.border_title = "User name"
            yield username
            password = Input(password=True, id="password")
            password.border_title = "Password"
            yield password
            with Horizontal(id="buttons"):
                yield ActionButton("Sign in", id="sign-in", primary=True)
                yield ActionButton("Sign in with O365", id="o365", disabled=True)
            yield Static(safe(self.message, max_length=None), id="message")
        if self.demo_accounts:
            yield Static(self._demo_text(), id="demo-accounts")
        # A plain line, not a Footer: it paints with the first frame, and sign-in has two keys.
        yield Static(self._keys_hint(), id="keys-hint")

    def _keys_hint(self) -> str:
        key_for = getattr(self.app, "key_for", lambda binding_id: binding_id)
        return f"{key_for('help')} help   {key_for('quit')} quit   enter sign in"

    def _demo_text(self) -> str:
        rows = "\n".join(f"  {name:<26} {role}" for name, role in self.demo_accounts)
        return f"Demo accounts, password {self.demo_password!r}:\n{rows}"

    def on_mount(self) -> None:
        self.query_one("#password" if self.username else "#username", Input).focus()
        # Load the client's imports while the user types, not while the screen paints.
        self.set_timer(PREWARM_AFTER, self._prewarm)
        if self.username:
            self.check_o365(self.username)
            if self.profile.auth == "o365" and self.profile.o365_cache != "memory":
                self.sign_in_o365(silent_only=True)  # a kept sign-in: no code needed

    def reset(self, message: str | None, *, username: str) -> None:
        """Back to an empty form after a session ended, saying why."""
        self.query_one("#username", Input).value = username
        password = self.query_one("#password", Input)
        password.value = ""
        password.focus()
        self.show_message(message or "", error=False)

    def on_unmount(self) -> None:
        if self._client is not None:  # never signed in: close the client we opened
            self.app.run_worker(self._client.aclose(), exit_on_error=False)
            self._client = None

    @work(thread=True, exit_on_error=False)
    def _prewarm(self) -> None:
        import stratus_tui.api.client  # noqa: F401 (loads httpx and the contract meanwhile)

    def _client_now(self) -> StratusClient:
        if self._client is None:
            self._client = self.app.open_client(self.profile)  # type: ignore[attr-defined]
        return self._client

    def show_message(self, text: str, *, error: bool = True) -> None:
        message = self.query_one("#message", Static)
        message.set_class(error, "error")
        message.update(safe(text, max_length=None))

    @on(Input.Changed, "#username")
    def _username_changed(self, event: Input.Changed) -> None:
        self.check_o365(event.value)

    @work(exclusive=True, group="o365", exit_on_error=False)
    async def check_o365(self, username: str) -> None:
        button = self.query_one("#o365", ActionButton)
        domain = domain_of(username)
        if not domain:
            button.disabled = True
            return
        await asyncio.sleep(O365_CHECK_DELAY)
        from stratus_tui.api.errors import StratusError

        try:
            config = await self._client_now().o365_config(domain)
        except StratusError:
            button.disabled = True  # signing in will say what is wrong with the server
            return
        button.disabled = not config.enabled
        button.tooltip = Content(  # literal: a tooltip string would be read as markup
            f"Sign in with your Microsoft account ({domain})"
            if config.enabled
            else f"No O365 application is configured for {domain}"
        )

    @on(Input.Submitted, "#username")
    def _next_field(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    @on(ActionButton.Pressed, "#sign-in")
    def _submit(self) -> None:
        self.sign_in()

    @on(ActionButton.Pressed, "#o365")
    def _o365(self) -> None:
        self.sign_in_o365()

    @work(exclusive=True, group="sign-in", exit_on_error=False)
    async def sign_in_o365(self, *, silent_only: bool = False) -> None:
        """Sign in with Microsoft: silently from a kept sign-in, else with a device code.

        ``silent_only`` (at start-up, for a profile that keeps its O365 sign-in): never show
        a code unasked, just sign in if the kept refresh token still works.
        """
        username = self.query_one("#username", Input).value.strip()
        domain = domain_of(username)
        if not domain:
            if not silent_only:
                self.show_message("Type your user name (name@company.com) first.")
                self.query_one("#username", Input).focus()
            return
        from stratus_tui.api.errors import StratusError
        from stratus_tui.auth.o365 import O365Failed, O365SignIn
        from stratus_tui.auth.token_store import MemoryStore, TokenStoreError, open_store
        from stratus_tui.screens.device_code import DeviceCodeScreen

        client = self._client_now()
        self._busy(True)
        self.show_message("Signing in with O365…", error=False)
        signer: O365SignIn | None = None
        try:
            config = await client.o365_config(domain)
            if not config.enabled:
                self.show_message(f"No O365 application is configured for {domain}.")
                return
            try:
                store = open_store(self.profile.o365_cache, self.profile.name)
            except TokenStoreError as error:
                self.notify(f"{error}; the sign-in is kept in memory only.", severity="warning")
                store = MemoryStore(self.profile.name)
            signer = O365SignIn(config, store, ca_bundle=self.profile.ca_bundle)
            token = await asyncio.to_thread(signer.silent, username)
            if token is None:
                if silent_only:
                    self.show_message("Sign in with O365 to continue.", error=False)
                    return
                outcome = await self.app.push_screen_wait(DeviceCodeScreen(signer))
                if outcome is None:
                    self.show_message("O365 sign-in cancelled.", error=False)
                    return
                if isinstance(outcome, O365Failed):
                    raise outcome
                token = outcome
            info: SessionInfo = await client.login_o365(token)
            del token
        except (StratusError, O365Failed) as error:
            self.show_message(str(error))
            return
        finally:
            self._busy(False)
            if signer is not None:
                self.app.run_worker(asyncio.to_thread(signer.close), exit_on_error=False)
        if signer is not None and signer.warning:
            self.notify(signer.warning, severity="warning")
        self._client = None  # the session owns the client from here on
        self.app.signed_in(client, info, o365=True)  # type: ignore[attr-defined]

    @work(exclusive=True, group="sign-in", exit_on_error=False)
    async def sign_in(self) -> None:
        username = self.query_one("#username", Input).value.strip()
        password_input = self.query_one("#password", Input)
        if not username:
            self.show_message("Type your user name first.")
            self.query_one("#username", Input).focus()
            return
        if not password_input.value:
            self.show_message("Type your password.")
            password_input.focus()
            return
        self._busy(True)
        self.show_message("Signing in…", error=False)
        from pydantic import SecretStr

        from stratus_tui.api.errors import StratusError

        try:
            client = self._client_now()
            info: SessionInfo = await client.login(username, SecretStr(password_input.value))
        except StratusError as error:
            self.show_message(str(error))
            password_input.value = ""  # retyping must not append to the wrong one
            password_input.focus()
            return
        finally:
            self._busy(False)
        password_input.value = ""
        self._client = None  # the session owns the client from here on
        self.app.signed_in(client, info)  # type: ignore[attr-defined]

    def _busy(self, busy: bool) -> None:
        self.query_one("#sign-in", ActionButton).disabled = busy
        o365 = self.query_one("#o365", ActionButton)
        if busy:
            o365.disabled = True
        else:
            self.check_o365(self.query_one("#username", Input).value)
