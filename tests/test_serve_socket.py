"""`stratus-tui serve` for real: a child process, uvicorn on a loopback port, HTTP over TCP."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.socket


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    command = [sys.executable, "-m", "stratus_tui", "serve", "--port", "0", "--calls", "2000",
               "--db", str(tmp_path / "served.sqlite3")]  # fmt: skip
    child = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None
    lines: list[str] = []
    url = None
    for line in child.stdout:
        lines.append(line.rstrip())
        if found := re.search(r"listening on (http://\S+)", line):
            url = found.group(1)
        if line.startswith("Press Ctrl+C"):
            break
    try:
        assert url, "\n".join(lines)
        yield url, lines
    finally:
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=15) == 130  # the shell's code for "stopped by Ctrl+C"
        rest = child.stdout.read()
        assert "Traceback" not in rest, rest


def test_serve_answers_over_a_loopback_socket(served: tuple[str, list[str]]) -> None:
    url, lines = served
    assert url.startswith("http://127.0.0.1:")
    assert any("admin@demo.stratus" in line and "tenant_admin" in line for line in lines)
    with httpx.Client(base_url=f"{url}/api/v1", timeout=10) as http:
        login = http.post(
            "/auth/login", json={"username": "admin@demo.stratus", "password": "demo"}
        )
        assert login.status_code == 200
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        instances = http.get("/instances", headers=headers)
        assert instances.status_code == 200
        assert {item["name"] for item in instances.json()} >= {"STRATUS-BE01", "STRATUS-BE02"}
        assert http.get("/o365-apps", headers=headers).status_code == 200
        member = http.post(
            "/auth/login", json={"username": "member@demo.stratus", "password": "demo"}
        )
        member_headers = {"Authorization": f"Bearer {member.json()['token']}"}
        assert http.get("/users", headers=member_headers).status_code == 403


def test_serve_stops_cleanly_on_sigterm_and_removes_its_temporary_database(
    tmp_path: Path,
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "stratus_tui", "serve", "--port", "0", "--calls", "100"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "TMPDIR": str(tmp_path)},
    )
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith("Press Ctrl+C"):
            break
    assert list(tmp_path.glob("stratus-serve-*"))
    child.terminate()
    assert child.wait(timeout=15) == 128 + signal.SIGTERM
    assert "Traceback" not in child.stdout.read()
    assert not list(tmp_path.glob("stratus-serve-*"))


def test_serve_refuses_a_busy_port(served: tuple[str, list[str]], tmp_path: Path) -> None:
    url, _ = served
    port = url.rsplit(":", 1)[1]
    result = subprocess.run(
        [sys.executable, "-m", "stratus_tui", "serve", "--port", port,
         "--db", str(tmp_path / "other.sqlite3"), "--calls", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
