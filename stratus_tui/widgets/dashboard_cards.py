"""The dashboard's summary cards and its routing banner. Each redraws only on change."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from stratus_tui.dashboard import LicenseUse, ServicesSummary
from stratus_tui.health import Health, Level
from stratus_tui.widgets.safe import safe


class Card(Static, can_focus=True):
    DEFAULT_CSS = """
    Card {
        height: auto; min-height: 4; padding: 0 1;
        border: round $panel-lighten-2; border-title-color: $text-muted;
    }
    Card:focus { border: round $accent; }
    Card.-warning { border: round $warning; }
    """
    TITLE = ""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.border_title = self.TITLE
        self._shown: object = None

    def show(self, value: object, content: Content) -> None:
        if value != self._shown:
            self._shown = value
            self.update(content)


def _count_line(label: str, used: int, allowed: int) -> Content:
    near = LicenseUse.near(used, allowed)
    style = "bold $text-warning" if near else ""
    return Content.assemble(
        (f"{label:<12}", "dim"),
        (f"{used:,} of {allowed:,}", style),
        (" ▲" if near else "", style),
    )


class AgentsCard(Card):
    TITLE = "Total agents"
    HELP = """
## Total agents

Configured agents and supervisors against your license. A count at 90 % of its limit or
more is marked *near the limit*. **Enter** opens the Agents page.
"""
    BINDINGS = [Binding("enter", "open", "Open Agents", show=False)]

    class Selected(Message):
        """The user wants the agents behind the number."""

    def show_license(self, use: LicenseUse) -> None:
        near = LicenseUse.near(use.agents, use.agents_allowed) or LicenseUse.near(
            use.supervisors, use.supervisors_allowed
        )
        lines = [
            _count_line("agents", use.agents, use.agents_allowed),
            _count_line("supervisors", use.supervisors, use.supervisors_allowed),
        ]
        if near:
            lines.append(Content.styled("▲ near the license limit", "$text-warning"))
        self.set_class(near, "-warning")
        self.show(use, Content("\n").join(lines))

    def action_open(self) -> None:
        self.post_message(self.Selected())

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Selected())


class ServicesCard(Card):
    TITLE = "Services"
    HELP = """
## Services

Configuring services by kind (call, mail) and their endpoints in total.
"""

    def show_services(self, summary: ServicesSummary) -> None:
        lines = [("call", summary.call), ("mail", summary.mail), ("endpoints", summary.endpoints)]
        self.show(
            summary,
            Content("\n").join(
                Content.assemble((f"{label:<10}", "dim"), f"{count:>5,}") for label, count in lines
            ),
        )


class ComponentsCard(Card):
    TITLE = "Components"
    HELP = """
## Components

How many components run, across every backend and frontend instance.
"""

    def show_health(self, health: Health) -> None:
        all_running = health.running == health.total
        style = "$text-success" if all_running else "bold $text-warning"
        symbol = "✔" if all_running else "▲"
        content = Content.assemble(
            (f"{symbol} {health.running} of {health.total}", style), ("\nrunning", "dim")
        )
        self.set_class(not all_running, "-warning")
        self.show((health.running, health.total), content)


class RoutingBanner(Static):
    """Loud when calls cannot be routed, present when something needs attention."""

    DEFAULT_CSS = """
    RoutingBanner { height: auto; padding: 0 1; margin-bottom: 1; display: none; }
    RoutingBanner.-down { display: block; background: $error; color: $text; text-style: bold; }
    RoutingBanner.-degraded { display: block; background: $warning-muted; color: $text; }
    """

    def __init__(self) -> None:
        super().__init__(id="routing-banner")
        self._shown: Health | None = None

    def show_health(self, health: Health) -> None:
        if health == self._shown:
            return
        self._shown = health
        self.set_class(health.level is Level.DOWN, "-down")
        self.set_class(health.level is Level.DEGRADED, "-degraded")
        symbol = {Level.DOWN: "✖ ", Level.DEGRADED: "▲ "}.get(health.level, "")
        lines = [Content(symbol + health.summary)]
        lines += [
            Content("  • ")
            + (safe(problem.instance) + ": " if problem.instance else Content(""))
            + safe(f"{problem.component} {problem.what}")
            for problem in health.problems[:6]
        ]
        if len(health.problems) > 6:
            lines.append(Content(f"  … and {len(health.problems) - 6} more"))
        self.update(Content("\n").join(lines))
