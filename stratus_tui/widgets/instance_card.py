"""One server instance: its host and every component with mode, version and state.

A stopped or degraded component stands out by colour **and** by a symbol and a word, so
it reads the same to the colour-blind and with ``NO_COLOR``.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from stratus_tui.api.models import ServerInstance
from stratus_tui.widgets.safe import safe

STATES = {
    "running": ("✔", "running", "$text-success"),
    "stopped": ("✖", "STOPPED", "bold $text-error"),
    "degraded": ("▲", "DEGRADED", "bold $text-warning"),
}
UNKNOWN_STATE = ("?", "unknown", "bold $text-warning")


def component_line(abbreviation: str, mode: str, version: str, state: str) -> Content:
    symbol, word, style = STATES.get(state, UNKNOWN_STATE)
    return Content.assemble(
        (f"{symbol} ", style),
        safe(abbreviation, max_length=4).pad_right(max(0, 4 - len(abbreviation[:4]))),
        " ",
        (f"{mode:<8}", "dim" if mode == "passive" else ""),
        " ",
        safe(version, max_length=14).pad_right(max(0, 14 - len(version[:14]))),
        " ",
        (word, style),
    )


def trusted_application(instance: ServerInstance) -> Content:
    app = instance.trusted_application
    return Content.assemble(
        "Trusted application\n",
        ("application id ", "dim"),
        safe(app.application_id),
        "\n",
        ("FQDN           ", "dim"),
        safe(app.fqdn),
        "\n",
        ("port           ", "dim"),
        str(app.port),
    )


class InstanceCard(Static, can_focus=True):
    """Focus it and press the details key (or hover) for the trusted application."""

    DEFAULT_CSS = """
    InstanceCard {
        height: auto; padding: 0 1; border: round $panel-lighten-2;
        border-title-color: $text; border-title-style: bold;
        border-subtitle-color: $text-muted;
    }
    InstanceCard:focus { border: round $accent; }
    InstanceCard.-trouble { border: round $error; }
    InstanceCard.-trouble:focus { border: double $error; }
    """
    HELP = """
## Server instance

Each line is a component: **state symbol**, abbreviation, mode (active / passive),
version and state. `✖ STOPPED` and `▲ DEGRADED` need attention.

Press **i** (or hover) for the instance's trusted application: application id, FQDN, port.
"""

    def __init__(self, instance: ServerInstance) -> None:
        super().__init__(id=f"instance-{instance.id}")
        self.instance: ServerInstance | None = None
        self.show_instance(instance)

    def show_instance(self, instance: ServerInstance) -> None:
        """Redraw only when something changed: an idle dashboard writes nothing."""
        if instance == self.instance:
            return
        self.instance = instance
        # Content, not str: a str title would be parsed as markup.
        self.border_title = safe(instance.name, max_length=40)
        self.border_subtitle = safe(instance.host, max_length=40)
        lines = [
            component_line(part.abbreviation, part.mode, part.version, part.state)
            for part in instance.components
        ]
        self.update(Content("\n").join(lines) if lines else Content("(no components)"))
        self.set_class(any(part.state != "running" for part in instance.components), "-trouble")
        self.tooltip = trusted_application(instance)
