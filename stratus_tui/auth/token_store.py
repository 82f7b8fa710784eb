"""Where msal's O365 token cache lives between sign-ins: memory, the OS keyring, or a file.

Memory is the default (SECURITY.md B): the refresh token lives as long as the process, so a
sign-in after an idle expiry needs no new device code, and nothing is written to disk. A
profile opts in to keeping it across starts with ``o365_cache: keyring`` (the optional
``keyring`` extra) or, explicitly, ``o365_cache: file``: a 0600 file in the state folder,
plain text, with a warning at start-up, as ``gh`` does without a keyring.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path
from typing import Protocol

from stratus_tui.config.settings import TokenCacheKind

KEYRING_SERVICE = "stratus-tui"


class TokenStoreError(Exception):
    """The store cannot be used; the message is one line for the user."""


class TokenStore(Protocol):
    persistent: bool  # survives the process: a later start can sign in silently

    def load(self) -> str | None: ...

    def save(self, serialized: str) -> None: ...

    def clear(self) -> None: ...


class MemoryStore:
    """For the life of the process: shared by every sign-in to one profile."""

    persistent = False
    _caches: dict[str, str] = {}
    _lock = threading.Lock()

    def __init__(self, key: str) -> None:
        self.key = key

    def load(self) -> str | None:
        with self._lock:
            return self._caches.get(self.key)

    def save(self, serialized: str) -> None:
        with self._lock:
            self._caches[self.key] = serialized

    def clear(self) -> None:
        with self._lock:
            self._caches.pop(self.key, None)

    @classmethod
    def forget_all(cls) -> None:
        with cls._lock:
            cls._caches.clear()

    @classmethod
    def secrets(cls) -> list[str]:
        """Every token the kept sign-ins hold (msal's ``secret`` fields: access, refresh
        and ID tokens), for a crash log to mask."""
        with cls._lock:
            caches = list(cls._caches.values())
        found: list[str] = []
        for text in caches:
            with contextlib.suppress(ValueError):
                _collect_secrets(json.loads(text), found)
        return found


def _collect_secrets(node: object, found: list[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "secret" and isinstance(value, str) and value:
                found.append(value)
            else:
                _collect_secrets(value, found)
    elif isinstance(node, list):
        for item in node:
            _collect_secrets(item, found)


class KeyringStore:
    """The OS keyring (Secret Service, Keychain, Credential Locker) through ``keyring``."""

    persistent = True

    def __init__(self, key: str) -> None:
        try:
            import keyring
            import keyring.errors
        except ImportError:
            raise TokenStoreError(
                "o365_cache: keyring needs the keyring package: pip install 'stratus-tui[keyring]'"
            ) from None
        self._keyring = keyring
        self._errors = keyring.errors
        self.account = f"o365:{key}"

    def load(self) -> str | None:
        try:
            return self._keyring.get_password(KEYRING_SERVICE, self.account)
        except self._errors.KeyringError as error:
            raise TokenStoreError(f"cannot read the OS keyring: {error}") from None

    def save(self, serialized: str) -> None:
        try:
            self._keyring.set_password(KEYRING_SERVICE, self.account, serialized)
        except self._errors.KeyringError as error:
            raise TokenStoreError(f"cannot write to the OS keyring: {error}") from None

    def clear(self) -> None:
        with contextlib.suppress(self._errors.KeyringError):
            self._keyring.delete_password(KEYRING_SERVICE, self.account)


class FileStore:
    """A plain-text file only its owner can read (0600), replaced atomically."""

    persistent = True

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise TokenStoreError(f"cannot read {self.path}: {error}") from None

    def save(self, serialized: str) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
            descriptor = os.open(temporary, flags, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(serialized)
            temporary.replace(self.path)
        except OSError as error:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise TokenStoreError(f"cannot write {self.path}: {error.strerror or error}") from None

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def token_file(profile: str) -> Path:
    """Where ``o365_cache: file`` keeps a profile's O365 tokens."""
    from stratus_tui.config import paths

    return paths.state_dir() / f"o365-tokens-{profile}.json"


def open_store(kind: TokenCacheKind, profile: str) -> TokenStore:
    """The store a profile asked for; raises :class:`TokenStoreError` if it cannot be had."""
    if kind == "keyring":
        return KeyringStore(profile)
    if kind == "file":
        return FileStore(token_file(profile))
    return MemoryStore(profile)


def forget_sign_in(kind: TokenCacheKind, profile: str) -> None:
    """An explicit log out: the kept O365 sign-in goes too (blocking: call in a thread)."""
    with contextlib.suppress(TokenStoreError):
        open_store(kind, profile).clear()
