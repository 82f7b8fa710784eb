"""The REST contract (``models``) and, later, the client that speaks it."""
