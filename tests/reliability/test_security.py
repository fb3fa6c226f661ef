"""Security defaults: verified TLS, loud opt-out, no downgrade or credential leak on redirect,
no header injection, masks and keys from ``secrets``, bounded handshake responses."""

from __future__ import annotations

import asyncio
import base64
import inspect
import ssl
import subprocess
import sys
import textwrap
import threading
from typing import Any, Dict, List

import pytest

import syncws
import syncws.protocol.frames
import syncws.protocol.handshake
from syncws.protocol.handshake import MAX_HEAD, MAX_HEADERS
from tests.servers import RawPeer, frame

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("no_leaks")]


# -- TLS -------------------------------------------------------------------------------------

def test_tls_verified_by_default(wss_url: str, client_ssl: ssl.SSLContext) -> None:
    with pytest.raises(syncws.ClientSSLError):  # trustme's CA is not in certifi's bundle
        syncws.connect(wss_url)
    with pytest.raises(syncws.ClientSSLError):  # trusted CA, wrong name
        syncws.connect(wss_url, ssl=client_ssl, server_hostname="not-the-cert-name.example")
    with syncws.connect(wss_url, ssl=client_ssl) as ws:
        ws.send_str("ok")
        assert ws.receive_str(timeout=10) == "ok"


def test_ssl_false_warns_once(wss_url: str) -> None:
    program = textwrap.dedent(
        f"""
        import warnings, syncws
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(3):
                with syncws.connect({wss_url!r}, ssl=False) as ws:
                    ws.send_str("x"); ws.receive(timeout=10)
        print(sum("ssl=False" in str(w.message) for w in caught))
        print(*[(w.filename, w.lineno) for w in caught if "ssl=False" in str(w.message)])
        """
    )
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    count, where = out.stdout.strip().splitlines()
    assert count == "1"
    assert where == "('<string>', 6)", "the warning names the application's line that passed ssl=False"


# -- redirects -------------------------------------------------------------------------------

def _redirecting(location: str) -> Any:
    async def script(peer: RawPeer) -> None:
        await peer.read_request()
        peer.send(f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode())

    return script


def _recording(seen: List[Dict[str, str]]) -> Any:
    async def script(peer: RawPeer) -> None:
        seen.append(await peer.read_request())
        peer.writer.close()

    return script


def test_redirect_never_downgrades_wss_to_ws(raw_server: Any, tls_raw_server: Any, client_ssl: ssl.SSLContext) -> None:
    seen: List[Dict[str, str]] = []
    plain = raw_server(_recording(seen))
    secure = tls_raw_server(_redirecting(plain.url))
    with pytest.raises(syncws.WebSocketError):
        syncws.connect(secure.url, ssl=client_ssl, max_redirects=5)
    assert seen == []  # nothing was sent in clear text


def test_redirect_to_another_host_drops_credentials(raw_server: Any) -> None:
    seen: List[Dict[str, str]] = []
    other = raw_server(_recording(seen))
    other_url = other.url.replace("127.0.0.1", "localhost")  # another host name, same machine
    first = raw_server(_redirecting(other_url))
    url = first.url.replace("ws://", "ws://user:secret@")
    with pytest.raises(syncws.WebSocketError):
        syncws.connect(
            url,
            max_redirects=5,
            headers={"Authorization": "Bearer token-for-first-host", "Cookie": "session=first"},
        )
    assert len(seen) == 1, "the redirect was not followed"
    leaked = {k: v for k, v in seen[0].items() if k in ("authorization", "cookie", "proxy-authorization")}
    assert leaked == {}


# -- proxy -----------------------------------------------------------------------------------

async def _pump(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    while data := await r.read(65536):
        w.write(data)
    w.close()


def test_proxy_credentials_only_to_the_proxy(raw_server: Any) -> None:
    """HTTP CONNECT: Proxy-Authorization goes to the proxy only, never to the server through the tunnel."""
    requests: List[bytes] = []
    target_seen: List[Dict[str, str]] = []
    target = raw_server(_recording(target_seen))

    async def proxy(peer: RawPeer) -> None:
        head = await peer.reader.readuntil(b"\r\n\r\n")
        requests.append(head)
        up_r, up_w = await asyncio.open_connection("127.0.0.1", target.port)
        peer.send(b"HTTP/1.1 200 Connection established\r\n\r\n")

        await asyncio.gather(_pump(peer.reader, up_w), _pump(up_r, peer.writer), return_exceptions=True)

    proxy_server = raw_server(proxy)
    proxy_url = f"http://puser:psecret@127.0.0.1:{proxy_server.port}"
    with pytest.raises(syncws.WebSocketError):
        syncws.connect(target.url, proxy=proxy_url, open_timeout=5)
    assert requests and requests[0].startswith(b"CONNECT 127.0.0.1:")
    expected = "Basic " + base64.b64encode(b"puser:psecret").decode()
    assert f"Proxy-Authorization: {expected}".encode().lower() in requests[0].lower()
    assert len(target_seen) == 1
    assert "proxy-authorization" not in target_seen[0] and "authorization" not in target_seen[0]


def test_socks5_credentials_only_to_the_proxy(raw_server: Any) -> None:
    """SOCKS5 (RFC 1928/1929): the proxy's user and password go in its sub-negotiation only;
    the server's Authorization and the proxy's credentials never cross to the wrong side."""
    negotiation: List[bytes] = []
    target_raw: List[bytes] = []

    async def target_script(peer: RawPeer) -> None:
        target_raw.append(await peer.reader.readuntil(b"\r\n\r\n"))
        peer.writer.close()

    target = raw_server(target_script)

    async def socks5(peer: RawPeer) -> None:
        r = peer.reader
        greeting = await r.readexactly(2)
        greeting += await r.readexactly(greeting[1])
        peer.send(b"\x05\x02")  # username/password, please
        auth = await r.readexactly(2)
        auth += await r.readexactly(auth[1])
        auth += await r.readexactly(1)
        auth += await r.readexactly(auth[-1])
        peer.send(b"\x01\x00")
        request = await r.readexactly(4)
        request += await r.readexactly({1: 4, 4: 16}[request[3]] + 2)
        negotiation.append(greeting + auth + request)
        up_r, up_w = await asyncio.open_connection("127.0.0.1", target.port)
        peer.send(b"\x05\x00\x00\x01" + bytes(4) + bytes(2))
        await asyncio.gather(_pump(r, up_w), _pump(up_r, peer.writer), return_exceptions=True)

    proxy_server = raw_server(socks5)
    with pytest.raises(syncws.WebSocketError):
        syncws.connect(
            target.url,
            proxy=f"socks5://puser:psecret@127.0.0.1:{proxy_server.port}",
            auth=syncws.BasicAuth("wsuser", "wssecret"),
            open_timeout=5,
        )
    assert len(negotiation) == 1 and len(target_raw) == 1
    sent_to_proxy, sent_to_server = negotiation[0], target_raw[0]
    assert b"\x05puser\x07psecret" in sent_to_proxy  # RFC 1929: length-prefixed user and password
    assert sent_to_proxy.endswith(target.port.to_bytes(2, "big"))
    ws_credentials = base64.b64encode(b"wsuser:wssecret")
    assert b"wsuser" not in sent_to_proxy and ws_credentials not in sent_to_proxy
    assert b"Authorization: Basic " + ws_credentials in sent_to_server
    assert b"puser" not in sent_to_server and b"psecret" not in sent_to_server
    assert b"proxy-authorization" not in sent_to_server.lower()


# -- header injection ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "options",
    [
        {"headers": {"X-Ok": "a\r\nInjected: 1"}},
        {"headers": [("X-Ok", "a\nb")]},
        {"headers": {"Bad Name": "v"}},
        {"headers": {"X-Nul": "a\x00b"}},
        {"origin": "http://a\r\nInjected: 1"},
        {"user_agent": "ua\r\nInjected: 1"},
        {"protocols": ["chat\r\nInjected: 1"]},
    ],
)
def test_header_injection_refused_before_io(options: Dict[str, Any]) -> None:
    with pytest.raises((syncws.InvalidHeader, ValueError)):
        syncws.connect("ws://127.0.0.1:9/", **options)  # nothing listens: must fail before any I/O


@pytest.mark.parametrize("url", ["ws://host/\r\nInjected: 1", "ws://ho st/", "ws://host/a b"])
def test_url_injection_refused(url: str) -> None:
    with pytest.raises(syncws.InvalidURL):
        syncws.connect(url)


# -- randomness --------------------------------------------------------------------------------

def test_masks_and_keys_come_from_secrets(raw_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: List[int] = []
    real = syncws.protocol.frames.secrets.token_bytes

    def spy(n: int) -> bytes:
        calls.append(n)
        return real(n)

    monkeypatch.setattr(syncws.protocol.frames.secrets, "token_bytes", spy)
    assert syncws.protocol.handshake.secrets is syncws.protocol.frames.secrets
    masks: List[bytes] = []
    keys: List[str] = []

    async def script(peer: RawPeer) -> None:
        headers = await peer.handshake()
        keys.append(headers["sec-websocket-key"])
        for _ in range(50):
            _, b1 = await peer.reader.readexactly(2)
            masks.append(await peer.reader.readexactly(4))
            await peer.reader.readexactly(b1 & 0x7F)
        code, _ = await peer.read_close()
        peer.send(frame(8, code.to_bytes(2, "big")))

    server = raw_server(script)
    with syncws.connect(server.url, compress=0) as ws:
        for i in range(50):
            ws.send_bytes(bytes([i]))
    assert 16 in calls  # the handshake key
    # mask keys: drawn from secrets (one token_bytes call fills a pool of them), never from `random`
    source = inspect.getsource(syncws.protocol.frames)
    assert "secrets.token_bytes" in source and "import random" not in source
    assert len(base64.b64decode(keys[0])) == 16
    assert len(set(masks)) == len(masks) and b"\x00\x00\x00\x00" not in masks


# -- bounded handshake responses ------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["endless header", "too many headers", "endless status line"])
def test_hostile_handshake_response_is_bounded(raw_server: Any, kind: str) -> None:
    sent = {"bytes": 0}
    done = threading.Event()

    async def script(peer: RawPeer) -> None:
        await peer.read_request()
        try:
            if kind == "too many headers":
                peer.send(b"HTTP/1.1 101 Switching Protocols\r\n" + b"X: y\r\n" * (MAX_HEADERS + 10) + b"\r\n")
                sent["bytes"] = 1
            else:
                peer.send(b"HTTP/1.1 101 Switching Protocols\r\nX: " if kind == "endless header" else b"HTTP/1.1 ")
                for _ in range(1000):  # up to 64 MiB, far past every limit
                    peer.send(b"z" * 65536)
                    sent["bytes"] += 65536
                    await peer.writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            done.set()

    server = raw_server(script)
    with pytest.raises(syncws.WSServerHandshakeError):
        syncws.connect(server.url, open_timeout=10)
    assert done.wait(10)
    assert sent["bytes"] < 1000 * 65536  # the client hung up long before the end
    assert MAX_HEAD <= 2**16
