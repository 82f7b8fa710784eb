"""Signing in and staying signed in: the idle clock (and, later, O365 via msal)."""
