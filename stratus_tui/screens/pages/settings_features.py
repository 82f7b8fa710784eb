"""Settings' "Features": the tenant's switches, for its tenant admins (live chat for now).

A switch is sent at once (no confirmation: it is undone as easily), with the version of the
tenant the admin saw (``If-Match``, ``records.chat.save_live_chat``). What the server
answers is what the switch then shows; a refusal puts it back and says why. The sidebar
follows at once: the section posts ``LiveChatSwitched`` and the main screen shows or hides
Live Chat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static, Switch

from stratus_tui.api.errors import StratusError, Unauthenticated
from stratus_tui.records import chat
from stratus_tui.records.editing import ReadOnlyProfile
from stratus_tui.screens.bindings import bind
from stratus_tui.screens.pages.sections import (
    LeaveSection,
    LiveChatSwitched,
    settings_read_only_reason,
)
from stratus_tui.widgets.safe import safe

if TYPE_CHECKING:
    from stratus_tui.api import models
    from stratus_tui.session import Session


class FeaturesSection(Vertical):
    DEFAULT_CSS = """
    FeaturesSection { padding: 0 1; height: 1fr; }
    FeaturesSection .section-title { text-style: bold; color: $accent; height: 1; }
    FeaturesSection .feature { height: auto; margin-top: 1; }
    FeaturesSection .feature-text { width: 1fr; height: auto; padding: 0 1; }
    FeaturesSection #features-status { color: $text-muted; height: auto; margin-top: 1; }
    FeaturesSection #features-status.-error { color: $text-warning; text-style: bold; }
    FeaturesSection #features-keys { color: $text-muted; height: auto; margin-top: 1; }
    """
    HELP = """
## Settings · Features

Switches that apply to your whole tenant. **Live chat**: when on, every user of the tenant
finds **Live Chat** in the sidebar and can write to IT support. **Space** or **Enter**
switches it; the change is saved at once. **r** reads the tenant again, **escape** returns
to "Where to start".
"""
    BINDINGS = [bind("refresh", "refresh"), bind("back", "leave", show=False)]

    def __init__(self, session: Session, *, id: str) -> None:
        super().__init__(id=id)
        self.session = session
        self.tenant: models.Tenant | None = None
        self.etag = ""
        self.reason = settings_read_only_reason(session)

    def compose(self) -> ComposeResult:
        yield Static("Settings · Features", classes="section-title")
        with Horizontal(classes="feature"):
            yield Switch(
                self.session.user.live_chat_enabled,
                id="live-chat-switch",
                disabled=self.reason is not None,
            )
            yield Static(self._describe(), id="live-chat-text", classes="feature-text")
        yield Static("Reading the tenant…", id="features-status")
        yield Static("space: switch · r: read again · escape: back", id="features-keys")

    def on_mount(self) -> None:
        self.load()

    def action_refresh(self) -> None:
        self.load()

    def action_leave(self) -> None:
        self.post_message(LeaveSection())

    def _describe(self) -> Content:
        tenant = self.tenant.name if self.tenant is not None else self.session.user.tenant_name
        return Content.assemble(
            ("Live chat with IT support", "bold"),
            "\nWhen on, every user of ",
            safe(tenant or "your tenant", max_length=60),
            " finds Live Chat in the sidebar and can write to your IT support.",
        )

    def _show(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#features-status", Static)
        status.set_class(error, "-error")
        status.update(safe(text, max_length=None))

    def _set_switch(self, enabled: bool) -> None:
        switch = self.query_one("#live-chat-switch", Switch)
        with switch.prevent(Switch.Changed):
            switch.value = enabled

    def _follow(self, tenant: models.Tenant) -> None:
        """Show the server's switch, and let the sidebar follow it."""
        self.tenant = tenant
        self._set_switch(tenant.live_chat_enabled)
        self.query_one("#live-chat-text", Static).update(self._describe())
        self.post_message(LiveChatSwitched(tenant.live_chat_enabled))

    @work(exclusive=True, group="features", exit_on_error=False)
    async def load(self) -> None:
        tenant_id = self.session.user.tenant_id
        if tenant_id is None:
            return
        try:
            tenant, self.etag = await chat.load_tenant(self.session.client, tenant_id)
        except Unauthenticated as error:
            self.app.end_session(str(error))  # type: ignore[attr-defined]
            return
        except StratusError as error:
            self._show(f"Could not read the tenant: {error}", error=True)
            return
        self._follow(tenant)
        self._show(self.reason or self._state(tenant))

    @staticmethod
    def _state(tenant: models.Tenant) -> str:
        return "Live chat is on." if tenant.live_chat_enabled else "Live chat is off."

    @on(Switch.Changed, "#live-chat-switch")
    def _switched(self, event: Switch.Changed) -> None:
        event.stop()
        self.save(event.value)

    @work(exclusive=True, group="features-save", exit_on_error=False)
    async def save(self, enabled: bool) -> None:
        self._show("Saving…")
        try:
            if self.tenant is None:  # the first read failed: this is what the admin saw
                tenant_id = self.session.user.tenant_id
                assert tenant_id is not None  # the section is shown to a tenant's admins
                self.tenant, self.etag = await chat.load_tenant(self.session.client, tenant_id)
            result = await chat.save_live_chat(
                self.session.client,
                self.tenant,
                self.etag,
                enabled,
                read_only=self.session.read_only,
            )
        except Unauthenticated as error:
            self.app.end_session(str(error))  # type: ignore[attr-defined]
            return
        except (ReadOnlyProfile, StratusError) as error:
            self._set_switch(not enabled)
            self._show(f"Not changed: {error}", error=True)
            return
        self.etag = result.etag
        self._follow(result.tenant)
        if result.refused:
            self._show(f"Not changed: {result.refused}.", error=True)
        else:
            self._show(self._state(result.tenant) + " Saved.")
