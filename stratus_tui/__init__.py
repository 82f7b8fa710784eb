"""stratus-tui: a terminal UI for Stratus Agent contact-center administrators."""

__version__ = "0.1.0"
