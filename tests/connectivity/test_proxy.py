"""HTTP CONNECT and SOCKS proxies, against the real pproxy forward proxy."""

from __future__ import annotations

import ssl
import sys
from typing import Callable

import pytest

import syncws
from tests.apis import Client, header
from tests.connectivity.peers import AppServer, ProxyProcess
from tests.servers import RawPeer, RawServer

pytestmark = pytest.mark.timeout(30)


def test_http_connect_tunnel(api: Client, http_proxy: ProxyProcess, app: AppServer) -> None:
    since = http_proxy.mark()
    info = api.info(f"ws://127.0.0.1:{app.port}/info", proxy=http_proxy.url())
    http_proxy.wait_for(f"-> 127.0.0.1:{app.port}", since)
    assert info["path"] == "/info"
    assert header(info, "Host") == [f"127.0.0.1:{app.port}"]
    assert not header(info, "Proxy-Authorization"), "proxy credentials never reach the server"


def test_proxy_credentials_from_url_or_proxy_auth(api: Client, auth_proxy: ProxyProcess, app_url: str) -> None:
    assert api.echo(app_url, "via url", proxy=auth_proxy.url(auth="user:pass")) == "via url"
    auth = syncws.BasicAuth("user", "pass")
    assert api.echo(app_url, "via option", proxy=auth_proxy.url(), proxy_auth=auth) == "via option"
    # proxy_auth wins over credentials in the URL
    assert api.echo(app_url, "wins", proxy=auth_proxy.url(auth="user:wrong"), proxy_auth=auth) == "wins"


@pytest.mark.parametrize("credentials", ["", "user:wrong"])
def test_proxy_407_names_the_status(api: Client, auth_proxy: ProxyProcess, app_url: str, credentials: str) -> None:
    with pytest.raises(syncws.ProxyError) as err:
        api.connect(app_url, proxy=auth_proxy.url(auth=credentials))
    assert err.value.status == 407
    assert "407" in str(err.value) and f"127.0.0.1:{auth_proxy.port}" in str(err.value)
    assert "wrong" not in str(err.value), "messages never show proxy credentials"
    assert isinstance(err.value, syncws.ClientConnectionError)


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (b"HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno\n", 403),
        (b"HTTP/1.0 502 Bad Gateway\r\n\r\n", 502),
        (b"HTTP/1.1 301 Moved Permanently\r\nLocation: http://elsewhere/\r\n\r\n", 301),
    ],
)
def test_any_non_2xx_answer_names_the_status(
    api: Client, raw_server: Callable[..., RawServer], app_url: str, answer: bytes, status: int
) -> None:
    """pproxy only ever answers 200 or 407, so these answers come from a scripted proxy."""
    requests = []

    async def script(peer: RawPeer) -> None:
        requests.append(await peer.reader.readuntil(b"\r\n\r\n"))
        peer.send(answer)

    proxy = raw_server(script)
    with pytest.raises(syncws.ProxyError) as err:
        api.connect(app_url, proxy=f"http://127.0.0.1:{proxy.port}", user_agent="ua/1")
    assert err.value.status == status and str(status) in str(err.value)
    head = requests[0].decode()
    assert head.startswith(f"CONNECT {app_url[5:]} HTTP/1.1\r\nHost: {app_url[5:]}\r\n")
    assert "User-Agent: ua/1\r\n" in head and "Proxy-Authorization" not in head


def test_malformed_proxy_answer(api: Client, raw_server: Callable[..., RawServer], app_url: str) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.reader.readuntil(b"\r\n\r\n")
        peer.send(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    proxy = raw_server(script)
    with pytest.raises(syncws.ProxyError, match="malformed"):
        api.connect(app_url, proxy=f"http://127.0.0.1:{proxy.port}")


def test_proxy_that_cannot_reach_the_target(api: Client, http_proxy: ProxyProcess, unused_port: int) -> None:
    """pproxy hangs up without an answer when the target refuses: a ProxyError too."""
    with pytest.raises(syncws.ProxyError) as err:
        api.connect(f"ws://127.0.0.1:{unused_port}/", proxy=http_proxy.url())
    assert err.value.status == 0 and "CONNECT" in str(err.value)


def test_unreachable_proxy(api: Client, unused_port: int, app_url: str) -> None:
    with pytest.raises(syncws.ProxyError, match="cannot connect to proxy"):
        api.connect(app_url, proxy=f"http://127.0.0.1:{unused_port}")


def test_wss_through_tunnel_verifies_the_target_name(
    api: Client, http_proxy: ProxyProcess, tls_app: AppServer, client_ssl: ssl.SSLContext
) -> None:
    """The proxy is 127.0.0.1, which the certificate does not name; TLS must use "localhost"."""
    since = http_proxy.mark()
    tls_app.sni.clear()
    info = api.info(f"wss://localhost:{tls_app.port}/info", proxy=http_proxy.url(), ssl=client_ssl)
    http_proxy.wait_for(f"-> localhost:{tls_app.port}", since)
    assert info["path"] == "/info"
    assert tls_app.sni == ["localhost"]


def test_proxy_headers_and_user_agent_go_to_the_proxy_only(
    api: Client, auth_proxy: ProxyProcess, app: AppServer
) -> None:
    """pproxy checks the Proxy-Authorization we put in proxy_headers; the server never sees it."""
    info = api.info(
        f"ws://127.0.0.1:{app.port}/info",
        proxy=auth_proxy.url(),
        proxy_headers={"Proxy-Authorization": syncws.BasicAuth("user", "pass").encode()},
    )
    assert not header(info, "Proxy-Authorization")


def test_bad_proxy_urls_fail_before_io(api: Client, app_url: str) -> None:
    for bad, message in [
        ("ftp://127.0.0.1:21", "scheme"),
        ("http://", "no host"),
        ("http://127.0.0.1:99999", "invalid proxy URL"),
    ]:
        with pytest.raises(syncws.InvalidURL, match=message):
            api.connect(app_url, proxy=bad)
    with pytest.raises(ValueError, match="alternatives"):
        api.connect(app_url, proxy="http://127.0.0.1:1", unix_socket="/nowhere")


# -- SOCKS ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "seen"),
    [("socks5", "127.0.0.1"), ("socks5h", "localhost"), ("socks4", "127.0.0.1")],
)
def test_socks(api: Client, http_proxy: ProxyProcess, app: AppServer, scheme: str, seen: str) -> None:
    """socks5 and socks4 resolve the host here; socks5h lets the proxy resolve it."""
    since = http_proxy.mark()
    info = api.info(f"ws://localhost:{app.port}/info", proxy=http_proxy.url(scheme))
    http_proxy.wait_for(f"-> {seen}:{app.port}", since)
    assert header(info, "Host") == [f"localhost:{app.port}"]


def test_socks5_with_credentials(api: Client, auth_proxy: ProxyProcess, app_url: str) -> None:
    assert api.echo(app_url, "socks auth", proxy=auth_proxy.url("socks5", "user:pass")) == "socks auth"
    assert api.echo(app_url, "socks auth", proxy=auth_proxy.url("socks5"),
                    proxy_auth=syncws.BasicAuth("user", "pass")) == "socks auth"
    with pytest.raises(syncws.ProxyError, match="refused"):
        api.connect(app_url, proxy=auth_proxy.url("socks5"))


def test_wss_through_socks5h(
    api: Client, http_proxy: ProxyProcess, tls_app: AppServer, client_ssl: ssl.SSLContext
) -> None:
    tls_app.sni.clear()
    info = api.info(f"wss://localhost:{tls_app.port}/info", proxy=http_proxy.url("socks5h"), ssl=client_ssl)
    assert info["path"] == "/info" and tls_app.sni == ["localhost"]


def _hide_python_socks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import python_socks`` fail as if the extra were not installed."""
    for name in [n for n in sys.modules if n == "python_socks" or n.startswith("python_socks.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "python_socks", None)


def test_socks_without_the_extra_says_what_to_install(
    api: Client, monkeypatch: pytest.MonkeyPatch, http_proxy: ProxyProcess, app_url: str
) -> None:
    _hide_python_socks(monkeypatch)
    with pytest.raises(ImportError, match=r"pip install 'syncws\[socks\]'"):
        api.connect(app_url, proxy=http_proxy.url("socks5"))  # refused before any I/O
    monkeypatch.setenv("ALL_PROXY", http_proxy.url("socks5h"))
    with pytest.raises(ImportError, match=r"syncws\[socks\]"):
        api.connect(app_url)  # from the environment: refused when connecting
    assert api.echo(app_url, "plain", proxy=http_proxy.url()) == "plain", "HTTP proxies need no extra"
