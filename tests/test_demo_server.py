"""`stratus-tui demo`'s server: a real child process, its data kept, gone when its parent is."""

from __future__ import annotations

import io
import os
import re
import signal
import sqlite3
import ssl
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stratus_tui.config import paths
from stratus_tui.demo import DEMO_DB_NAME, DemoServer, DemoServerError
from stratus_tui.server import db
from stratus_tui.server.idp import DEVICE_CODE_GRANT
from tests.conftest import serve_child

pytestmark = [
    pytest.mark.socket,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and file modes"),
]

CALLS = 500  # a start that generates takes about a second

MakeServer = Callable[..., DemoServer]


def running(pid: int) -> bool:
    """True while ``pid`` runs (a zombie nobody has reaped yet counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    except OSError:
        return True  # no /proc (macOS): os.kill said it exists
    return state != "Z"


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def processes_mentioning(text: str) -> list[int]:
    """Processes whose command line contains ``text`` (Linux; elsewhere none are found)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if text.encode() in command and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[MakeServer]:
    """DemoServers with small data in tmp_path; all stopped, none left running, after the test."""
    servers: list[DemoServer] = []

    def make(**options: Any) -> DemoServer:
        options.setdefault("db_path", tmp_path / "data" / DEMO_DB_NAME)
        options.setdefault("log_path", tmp_path / "state" / "demo-server.log")
        options.setdefault("calls", CALLS)
        options.setdefault("progress", io.StringIO())
        server = DemoServer(**options)
        servers.append(server)
        return server

    try:
        yield make
    finally:
        for server in servers:
            server.stop()
        leftovers = [pid for pid in processes_mentioning(str(tmp_path)) if running(pid)]
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
        assert not leftovers, "server processes were left running"


def progress_of(server: DemoServer) -> str:
    assert isinstance(server.progress, io.StringIO)
    return server.progress.getvalue()


def health(url: str) -> int:
    return httpx.get(f"{url}/api/v1/health", timeout=10).status_code


def test_start_serves_fresh_demo_data_on_a_loopback_port(make_server: MakeServer) -> None:
    server = make_server()
    url = server.start()
    assert url == server.url
    assert url.startswith("http://127.0.0.1:")
    assert "Generating demo data (500 conversations)" in progress_of(server)
    assert health(url) == 200
    login = httpx.post(
        f"{url}/api/v1/auth/login",
        json={"username": "admin@demo.stratus", "password": "demo"},
        timeout=10,
    )
    assert login.status_code == 200
    assert login.json()["token"]


def test_a_second_start_reuses_the_database(make_server: MakeServer) -> None:
    with make_server() as first:
        assert "Generating" in progress_of(first)
    second = make_server()
    assert health(second.start()) == 200
    assert "Generating" not in progress_of(second)


def test_stop_ends_the_server_and_can_be_repeated(make_server: MakeServer) -> None:
    server = make_server()
    url = server.start()
    pid = server.pid
    assert pid is not None and running(pid)
    assert health(url) == 200  # serving: everything it prints before that is written
    server.stop()
    assert server.returncode == 128 + signal.SIGTERM  # a graceful exit, not SIGKILL
    assert not running(pid)
    assert server.pid is None
    server.stop()
    with pytest.raises(httpx.ConnectError):
        health(url)
    log = server.log_path.read_text()
    assert "Press Ctrl+C" in log  # its output after the ready line went to the log
    assert "Traceback" not in log and "Fatal" not in log


def test_the_context_manager_starts_and_stops(make_server: MakeServer) -> None:
    with make_server() as server:
        pid = server.pid
        assert pid is not None and health(server.url) == 200
    assert not running(pid)


def test_the_server_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    parent_code = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from stratus_tui.demo import DemoServer

        server = DemoServer(
            Path({str(tmp_path / DEMO_DB_NAME)!r}), calls={CALLS},
            log_path=Path({str(tmp_path / "demo.log")!r}), progress=None,
        )
        server.start()
        print(server.pid, flush=True)
        time.sleep(120)
    """)
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child_pid = None
    try:
        child_pid = int(parent.stdout.readline())
        assert running(child_pid)
        parent.kill()  # SIGKILL: no Python code of the parent runs any more
        parent.wait(timeout=10)
        assert wait_until(lambda: not running(child_pid), timeout=10)
        log = (tmp_path / "demo.log").read_text()
        assert "Traceback" not in log and "Fatal" not in log, log  # it shut down cleanly
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
        if child_pid is not None and running(child_pid):
            os.kill(child_pid, signal.SIGKILL)


def test_a_database_of_another_version_is_replaced(make_server: MakeServer, tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE tenant (id INTEGER PRIMARY KEY, name TEXT)")
        old.execute("PRAGMA user_version = 999")
    old.close()
    server = make_server(db_path=path)
    assert health(server.start()) == 200
    assert "from another version" in progress_of(server)
    assert "Generating demo data" in progress_of(server)
    server.stop()
    with sqlite3.connect(path) as new:
        assert new.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION
        assert new.execute("SELECT count(*) FROM tenant").fetchone()[0] > 0
    new.close()


def test_a_file_that_is_not_a_database_is_reported_and_kept(
    make_server: MakeServer, tmp_path: Path
) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"not a database, but someone's notes\n" * 100)
    server = make_server(db_path=path)
    with pytest.raises(DemoServerError, match="file is not a database") as raised:
        server.start()
    assert "\n" not in str(raised.value)
    assert str(server.log_path) in str(raised.value)
    assert server.pid is None
    assert path.read_bytes().startswith(b"not a database")


def test_a_server_not_ready_in_time_is_stopped(make_server: MakeServer) -> None:
    server = make_server(ready_timeout=0.05)
    with pytest.raises(DemoServerError, match=r"not ready within 0\.05 s"):
        server.start()
    assert server.pid is None  # the fixture checks that no process was left behind


def test_two_demos_starting_at_once_generate_the_data_once(make_server: MakeServer) -> None:
    servers = [make_server(), make_server()]
    threads = [threading.Thread(target=server.start) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(health(server.url) == 200 for server in servers)
    assert sum("Generating" in progress_of(server) for server in servers) == 1


def test_files_and_folders_are_private(make_server: MakeServer) -> None:
    server = make_server(db_path=None, log_path=None)  # the XDG folders (tmp_path in tests)
    assert server.db_path == paths.data_dir() / DEMO_DB_NAME
    assert server.log_path == paths.state_dir() / "demo-server.log"
    server.start()
    assert (paths.data_dir().stat().st_mode & 0o777) == 0o700
    assert (paths.state_dir().stat().st_mode & 0o777) == 0o700
    files = [server.log_path, *paths.data_dir().rglob("*")]
    assert {path.name for path in files} >= {
        "demo-server.log", DEMO_DB_NAME, f"{DEMO_DB_NAME}-wal", f"{DEMO_DB_NAME}-shm",
        f"{DEMO_DB_NAME}.lock", "idp", "ca.pem", "server.pem", "server-key.pem",
        "signing-key.pem",
    }  # fmt: skip
    assert {path.name: oct(path.stat().st_mode & 0o777) for path in files} == {
        path.name: "0o700" if path.is_dir() else "0o600" for path in files
    }
    assert server.idp_ca == paths.data_dir() / "idp" / "ca.pem"


def o365_config(url: str) -> dict[str, Any]:
    answer = httpx.get(f"{url}/api/v1/auth/o365-config", params={"domain": "contoso.com"})
    assert answer.status_code == 200
    return dict(answer.json())


def device_code_sign_in(idp_url: str, ca: Path, authority: str, client_id: str) -> Any:
    """Tokens for admin@contoso.com, approved as the device-code message's curl line does."""
    with httpx.Client(verify=ssl.create_default_context(cafile=ca), timeout=10) as http:
        flow = http.post(
            f"{authority}/oauth2/v2.0/devicecode",
            data={"client_id": client_id, "scope": f"api://{client_id}/access_as_user"},
        ).json()
        assert "curl --cacert" in flow["message"] and "admin@contoso.com" in flow["message"]
        approval = http.post(
            f"{idp_url}/device", data={"code": flow["user_code"], "user": "admin@contoso.com"}
        )
        assert approval.status_code == 200, approval.text
        form = {"grant_type": DEVICE_CODE_GRANT, "device_code": flow["device_code"],
                "client_id": client_id}  # fmt: skip
        answer = http.post(f"{authority}/oauth2/v2.0/token", data=form)
        assert answer.status_code == 200, answer.text
        return answer.json()


def o365_sign_in(url: str, access_token: str) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/auth/o365", json={"access_token": access_token}, timeout=15)


def test_the_demo_signs_o365_users_in_at_its_own_identity_provider(
    make_server: MakeServer,
) -> None:
    server = make_server()
    server.start()
    assert server.idp_url is not None and server.idp_url.startswith("https://127.0.0.1:")
    assert server.idp_ca is not None and server.idp_ca.is_file()
    config = o365_config(server.url)
    azure_tenant = config["authority"].rsplit("/", 1)[1]
    assert config["authority"] == f"{server.idp_url}/{azure_tenant}"
    tokens = device_code_sign_in(
        server.idp_url, server.idp_ca, config["authority"], config["client_id"]
    )
    session = o365_sign_in(server.url, tokens["access_token"])
    assert session.status_code == 200, session.text
    assert session.json()["user"]["upn"] == "admin@contoso.com"
    first_idp = server.idp_url
    server.stop()

    # Restarted on other ports: the application follows, and the refresh token still works.
    again = make_server()
    again.start()
    assert again.idp_url is not None and again.idp_url != first_idp
    config = o365_config(again.url)
    assert config["authority"] == f"{again.idp_url}/{azure_tenant}"
    with httpx.Client(verify=ssl.create_default_context(cafile=again.idp_ca)) as http:
        form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                "client_id": config["client_id"]}  # fmt: skip
        refreshed = http.post(f"{config['authority']}/oauth2/v2.0/token", data=form)
    assert refreshed.status_code == 200, refreshed.text
    assert o365_sign_in(again.url, refreshed.json()["access_token"]).status_code == 200
    stale = o365_sign_in(again.url, tokens["access_token"])  # issued by the old address
    assert stale.status_code == 401 and "wrong issuer" in stale.json()["detail"]


def test_serve_o365_demo_prints_its_identity_provider(tmp_path: Path) -> None:
    with serve_child(tmp_path / "served.sqlite3", "--calls", "0", "--o365-demo") as served:
        assert served.process.stdout is not None
        line = served.process.stdout.readline()
        found = re.search(r"identity provider on (https://\S+) \(CA (.+)\)", line)
        assert found, line
        idp_url, ca = found.group(1), Path(found.group(2))
        assert ca == tmp_path / "idp" / "ca.pem"
        config = o365_config(served.url)
        assert config["enabled"] and config["authority"].startswith(f"{idp_url}/")
        discovery = httpx.get(
            f"{config['authority']}/v2.0/.well-known/openid-configuration",
            verify=ssl.create_default_context(cafile=ca),
        )
        assert discovery.json()["issuer"] == f"{config['authority']}/v2.0"
