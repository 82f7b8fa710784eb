"""`status` and `export` with an O365 profile: the sign-in the TUI kept, or exit 3 saying how.

The server runs as `stratus-tui serve --o365-demo` (its own identity provider on loopback),
the sign-in goes through the real msal code, the commands are child processes.
"""

from __future__ import annotations

import os
import re
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from stratus_tui.api import models
from stratus_tui.auth.o365 import O365SignIn
from stratus_tui.auth.token_store import open_store
from tests.conftest import CONTOSO_ADMIN
from tests.test_status_command import assert_one_line_error, cli

IDP_LINE = re.compile(r"identity provider on (https://\S+) \(CA (.+)\)")


@dataclass(frozen=True)
class DemoServer:
    url: str
    idp_url: str
    ca: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    folder = tmp_path_factory.mktemp("o365-server")
    database, log_path = folder / "server.sqlite3", folder / "server.log"
    command = [sys.executable, "-m", "stratus_tui", "serve", "--port", "0", "--calls", "0"]
    with log_path.open("w") as log:
        child = subprocess.Popen(
            [*command, "--o365-demo", "--db", str(database)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        deadline = time.monotonic() + 60
        while not (found := IDP_LINE.search(log_path.read_text())):
            assert child.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
        url = re.search(r"listening on (http://\S+)", log_path.read_text())
        assert url is not None
        yield DemoServer(url.group(1), found.group(1), Path(found.group(2)))
    finally:
        child.terminate()
        child.wait(timeout=15)


def write_config(folder: Path, server: DemoServer, profile: str, cache: str | None) -> Path:
    config = folder / "config.yaml"
    kept = f"    o365_cache: {cache}\n" if cache else ""
    config.write_text(
        f"profiles:\n  {profile}:\n    url: {server.url}\n    username: {CONTOSO_ADMIN}\n"
        f"    auth: o365\n    ca_bundle: {server.ca}\n{kept}"
    )
    config.chmod(0o600)
    return config


def sign_in_as_the_tui_does(server: DemoServer, profile: str) -> None:
    """A device-code sign-in kept in the profile's token file, approved over HTTPS."""
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=10) as api:
        answer = api.get("/auth/o365-config", params={"domain": "contoso.com"})
        config = models.O365Config.model_validate_json(answer.content)
    signer = O365SignIn(config, open_store("file", profile), ca_bundle=server.ca)
    code = signer.start()
    approved = httpx.post(
        f"{server.idp_url}/device",
        data={"code": code.user_code, "user": CONTOSO_ADMIN},
        verify=ssl.create_default_context(cafile=str(server.ca)),
    )
    assert approved.status_code == 200, approved.text
    signer.wait()
    signer.close()


def environment(config: Path) -> dict[str, str]:
    # The children keep their tokens where this test does (the XDG folders of tmp_path).
    names = ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")
    return {"STRATUS_TUI_CONFIG": str(config), **{name: os.environ[name] for name in names}}


@pytest.mark.socket
def test_a_kept_sign_in_lets_status_and_export_run(served: DemoServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, served, "contoso", "file")
    env = environment(config)
    before = cli("status", "--profile", "contoso", password=None, **env)
    assert before.returncode == 3 and "Traceback" not in before.stderr
    warning, error = before.stderr.splitlines()  # the config file's warning about `file`
    assert "plain text" in warning
    assert error == (
        "stratus-tui status: no O365 sign-in kept for admin@contoso.com: "
        "run the TUI once to sign in (stratus-tui --profile contoso)"
    )

    sign_in_as_the_tui_does(served, "contoso")
    result = cli("status", "--profile", "contoso", password=None, **env)
    assert result.returncode == 0, result.stderr
    exported = tmp_path / "usage.csv"
    export = cli(
        "export", "license-usage", "--profile", "contoso", "--output", str(exported),
        password=None, **env,
    )  # fmt: skip
    assert export.returncode == 0, export.stderr
    assert exported.read_text(encoding="utf-8-sig").startswith("date")


@pytest.mark.socket
def test_a_profile_that_keeps_nothing_says_how_to_keep_it(
    served: DemoServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, served, "contoso", None)
    result = cli("status", "--profile", "contoso", password=None, **environment(config))
    assert result.returncode == 3
    assert_one_line_error(result, "keeps no sign-in between runs", "o365_cache: keyring")
