"""A server the test steers: it records what the client sends and pushes or closes
when the test says so; and helpers to run the CLI in a pipe or a pseudo-terminal."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List, Optional

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from tests.proxy import ConnectProxy
from tests.servers import ServerLoop

ROOT = Path(__file__).resolve().parents[2]


class PushServer:
    """Every connection is kept; ``received`` lists the text/binary messages that came."""

    def __init__(self, loop: ServerLoop) -> None:
        self.loop = loop
        self.connections: List[ServerConnection] = []
        self.received: List[object] = []
        self.port = 0
        self._server: object = None
        self._changed: Optional[asyncio.Condition] = None

    async def start(self) -> None:
        self._changed = asyncio.Condition()
        self._server = await serve(self._handler, "127.0.0.1", 0, compression=None, ping_interval=None)
        self.port = next(iter(self._server.sockets)).getsockname()[1]  # type: ignore[attr-defined]

    async def _handler(self, ws: ServerConnection) -> None:
        assert self._changed is not None
        async with self._changed:
            self.connections.append(ws)
            self._changed.notify_all()
        try:
            async for message in ws:
                async with self._changed:
                    self.received.append(message)
                    self._changed.notify_all()
        except ConnectionClosed:
            pass  # a client that went away without closing: its test says what it expected

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def wait_for(self, connections: int = 0, received: int = 0, timeout: float = 10) -> None:
        """Block until that many connections were accepted and messages received."""

        async def wait() -> None:
            assert self._changed is not None
            async with self._changed:
                await self._changed.wait_for(
                    lambda: len(self.connections) >= connections and len(self.received) >= received
                )

        self.loop.run(asyncio.wait_for(wait(), timeout))

    def push(self, message: object, index: int = -1) -> None:
        self.wait_for(connections=1)
        self.loop.run(self.connections[index].send(message))  # type: ignore[arg-type]

    def close(self, code: int = 1000, reason: str = "", index: int = -1) -> None:
        self.wait_for(connections=1)
        self.loop.run(self.connections[index].close(code, reason))

    async def stop(self) -> None:
        self._server.close()  # type: ignore[attr-defined]


@pytest.fixture
def push_server(server_loop: ServerLoop) -> Iterator[PushServer]:
    server = PushServer(server_loop)
    server_loop.run(server.start())
    yield server
    server_loop.run(server.stop())


def cli_env() -> dict:  # type: ignore[type-arg]
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("HTTP_PROXY", None)
    env.pop("HTTPS_PROXY", None)
    env.pop("ALL_PROXY", None)
    env["PYTHONFAULTHANDLER"] = "1"  # a hung client killed with SIGABRT shows where its threads were
    return env


def run_cli(*args: str, input: str = "", timeout: float = 30) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    """``python -m syncws ARGS`` with piped stdin/stdout."""
    return subprocess.run(
        [sys.executable, "-m", "syncws", *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(),
        cwd=ROOT,
    )


@pytest.fixture
def connect_proxy(server_loop: ServerLoop) -> Iterator[ConnectProxy]:
    proxy = ConnectProxy()
    server_loop.run(proxy.start())
    yield proxy
    server_loop.run(proxy.stop())
