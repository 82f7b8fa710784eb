"""Where the O365 sign-in is kept: memory by default, the OS keyring or a 0600 file on request."""

from __future__ import annotations

import stat
from pathlib import Path

import keyring
import pytest

from stratus_tui.auth.token_store import (
    KEYRING_SERVICE,
    FileStore,
    KeyringStore,
    MemoryStore,
    TokenStoreError,
    forget_sign_in,
    open_store,
    token_file,
)
from tests.fake_keyring import BrokenKeyring, MemoryKeyring


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_memory_is_the_default_and_writes_nothing(tmp_path: Path) -> None:
    store = open_store("memory", "prod")
    assert isinstance(store, MemoryStore) and not store.persistent
    store.save('{"RefreshToken": {}}')
    assert open_store("memory", "prod").load() == '{"RefreshToken": {}}'  # same process
    assert open_store("memory", "lab").load() is None  # per profile
    forget_sign_in("memory", "prod")
    assert store.load() is None
    assert files_under(tmp_path) == []  # the XDG folders of this test stay empty


def test_the_keyring_keeps_it_per_profile(memory_keyring: MemoryKeyring) -> None:
    store = open_store("keyring", "prod")
    assert isinstance(store, KeyringStore) and store.persistent
    store.save("cache")
    assert memory_keyring.items == {(KEYRING_SERVICE, "o365:prod"): "cache"}
    assert open_store("keyring", "prod").load() == "cache"
    forget_sign_in("keyring", "prod")
    forget_sign_in("keyring", "prod")  # twice: nothing left is not an error
    assert memory_keyring.items == {}


def test_a_locked_keyring_is_a_clear_error() -> None:
    before = keyring.get_keyring()
    keyring.set_keyring(BrokenKeyring())
    try:
        with pytest.raises(TokenStoreError, match="cannot write to the OS keyring: the keyring is"):
            open_store("keyring", "prod").save("cache")
    finally:
        keyring.set_keyring(before)


def test_the_file_is_private_and_replaced_whole(tmp_path: Path) -> None:
    store = open_store("file", "prod")
    assert isinstance(store, FileStore) and store.path == token_file("prod")
    assert str(store.path).startswith(str(tmp_path))  # the state folder, not the config
    store.save("first")
    store.save("second")
    assert store.load() == "second"
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) & 0o077 == 0
    assert [path.name for path in files_under(store.path.parent)] == [store.path.name]
    forget_sign_in("file", "prod")
    assert not store.path.exists()


def test_an_unwritable_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("a file where the folder should be")
    with pytest.raises(TokenStoreError, match="cannot write"):
        FileStore(tmp_path / "state" / "tokens.json").save("x")
