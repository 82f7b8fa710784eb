"""The pages shown beside the sidebar, one widget class per page id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widget import Widget

from stratus_tui.navigation import PageSpec
from stratus_tui.screens.pages.placeholder import PlaceholderPage

if TYPE_CHECKING:
    from stratus_tui.session import Session


def page_widget(spec: PageSpec, session: Session, refresh_seconds: int) -> Widget:
    """The widget for a page; pages a later version fills say what they will hold."""
    if spec.id == "home":
        from stratus_tui.screens.pages.home import HomePage

        return HomePage(session, refresh_seconds, id=spec.id)
    if spec.id == "agents":
        from stratus_tui.screens.pages.agents import AgentsPage

        return AgentsPage(session, id=spec.id)
    if spec.id == "services":
        from stratus_tui.screens.pages.services import ServicesPage

        return ServicesPage(session, id=spec.id)
    if spec.id == "privacy":
        from stratus_tui.screens.pages.privacy import PrivacyPage

        return PrivacyPage(session, id=spec.id)
    if spec.id == "chat":
        from stratus_tui.screens.pages.chat import ChatPage

        return ChatPage(session, id=spec.id)
    if spec.id == "settings":
        from stratus_tui.screens.pages.settings import SettingsPage

        return SettingsPage(session, id=spec.id)
    if spec.id == "reporting" and session.cache is not None:
        from stratus_tui.screens.pages.reporting import ReportingPage  # plotext: on demand

        return ReportingPage(session, id=spec.id)
    return PlaceholderPage(spec, id=spec.id)
