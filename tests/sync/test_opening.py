"""Opening plain ws:// connections in the caller's thread (syncws/sync/opening.py).

The wider suites (conformance, connectivity, reliability) open their ws://
connections this way too; these tests pin down what is particular to it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
from typing import Any, List

import pytest

import syncws
from syncws.aio.options import Options
from syncws.protocol.handshake import accept_key
from syncws.protocol.url import parse_url
from syncws.sync import client as sync_client
from syncws.sync.opening import Opened, opens_here
from tests.reliability.support import wait_until
from tests.servers import RawPeer, frame

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def opened_here(monkeypatch: pytest.MonkeyPatch) -> List[str]:
    """The URLs whose handshake ran in the calling thread."""
    seen: List[str] = []
    real = sync_client.open_here

    def spy(target: Any, options: Options) -> Any:
        assert threading.current_thread() is threading.main_thread()
        opened = real(target, options)
        seen.append(target.url if isinstance(opened, Opened) else "redirected")
        return opened

    monkeypatch.setattr(sync_client, "open_here", spy)
    return seen


def test_plain_ws_opens_in_the_calling_thread(ws_url: str, opened_here: List[str]) -> None:
    with syncws.connect(ws_url, protocols=["chat"], compress=15) as ws:
        ws.send_str("hello")
        assert ws.receive_str(timeout=10) == "hello"
        assert ws.protocol == "chat" and ws.compress > 0  # deflate agreed (the server picks the window)
    assert opened_here == [parse_url(ws_url).url]
    assert ws.close_code == 1000


def test_frames_sent_with_the_handshake_answer_are_kept(raw_server: Any, opened_here: List[str]) -> None:
    async def script(peer: RawPeer) -> None:
        key = (await peer.read_request())["sec-websocket-key"]
        answer = (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
        )
        peer.send(answer.encode() + frame(1, b"first") + frame(1, b"second"))  # one write
        await peer.read_close()
        peer.send(frame(8, (1000).to_bytes(2, "big")))

    server = raw_server(script)
    with syncws.connect(server.url, compress=0) as ws:
        assert ws.receive_str(timeout=10) == "first"
        assert ws.receive_str(timeout=10) == "second"
    assert opened_here == [server.url]


def _answer_with(peer: RawPeer, key: str, frames: bytes) -> None:
    answer = (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
    )
    peer.send(answer.encode() + frames)  # one write: the client reads them with the answer


def test_a_close_frame_sent_with_the_answer_is_answered(raw_server: Any, opened_here: List[str]) -> None:
    replies: List[int] = []
    replied = threading.Event()

    async def script(peer: RawPeer) -> None:
        key = (await peer.read_request())["sec-websocket-key"]
        _answer_with(peer, key, frame(1, b"bye") + frame(8, (4001).to_bytes(2, "big") + b"done"))
        replies.append((await peer.read_close())[0])
        replied.set()  # then the script ends: the server closes TCP first

    server = raw_server(script)
    ws = syncws.connect(server.url, compress=0, close_timeout=5)
    assert ws.receive_str(timeout=10) == "bye"
    msg = ws.receive(timeout=10)
    assert (msg.type, msg.data, msg.extra) == (syncws.WSMsgType.CLOSE, 4001, "done")
    assert ws.receive(timeout=10).type is syncws.WSMsgType.CLOSED
    assert replied.wait(10) and replies == [4001]  # echoed by autoclose
    assert ws.close() is False
    wait_until(ws._proto.lost.done, what="TCP closed")
    assert ws.close_code == 4001 and ws.exception() is None
    assert opened_here == [server.url]


def test_a_violation_sent_with_the_answer_fails_the_connection(raw_server: Any, opened_here: List[str]) -> None:
    replies: List[int] = []
    replied = threading.Event()

    async def script(peer: RawPeer) -> None:
        key = (await peer.read_request())["sec-websocket-key"]
        _answer_with(peer, key, frame(1, b"ok") + frame(3, b"reserved opcode"))
        replies.append((await peer.read_close())[0])
        replied.set()

    server = raw_server(script)
    with syncws.connect(server.url, compress=0, close_timeout=5) as ws:
        assert ws.receive_str(timeout=10) == "ok"
        msg = ws.receive(timeout=10)
        assert msg.type is syncws.WSMsgType.ERROR and isinstance(msg.data, syncws.WebSocketError)
        assert ws.receive(timeout=10).type is syncws.WSMsgType.CLOSED
    assert replied.wait(10) and replies == [1002]
    assert ws.close_code == 1002
    assert opened_here == [server.url]


def test_a_redirect_goes_the_loops_way(raw_server: Any, ws_url: str, opened_here: List[str]) -> None:
    async def redirect(peer: RawPeer) -> None:
        await peer.read_request()
        peer.send(f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {ws_url}\r\nContent-Length: 0\r\n\r\n".encode())

    server = raw_server(redirect)
    with syncws.connect(server.url, compress=0) as ws:
        ws.send_str("followed")
        assert ws.receive_str(timeout=10) == "followed"
        assert ws.url == parse_url(ws_url).url
    assert opened_here == ["redirected"]  # answered here, followed on the loop


def test_a_host_name_opens_here(ws_url: str, opened_here: List[str]) -> None:
    """A name, not an address, goes through the resolver (bytes in, as for addresses)."""
    url = ws_url.replace("127.0.0.1", "localhost")
    with syncws.connect(url, compress=0) as ws:
        ws.send_str("by name")
        assert ws.receive_str(timeout=10) == "by name"
    assert opened_here == [parse_url(url).url]


def test_an_ipv6_address_opens_here(ws6_url: str, opened_here: List[str]) -> None:
    url = ws6_url + "/"
    with syncws.connect(url, compress=0) as ws:
        ws.send_str("over v6")
        assert ws.receive_str(timeout=10) == "over v6"
    assert opened_here == [url]


def test_addresses_skip_the_resolver(ws_url: str, ws6_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_resolver(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"getaddrinfo{args}")

    monkeypatch.setattr(socket, "getaddrinfo", no_resolver)
    for url in (ws_url, ws6_url):
        with syncws.connect(url, compress=0) as ws:
            ws.send_str(url)
            assert ws.receive_str(timeout=10) == url


_NO_IDNA = textwrap.dedent(
    """
    import sys
    import syncws
    with syncws.connect(sys.argv[1], compress=0) as ws:
        ws.send_str("x")
        assert ws.receive_str(timeout=10) == "x"
    print(sorted(name for name in ("encodings.idna", "unicodedata") if name in sys.modules))
    """
)


def test_connecting_loads_no_idna_codec(ws_url: str) -> None:
    """The host is IDNA-encoded when the URL is parsed; connecting does not encode it again
    (the idna codec's first use imports unicodedata: about 100 KiB resident per process)."""
    proc = subprocess.run([sys.executable, "-c", _NO_IDNA, ws_url], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_refused(opened_here: List[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: refused
        with pytest.raises(syncws.ClientConnectionError, match="cannot connect"):
            syncws.connect(f"ws://127.0.0.1:{port}/")


def test_rejected_handshake(raw_server: Any) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.read_request()
        peer.send(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    server = raw_server(script)
    with pytest.raises(syncws.WSServerHandshakeError) as info:
        syncws.connect(server.url)
    assert info.value.status == 403


def test_closed_during_handshake(raw_server: Any) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.read_request()
        peer.writer.close()

    server = raw_server(script)
    with pytest.raises(syncws.ClientConnectionError, match="during the opening handshake"):
        syncws.connect(server.url)


def test_no_answer_times_out(raw_server: Any) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.read_request()
        await peer.at_eof()

    server = raw_server(script)
    with pytest.raises(syncws.OpenTimeout, match=r"took longer than 0\.2 s"):
        syncws.connect(server.url, open_timeout=0.2)


@pytest.mark.parametrize(
    "url, options, here",
    [
        ("ws://127.0.0.1:9/", {}, True),
        ("wss://127.0.0.1:9/", {}, False),
        ("ws://127.0.0.1:9/", {"proxy": "http://127.0.0.1:8"}, False),
        ("ws://127.0.0.1:9/", {"unix_socket": "/tmp/x.sock"}, False),
        ("ws://127.0.0.1:9/", {"connector": syncws.TCPConnector()}, False),
    ],
)
def test_which_connections_open_here(url: str, options: Any, here: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert opens_here(parse_url(url), Options.from_kwargs(options)) is here
