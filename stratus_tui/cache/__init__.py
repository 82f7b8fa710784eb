"""The local cache: one SQLite file per (profile, user) with entities, history and rollups."""
