"""Peers for the migration checks, besides the shared ones of tests/conftest.py."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Iterator

import pytest
import trustme

from tests.connectivity.peers import ProxyProcess, start_silent
from tests.proxy import ConnectProxy as RecordingProxy
from tests.servers import ServerLoop

# "user:pw", as both libraries must send it to the proxy
PROXY_CREDENTIALS = "Basic dXNlcjpwdw=="


def _proxy(server_loop: ServerLoop, authorization: "str | None" = None) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(authorization)
    server_loop.run(proxy.start())
    yield proxy
    server_loop.run(proxy.stop())


@pytest.fixture
def proxy(server_loop: ServerLoop) -> Iterator[RecordingProxy]:
    """An HTTP CONNECT proxy that records every request head it gets."""
    yield from _proxy(server_loop)


@pytest.fixture
def auth_proxy(server_loop: ServerLoop) -> Iterator[RecordingProxy]:
    """The same, answering 407 unless the CONNECT carries user:pw."""
    yield from _proxy(server_loop, PROXY_CREDENTIALS)


@pytest.fixture(scope="session")
def socks_proxy() -> Iterator[ProxyProcess]:
    """pproxy speaking SOCKS5, without credentials."""
    proxy = ProxyProcess("socks5://127.0.0.1:0")
    yield proxy
    proxy.stop()


@pytest.fixture(scope="session")
def silent_url(server_loop: ServerLoop) -> Iterator[str]:
    """Accepts TCP and never answers the opening handshake."""
    server, port = server_loop.run(start_silent())
    yield f"ws://127.0.0.1:{port}/"

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    server_loop.run(stop())


@pytest.fixture(scope="session")
def ca_file(tmp_path_factory: pytest.TempPathFactory, ca: trustme.CA) -> str:
    """The local TLS servers' CA as a PEM file (websocket-client's ``ca_certs``)."""
    path: Path = tmp_path_factory.mktemp("migration") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def unused_port() -> Iterator[int]:
    """A port that refuses connections: bound, never listening, while the test runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
