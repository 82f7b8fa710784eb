"""Route modules of the reference server, one per resource family."""
