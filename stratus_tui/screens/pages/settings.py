"""Settings: "Where to start" and the sections it leads to, in the product's set-up order.

The page opens on a checklist (org units, duty profiles, traits, services, workflows; then
responsibilities and O365 applications) saying which steps the tenant has done and pointing
at the first that is not. Enter opens a section in the page's place; escape in a section comes
back here (and the checklist is counted again). Sections are created when first opened.

Team admins get the same sections to look at, read-only (they assign duty profiles, traits
and workflows to their agents and services but change none of them), without the checklist's
"to do" and without O365 applications.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.widgets import ContentSwitcher, OptionList, Static
from textual.widgets.option_list import Option

from stratus_tui.api import models
from stratus_tui.api.errors import StratusError, Unauthenticated
from stratus_tui.records.editing import Editor
from stratus_tui.records.setup import Step, first_to_do, steps
from stratus_tui.screens.bindings import bind
from stratus_tui.screens.pages.sections import TEAM_ADMIN_READ_ONLY, LeaveSection

if TYPE_CHECKING:
    from stratus_tui.session import Session

START = "settings-start"


def section_widget(section: str, session: Session) -> Widget:
    """The widget of a section (imported on first use: each is a page of its own)."""
    if section == "org-units":
        from stratus_tui.screens.pages.settings_trees import OrgUnitsSection

        return OrgUnitsSection(session, id=section)
    if section == "traits":
        from stratus_tui.screens.pages.settings_trees import TraitsSection

        return TraitsSection(session, id=section)
    if section == "workflows":
        from stratus_tui.screens.pages.settings_workflows import WorkflowsSection

        return WorkflowsSection(session, id=section)
    if section == "features":
        from stratus_tui.screens.pages.settings_features import FeaturesSection

        return FeaturesSection(session, id=section)
    from stratus_tui.screens.pages import settings_lists
    from stratus_tui.screens.pages.records_page import RecordsPage

    kinds: dict[str, type[RecordsPage[Any]]] = {
        "duty-profiles": settings_lists.DutyProfilesSection,
        "responsibilities": settings_lists.ResponsibilitiesSection,
        "o365": settings_lists.O365AppsSection,
        "teams": settings_lists.TeamsSection,
    }
    return kinds[section](session, id=section)


class SettingsPage(Vertical):
    DEFAULT_CSS = """
    SettingsPage { padding: 0 1; }
    SettingsPage #settings-sections { height: 1fr; }
    SettingsPage .page-title { text-style: bold; color: $accent; height: 1; }
    SettingsPage #setup-note { margin: 1 0; height: auto; }
    SettingsPage #setup-steps { height: auto; max-height: 1fr; border: none; }
    SettingsPage #setup-keys { color: $text-muted; height: auto; margin-top: 1; }
    """
    HELP = """
## Settings

**Where to start** lists the set-up steps in the order the product recommends, which of
them your tenant has done (✓) and which not yet (○). **Enter** opens a step; **escape** in a
step comes back here. **r** counts again. Tenant admins also find **Features** there: live
chat with IT support, on or off for the whole tenant.
"""
    BINDINGS = [bind("refresh", "refresh")]

    def __init__(self, session: Session, *, id: str) -> None:
        super().__init__(id=id)
        self.session = session
        self.editor = Editor(session.client, session.cache, read_only=session.read_only)
        self.found: list[Step] = []
        self.changes_settings = session.user.role != "team_admin"
        # The tenant's own switches (live chat) are its tenant admins'; system admins set
        # them per tenant elsewhere.
        self.features = session.user.role == "tenant_admin" and session.user.tenant_id is not None

    def compose(self) -> ComposeResult:
        with ContentSwitcher(id="settings-sections", initial=START), Vertical(id=START):
            title = "Where to start" if self.changes_settings else "read-only"
            yield Static(f"Settings · {title}", classes="page-title")
            yield Static("Counting what your tenant has…", id="setup-note")
            yield OptionList(id="setup-steps")
            recount = " · r: count again" if self.changes_settings else ""
            yield Static(f"enter: open{recount} · escape: sidebar", id="setup-keys")

    def on_mount(self) -> None:
        self.count_steps()

    def on_show(self) -> None:
        # Back from another page (a service created there): count again.
        if self.found:
            self.count_steps()

    def action_refresh(self) -> None:
        self.count_steps()

    @work(exclusive=True, group="settings-steps", exit_on_error=False)
    async def count_steps(self) -> None:
        if not self.changes_settings:  # nothing to count for a reader
            self.found = steps(None, None, changes_settings=False)
            self._show_steps()
            return
        try:
            reference = await self.editor.fetch_reference()
            services = await self.session.client.get_page("/services", models.Service, limit=1)
        except Unauthenticated as error:
            self.app.end_session(str(error))  # type: ignore[attr-defined]
            return
        except StratusError as error:
            # Uncounted, the sections still open on what the cache has.
            self.found = steps(None, None, features=self.features)
            self._show_steps()
            self.query_one("#setup-note", Static).update(
                Content(f"Could not count the set-up steps: {error}")
            )
            return
        self.found = steps(reference, services.total, features=self.features)
        self._show_steps()

    def _show_steps(self) -> None:
        listing = self.query_one("#setup-steps", OptionList)
        highlighted = listing.highlighted
        listing.clear_options()
        to_do = first_to_do(self.found)
        for step in self.found:
            if step.count is None:
                mark, state = "·", ""
            elif step.done:
                mark, state = "✓", f"{step.count} so far"
            else:
                mark, state = "○", "none yet"
            start = "  ◀ start here" if step is to_do else ""
            line = Content.assemble(
                (f"{mark} ", "bold $text-success" if step.done and step.count else "bold"),
                (f"{step.title:<22}", "bold" if step is to_do else ""),
                (f" {state:<12}", "dim"),
                (start, "bold $text-warning"),
                ("\n    " + step.why, "dim"),
            )
            listing.add_option(Option(line, id=step.id))
        note = self.query_one("#setup-note", Static)
        if not self.changes_settings:
            note.update(Content(f"{TEAM_ADMIN_READ_ONLY} Enter opens one."))
        elif to_do is None:
            note.update(Content("Every set-up step is done. Open any of them to change it."))
        else:
            note.update(Content(f"Next step: {to_do.title}. Press Enter to open it."))
        # First the next step to do; after that the cursor stays where the user left it
        # (a recount finishing late must not move it under a key press).
        if highlighted is None:
            highlighted = self.found.index(to_do) if to_do is not None else 0
        listing.highlighted = highlighted

    @on(OptionList.OptionSelected, "#setup-steps")
    async def _step_chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            await self.open_section(event.option.id)

    async def open_section(self, section: str) -> None:
        if section == "services":  # a page of its own
            self.screen.action_open_page("services")  # type: ignore[attr-defined]
            return
        switcher = self.query_one("#settings-sections", ContentSwitcher)
        try:
            shown = switcher.query_one(f"#{section}")
        except NoMatches:
            shown = section_widget(section, self.session)
            await switcher.mount(shown)
        switcher.current = section
        self.call_after_refresh(self._focus_section, shown)

    def _focus_section(self, section: Widget) -> None:
        target = next(
            (widget for widget in self.screen.focus_chain if section in widget.ancestors), None
        )
        if target is not None:
            target.focus()

    @on(LeaveSection)
    def _back_to_start(self, event: LeaveSection) -> None:
        event.stop()
        self.query_one("#settings-sections", ContentSwitcher).current = START
        self.query_one("#setup-steps", OptionList).focus()
        self.count_steps()
