"""Reusable widgets. They get plain data and report with messages; no IO here."""
