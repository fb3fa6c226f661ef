"""What goes into the opening request: headers, User-Agent, Origin, cookies, params,
and the refusal of CR/LF/NUL before anything is sent. The server reports what it got."""

from __future__ import annotations

import json
import platform
from typing import Any, Callable, Dict

import pytest

import syncws
from tests.apis import Client, header
from tests.servers import RawPeer, RawServer

pytestmark = pytest.mark.timeout(30)


def test_headers_mapping_and_pairs(api: Client, app_url: str) -> None:
    info = api.info(app_url + "/info", headers={"X-One": "1", "X-Two": "2"})
    assert header(info, "X-One") == ["1"] and header(info, "X-Two") == ["2"]
    info = api.info(app_url + "/info", headers=[("X-Twice", "a"), ("X-Other", "b"), ("x-twice", "c")])
    assert header(info, "X-Twice") == ["a", "c"], "repeated names are kept, in order"


def test_user_agent(api: Client, app_url: str) -> None:
    python = ".".join(platform.python_version_tuple()[:2])
    expected = f"syncws/{syncws.__version__} Python/{python}"
    assert expected == syncws.DEFAULT_USER_AGENT
    assert header(api.info(app_url + "/info"), "User-Agent") == [expected]
    assert header(api.info(app_url + "/info", user_agent="mine/1.0"), "User-Agent") == ["mine/1.0"]
    assert header(api.info(app_url + "/info", user_agent=None), "User-Agent") == []
    assert header(api.info(app_url + "/info", headers={"User-Agent": "hdr/2"}), "User-Agent") == ["hdr/2"]


def test_origin(api: Client, app_url: str) -> None:
    assert header(api.info(app_url + "/info", origin="https://app.example"), "Origin") == ["https://app.example"]
    assert header(api.info(app_url + "/info"), "Origin") == []


def test_cookies(api: Client, app_url: str) -> None:
    info = api.info(app_url + "/info", cookies={"session": "abc123", "theme": "dark"})
    assert header(info, "Cookie") == ["session=abc123; theme=dark"]
    info = api.info(app_url + "/info", cookies=[("a", "1")], headers={"Cookie": "pre=0"})
    assert header(info, "Cookie") == ["pre=0; a=1"], "one Cookie header (RFC 6265 §5.4)"


def test_params(api: Client, app_url: str) -> None:
    info = api.info(app_url + "/info", params={"q": "a b&c", "n": 3})
    assert info["path"] == "/info?q=a%20b%26c&n=3"
    info = api.info(app_url + "/info?x=1", params=[("y", "é"), ("y", "2"), ("f", 1.5)])
    assert info["path"] == "/info?x=1&y=%C3%A9&y=2&f=1.5"


BAD: Dict[str, Dict[str, Any]] = {
    "header value CR LF": {"headers": {"X-Evil": "a\r\nHost: evil"}},
    "header value LF": {"headers": [("X-Evil", "a\nb")]},
    "header value NUL": {"headers": {"X-Evil": "a\x00b"}},
    "header name CR LF": {"headers": {"X-Evil\r\nHost": "b"}},
    "origin": {"origin": "https://a\r\nX: y"},
    "user agent": {"user_agent": "ua\n"},
    "cookie value": {"cookies": {"a": "b\r\nX-Evil: 1"}},
    "cookie separator": {"cookies": {"a": "b; admin=1"}},
    "cookie name": {"cookies": {"a=b": "c"}},
    "proxy header": {"proxy": "http://127.0.0.1:9", "proxy_headers": {"X-Evil": "\r\n"}},
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_injection_refused_before_anything_is_sent(
    api: Client, raw_server: Callable[..., RawServer], case: str
) -> None:
    seen = []

    async def script(peer: RawPeer) -> None:
        seen.append(await peer.reader.read(65536))

    server = raw_server(script)
    with pytest.raises(syncws.InvalidHeader):
        if api.is_async:
            syncws.ws_connect(server.url, **BAD[case])  # refused at the call, before any await
        else:
            syncws.connect(server.url, **BAD[case])
    # the server must be untouched; a clean request afterwards proves it was listening
    with pytest.raises(syncws.ClientConnectionError, match="during the opening handshake"):
        api.connect(server.url, timeout=5)
    assert len(seen) == 1 and b"evil" not in seen[0].lower()


def test_reserved_headers_refused(api: Client, app_url: str) -> None:
    with pytest.raises(syncws.InvalidHeader, match="Sec-WebSocket-Key"):
        api.connect(app_url, headers={"Sec-WebSocket-Key": "x"})


def test_option_types_checked(api: Client, app_url: str) -> None:
    with pytest.raises(TypeError):
        api.connect(app_url, params={"a": object()})
    with pytest.raises(TypeError):
        api.connect(app_url, cookies="a=b")
    with pytest.raises(ValueError):
        api.connect(app_url, max_redirects=-1)
    with pytest.raises(ValueError):
        api.connect(app_url, reconnect_initial=2, reconnect_max=1)


def test_a_refused_handshake_names_the_url_and_shows_the_body(api: Client, raw_server: Any) -> None:
    """Like websocket-client (the body) and aiohttp (the URL in str()): bounded, escaped, no credentials."""

    async def script(peer: Any) -> None:
        await peer.read_request()
        body = b"no entry\x1b]0;pwned\x07" + b"x" * 2000
        peer.send(b"HTTP/1.1 403 Forbidden\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

    server = raw_server(script)
    url = server.url.replace("ws://", "ws://user:pw-secret@") + "room?x=1"
    with pytest.raises(syncws.WSServerHandshakeError) as raised:
        api.connect(url, compress=0)
    err, text = raised.value, str(raised.value)
    assert err.status == 403 and err.url == server.url + "room?x=1"
    assert f"url={server.url + 'room?x=1'!r}" in text and "no entry" in text
    assert "\x1b" not in text and "\x07" not in text and "pw-secret" not in text
    assert len(err.body) <= 512 and len(text) < 1000


def test_request_headers_and_addresses_on_both_apis(api: Client, app: Any, app_url: str) -> None:
    """What websockets shows as request.headers, local_address and remote_address."""
    with api.connect(app_url + "/info", headers=["X-Client: demo"], cookies={"sid": "1"}) as conn:
        info = json.loads(conn.receive_str())
        ws = conn.ws
        sent = ws.request_headers
        assert [[k, v] for k, v in sent.items()] == info["headers"], "exactly what the server received"
        assert sent["x-client"] == "demo" and sent.get_all("Cookie") == ["sid=1"]
        assert list(ws.local_address) == info["remote"]  # our end is the server's remote end
        assert tuple(ws.remote_address) == ("127.0.0.1", app.port)
