"""Fixtures: real servers on 127.0.0.1, TLS certificates from trustme, leak checks."""

from __future__ import annotations

import signal
import ssl
from typing import Any, Callable, Iterator

import pytest
import trustme

from syncws.protocol import zlib_backend
from tests.relay import Relay
from tests.servers import RawServer, Script, ServerLoop, serve_many, start_aiohttp, start_websockets


def pytest_configure(config: pytest.Config) -> None:
    """Run as from a terminal even when started in the background of a script (where the
    shell sets SIGINT to ignored, and every child process inherits that): the Ctrl-C
    tests send SIGINT to this process and to command-line clients it starts."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


PROXY_VARIABLES = ["http_proxy", "https_proxy", "all_proxy", "no_proxy", "REQUEST_METHOD"]


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests set the proxy variables they mean; none leak in from the machine."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture(scope="session")
def server_loop() -> Iterator[ServerLoop]:
    loop = ServerLoop()
    yield loop
    loop.stop()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def server_ssl(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1", "::1").configure_cert(ctx)
    return ctx


@pytest.fixture(scope="session")
def client_ssl(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


def _serve(server_loop: ServerLoop, start: Any) -> Iterator[int]:
    server, port = server_loop.run(start)
    yield port

    async def stop() -> None:
        if hasattr(server, "cleanup"):
            await server.cleanup()
        else:
            server.close()
            await server.wait_closed()

    server_loop.run(stop())


@pytest.fixture(scope="session")
def ws_port(server_loop: ServerLoop) -> Iterator[int]:
    yield from _serve(server_loop, start_websockets())


@pytest.fixture(scope="session")
def ws_url(ws_port: int) -> str:
    """A `websockets` server: /echo (default), /close/CODE, /info, /auth, /status/N, /silent."""
    return f"ws://127.0.0.1:{ws_port}"


@pytest.fixture(scope="session")
def ws_plain_url(server_loop: ServerLoop) -> Iterator[str]:
    """The same server with permessage-deflate disabled."""
    for port in _serve(server_loop, start_websockets(compression=None)):
        yield f"ws://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def ws6_url(server_loop: ServerLoop) -> Iterator[str]:
    """The websockets server on the IPv6 loopback address."""
    for port in _serve(server_loop, start_websockets(host="::1")):
        yield f"ws://[::1]:{port}"


@pytest.fixture(scope="session")
def wss_url(server_loop: ServerLoop, server_ssl: ssl.SSLContext) -> Iterator[str]:
    for port in _serve(server_loop, start_websockets(server_ssl)):
        yield f"wss://localhost:{port}"


@pytest.fixture(scope="session")
def aiohttp_url(server_loop: ServerLoop) -> Iterator[str]:
    for port in _serve(server_loop, start_aiohttp()):
        yield f"ws://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def aiohttp_wss_url(server_loop: ServerLoop, server_ssl: ssl.SSLContext) -> Iterator[str]:
    for port in _serve(server_loop, start_aiohttp(server_ssl)):
        yield f"wss://localhost:{port}"


@pytest.fixture
def raw_server(server_loop: ServerLoop) -> Iterator[Callable[[Script], RawServer]]:
    """``raw_server(script)`` starts a scripted server; errors in the script fail the test."""
    yield from serve_many(server_loop, RawServer)


@pytest.fixture
def relay(server_loop: ServerLoop) -> Iterator[Callable[[int], Relay]]:
    """``relay(port)``: a loopback TCP relay to ``port`` that ``cut()`` makes half-open."""
    yield from serve_many(server_loop, Relay)


@pytest.fixture(params=[zlib_backend.STDLIB, zlib_backend.ZLIB_NG])
def zlib_name(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each test using it runs once per zlib backend (the stdlib's and zlib-ng, which the
    ``test`` extra installs); connections opened in the test use that backend."""
    name: str = request.param
    if name not in zlib_backend.available_zlib_backends():
        pytest.skip(f"{name} is not installed")
    before = zlib_backend.zlib_backend()
    zlib_backend.use_zlib_backend(name)
    yield name
    zlib_backend.use_zlib_backend(before)
