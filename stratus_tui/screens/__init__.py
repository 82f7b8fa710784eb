"""Screens and pages: they own state, run IO in workers, and pass plain data down."""
