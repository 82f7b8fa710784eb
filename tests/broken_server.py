"""A deliberately broken HTTP server on a loopback socket, in front of the reference server.

``BrokenServer`` speaks HTTP/1.1 itself (asyncio streams, in a thread of its own), so it
can misbehave where a framework would not let it: answer too late or never, close the
connection after accepting it, promise more body than it sends, stream without end. Every
request it does not break goes to the upstream, the in-process reference server (an ASGI
app) or a reference server's address, so a client signs in and works normally until a
test throws a switch::

    with BrokenServer(server_app) as broken:
        client = StratusClient(broken.url, ...)
        broken.fail("html-502", path="/api/v1/instances")
        ...
        broken.heal()

``hits`` counts the requests that arrived, per ``"METHOD /path"`` (no query), broken or
not: what proves that a POST was sent once and never replayed. ``accept-close`` reads
nothing, so it counts ``connections`` instead; ``log`` lists what came and what each got.

The modes (``MODES``):

- ``slow``: answers only after ``delay`` seconds (beyond the client's read timeout); if
  the client gave up meanwhile, the request is dropped, never forwarded;
- ``trickle``: the real answer, its headers at once and then its body ``piece`` bytes
  every ``interval`` seconds, each within the read timeout, the whole far beyond it;
- ``hang``: reads the request and never answers;
- ``close``: reads the request and closes the connection without a word;
- ``accept-close``: closes every new connection as soon as it is accepted (and the idle
  kept-alive ones when switched on), before reading anything;
- ``html-502``: a proxy's HTML "502 Bad Gateway" page;
- ``truncated``: the real answer's headers with its full ``Content-Length``, half of its
  body, then the connection closed;
- ``huge``: a 200 declaring a ``Content-Length`` of a terabyte; ``huge-stream``: a chunked
  200 without a length that never ends (until the client hangs up);
- ``malformed``: the real answer cut in half, complete as HTTP (a correct length);
- ``deep``: JSON nested 100,000 arrays deep;
- ``nan``, ``wrong-types``, ``duplicate-keys``: the real answer with its first number made
  ``NaN``, with its strings and numbers swapped, with a key of its first object repeated;
- ``429``: problem+json with ``Retry-After`` (seconds by default); ``503``: a proxy's HTML
  page with ``Retry-After`` as an HTTP date by default (set ``retry_after`` for either);
- ``401``: the reference server's own "session ended" problem, as if it had been ended.

The "real answer" modes forward the request and mangle what comes back, so a POST or PATCH
*is* carried out by the upstream while the client gets nonsense; with ``forward=False``
they mangle the upstream's answer to ``GET`` of the same path instead and change nothing.

With ``tls=(certificate, key)`` it serves HTTPS (``stratus_tui.server.tls`` makes a private
CA and a loopback certificate).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

MODES = (
    "slow",
    "trickle",
    "hang",
    "close",
    "accept-close",
    "html-502",
    "truncated",
    "huge",
    "huge-stream",
    "malformed",
    "deep",
    "nan",
    "wrong-types",
    "duplicate-keys",
    "429",
    "503",
    "401",
)
# Modes that mangle the upstream's answer (and so need one).
MANGLED = frozenset({"trickle", "truncated", "malformed", "nan", "wrong-types", "duplicate-keys"})

PAGE_502 = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    b"<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n"
)
PAGE_503 = PAGE_502.replace(b"502 Bad Gateway", b"503 Service Temporarily Unavailable")
PROBLEM = "application/problem+json"
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding",
     "host", "accept-encoding", "te", "trailer", "upgrade", "proxy-connection"}
)  # fmt: skip
DEEP = 100_000
HUGE = 1 << 40  # the Content-Length ``huge`` declares
STREAM_CHUNK = 64 * 1024
STREAM_LIMIT = 256 * 1024 * 1024  # ``huge-stream`` stops here even if nobody hangs up


def http_date(seconds_from_now: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds_from_now), usegmt=True)


@dataclass
class Fault:
    """One switch: which requests it breaks, how, and how many times."""

    mode: str
    method: str | None = None  # None: any method
    path: str | None = None  # a prefix of the path; None: any path
    times: int | None = None  # None: until healed
    retry_after: str | None = None  # 429/503; None: the mode's default
    delay: float = 60.0  # slow: seconds before answering
    interval: float = 0.05  # trickle: seconds between two pieces of the body
    piece: int = 4  # trickle: bytes in each piece
    forward: bool = True  # mangled modes: send the request on (False: GET the path)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}")

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.method is not None and method != self.method:
            return False
        return self.path is None or path.startswith(self.path)


@dataclass
class Request:
    method: str
    target: str  # path and query as sent
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path


class BrokenServer:
    """See the module docstring. Use it as a context manager (or ``start``/``stop``)."""

    def __init__(self, upstream: Any = None, *, tls: tuple[Path, Path] | None = None) -> None:
        self.upstream = upstream  # an ASGI app, a base URL, or None (breaks only)
        self.tls = tls
        self.hits: Counter[str] = Counter()
        self.connections = 0
        self.log: list[tuple[str, str, str]] = []  # (method, target, mode or "proxy")
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle: set[asyncio.StreamWriter] = set()
        self._failure: BaseException | None = None
        self.errors: list[BaseException] = []  # its own failures: stop() reports them
        self._upstream: httpx.AsyncClient | None = None
        self.port = 0

    # --- the switches --------------------------------------------------------------------

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def fail(self, mode: str, **options: Any) -> Fault:
        """Break the requests ``options`` select (see ``Fault``), instead of any earlier
        switch. Returns the fault (its ``times`` counts down)."""
        fault = Fault(mode, **options)
        with self._lock:
            self._faults = [fault]
        if mode == "accept-close":
            self._call(self._close_idle)
        return fault

    def heal(self) -> None:
        with self._lock:
            self._faults = []

    def count(self, method: str, prefix: str = "/") -> int:
        """Requests that arrived with ``method`` on a path starting with ``prefix``."""
        with self._lock:
            return sum(
                n
                for key, n in self.hits.items()
                if key.split(" ", 1)[0] == method and key.split(" ", 1)[1].startswith(prefix)
            )

    def writes(self) -> Counter[str]:
        """The POST, PATCH, PUT and DELETE requests that arrived, by method and path."""
        with self._lock:
            return Counter(
                {k: n for k, n in self.hits.items() if not k.startswith(("GET ", "HEAD "))}
            )

    def _fault_for(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    # --- life ----------------------------------------------------------------------------

    def __enter__(self) -> BrokenServer:
        self.start()
        return self

    def __exit__(self, kind: object, *exc_info: object) -> None:
        self.stop(check=kind is None)  # a test that failed already says why

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="broken-server", daemon=True)
        self._thread.start()
        if not self._started.wait(10) or not self.port:
            raise RuntimeError(f"the broken server did not start: {self._failure!r}")

    def stop(self, *, check: bool = True) -> None:
        """Stop serving; ``check``: fail if the server itself broke (not as it was told)."""
        if self._loop is not None and self._stop is not None:
            self._call(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
            assert not self._thread.is_alive(), "the broken server did not stop"
        if check and (self.errors or self._failure):
            raise AssertionError(f"the broken server failed: {self.errors or self._failure!r}")

    def _call(self, function: Callable[[], object]) -> None:
        """Run ``function`` on the server's loop and wait until it has."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        async def call() -> None:
            function()

        with contextlib.suppress(RuntimeError):  # the loop is stopping
            asyncio.run_coroutine_threadsafe(call(), loop).result(timeout=10)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported by start() or the next test
            self._failure = error
            self._started.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop.set_exception_handler(lambda loop, context: None)  # failed TLS handshakes
        self._stop = asyncio.Event()
        context = None
        if self.tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, self.tls))
        upstream = self._upstream_client()
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0, ssl=context)
        self.port = server.sockets[0].getsockname()[1]
        self._started.set()
        try:
            await self._stop.wait()
        finally:
            server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await server.wait_closed()
            if upstream is not None:
                await upstream.aclose()

    def _upstream_client(self) -> httpx.AsyncClient | None:
        if self.upstream is None:
            return None
        if isinstance(self.upstream, str):
            client = httpx.AsyncClient(base_url=self.upstream, timeout=30)
        else:
            transport = httpx.ASGITransport(app=self.upstream, client=("127.0.0.1", 50000))
            client = httpx.AsyncClient(transport=transport, base_url="http://upstream")
        self._upstream = client
        return client

    # --- one connection ------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        with self._lock:
            self.connections += 1
            closing = any(f.mode == "accept-close" for f in self._faults)
        try:
            if not closing:
                while await self._exchange(reader, writer):
                    pass
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError):
            pass  # the client hung up, or refused the certificate
        except Exception as error:  # a bug here, not a client's doing: stop() says so
            self.errors.append(error)
        finally:
            self._idle.discard(writer)
            self._tasks.discard(task)  # type: ignore[arg-type]
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _close_idle(self) -> None:
        for writer in list(self._idle):
            writer.close()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read one request and answer it; False when the connection is to end."""
        self._idle.add(writer)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        finally:
            self._idle.discard(writer)
        request = await _read_request(head, reader)
        fault = self._fault_for(request.method, request.path)
        with self._lock:
            self.hits[f"{request.method} {request.path}"] += 1
            self.log.append((request.method, request.target, fault.mode if fault else "proxy"))
        if fault is None:
            status, headers, body = await self._forward(request)
            await _answer(writer, status, headers, body)
            return True
        return await self._break(fault, request, reader, writer)

    async def _break(
        self,
        fault: Fault,
        request: Request,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        mode = fault.mode
        if mode == "hang":
            await asyncio.Event().wait()  # until the server stops
        if mode == "close" or mode == "accept-close":
            return False
        if mode == "slow":
            await asyncio.sleep(fault.delay)
            if reader.at_eof():
                return False  # the client gave up: it never learns, nothing is forwarded
            status, headers, body = await self._forward(request)
            await _answer(writer, status, headers, body)
            return True
        if mode == "html-502":
            await _answer(writer, 502, [("content-type", "text/html")], PAGE_502)
            return True
        if mode == "429":
            after = fault.retry_after or "1"
            problem = {"title": "Too Many Requests", "status": 429,
                       "detail": "Too many requests; slow down"}  # fmt: skip
            headers = [("content-type", PROBLEM), ("retry-after", after)]
            await _answer(writer, 429, headers, json.dumps(problem).encode())
            return True
        if mode == "503":
            after = fault.retry_after or http_date(4)
            headers = [("content-type", "text/html"), ("retry-after", after)]
            await _answer(writer, 503, headers, PAGE_503)
            return True
        if mode == "401":
            problem = {
                "type": "https://stratus.example/problems/session-ended",
                "title": "Unauthorized",
                "status": 401,
                "detail": "This session has ended; sign in again",
            }
            headers = [("content-type", PROBLEM), ("www-authenticate", "Bearer")]
            await _answer(writer, 401, headers, json.dumps(problem).encode())
            return True
        if mode == "huge":
            head = _head(200, [("content-type", "application/json")], HUGE)
            writer.write(head + b'{"items": [' + b" " * STREAM_CHUNK)
            await writer.drain()
            await asyncio.sleep(0.5)  # the client reads the head and hangs up
            return False
        if mode == "huge-stream":
            await _stream_forever(writer)
            return False
        if mode == "deep":
            body = b"[" * DEEP + b"]" * DEEP
            await _answer(writer, 200, [("content-type", "application/json")], body)
            return True
        return await self._mangle(fault, request, writer)

    async def _mangle(self, fault: Fault, request: Request, writer: asyncio.StreamWriter) -> bool:
        if fault.forward:
            status, headers, body = await self._forward(request)
        else:
            status, headers, body = await self._forward(
                Request("GET", request.target, request.headers, b"")
            )
        mode = fault.mode
        if mode == "trickle":
            writer.write(_head(status, headers, len(body)))
            for start in range(0, len(body), fault.piece):
                writer.write(body[start : start + fault.piece])
                await writer.drain()
                await asyncio.sleep(fault.interval)
            return True
        if mode == "truncated":
            writer.write(_head(status, headers, len(body) + 1000) + body[: len(body) // 2])
            await writer.drain()
            return False
        if mode == "malformed":
            await _answer(writer, status, headers, body[: len(body) // 2])
            return True
        value = json.loads(body)
        if mode == "nan":
            mangled = json.dumps(_first_number(value, float("nan"))).encode()
        elif mode == "wrong-types":
            mangled = json.dumps(_swap_types(value)).encode()
        else:
            mangled = _duplicate_key(value).encode()
        await _answer(writer, status, headers, mangled)
        return True

    async def _forward(self, request: Request) -> tuple[int, list[tuple[str, str]], bytes]:
        if self._upstream is None:
            body = b'{"title": "Not Found", "status": 404, "detail": "nothing upstream"}'
            return 404, [("content-type", PROBLEM)], body
        headers = [(k, v) for k, v in request.headers if k.lower() not in HOP_BY_HOP]
        response = await self._upstream.request(
            request.method, request.target, headers=headers, content=request.body or None
        )
        kept = [(k, v) for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP]
        return response.status_code, kept, response.content


# --- HTTP/1.1, the little of it needed --------------------------------------------------------


async def _read_request(head: bytes, reader: asyncio.StreamReader) -> Request:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
    body = await reader.readexactly(length) if length else b""
    return Request(method, target, headers, body)


def _head(status: int, headers: list[tuple[str, str]], length: int | None) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    lines = [f"HTTP/1.1 {status} {phrase}"]
    lines += [f"{k}: {v}" for k, v in headers if k.lower() not in HOP_BY_HOP]
    lines.append("transfer-encoding: chunked" if length is None else f"content-length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _answer(
    writer: asyncio.StreamWriter, status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    writer.write(_head(status, headers, len(body)) + body)
    await writer.drain()


async def _stream_forever(writer: asyncio.StreamWriter) -> None:
    writer.write(_head(200, [("content-type", "application/json")], None))
    chunk = b"[" + b"0," * (STREAM_CHUNK // 2 - 1) + b"0"
    sent = 0
    while sent < STREAM_LIMIT:
        writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        await writer.drain()  # raises once the client has hung up
        sent += len(chunk)


# --- mangling JSON ---------------------------------------------------------------------------


def _first_number(value: Any, replacement: float) -> Any:
    """``value`` with its first number (depth first, not a boolean) replaced."""
    done = False

    def walk(item: Any) -> Any:
        nonlocal done
        if done:
            return item
        if isinstance(item, dict):
            return {k: walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        if isinstance(item, int | float) and not isinstance(item, bool):
            done = True
            return replacement
        return item

    result = walk(value)
    return result if done else [replacement]


def _swap_types(value: Any) -> Any:
    """Every string a number and every number a string (booleans and nulls kept)."""
    if isinstance(value, dict):
        return {k: _swap_types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap_types(v) for v in value] or ["not", "a", "list", "of", "these"]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return 7
    return f"{value} (a number)"


def _duplicate_key(value: Any) -> str:
    """JSON text of ``value`` where the first object's first key appears twice, the second
    time with a value that still fits (a number one more, anything else the same): what a
    parser that keeps the last value accepts without a word."""
    done = False

    def dump(item: Any) -> str:
        nonlocal done
        if isinstance(item, dict):
            twice = not done and bool(item)
            done = done or twice
            pairs = [f"{json.dumps(k)}: {dump(v)}" for k, v in item.items()]
            if twice:
                key, first = next(iter(item.items()))
                number = isinstance(first, int) and not isinstance(first, bool)
                pairs.append(f"{json.dumps(key)}: {dump(first + 1 if number else first)}")
            return "{" + ", ".join(pairs) + "}"
        if isinstance(item, list):
            return "[" + ", ".join(dump(v) for v in item) + "]"
        return json.dumps(item)

    text = dump(value)
    return text if done else '{"items": 1, "items": 2}'
