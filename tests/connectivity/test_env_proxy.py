"""trust_env: proxies from HTTP_PROXY / HTTPS_PROXY / ALL_PROXY and NO_PROXY, as curl reads them.

The proxy under test wants credentials, so a 407 proves a connection went
through it and a clean echo proves it did not (or that it got them).
"""

from __future__ import annotations

import asyncio
import ssl

import pytest

import syncws
from syncws.aio.proxy import bypass_proxy, proxy_from_env
from syncws.protocol.url import parse_url
from tests.apis import Client
from tests.connectivity.peers import AppServer, ProxyProcess

pytestmark = pytest.mark.timeout(30)


def _proxied(api: Client, url: str, **options: object) -> bool:
    """True when the credential-less connection was stopped by the proxy (407)."""
    try:
        api.echo(url, "x", **options)
    except syncws.ProxyError as exc:
        assert exc.status == 407
        return True
    return False


@pytest.mark.parametrize("name", ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
def test_ws_uses_http_proxy_then_all_proxy(
    api: Client, monkeypatch: pytest.MonkeyPatch, auth_proxy: ProxyProcess, app_url: str, name: str
) -> None:
    monkeypatch.setenv(name, auth_proxy.url())
    assert _proxied(api, app_url)
    assert not _proxied(api, app_url, trust_env=False), "trust_env=False and no proxy= is direct"


def test_ws_ignores_https_proxy(
    api: Client, monkeypatch: pytest.MonkeyPatch, auth_proxy: ProxyProcess, app_url: str
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", auth_proxy.url())
    assert not _proxied(api, app_url)


def test_wss_uses_https_proxy(
    api: Client,
    monkeypatch: pytest.MonkeyPatch,
    auth_proxy: ProxyProcess,
    http_proxy: ProxyProcess,
    tls_app: AppServer,
    client_ssl: ssl.SSLContext,
) -> None:
    url = f"wss://localhost:{tls_app.port}/"
    monkeypatch.setenv("HTTP_PROXY", auth_proxy.url())  # for ws only: would refuse us
    assert not _proxied(api, url, ssl=client_ssl)
    monkeypatch.setenv("HTTPS_PROXY", auth_proxy.url())
    assert _proxied(api, url, ssl=client_ssl)
    monkeypatch.setenv("https_proxy", http_proxy.url())  # lower case wins, as in curl
    since = http_proxy.mark()
    assert not _proxied(api, url, ssl=client_ssl)
    http_proxy.wait_for(f"-> localhost:{tls_app.port}", since)


def test_credentials_in_the_environment(
    api: Client, monkeypatch: pytest.MonkeyPatch, auth_proxy: ProxyProcess, app: AppServer
) -> None:
    monkeypatch.setenv("HTTP_PROXY", auth_proxy.url(auth="user:pass"))
    since = auth_proxy.mark()
    assert api.echo(f"ws://127.0.0.1:{app.port}/", "through") == "through"
    auth_proxy.wait_for(f"-> 127.0.0.1:{app.port}", since)


def test_explicit_proxy_wins_over_the_environment(
    api: Client, monkeypatch: pytest.MonkeyPatch, auth_proxy: ProxyProcess, http_proxy: ProxyProcess, app_url: str
) -> None:
    monkeypatch.setenv("HTTP_PROXY", auth_proxy.url())
    monkeypatch.setenv("NO_PROXY", "*")
    assert api.echo(app_url, "explicit", proxy=http_proxy.url()) == "explicit"


@pytest.mark.parametrize(
    ("no_proxy", "bypassed"),
    [
        ("*", True),
        ("127.0.0.1", True),
        ("example.com, 127.0.0.1", True),
        ("127.0.0.0/8", True),
        ("10.0.0.0/8", False),
        ("127.0.0.1:{port}", True),
        ("127.0.0.1:1", False),
        ("localhost", False),  # the URL says 127.0.0.1; NO_PROXY names are not resolved
    ],
)
def test_no_proxy_forms(
    api: Client,
    monkeypatch: pytest.MonkeyPatch,
    auth_proxy: ProxyProcess,
    app: AppServer,
    no_proxy: str,
    bypassed: bool,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", auth_proxy.url())
    monkeypatch.setenv("NO_PROXY", no_proxy.format(port=app.port))
    assert _proxied(api, f"ws://127.0.0.1:{app.port}/") is not bypassed


@pytest.mark.parametrize("no_proxy", ["localhost", ".localhost", "*.localhost", "LOCALHOST", "localhost:{port}"])
def test_no_proxy_host_names(
    api: Client, monkeypatch: pytest.MonkeyPatch, auth_proxy: ProxyProcess, app: AppServer, no_proxy: str
) -> None:
    monkeypatch.setenv("http_proxy", auth_proxy.url())
    monkeypatch.setenv("no_proxy", no_proxy.format(port=app.port))
    assert not _proxied(api, f"ws://localhost:{app.port}/")


# -- the rules, without I/O ------------------------------------------------------------

@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "expected"),
    [
        ("example.com", 80, "example.com", True),
        ("www.example.com", 80, "example.com", True),
        ("www.example.com", 80, ".example.com", True),
        ("example.com", 80, ".example.com", True),
        ("www.example.com", 80, "*.example.com", True),
        ("badexample.com", 80, "example.com", False),
        ("example.com.", 80, "EXAMPLE.com", True),
        ("example.com", 443, "example.com:443", True),
        ("example.com", 80, "example.com:443", False),
        ("10.1.2.3", 80, "10.0.0.0/8", True),
        ("11.1.2.3", 80, "10.0.0.0/8", False),
        ("::1", 80, "::1", True),
        ("::1", 80, "0:0::1", True),
        ("::1", 80, "::/0", True),
        ("::1", 80, "[::1]:80", True),
        ("::1", 443, "[::1]:80", False),
        ("fd00::5", 80, "fd00::/8", True),
        ("10.1.2.3", 80, "::/0", False),
        ("example.com", 80, "other.org  example.com", True),
        ("example.com", 80, "", False),
        ("example.com", 80, ",,", False),
        ("example.com", 80, "not/a/cidr", False),
    ],
)
def test_bypass_rules(host: str, port: int, no_proxy: str, expected: bool) -> None:
    assert bypass_proxy(host, port, no_proxy) is expected


def test_environment_precedence_and_httpoxy() -> None:
    ws, wss = parse_url("ws://example.com/"), parse_url("wss://example.com/")
    env = {"HTTP_PROXY": "http://upper:1", "http_proxy": "http://lower:1", "ALL_PROXY": "socks5h://all:1"}
    assert proxy_from_env(ws, env) == "http://lower:1"
    assert proxy_from_env(wss, env) == "socks5h://all:1"
    assert proxy_from_env(ws, {"http_proxy": " ", "ALL_PROXY": "http://all:1"}) == "http://all:1"
    # Under CGI, HTTP_PROXY comes from the client's "Proxy:" header; never trust it.
    assert proxy_from_env(ws, {"HTTP_PROXY": "http://evil:1", "REQUEST_METHOD": "GET"}) is None
    assert proxy_from_env(ws, {"http_proxy": "http://ok:1", "REQUEST_METHOD": "GET"}) == "http://ok:1"
    assert proxy_from_env(ws, {"HTTP_PROXY": "http://p:1", "NO_PROXY": "example.com"}) is None
    assert proxy_from_env(ws, {}) is None


def test_bad_proxy_in_the_environment(api: Client, monkeypatch: pytest.MonkeyPatch, app_url: str) -> None:
    monkeypatch.setenv("HTTP_PROXY", "gopher://127.0.0.1:70")
    with pytest.raises(syncws.InvalidURL, match="from the environment"):
        api.connect(app_url)


def test_session_trust_env(monkeypatch: pytest.MonkeyPatch, auth_proxy: ProxyProcess, app_url: str) -> None:
    monkeypatch.setenv("HTTP_PROXY", auth_proxy.url())

    async def main() -> None:
        async with syncws.ClientSession(trust_env=False) as session, session.ws_connect(app_url) as ws:
            await ws.send_str("direct")
            assert await ws.receive_str(timeout=5) == "direct"
        async with syncws.ClientSession() as session:
            with pytest.raises(syncws.ProxyError):
                await session.ws_connect(app_url)
            async with session.ws_connect(app_url, trust_env=False) as ws:
                assert not ws.closed

    asyncio.run(main())
