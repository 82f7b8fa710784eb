"""The reference Stratus server: the REST contract of ``stratus_tui.api.models``, for real.

FastAPI on uvicorn, peewee on SQLite. It is what ``stratus-tui serve`` and ``demo`` run and
what every client test talks to. Nothing here imports the UI.
"""
