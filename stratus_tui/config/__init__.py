"""User configuration: profiles from YAML, and the XDG places the TUI keeps its files."""
