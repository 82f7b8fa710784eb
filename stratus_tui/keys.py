"""Every remappable key binding: its id, default keys and description, in one place.

The UI builds its Textual bindings from this table, the help screen lists it, and the config
loader checks a ``keymap:`` section against it, so a typo in a binding id is a clear error
at start-up rather than a key that silently does nothing. No Textual import: the config
loader runs before the UI is imported.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeySpec:
    id: str
    keys: str  # Textual key names, comma-separated alternatives
    label: str  # short, for the footer
    description: str  # the help screen's line
    scope: str  # where it applies, as the help screen groups it


KEYS: tuple[KeySpec, ...] = (
    KeySpec("quit", "ctrl+q", "Quit", "Quit stratus-tui (logs out first)", "everywhere"),
    KeySpec(
        "palette",
        "ctrl+p",
        "Palette",
        "Command palette: every page and action, by name",
        "everywhere",
    ),
    KeySpec(
        "help", "question_mark,f1", "Help", "Help for this page and the focused item", "everywhere"
    ),
    KeySpec(
        "suspend",
        "ctrl+z",
        "Suspend",
        "Suspend to the shell (fg resumes; the idle limit still counts)",
        "everywhere",
    ),
    KeySpec(
        "back",
        "escape",
        "Back",
        "Back: close a dialog, leave a field, return to the sidebar",
        "everywhere",
    ),
    KeySpec("refresh", "r", "Refresh", "Fetch this page again from the server", "pages"),
    KeySpec("filter", "slash", "Filter", "Filter this list as you type", "lists"),
    KeySpec("pause", "p", "Pause", "Pause or resume the automatic refresh", "pages"),
    KeySpec(
        "details",
        "i",
        "Details",
        "Details of the focused item; in a list, show or hide the detail pane",
        "pages",
    ),
    KeySpec("download", "d", "Download CSV", "Download this page's report as a CSV file", "pages"),
    KeySpec(
        "lost_calls_pdf",
        "l",
        "Lost calls PDF",
        "Download the lost calls of the report's range as a PDF",
        "reports",
    ),
    KeySpec("sort", "s", "Sort", "Sort by the next column (again: the other way round)", "lists"),
    KeySpec("range", "f", "Range", "Choose the time range of a report", "reports"),
    KeySpec("new", "n", "New", "Create a new item in this list", "lists"),
    KeySpec("edit", "e", "Edit", "Edit the highlighted item (Enter does too)", "lists"),
    KeySpec("delete", "delete", "Delete", "Delete the highlighted item (asks first)", "lists"),
    KeySpec(
        "toggle_active",
        "a",
        "(De)activate",
        "Deactivate or activate the highlighted agent",
        "lists",
    ),
    KeySpec(
        "mark", "space", "Mark", "Mark or unmark the highlighted item for a bulk edit", "lists"
    ),
    KeySpec("bulk_edit", "b", "Bulk edit", "Change one field of every marked item", "lists"),
    KeySpec("add_root", "N", "Add root", "In a tree: add an item at the top level", "lists"),
    KeySpec("import_file", "u", "Import", "Workflows: create one from an exported file", "lists"),
    KeySpec(
        "switch_workflow",
        "w",
        "Service's workflow",
        "Workflows: make a service use the highlighted one (asks first)",
        "lists",
    ),
    KeySpec(
        "erase", "x", "Erase", "Data Privacy: erase a customer identifier (asks twice)", "lists"
    ),
    KeySpec("retention", "t", "Retention", "Data Privacy: how long history is kept", "lists"),
    KeySpec("save", "ctrl+s", "Save", "Save the form", "forms"),
    KeySpec(
        "revert_field", "ctrl+r", "Revert field", "Put the focused field back as it was", "forms"
    ),
    KeySpec("toggle_ims", "m", "IMs", "Show or hide IMs in the call volume chart", "reports"),
    KeySpec("heat_weeks", "w", "Weeks", "Heatmap: last 1, 2, 3 or 4 weeks", "reports"),
    KeySpec("heat_kind", "k", "Calls/IMs", "Heatmap: calls or IMs", "reports"),
    KeySpec("sidebar", "ctrl+b", "Sidebar", "Move focus to the sidebar", "pages"),
    KeySpec("logout", "ctrl+l", "Log out", "Log out and return to the sign-in screen", "pages"),
    KeySpec("page_home", "1", "Home", "Go to Home", "sidebar"),
    KeySpec("page_agents", "2", "Agents", "Go to Agents", "sidebar"),
    KeySpec("page_services", "3", "Configuring Services", "Go to Configuring Services", "sidebar"),
    KeySpec("page_privacy", "4", "Data Privacy", "Go to Data Privacy", "sidebar"),
    KeySpec("page_chat", "5", "Live Chat", "Go to Live Chat", "sidebar"),
    KeySpec("page_settings", "6", "Settings", "Go to Settings", "sidebar"),
    KeySpec("page_reporting", "7", "Reporting", "Go to Reporting", "sidebar"),
)

KEY_IDS: frozenset[str] = frozenset(spec.id for spec in KEYS)


def spec(binding_id: str) -> KeySpec:
    return next(item for item in KEYS if item.id == binding_id)
