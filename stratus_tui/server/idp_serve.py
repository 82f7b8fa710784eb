"""The local identity provider served over HTTPS on loopback, by uvicorn in a daemon thread.

msal refuses authorities that are not https, so the demo and the tests serve
``IdentityProvider`` with a certificate of a private CA (``tls.loopback_certificate``); clients
trust it by the CA file (``RunningIdentityProvider.ca_path``), as a profile's ``ca_bundle``.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stratus_tui.server import tls
from stratus_tui.server.idp import IdentityProvider

if TYPE_CHECKING:
    import uvicorn


@dataclass
class RunningIdentityProvider:
    """An ``IdentityProvider`` served over HTTPS by uvicorn in a daemon thread."""

    url: str  # https://127.0.0.1:PORT
    ca_path: Path  # the CA clients trust the certificate by
    idp: IdentityProvider
    _server: uvicorn.Server
    _thread: threading.Thread
    _socket: socket.socket

    def authority(self, tenant: str) -> str:
        """The authority URL msal and the server use for an Azure tenant."""
        return f"{self.url}/{tenant}"

    def stop(self, timeout: float = 5.0) -> None:
        """Shut down; idempotent."""
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)
        self._socket.close()

    def __enter__(self) -> RunningIdentityProvider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_in_thread(
    folder: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    interval: int = 5,
    expires_in: int = 900,
    token_lifetime: int = 3600,
    user_hint: str = "you@contoso.com",
    startup_timeout: float = 10.0,
) -> RunningIdentityProvider:
    """Serve an ``IdentityProvider`` on ``host:port`` over TLS; returns once it answers.

    The certificate, its CA and the signing key live in ``folder`` (made 0700 if new).
    """
    import uvicorn

    from stratus_tui.server.serve import listen

    ca_path, cert_path, key_path = tls.loopback_certificate(folder)
    idp = IdentityProvider(
        folder,
        ca_path=ca_path,
        interval=interval,
        expires_in=expires_in,
        token_lifetime=token_lifetime,
        user_hint=user_hint,
    )
    sock = listen(host, port)
    config = uvicorn.Config(
        idp.app,
        ssl_certfile=str(cert_path),
        ssl_keyfile=str(key_path),
        log_config=None,  # leave the process's logging alone (tests, the server's own)
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as error:  # reported by the starting thread
            failures.append(error)

    thread = threading.Thread(target=run, name="identity-provider", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if failures or not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(2)
            sock.close()
            reason = repr(failures[0]) if failures else "it did not start in time"
            raise RuntimeError(f"the identity provider did not start: {reason}")
        time.sleep(0.01)
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    return RunningIdentityProvider(
        url=f"https://{shown_host}:{bound_port}",
        ca_path=ca_path,
        idp=idp,
        _server=server,
        _thread=thread,
        _socket=sock,
    )
