"""Real peers for the connectivity tests: a `websockets` app server with routes for
headers, redirects and statuses; a scripted `websockets` server; the `pproxy` forward
proxy as a subprocess. (The half-open relay is tests/relay.py.)"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import threading
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve, unix_serve
from websockets.http11 import Request, Response

__all__ = [
    "AppServer",
    "ProxyProcess",
    "ScriptedServer",
    "start_app",
    "start_scripted",
    "start_silent",
]


# -- the app server --------------------------------------------------------------


class AppServer:
    """Routes: /info (JSON of path, headers and peer address, then echo), /close/CODE,
    /redirect/CODE?to=URL, /loop (redirects to itself), /status/N; anything else echoes.
    ``requests`` counts the HTTP requests it saw."""

    def __init__(self) -> None:
        self.requests = 0
        self.server: Any = None
        self.port = 0
        self.sni: List[Optional[str]] = []

    def process_request(self, conn: ServerConnection, request: Request) -> Optional[Response]:
        self.requests += 1
        parts = urlsplit(request.path)
        route = parts.path
        if route.startswith("/redirect/"):
            code = int(route.split("/")[2])
            return _redirect(conn, code, parse_qs(parts.query)["to"][0])
        if route == "/loop":
            return _redirect(conn, 302, "/loop")
        if route.startswith("/status/"):
            return conn.respond(int(route.split("/")[2]), "no\n")
        return None

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        route = urlsplit(ws.request.path).path
        if route.startswith("/close/"):
            await ws.close(int(route.split("/")[2]), "bye")
            return
        if route == "/info":
            remote = ws.remote_address
            await ws.send(
                json.dumps(
                    {
                        "path": ws.request.path,
                        "headers": [[k, v] for k, v in ws.request.headers.raw_items()],
                        "remote": list(remote[:2]) if isinstance(remote, tuple) else None,
                    }
                )
            )
        async for message in ws:
            await ws.send(message)


def _redirect(conn: ServerConnection, code: int, location: str) -> Response:
    response = conn.respond(code, "moved\n")
    response.headers["Location"] = location
    return response


async def start_app(ssl: Any = None, unix_path: Optional[str] = None) -> AppServer:
    app = AppServer()
    options: Dict[str, Any] = dict(process_request=app.process_request, ssl=ssl, compression=None, ping_interval=None)
    if unix_path is not None:
        app.server = await unix_serve(app.handler, unix_path, **options)
    else:
        app.server = await serve(app.handler, "127.0.0.1", 0, **options)
        app.port = next(iter(app.server.sockets)).getsockname()[1]
    return app


# -- a server whose connections follow a script ---------------------------------

Handler = Callable[[ServerConnection], Awaitable[None]]


class ScriptedServer:
    """Connection n runs ``handlers[min(n, last)]``; ``refuse[n]`` answers the handshake
    of request n with that status instead. ``closes`` records the close code each
    connection ended with."""

    def __init__(self, handlers: List[Handler], refuse: Optional[Dict[int, int]] = None) -> None:
        self.handlers = handlers
        self.refuse = refuse or {}
        self.requests = 0
        self.connections = 0
        self.closes: List[Optional[int]] = []
        self.server: Any = None
        self.port = 0
        self._closed = asyncio.Event()

    def process_request(self, conn: ServerConnection, request: Request) -> Optional[Response]:
        n = self.requests
        self.requests += 1
        if n in self.refuse:
            return conn.respond(self.refuse[n], "not now\n")
        return None

    async def handler(self, ws: ServerConnection) -> None:
        n = self.connections
        self.connections += 1
        try:
            await self.handlers[min(n, len(self.handlers) - 1)](ws)
        finally:
            await ws.wait_closed()
            self.closes.append(ws.close_code)
            self._closed.set()

    async def closed(self, n: int) -> List[Optional[int]]:
        """Wait until ``n`` connections have ended; their close codes."""
        while len(self.closes) < n:
            self._closed.clear()
            await self._closed.wait()
        return self.closes

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"


async def start_scripted(
    handlers: List[Handler], refuse: Optional[Dict[int, int]] = None, ssl: Any = None
) -> ScriptedServer:
    server = ScriptedServer(handlers, refuse)
    server.server = await serve(
        server.handler, "127.0.0.1", 0, process_request=server.process_request, ssl=ssl, ping_interval=None
    )
    server.port = next(iter(server.server.sockets)).getsockname()[1]
    return server


async def start_silent() -> Tuple[asyncio.AbstractServer, int]:
    """Accepts TCP, reads, never answers: a stuck upstream."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.read(65536):
                pass
        finally:
            writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


# -- pproxy ------------------------------------------------------------------------


# pproxy picks uvloop up when it is installed (it is a test extra, for syncws's own uvloop
# tests) and then fails at start-up on its get_event_loop(); it runs on asyncio's loop here.
_PPROXY_WITHOUT_UVLOOP = (
    "import runpy, sys; sys.modules['uvloop'] = None; sys.argv[0] = 'pproxy'; "
    "runpy.run_module('pproxy', run_name='__main__')"
)


class ProxyProcess:
    """``pproxy`` in a subprocess on 127.0.0.1; its verbose log is collected so a test
    can wait for the line that proves a connection went through it."""

    def __init__(self, listen: str, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-c", _PPROXY_WITHOUT_UVLOOP, "-l", listen, "-v", "--auth", "0", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.proc.stdout is not None
        # "Serving on ipv? 127.0.0.1:PORT by http,socks5", after "Using uvloop" where it is installed
        seen: List[str] = []
        match = None
        while match is None and len(seen) < 5:
            seen.append(self.proc.stdout.readline())
            match = re.search(r"127\.0\.0\.1:(\d+)", seen[-1])
        if match is None:
            self.proc.kill()
            raise RuntimeError(f"pproxy did not start: {seen!r}")
        self.port = int(match.group(1))
        self.lines: List[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, name="pproxy-log", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self.lines)

    def wait_for(self, text: str, since: int, timeout: float = 10) -> str:
        """The first log line after ``since`` containing ``text``; waits on the reader thread."""

        def found() -> Optional[str]:
            return next((line for line in self.lines[since:] if text in line), None)

        with self._cond:
            self._cond.wait_for(lambda: found() is not None, timeout)
            line = found()
        assert line is not None, f"{text!r} not in the proxy log: {self.lines[since:]}"
        return line

    def url(self, scheme: str = "http", auth: str = "") -> str:
        return f"{scheme}://{auth + '@' if auth else ''}127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(5)  # the pipe's end
        assert self.proc.stdout is not None
        self.proc.stdout.close()


