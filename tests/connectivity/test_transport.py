"""unix_socket= and sock=: other ways to the server, with the URL still naming it."""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import tempfile
from typing import Iterator

import pytest
import trustme

import syncws
from tests.apis import Client, header
from tests.connectivity.peers import AppServer, start_app
from tests.servers import ServerLoop

pytestmark = [
    pytest.mark.timeout(30),
    pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="needs Unix domain sockets"),
]


@pytest.fixture(scope="module")
def unix_dir() -> Iterator[str]:
    path = tempfile.mkdtemp(prefix="syncws-", dir="/tmp")  # short: AF_UNIX paths are limited
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def unix_app(server_loop: ServerLoop, unix_dir: str) -> Iterator[str]:
    path = os.path.join(unix_dir, "app.sock")
    app: AppServer = server_loop.run(start_app(unix_path=path))
    yield path
    server_loop.run(_close(app))


@pytest.fixture(scope="module")
def unix_tls_app(server_loop: ServerLoop, unix_dir: str, localhost_cert: trustme.LeafCert) -> Iterator[str]:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    localhost_cert.configure_cert(ctx)
    path = os.path.join(unix_dir, "tls.sock")
    app: AppServer = server_loop.run(start_app(ssl=ctx, unix_path=path))
    yield path
    server_loop.run(_close(app))


async def _close(app: AppServer) -> None:
    app.server.close()
    await app.server.wait_closed()


def test_unix_socket(api: Client, unix_app: str) -> None:
    info = api.info("ws://localhost/info?via=unix", unix_socket=unix_app)
    assert info["path"] == "/info?via=unix"
    assert header(info, "Host") == ["localhost"], "the URL still names the server"


def test_unix_socket_pathlike_and_tls(api: Client, unix_tls_app: str, client_ssl: ssl.SSLContext) -> None:
    from pathlib import Path

    assert api.echo("wss://localhost/", "tls over unix", unix_socket=Path(unix_tls_app), ssl=client_ssl) == (
        "tls over unix"
    )


def test_unix_socket_missing(api: Client, unix_dir: str) -> None:
    with pytest.raises(syncws.ClientConnectionError, match="unix socket"):
        api.connect("ws://localhost/", unix_socket=os.path.join(unix_dir, "nobody.sock"))


def test_unix_socket_ignores_proxy_environment(
    api: Client, unix_app: str, monkeypatch: pytest.MonkeyPatch, unused_port: int
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{unused_port}")
    assert api.echo("ws://localhost/", "no proxy", unix_socket=unix_app) == "no proxy"


def test_connected_socket(api: Client, app: AppServer) -> None:
    sock = socket.create_connection(("127.0.0.1", app.port))
    with api.connect("ws://app.example/info", sock=sock) as conn:
        assert header(json.loads(conn.receive_str()), "Host") == ["app.example"]
        conn.send_str("over my socket")
        assert conn.receive_str() == "over my socket"
    assert sock.fileno() == -1, "the connection owns the socket and closed it"


def test_connected_unix_socket(api: Client, unix_app: str) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(unix_app)
    assert api.echo("ws://localhost/", "unix sock", sock=sock) == "unix sock"


def test_socket_alternatives_conflict(api: Client, app_url: str) -> None:
    with socket.socket() as sock:
        with pytest.raises(ValueError, match="alternatives"):
            api.connect(app_url, sock=sock, unix_socket="/x")
        with pytest.raises(ValueError, match="alternatives"):
            api.connect(app_url, sock=sock, proxy="http://127.0.0.1:1")
        with pytest.raises(TypeError):
            api.connect(app_url, sock=sock.fileno())
        with pytest.raises(ValueError, match="reconnect"):
            if api.is_async:
                syncws.ws_connect(app_url, sock=sock, reconnect=True)
            else:
                syncws.connect(app_url, sock=sock, reconnect=True)
