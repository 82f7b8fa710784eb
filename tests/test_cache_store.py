"""The cache file: where it lives, who may read it, how it repairs itself, how it goes."""

from __future__ import annotations

import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest

from stratus_tui.cache import schema
from stratus_tui.cache.files import describe, find_caches, purge_caches
from stratus_tui.cache.store import (
    NOTICE_UNREADABLE,
    NOTICE_VERSION,
    Cache,
    CacheError,
    cache_path,
)
from stratus_tui.config import paths

URL = "https://stratus.example.com:4444"
USER = "Anna.Muster@Example.com"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_one_private_file_per_profile_and_user_in_the_cache_folder() -> None:
    with Cache.open("prod", URL, USER) as cache:
        root = paths.cache_dir()
        assert cache.path.parent == root / "prod"
        assert cache.path.name.endswith(".sqlite3") and len(cache.path.stem) == 20
        assert "anna" not in str(cache.path).lower()
        assert mode(cache.path) == 0o600
        assert mode(cache.path.parent) == 0o700 and mode(root) == 0o700
        assert cache.get_state("user") == USER.lower() and cache.get_state("server") == URL
    # The same user and server, however they are spelled, is the same file; others are not.
    assert cache_path("prod", URL + "/", USER.lower()) == cache.path
    assert cache_path("prod", "HTTPS://Stratus.Example.com:4444", USER) == cache.path
    assert cache_path("prod", URL, "someone.else@example.com") != cache.path
    assert cache_path("lab", URL, USER).parent.name == "lab"
    for bad in ("", "..", "a/b", ".hidden"):
        with pytest.raises(ValueError, match="profile name"):
            cache_path(bad, URL, USER)


def test_the_database_settings(tmp_path: Path) -> None:
    with Cache.open("p", URL, USER, folder=tmp_path) as cache, cache.read() as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
        assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
        assert connection.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert cache.notice is None


def test_a_corrupt_file_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    path = cache_path("p", URL, USER, folder=tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database, whatever it once was" * 100)
    with Cache.open("p", URL, USER, folder=tmp_path) as cache:
        assert cache.notice == NOTICE_UNREADABLE
        cache.put_entities("agent", {"1": "{}"}, 100)
        assert cache.get_entities("agent") == ({"1": "{}"}, 100)
    broken = sorted(path.parent.glob(path.name + ".broken-*"))
    assert len(broken) == 1 and broken[0].read_bytes().startswith(b"this is not")
    # Opened again, it is fine: no notice, the data still there.
    with Cache.open("p", URL, USER, folder=tmp_path) as cache:
        assert cache.notice is None and cache.get_entities("agent")[0] == {"1": "{}"}


def test_a_damaged_page_is_found_and_repaired(tmp_path: Path) -> None:
    with Cache.open("p", URL, USER, folder=tmp_path) as cache:
        path = cache.path
    with path.open("r+b") as file:  # the header stays, the schema page is garbage
        file.seek(100)
        file.write(b"\xff" * 3000)
    with Cache.open("p", URL, USER, folder=tmp_path) as cache:
        assert cache.notice == NOTICE_UNREADABLE
        assert cache.cursor() == 0


def test_another_schema_version_is_rebuilt(tmp_path: Path) -> None:
    with Cache.open("p", URL, USER, folder=tmp_path) as cache, cache.write() as connection:
        connection.execute("PRAGMA user_version = 99")
    with Cache.open("p", URL, USER, folder=tmp_path) as cache:
        assert cache.notice == NOTICE_VERSION
        with cache.read() as connection:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
        assert version == schema.SCHEMA_VERSION


def test_entities_are_replaced_by_kind_and_say_how_old_they_are(tmp_path: Path) -> None:
    with Cache.open("p", URL, USER, folder=tmp_path) as cache:
        assert cache.get_entities("service") == ({}, None)
        cache.put_entities("service", {"1": '{"a": 1}', "2": '{"b": 2}'}, 100)
        cache.put_entities("agent", {"1": "{}"}, 90)
        cache.put_entities("service", {"2": '{"b": 3}'}, 200, replace_kind=False)
        assert cache.get_entities("service") == ({"1": '{"a": 1}', "2": '{"b": 3}'}, 100)
        cache.put_entities("service", {"3": "{}"}, 300)
        assert cache.get_entities("service") == ({"3": "{}"}, 300)
        cache.put_entities("service", {}, 400)  # fetched: there are none now
        assert cache.get_entities("service") == ({}, 400)
        assert cache.get_entities("agent") == ({"1": "{}"}, 90)


def test_history_bounds_and_state(tmp_path: Path) -> None:
    with Cache.open("p", URL, USER, folder=tmp_path) as cache:
        assert cache.history_bounds() == (None, None)
        assert cache.cursor() == 0 and cache.last_sync() is None
        with cache.write() as connection:
            connection.executemany(
                "INSERT INTO conversation VALUES (?,?,1,?,NULL,NULL,'call','inbound',0,?,"
                "NULL,?,'lost',5,0,0,'+41')",
                [(1, 1, 3, 500, 505), (2, 2, 4, 300, 310), (3, 3, 3, 900, 905)],
            )
        assert cache.history_bounds() == (300, 900)


def test_writers_wait_for_each_other_instead_of_failing(tmp_path: Path) -> None:
    first = Cache.open("p", URL, USER, folder=tmp_path)
    second = Cache.open("p", URL, USER, folder=tmp_path)  # another process's connection
    holding = threading.Event()

    def hold() -> None:
        with first.write() as connection:
            connection.execute("INSERT INTO state VALUES ('a', '1')")
            holding.set()
            time.sleep(0.5)

    worker = threading.Thread(target=hold)
    worker.start()
    holding.wait()
    started = time.monotonic()
    with second.write() as connection:  # a read then a write: IMMEDIATE makes it wait
        value = connection.execute("SELECT value FROM state WHERE key = 'a'").fetchone()
        connection.execute("INSERT INTO state VALUES ('b', '2')")
    worker.join()
    assert value == ("1",) and time.monotonic() - started >= 0.3
    first.close()
    second.close()


def test_purge_deletes_the_file_and_its_companions(tmp_path: Path) -> None:
    cache = Cache.open("p", URL, USER, folder=tmp_path)
    cache.lock_path.touch()
    cache.set_state({"x": 1})
    gone = cache.purge()
    assert cache.path in gone and not list(cache.path.parent.iterdir())
    with pytest.raises(CacheError, match="closed"):
        cache.cursor()


def test_caches_are_listed_and_purged_by_profile(tmp_path: Path) -> None:
    for profile, user in (("prod", "a@x"), ("prod", "b@x"), ("lab", "a@x")):
        with Cache.open(profile, URL, user, folder=tmp_path) as cache:
            cache.set_state({"last_sync": 1_790_000_000})
    (tmp_path / "prod" / "notes.txt").write_text("not ours")
    assert [path.parent.name for path in find_caches(folder=tmp_path)] == ["lab", "prod", "prod"]
    info = describe(find_caches("lab", folder=tmp_path)[0])
    assert (info.user, info.server, info.last_sync, info.conversations) == (
        "a@x",
        URL,
        1_790_000_000,
        0,
    )
    assert info.problem is None and info.size > 0
    gone = purge_caches("prod", folder=tmp_path)
    assert {path.parent.name for path in gone} == {"prod"}
    assert (tmp_path / "prod" / "notes.txt").exists() and find_caches(folder=tmp_path)
    purge_caches(folder=tmp_path)
    assert find_caches(folder=tmp_path) == [] and not (tmp_path / "lab").exists()


def test_an_unusable_folder_is_a_cache_error(tmp_path: Path) -> None:
    (tmp_path / "p").write_text("a file where the profile folder belongs")
    with pytest.raises(CacheError, match=r"could not be opened|not usable"):
        Cache.open("p", URL, USER, folder=tmp_path)


def test_describe_reports_an_unreadable_file(tmp_path: Path) -> None:
    path = cache_path("p", URL, USER, folder=tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage" * 1000)
    info = describe(path)
    assert info.problem and info.conversations is None
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(path).execute("SELECT 1 FROM state")
