"""Fixtures for the connectivity tests: both APIs, the app server (plain, TLS with a
localhost-only certificate, client-certificate-required), pproxy processes, scripted
servers. Everything listens on 127.0.0.1."""

from __future__ import annotations

import ssl
from typing import Any, Callable, Iterator, List

import pytest
import trustme

from tests.apis import Client
from tests.connectivity.peers import (
    AppServer,
    ProxyProcess,
    ScriptedServer,
    start_app,
    start_scripted,
    start_silent,
)
from tests.servers import ServerLoop


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest, server_loop: ServerLoop) -> Iterator[Client]:
    face = Client(request.param, server_loop)
    yield face
    face.cleanup()


def _stop(server_loop: ServerLoop, server: Any) -> None:
    async def stop() -> None:
        server.close()
        await server.wait_closed()

    server_loop.run(stop())


@pytest.fixture(scope="session")
def app(server_loop: ServerLoop) -> Iterator[AppServer]:
    server = server_loop.run(start_app())
    yield server
    _stop(server_loop, server.server)


@pytest.fixture(scope="session")
def app_url(app: AppServer) -> str:
    return f"ws://127.0.0.1:{app.port}"


@pytest.fixture(scope="session")
def localhost_cert(ca: trustme.CA) -> trustme.LeafCert:
    """A certificate for the name "localhost" only: 127.0.0.1 does not match it."""
    return ca.issue_cert("localhost")


@pytest.fixture(scope="session")
def tls_app(server_loop: ServerLoop, localhost_cert: trustme.LeafCert) -> Iterator[AppServer]:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    localhost_cert.configure_cert(ctx)
    server: AppServer = server_loop.run(start_app(ssl=ctx))
    ctx.sni_callback = lambda sslobj, name, context: server.sni.append(name)
    yield server
    _stop(server_loop, server.server)


@pytest.fixture(scope="session")
def mtls_app(server_loop: ServerLoop, ca: trustme.CA, localhost_cert: trustme.LeafCert) -> Iterator[AppServer]:
    """Refuses clients without a certificate from the test CA."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    localhost_cert.configure_cert(ctx)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ca.configure_trust(ctx)
    server = server_loop.run(start_app(ssl=ctx))
    yield server
    _stop(server_loop, server.server)


@pytest.fixture(scope="session")
def client_cert_ssl(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    ca.issue_cert("client.example").configure_cert(ctx)
    return ctx


@pytest.fixture(scope="session")
def http_proxy() -> Iterator[ProxyProcess]:
    """pproxy speaking HTTP CONNECT, SOCKS4 and SOCKS5, without credentials."""
    proxy = ProxyProcess("http+socks4+socks5://127.0.0.1:0")
    yield proxy
    proxy.stop()


@pytest.fixture(scope="session")
def auth_proxy() -> Iterator[ProxyProcess]:
    """pproxy that wants user:pass (HTTP Proxy-Authorization, SOCKS5 username/password)."""
    proxy = ProxyProcess("http+socks5://127.0.0.1:0#user:pass")
    yield proxy
    proxy.stop()


@pytest.fixture(scope="session")
def stuck_proxy(server_loop: ServerLoop) -> Iterator[ProxyProcess]:
    """pproxy whose upstream proxy accepts and never answers: a CONNECT through it hangs."""
    upstream, port = server_loop.run(start_silent())
    proxy = ProxyProcess("http://127.0.0.1:0", "-r", f"http://127.0.0.1:{port}")
    yield proxy
    proxy.stop()
    _stop(server_loop, upstream)


@pytest.fixture
def scripted(server_loop: ServerLoop) -> Iterator[Callable[..., ScriptedServer]]:
    """``scripted(handlers, refuse={n: status}, ssl=None)`` starts a ScriptedServer."""
    started: List[ScriptedServer] = []

    def start(handlers: Any, refuse: Any = None, ssl: Any = None) -> ScriptedServer:
        server = server_loop.run(start_scripted(handlers, refuse, ssl))
        started.append(server)
        return server

    yield start
    for server in started:
        _stop(server_loop, server.server)


@pytest.fixture
def unused_port() -> int:
    """A port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port
