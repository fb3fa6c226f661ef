"""https:// proxies: TLS to the proxy, CONNECT inside it, and for wss:// the server's TLS
inside that, against a real TLS-speaking CONNECT proxy (tests/proxy.py).

The proxy's certificate comes from its own CA and names 127.0.0.1 only; the
servers' come from the suite's CA and name localhost. So a setting applied
to the wrong hop (the proxy's CA for the server, the server's name for the
proxy, or the reverse) fails the handshake.
"""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Callable, Iterator, Optional

import pytest
import trustme

import syncws
from syncws.aio.reconnect import is_permanent
from tests.apis import Client, header
from tests.connectivity.peers import AppServer
from tests.proxy import ConnectProxy
from tests.servers import RawPeer, RawServer, ServerLoop

pytestmark = pytest.mark.timeout(30)

CREDENTIALS = syncws.BasicAuth("user", "s3cret")


@pytest.fixture(scope="session")
def proxy_ca() -> trustme.CA:
    """Not the servers' CA: trusting one never trusts the other."""
    return trustme.CA()


@pytest.fixture(scope="session")
def proxy_client_ssl(proxy_ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    proxy_ca.configure_trust(ctx)
    return ctx


def _start_tls_proxy(server_loop: ServerLoop, ctx: ssl.SSLContext, authorization: Optional[str]) -> ConnectProxy:
    proxy = ConnectProxy(authorization, ssl=ctx)
    server_loop.run(proxy.start())
    return proxy


@pytest.fixture(scope="session")
def proxy_server_ssl(proxy_ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    proxy_ca.issue_cert("127.0.0.1").configure_cert(ctx)
    return ctx


@pytest.fixture(scope="session")
def tls_proxy(server_loop: ServerLoop, proxy_server_ssl: ssl.SSLContext) -> Iterator[ConnectProxy]:
    proxy = _start_tls_proxy(server_loop, proxy_server_ssl, None)
    yield proxy
    server_loop.run(proxy.stop())


@pytest.fixture(scope="session")
def tls_auth_proxy(server_loop: ServerLoop, proxy_server_ssl: ssl.SSLContext) -> Iterator[ConnectProxy]:
    """Answers 407 to a CONNECT without CREDENTIALS."""
    proxy = _start_tls_proxy(server_loop, proxy_server_ssl, CREDENTIALS.encode())
    yield proxy
    server_loop.run(proxy.stop())


@pytest.fixture(scope="session")
def aiohttp_tls_app(server_loop: ServerLoop, localhost_cert: trustme.LeafCert) -> Iterator[int]:
    """An aiohttp echo server with the localhost-only certificate; its port."""
    from tests.servers import start_aiohttp

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    localhost_cert.configure_cert(ctx)
    runner, port = server_loop.run(start_aiohttp(ctx))
    yield port

    async def stop() -> None:
        await runner.cleanup()

    server_loop.run(stop())


def test_ws_through_an_https_proxy(
    api: Client, tls_proxy: ConnectProxy, app: AppServer, proxy_client_ssl: ssl.SSLContext
) -> None:
    before = len(tls_proxy.tunnels)
    info = api.info(f"ws://127.0.0.1:{app.port}/info", proxy=tls_proxy.url, proxy_ssl=proxy_client_ssl)
    assert info["path"] == "/info"
    assert tls_proxy.tunnels[before:] == [f"127.0.0.1:{app.port}"]


def test_wss_through_an_https_proxy_is_tls_inside_tls(
    api: Client, tls_proxy: ConnectProxy, tls_app: AppServer,
    proxy_client_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext,
) -> None:
    """The server sees its own name in SNI and checks it; the proxy's TLS is the proxy's."""
    before = len(tls_proxy.tunnels)
    tls_app.sni.clear()
    url = f"wss://localhost:{tls_app.port}/info"
    with api.connect(url, proxy=tls_proxy.url, proxy_ssl=proxy_client_ssl, ssl=client_ssl) as conn:
        assert '"path": "/info"' in conn.receive_str()
        transport = conn.ws._proto.transport  # both APIs: the transport under the WebSocket
        peer = transport.get_extra_info("peercert")
        assert ("DNS", "localhost") in peer["subjectAltName"], "the server's certificate, not the proxy's"
        big = b"\x5a" * 300_000  # many TLS records each way, and the writers' flow control
        conn.send_bytes(big)
        msg = conn.receive()
        assert msg.data == big
    assert conn.close_code == 1000
    assert tls_app.sni == ["localhost"]
    assert tls_proxy.tunnels[before:] == [f"localhost:{tls_app.port}"]


def test_backpressure_through_tls_inside_tls(
    api: Client, tls_proxy: ConnectProxy, tls_app: AppServer,
    proxy_client_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext,
) -> None:
    """A full queue pauses reading (of the inner TLS, then the proxy's); nothing is lost
    or reordered when it resumes."""
    url = f"wss://localhost:{tls_app.port}/"
    with api.connect(url, proxy=tls_proxy.url, proxy_ssl=proxy_client_ssl, ssl=client_ssl, max_queue=2) as conn:
        for i in range(200):
            conn.send_str(f"{i:04d}" * 500)
        assert [conn.receive_str() for _ in range(200)] == [f"{i:04d}" * 500 for i in range(200)]


def test_wss_to_aiohttp_through_an_https_proxy(
    api: Client, tls_proxy: ConnectProxy, aiohttp_tls_app: int,
    proxy_client_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext,
) -> None:
    url = f"wss://localhost:{aiohttp_tls_app}/"
    assert api.echo(url, "aiohttp", proxy=tls_proxy.url, proxy_ssl=proxy_client_ssl, ssl=client_ssl) == "aiohttp"


@pytest.mark.parametrize("secure", [False, True])
def test_server_closes_through_an_https_proxy(
    api: Client, tls_proxy: ConnectProxy, app: AppServer, tls_app: AppServer,
    proxy_client_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext, secure: bool,
) -> None:
    url = f"wss://localhost:{tls_app.port}/close/4001" if secure else f"ws://127.0.0.1:{app.port}/close/4001"
    with api.connect(url, proxy=tls_proxy.url, proxy_ssl=proxy_client_ssl, ssl=client_ssl) as conn:
        msg = conn.receive()
        assert msg.type is syncws.WSMsgType.CLOSE and msg.data == 4001
    assert conn.close_code == 4001 and conn.failure() is None


@pytest.mark.parametrize("secure", [False, True])
def test_credentials_go_to_the_https_proxy_only(
    api: Client, tls_auth_proxy: ConnectProxy, app: AppServer, tls_app: AppServer,
    proxy_client_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext, secure: bool,
) -> None:
    url = f"wss://localhost:{tls_app.port}/info" if secure else f"ws://127.0.0.1:{app.port}/info"
    in_url = tls_auth_proxy.url.replace("https://", f"https://{CREDENTIALS.login}:{CREDENTIALS.password}@")
    for options in ({"proxy": in_url}, {"proxy": tls_auth_proxy.url, "proxy_auth": CREDENTIALS}):
        before = len(tls_auth_proxy.requests)
        info = api.info(url, proxy_ssl=proxy_client_ssl, ssl=client_ssl, **options)
        (method, _, headers), = tls_auth_proxy.requests[before:]
        assert method == "CONNECT" and headers["proxy-authorization"] == CREDENTIALS.encode()
        assert not header(info, "Proxy-Authorization") and not header(info, "Authorization")
        assert CREDENTIALS.password not in repr(info)


def test_https_proxy_refusing_connect_names_the_status(
    api: Client, tls_auth_proxy: ConnectProxy, app: AppServer, proxy_client_ssl: ssl.SSLContext
) -> None:
    wrong = tls_auth_proxy.url.replace("https://", "https://user:wrong-pass@")
    err = api.connect_error(f"ws://127.0.0.1:{app.port}/", proxy=wrong, proxy_ssl=proxy_client_ssl)
    assert isinstance(err, syncws.ProxyError) and err.status == 407
    assert f"https://127.0.0.1:{tls_auth_proxy.port}" in str(err) and "407" in str(err)
    assert "wrong-pass" not in str(err)


def test_https_proxy_that_cannot_reach_the_target(
    api: Client, tls_proxy: ConnectProxy, unused_port: int, proxy_client_ssl: ssl.SSLContext
) -> None:
    err = api.connect_error(f"ws://127.0.0.1:{unused_port}/", proxy=tls_proxy.url, proxy_ssl=proxy_client_ssl)
    assert isinstance(err, syncws.ProxyError) and err.status == 502


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (b"HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n\r\n", "sent data before the tunnel"),
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "malformed"),
        (b"", "closed the connection without answering CONNECT"),
    ],
)
def test_broken_https_proxy_answers(
    api: Client, raw_server: Callable[..., RawServer], proxy_server_ssl: ssl.SSLContext,
    proxy_client_ssl: ssl.SSLContext, app_url: str, answer: bytes, message: str,
) -> None:
    """Scripted TLS proxies: data ahead of the server's, garbage, a hang-up."""

    async def script(peer: RawPeer) -> None:
        await peer.reader.readuntil(b"\r\n\r\n")
        peer.send(answer)
        await peer.writer.drain()

    proxy = raw_server(script, ssl=proxy_server_ssl)
    url = f"https://127.0.0.1:{proxy.port}"
    err = api.connect_error(app_url, proxy=url, proxy_ssl=proxy_client_ssl)
    assert isinstance(err, syncws.ProxyError) and message in str(err) and url in str(err), repr(err)


@pytest.mark.parametrize("speaks_tls", [False, True])
def test_silent_https_proxy_times_out(
    api: Client, raw_server: Callable[..., RawServer], proxy_server_ssl: ssl.SSLContext,
    proxy_client_ssl: ssl.SSLContext, app_url: str, speaks_tls: bool,
) -> None:
    """A proxy that never finishes its TLS handshake, or never answers CONNECT: open_timeout."""

    async def script(peer: RawPeer) -> None:
        await peer.at_eof()

    proxy = raw_server(script, ssl=proxy_server_ssl if speaks_tls else None)
    err = api.connect_error(app_url, proxy=f"https://127.0.0.1:{proxy.port}", proxy_ssl=proxy_client_ssl,
                            open_timeout=0.5)
    assert isinstance(err, syncws.OpenTimeout) and f"via proxy https://127.0.0.1:{proxy.port}" in str(err)


def _assert_proxy_tls_error(err: BaseException, proxy: ConnectProxy, reason: str) -> None:
    assert isinstance(err, syncws.ProxyError) and isinstance(err, syncws.ClientSSLError), repr(err)
    assert isinstance(err, ssl.SSLError) and err.status == 0
    assert f"TLS handshake with proxy https://127.0.0.1:{proxy.port} failed" in str(err)
    assert reason in str(err)


def test_untrusted_proxy_certificate(
    api: Client, tls_proxy: ConnectProxy, app: AppServer, client_ssl: ssl.SSLContext
) -> None:
    """By default the proxy is checked against certifi's CAs; ``ssl=`` is the server's
    setting and never trusts a proxy."""
    before = len(tls_proxy.requests)
    url = f"ws://127.0.0.1:{app.port}/"
    _assert_proxy_tls_error(api.connect_error(url, proxy=tls_proxy.url), tls_proxy, "certificate verify failed")
    err = api.connect_error(url, proxy=tls_proxy.url, ssl=client_ssl)
    _assert_proxy_tls_error(err, tls_proxy, "certificate verify failed")
    err = api.connect_error(url, proxy=tls_proxy.url, proxy_ssl=client_ssl)
    _assert_proxy_tls_error(err, tls_proxy, "certificate verify failed")
    assert tls_proxy.requests[before:] == [], "no CONNECT (nor credentials) to an unverified proxy"
    assert is_permanent(err), "reconnect=True gives up: trying again fails the same way"


def test_proxy_host_name_is_checked(
    api: Client, tls_proxy: ConnectProxy, app: AppServer, proxy_client_ssl: ssl.SSLContext
) -> None:
    """The proxy's certificate names 127.0.0.1, not localhost."""
    err = api.connect_error(
        f"ws://127.0.0.1:{app.port}/", proxy=f"https://localhost:{tls_proxy.port}", proxy_ssl=proxy_client_ssl
    )
    assert isinstance(err, syncws.ProxyError) and isinstance(err, ssl.SSLError), repr(err)
    assert f"proxy https://localhost:{tls_proxy.port}" in str(err)


def test_server_certificate_is_checked_apart_from_the_proxy(
    api: Client, tls_proxy: ConnectProxy, tls_app: AppServer, proxy_client_ssl: ssl.SSLContext
) -> None:
    """proxy_ssl trusts the proxy's CA only: the server's certificate is not taken on its word."""
    err = api.connect_error(f"wss://localhost:{tls_app.port}/", proxy=tls_proxy.url, proxy_ssl=proxy_client_ssl)
    assert isinstance(err, syncws.ClientSSLError) and not isinstance(err, syncws.ProxyError), repr(err)
    assert f"TLS handshake with localhost:{tls_app.port} through proxy {tls_proxy.url} failed" in str(err)


def test_server_name_is_checked_through_the_tunnel(
    api: Client, tls_proxy: ConnectProxy, tls_app: AppServer,
    proxy_client_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext,
) -> None:
    """The server's certificate names localhost only; 127.0.0.1 (the proxy's name) must not pass."""
    err = api.connect_error(
        f"wss://127.0.0.1:{tls_app.port}/", proxy=tls_proxy.url, proxy_ssl=proxy_client_ssl, ssl=client_ssl
    )
    assert isinstance(err, syncws.ClientSSLError) and not isinstance(err, syncws.ProxyError), repr(err)


def test_proxy_ssl_false_is_insecure_and_says_so(
    api: Client, tls_proxy: ConnectProxy, tls_app: AppServer, client_ssl: ssl.SSLContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(syncws.aio.tls, "_warned_insecure", set())
    url = f"wss://localhost:{tls_app.port}/"
    with pytest.warns(UserWarning, match="proxy_ssl=False: TLS certificates are not verified"):
        assert api.echo(url, "unverified proxy", proxy=tls_proxy.url, proxy_ssl=False, ssl=client_ssl) == (
            "unverified proxy"
        )
    err = api.connect_error(url, proxy=tls_proxy.url, proxy_ssl=False)
    assert isinstance(err, syncws.ClientSSLError), "the server is still verified"


def test_proxy_ssl_checks_before_io(api: Client, app_url: str, proxy_client_ssl: ssl.SSLContext) -> None:
    with pytest.raises(ValueError, match="proxy_ssl is for https:// proxies"):
        api.connect(app_url, proxy="http://127.0.0.1:1", proxy_ssl=proxy_client_ssl)
    with pytest.raises(ValueError, match="proxy_ssl is for https:// proxies"):
        api.connect(app_url, proxy="socks5://127.0.0.1:1", proxy_ssl=False)
    with pytest.raises(TypeError, match="proxy_ssl must be"):
        api.connect(app_url, proxy="https://127.0.0.1:1", proxy_ssl=syncws.Fingerprint(b"\0" * 32))


def test_https_proxy_url_parsing_and_repr() -> None:
    from syncws.aio.proxy import parse_proxy

    proxy = parse_proxy("https://user:s3cret@proxy.example:8443")
    assert (proxy.scheme, proxy.host, proxy.port, proxy.auth) == ("https", "proxy.example", 8443, CREDENTIALS)
    assert parse_proxy("https://proxy.example").port == 443
    assert "s3cret" not in repr(proxy) and "s3cret" not in str(proxy)
    options = syncws.Options(proxy="https://user:s3cret@proxy.example:8443", proxy_auth=CREDENTIALS)
    assert "s3cret" not in repr(options) and "proxy.example:8443" in repr(options)


def test_async_api_on_uvloop(
    tls_proxy: ConnectProxy, app_url: str, tls_app: AppServer,
    proxy_client_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext,
) -> None:
    """uvloop's TLS transport under both the ws:// tunnel and the TLS layer."""
    uvloop = pytest.importorskip("uvloop", reason="uvloop is a test extra on CPython/Unix")

    async def main() -> None:
        assert "uvloop" in type(asyncio.get_running_loop()).__module__
        options = {"proxy": tls_proxy.url, "proxy_ssl": proxy_client_ssl, "ssl": client_ssl}
        for url in (app_url, f"wss://localhost:{tls_app.port}/"):
            async with syncws.ws_connect(url, **options) as ws:  # type: ignore[arg-type]
                await ws.send_bytes(b"\x01" * 70_000)
                assert await ws.receive_bytes(timeout=10) == b"\x01" * 70_000
            assert ws.close_code == 1000 and ws.exception() is None

    before = len(tls_proxy.tunnels)
    uvloop.run(main())
    assert len(tls_proxy.tunnels) == before + 2


# -- from the environment --------------------------------------------------------


@pytest.mark.parametrize("secure", [False, True])
def test_https_proxy_from_the_environment(
    api: Client, monkeypatch: pytest.MonkeyPatch, tls_proxy: ConnectProxy, app: AppServer, tls_app: AppServer,
    proxy_client_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext, secure: bool,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY" if secure else "HTTP_PROXY", tls_proxy.url)
    url = f"wss://localhost:{tls_app.port}/" if secure else f"ws://127.0.0.1:{app.port}/"
    before = len(tls_proxy.tunnels)
    assert api.echo(url, "from env", proxy_ssl=proxy_client_ssl, ssl=client_ssl) == "from env"
    assert len(tls_proxy.tunnels) == before + 1
    # Without proxy_ssl the proxy is checked against the default CAs, and refused (through
    # ALL_PROXY, and the sync API's explicit proxy=True, too).
    monkeypatch.delenv("HTTPS_PROXY" if secure else "HTTP_PROXY")
    monkeypatch.setenv("ALL_PROXY", tls_proxy.url)
    err = api.connect_error(url, ssl=client_ssl, **({} if api.is_async else {"proxy": True}))
    assert isinstance(err, syncws.ProxyError) and isinstance(err, ssl.SSLError)
    assert len(tls_proxy.tunnels) == before + 1


def test_session_passes_proxy_ssl(
    tls_proxy: ConnectProxy, app_url: str, proxy_client_ssl: ssl.SSLContext
) -> None:
    async def main() -> None:
        async with syncws.ClientSession() as session, session.ws_connect(
            app_url, proxy=tls_proxy.url, proxy_ssl=proxy_client_ssl
        ) as ws:
            await ws.send_str("session")
            assert await ws.receive_str(timeout=10) == "session"

    before = len(tls_proxy.tunnels)
    asyncio.run(main())
    assert len(tls_proxy.tunnels) == before + 1


# -- nothing left open -----------------------------------------------------------

_SCENARIOS = textwrap.dedent(
    """
    import asyncio, gc, ssl, sys
    import syncws

    proxy, plain, secure, proxy_ca, server_ca = sys.argv[1:6]
    options = {
        "proxy": proxy,
        "proxy_ssl": ssl.create_default_context(cafile=proxy_ca),
        "ssl": ssl.create_default_context(cafile=server_ca),
    }

    def broken(url):
        # options whose TLS fails: the proxy's; for wss:// the server's too (inside the tunnel)
        yield {"proxy_ssl": None}
        if url.startswith("wss"):
            yield {"ssl": None}

    async def async_round(url):
        async with syncws.ws_connect(url, **options) as ws:
            await ws.send_str("x")
            assert await ws.receive_str(timeout=10) == "x"
        async with syncws.ws_connect(url + "/close/1000", **options) as ws:
            assert (await ws.receive(timeout=10)).type is syncws.WSMsgType.CLOSE
        for failing in broken(url):
            try:
                await syncws.ws_connect(url, **{**options, **failing})
            except syncws.ClientSSLError:
                pass
            else:
                raise AssertionError(failing)

    def sync_round(url):
        with syncws.connect(url, **options) as ws:
            ws.send_str("x")
            assert ws.receive_str(timeout=10) == "x"
        with syncws.connect(url + "/close/1000", **options) as ws:
            assert ws.receive(timeout=10).type is syncws.WSMsgType.CLOSE
        for failing in broken(url):
            try:
                syncws.connect(url, **{**options, **failing})
            except syncws.ClientSSLError:
                pass
            else:
                raise AssertionError(failing)

    for url in (plain, secure):
        for round in range(2):
            asyncio.run(async_round(url))
            sync_round(url)
            gc.collect()
    print("done")
    """
)


def test_nothing_left_unclosed_through_an_https_proxy(
    tls_proxy: ConnectProxy, app: AppServer, tls_app: AppServer, ca: trustme.CA, proxy_ca: trustme.CA,
    tmp_path: Path,
) -> None:
    proxy_ca_file, server_ca_file = tmp_path / "proxy-ca.pem", tmp_path / "ca.pem"
    proxy_ca.cert_pem.write_to_path(str(proxy_ca_file))
    ca.cert_pem.write_to_path(str(server_ca_file))
    proc = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-c", _SCENARIOS, tls_proxy.url,
         f"ws://127.0.0.1:{app.port}", f"wss://localhost:{tls_app.port}", str(proxy_ca_file), str(server_ca_file)],
        capture_output=True,
        text=True,
        timeout=25,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "done"
    assert "ResourceWarning" not in proc.stderr and "unclosed" not in proc.stderr, proc.stderr
