"""docs/migration.md, "From websocket-client": each row of both tables, run with
websocket-client and then with syncws against the same local server, comparing what a
user sees. Where the two differ on purpose, the test pins both sides and the guide
says so (its "Differences that remain" list)."""

from __future__ import annotations

import inspect
import logging
import ssl
import subprocess
import sys
import threading
import time
import warnings
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest
import websocket

import syncws
from syncws.aio.reconnect import backoff_delay
from tests.connectivity.peers import ProxyProcess
from tests.migration.conftest import PROXY_CREDENTIALS
from tests.migration.helpers import (
    Seen,
    close_payload,
    finished,
    parse_close,
    ticking_server,
    until_eof,
)
from tests.proxy import ConnectProxy as RecordingProxy
from tests.servers import RawPeer, RawServer, Script, ServerLoop, frame

pytestmark = pytest.mark.timeout(60)

RawServerFactory = Callable[[Script], RawServer]
Frames = List[Tuple[int, bytes]]


def wc_seen(url: str, **options: Any) -> Seen:
    """What the /info route saw of websocket-client's request."""
    ws = websocket.create_connection(url + "/info", **options)
    try:
        return Seen(ws.recv())
    finally:
        ws.close()


def sy_seen(url: str, **options: Any) -> Seen:
    with syncws.connect(url + "/info", **options) as ws:
        return Seen(ws.receive_str(timeout=5))


# -- create_connection ----------------------------------------------------------------------


def test_create_connection_and_with(ws_url: str) -> None:
    ws = websocket.create_connection(ws_url + "/echo")
    ws.send("hello")
    theirs = ws.recv()
    ws.close()
    assert not hasattr(ws, "__enter__")  # websocket-client's connection is no context manager
    with syncws.connect(ws_url + "/echo") as ours_ws:
        ours_ws.send_str("hello")
        ours = ours_ws.receive_str(timeout=5)
    assert ours_ws.closed
    assert theirs == ours == "hello"


@pytest.mark.parametrize(
    "theirs, ours",
    [
        ({"header": ["X-Client: demo"]}, {"headers": ["X-Client: demo"]}),
        ({"header": {"X-Client": "demo"}}, {"headers": {"X-Client": "demo"}}),
        ({"header": ["X-Client: demo"]}, {"headers": [("X-Client", "demo")]}),
    ],
    ids=["header=list of 'Name: value'", "header=dict", "header= as pairs"],
)
def test_header(ws_url: str, theirs: Dict[str, Any], ours: Dict[str, Any]) -> None:
    assert wc_seen(ws_url, **theirs).headers["x-client"] == sy_seen(ws_url, **ours).headers["x-client"] == "demo"


def test_header_with_a_line_break_is_refused(ws_url: str) -> None:
    """websocket-client sends the value as it is: the server sees a second header, smuggled
    in; syncws refuses it before any I/O."""
    seen = wc_seen(ws_url, header=["X-Client: demo\r\nX-Smuggled: yes"])
    assert seen.headers["x-smuggled"] == "yes"
    with pytest.raises(syncws.InvalidHeader):
        syncws.connect(ws_url + "/info", headers=["X-Client: demo\r\nX-Smuggled: yes"])


def test_default_request_headers(ws_url: str) -> None:
    """websocket-client sends an Origin header made from the URL, no User-Agent, and does not
    offer compression; syncws sends a User-Agent, no Origin unless given one, and offers
    permessage-deflate (compress=0 turns it off)."""
    theirs, ours = wc_seen(ws_url).headers, sy_seen(ws_url).headers
    assert theirs["origin"] == "http://" + ws_url.split("//")[1] and "user-agent" not in theirs
    assert "origin" not in ours and ours["user-agent"] == syncws.DEFAULT_USER_AGENT
    assert "sec-websocket-extensions" not in theirs
    assert ours["sec-websocket-extensions"].startswith("permessage-deflate")
    assert "sec-websocket-extensions" not in sy_seen(ws_url, compress=0).headers


def test_subprotocols(ws_url: str) -> None:
    ws = websocket.create_connection(ws_url + "/info", subprotocols=["chat"])
    theirs = (Seen(ws.recv()).subprotocol, ws.getsubprotocol())
    ws.close()
    with syncws.connect(ws_url + "/info", protocols=["chat"]) as ours_ws:
        ours = (Seen(ours_ws.receive_str(timeout=5)).subprotocol, ours_ws.protocol)
    assert theirs == ours == ("chat", "chat")


def test_origin_and_cookie(ws_url: str) -> None:
    theirs = wc_seen(ws_url, origin="https://app.example", cookie="a=1; b=2").headers
    ours = sy_seen(ws_url, origin="https://app.example", cookies={"a": "1", "b": "2"}).headers
    expected = ("https://app.example", "a=1; b=2")
    assert (theirs["origin"], theirs["cookie"]) == (ours["origin"], ours["cookie"]) == expected


# -- timeouts -----------------------------------------------------------------------------


def _timed(call: Callable[[], Any]) -> Tuple[str, float]:
    """The exception ``call`` raises, by name, and how long it took."""
    started = time.monotonic()
    with pytest.raises(Exception) as info:
        call()
    return type(info.value).__name__, time.monotonic() - started


def test_timeout_bounds_the_opening(silent_url: str) -> None:
    theirs = _timed(lambda: websocket.create_connection(silent_url, timeout=0.2))
    ours = _timed(lambda: syncws.connect(silent_url, timeout=0.2))
    assert (theirs[0], ours[0]) == ("WebSocketTimeoutException", "OpenTimeout")
    assert 0.15 < theirs[1] < 5 and 0.15 < ours[1] < 5


@pytest.mark.parametrize("how", ["timeout=", "settimeout(t)"])
def test_timeout_of_a_receive_leaves_the_connection_usable(ws_url: str, how: str) -> None:
    """websocket-client's timeout= (or settimeout()) bounds recv(); syncws's receive_timeout=
    or receive(timeout=): each raises its timeout error and the connection goes on."""
    if how == "timeout=":
        ws = websocket.create_connection(ws_url + "/echo", timeout=0.1)
    else:
        ws = websocket.create_connection(ws_url + "/echo")
        ws.settimeout(0.1)
    theirs = [_timed(ws.recv)[0]]
    ws.send("still there")
    theirs.append(ws.recv())
    ws.close()
    with syncws.connect(ws_url + "/echo", receive_timeout=0.1) as ours_ws:
        receive = ours_ws.receive if how == "timeout=" else lambda: ours_ws.receive(timeout=0.1)
        ours = [_timed(receive)[0]]
        ours_ws.send_str("still there")
        ours.append(ours_ws.receive_str(timeout=5))
    assert theirs == ["WebSocketTimeoutException", "still there"]
    assert ours == ["ReceiveTimeout", "still there"]


async def _never_answers_close(peer: RawPeer) -> None:
    await peer.handshake()
    await peer.read_close()
    await until_eof(peer)


def test_timeout_bounds_the_closing(raw_server: RawServerFactory) -> None:
    """syncws's timeout= (or close_timeout=) also bounds close(); websocket-client's close()
    has its own timeout (3 s by default) whatever timeout= says. Neither close() raises."""
    url = raw_server(_never_answers_close).url
    assert inspect.signature(websocket.WebSocket.close).parameters["timeout"].default == 3
    ws = websocket.create_connection(url, timeout=5)
    started = time.monotonic()
    ws.close(timeout=0.2)
    theirs = (time.monotonic() - started, ws.connected)
    ours_ws = syncws.connect(url, timeout=0.2)
    started = time.monotonic()
    ours_ws.close()
    ours = (time.monotonic() - started, not ours_ws.closed)
    assert 0.15 < theirs[0] < 2 and 0.15 < ours[0] < 2
    assert theirs[1] is ours[1] is False
    # syncws tells why: the close frame never came
    assert ours_ws.close_code == 1006 and isinstance(ours_ws.exception(), syncws.CloseTimeout)


def test_timeout_exceptions_are_timeout_errors(silent_url: str, ws_url: str) -> None:
    """WebSocketTimeoutException is no TimeoutError; OpenTimeout, ReceiveTimeout and
    CloseTimeout are (and asyncio.TimeoutError)."""
    with pytest.raises(websocket.WebSocketTimeoutException) as theirs:
        websocket.create_connection(silent_url, timeout=0.1)
    assert not isinstance(theirs.value, TimeoutError)
    with pytest.raises(TimeoutError):
        syncws.connect(silent_url, timeout=0.1)
    with syncws.connect(ws_url + "/echo") as ws, pytest.raises(TimeoutError):
        ws.receive(timeout=0.05)
    assert issubclass(syncws.CloseTimeout, TimeoutError)


# -- TLS ------------------------------------------------------------------------------------


def test_ssl_without_verification(wss_url: str) -> None:
    url = wss_url + "/echo"
    with pytest.raises(ssl.SSLCertVerificationError):
        websocket.create_connection(url)  # the test CA is not trusted: both refuse by default
    with pytest.raises(syncws.ClientSSLError):
        syncws.connect(url)
    ws = websocket.create_connection(url, sslopt={"cert_reqs": ssl.CERT_NONE})
    ws.send("insecure")
    theirs = ws.recv()
    ws.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ssl=False warns, once per process
        ours_ws = syncws.connect(url, ssl=False)
    with ours_ws:
        ours_ws.send_str("insecure")
        ours = ours_ws.receive_str(timeout=5)
    assert theirs == ours == "insecure"


def test_ssl_with_a_ca_file(wss_url: str, ca_file: str) -> None:
    theirs = wc_seen(wss_url, sslopt={"ca_certs": ca_file}).path
    ours = sy_seen(wss_url, ssl=ssl.create_default_context(cafile=ca_file)).path
    assert theirs == ours == "/info"


# -- proxies --------------------------------------------------------------------------------


def test_http_proxy(ws_url: str, proxy: RecordingProxy) -> None:
    target = ws_url.split("//")[1]
    wc_seen(ws_url, http_proxy_host="127.0.0.1", http_proxy_port=proxy.port, proxy_type="http")
    sy_seen(ws_url, proxy=proxy.url)
    assert proxy.tunnels == [target, target]


def test_socks5_proxy(ws_url: str, socks_proxy: ProxyProcess) -> None:
    pytest.importorskip("python_socks")
    target = ws_url.split("//")[1]
    since = socks_proxy.mark()
    wc_seen(ws_url, http_proxy_host="127.0.0.1", http_proxy_port=socks_proxy.port, proxy_type="socks5")
    socks_proxy.wait_for(f"-> {target}", since)
    since = socks_proxy.mark()
    sy_seen(ws_url, proxy=socks_proxy.url("socks5"))
    socks_proxy.wait_for(f"-> {target}", since)


def test_http_proxy_auth(ws_url: str, auth_proxy: RecordingProxy) -> None:
    host, port = "127.0.0.1", auth_proxy.port
    wc_seen(ws_url, http_proxy_host=host, http_proxy_port=port, http_proxy_auth=("user", "pw"))
    sy_seen(ws_url, proxy=auth_proxy.url, proxy_auth=syncws.BasicAuth("user", "pw"))
    sent = [headers.get("proxy-authorization") for _, _, headers in auth_proxy.requests]
    assert sent == [PROXY_CREDENTIALS, PROXY_CREDENTIALS]


@pytest.mark.parametrize("scheme", ["ws", "wss"])
def test_proxy_from_the_environment(
    ws_url: str, wss_url: str, ca_file: str, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    """Both take http_proxy (ws://) / https_proxy (wss://) from the environment; syncws's
    proxy=None connects directly all the same."""
    url = ws_url if scheme == "ws" else wss_url
    monkeypatch.setenv("http_proxy" if scheme == "ws" else "https_proxy", proxy.url)
    target = url.split("//")[1]
    wc_seen(url, sslopt={"ca_certs": ca_file})
    assert proxy.tunnels == [target]
    trusted = ssl.create_default_context(cafile=ca_file)
    sy_seen(url, ssl=trusted)
    assert proxy.tunnels == [target, target]
    sy_seen(url, proxy=None, ssl=trusted)
    assert proxy.tunnels == [target, target]


# -- sending and receiving ----------------------------------------------------------------


def _data(value: Any) -> Tuple[str, Any]:
    return type(value).__name__, value


def test_send_text_and_binary(ws_url: str) -> None:
    ws = websocket.create_connection(ws_url + "/echo")
    ws.send("text")
    ws.send(b"\x00\x01", opcode=websocket.ABNF.OPCODE_BINARY)
    ws.send_binary(b"\x02")
    theirs = [_data(ws.recv()) for _ in range(3)]
    ws.close()
    with syncws.connect(ws_url + "/echo") as ours_ws:
        ours_ws.send_str("text")
        ours_ws.send_bytes(b"\x00\x01")
        ours_ws.send_bytes(b"\x02")
        ours = [_data(ours_ws.receive(timeout=5).data) for _ in range(3)]
    assert theirs == ours == [("str", "text"), ("bytes", b"\x00\x01"), ("bytes", b"\x02")]


def test_recv_str_or_bytes(ws_url: str) -> None:
    ws = websocket.create_connection(ws_url + "/echo")
    ws.send("text")
    ws.send_binary(b"\x00")
    theirs = [_data(ws.recv()), _data(ws.recv())]
    ws.close()
    with syncws.connect(ws_url + "/echo") as ours_ws:
        ours_ws.send_str("text")
        ours_ws.send_bytes(b"\x00")
        ours = [_data(ours_ws.receive_str(timeout=5)), _data(ours_ws.receive_bytes(timeout=5))]
        ours_ws.send_bytes(b"\x01")
        with pytest.raises(syncws.WSMessageTypeError) as wrong:  # the wrong kind: the message is kept
            ours_ws.receive_str(timeout=5)
    assert theirs == ours == [("str", "text"), ("bytes", b"\x00")]
    assert wrong.value.msg is not None and wrong.value.msg.data == b"\x01"


def test_recv_data(ws_url: str) -> None:
    """(opcode, data) becomes msg.type (an IntEnum of the same opcodes) and msg.data, which
    is a str for text where recv_data() gives the UTF-8 bytes."""
    ws = websocket.create_connection(ws_url + "/echo")
    ws.send("hi")
    ws.send_binary(b"\x00")
    theirs = [ws.recv_data(), ws.recv_data()]
    ws.close()
    with syncws.connect(ws_url + "/echo") as ours_ws:
        ours_ws.send_str("hi")
        ours_ws.send_bytes(b"\x00")
        msgs = [ours_ws.receive(timeout=5), ours_ws.receive(timeout=5)]
    ours = [(int(m.type), m.data) for m in msgs]
    assert [opcode for opcode, _ in theirs] == [opcode for opcode, _ in ours] == [1, 2]
    assert isinstance(msgs[0].type, int)
    assert msgs[0].type is syncws.WSMsgType.TEXT and msgs[1].type is syncws.WSMsgType.BINARY
    assert theirs[0][1] == b"hi" and ours[0][1] == "hi"  # the kept difference
    assert theirs[1][1] == ours[1][1] == b"\x00"


def _ping_pong_server(frames: Frames) -> Script:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        for _ in range(2):  # the client's ping and pong
            opcode, _, payload = await peer.read_frame()
            frames.append((opcode, payload))
        peer.send(frame(9, b"server ping") + frame(1, b"after"))
        opcode, _, payload = await peer.read_frame()  # answered by the library
        frames.append((opcode, payload))
        code, reason = await peer.read_close()
        peer.send(frame(8, close_payload(code, reason)))

    return script


def test_ping_and_pong(raw_server: RawServerFactory) -> None:
    theirs: Frames = []
    ws = websocket.create_connection(raw_server(_ping_pong_server(theirs)).url)
    ws.ping("p")
    ws.pong("q")
    theirs_got = ws.recv()
    ws.close()
    ours: Frames = []
    with syncws.connect(raw_server(_ping_pong_server(ours)).url) as ours_ws:
        ours_ws.ping("p")
        ours_ws.pong("q")
        ours_got = ours_ws.receive_str(timeout=5)
    assert theirs_got == ours_got == "after"
    assert theirs == ours == [(9, b"p"), (10, b"q"), (10, b"server ping")]


def _close_recorder(frames: List[Tuple[Optional[int], bytes]]) -> Script:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        while True:
            opcode, _, payload = await peer.read_frame()
            if opcode == 8:
                break
        frames.append(parse_close(payload))
        peer.send(frame(8, payload))

    return script


def test_close_with_code_and_reason(raw_server: RawServerFactory) -> None:
    """close(status=, reason=) becomes close(code=, message=), or positional; syncws's returns
    True for the call that started the close (websocket-client's returns None)."""
    seen: List[Tuple[Optional[int], bytes]] = []
    server = raw_server(_close_recorder(seen))
    ws = websocket.create_connection(server.url)
    returned: List[Any] = [ws.close(status=4000, reason=b"bye")]
    for close in (lambda w: w.close(code=4000, message=b"bye"), lambda w: w.close(4000, "bye")):
        ours_ws = syncws.connect(server.url)
        returned.append(close(ours_ws))
        returned.append(ours_ws.close())  # a second call: already closed
    assert seen == [(4000, b"bye")] * 3
    assert returned == [None, True, False, True, False]


def _closes_first(frames: List[Tuple[Optional[int], bytes]]) -> Script:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(8, close_payload(4000, b"bye")))
        frames.append(await peer.read_close())

    return script


def test_answer_to_the_servers_close(raw_server: RawServerFactory, server_loop: ServerLoop) -> None:
    """Both answer the server's close frame; websocket-client with 1000, syncws with the
    server's code."""
    frames: List[Tuple[Optional[int], bytes]] = []
    server = raw_server(_closes_first(frames))
    ws = websocket.create_connection(server.url)
    assert ws.recv() == ""
    finished(server_loop, server)
    ours_ws = syncws.connect(server.url)
    assert ours_ws.receive(timeout=5).type is syncws.WSMsgType.CLOSE
    ours_ws.close()
    assert frames == [(1000, b""), (4000, b"")]  # the code, without the reason


def test_connected_is_not_closed(ws_url: str) -> None:
    theirs = []
    ws = websocket.create_connection(ws_url + "/echo")
    theirs.append(ws.connected)
    ws.close()
    theirs.append(ws.connected)
    ws = websocket.create_connection(ws_url + "/close/1000")
    assert ws.recv() == ""  # the server's close frame, as websocket-client returns it
    theirs.append(ws.connected)
    ours = []
    ours_ws = syncws.connect(ws_url + "/echo")
    ours.append(not ours_ws.closed)
    ours_ws.close()
    ours.append(not ours_ws.closed)
    ours_ws = syncws.connect(ws_url + "/close/1000")
    assert ours_ws.receive(timeout=5).type is syncws.WSMsgType.CLOSE
    ours.append(not ours_ws.closed)
    assert theirs == ours == [True, False, False]


def test_response_headers_and_status(ws_plain_url: str) -> None:
    """getheaders() is a dict with lower-case names; response_headers a case-insensitive
    mapping that keeps the server's spelling. getstatus() is 101 once connected: syncws has
    no attribute for it."""
    ws = websocket.create_connection(ws_plain_url + "/echo")
    theirs, status = ws.getheaders(), ws.getstatus()
    ws.close()
    with syncws.connect(ws_plain_url + "/echo") as ours_ws:
        ours = ours_ws.response_headers
    assert status == 101
    assert sorted(theirs) == sorted(name.lower() for name in ours)
    for name in ("upgrade", "connection", "server"):
        assert theirs[name] == ours[name] == ours[name.title()] == ours.get(name) == dict(ours)[_spelled(ours, name)]
    assert "Upgrade" in ours and "upgrade" in ours
    assert ours.get_all("upgrade") == ours.getall("Upgrade") == ["websocket"]


def _spelled(headers: Any, name: str) -> str:
    return next(key for key in headers if key.lower() == name)


def test_refused_handshake(ws_url: str) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as theirs:
        websocket.create_connection(ws_url + "/status/403")
    with pytest.raises(syncws.WSServerHandshakeError) as ours:
        syncws.connect(ws_url + "/status/403")
    assert theirs.value.status_code == ours.value.status == 403
    assert theirs.value.resp_headers["content-type"] == ours.value.headers["Content-Type"]
    assert theirs.value.resp_body == ours.value.body == b"no\n"


def test_connection_closed(ws_url: str) -> None:
    """websocket-client: the first recv() after the server's close returns "", the next one
    and any send raise WebSocketConnectionClosedException. syncws: receive_str() raises
    ConnectionClosedOK (code and reason), receive() returns CLOSE then CLOSED, a send
    raises ConnectionClosed."""
    ws = websocket.create_connection(ws_url + "/close/1000")
    theirs: List[Any] = [ws.recv()]
    for call in (ws.recv, lambda: ws.send("x")):
        with pytest.raises(websocket.WebSocketConnectionClosedException):
            call()
    ours_ws = syncws.connect(ws_url + "/close/1000")
    with pytest.raises(syncws.ConnectionClosedOK) as ended:
        ours_ws.receive_str(timeout=5)
    with pytest.raises(syncws.ConnectionClosed):
        ours_ws.send_str("x")
    assert theirs == [""]
    assert (ended.value.code, ended.value.reason) == (1000, "server says bye")
    assert (ours_ws.close_code, ours_ws.close_reason) == (1000, "server says bye")
    assert ours_ws.receive(timeout=5).type is syncws.WSMsgType.CLOSED
    ours_ws = syncws.connect(ws_url + "/close/1000")
    assert [ours_ws.receive(timeout=5).type for _ in range(2)] == [syncws.WSMsgType.CLOSE, syncws.WSMsgType.CLOSED]
    # the exception families: syncws's is a ConnectionResetError (an OSError) as well
    assert not issubclass(websocket.WebSocketConnectionClosedException, OSError)
    assert issubclass(syncws.ConnectionClosed, ConnectionResetError)


# -- trace and command line ----------------------------------------------------------------


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_enable_trace(ws_url: str) -> None:
    """Both log the handshake, a line per header, and each frame sent and received with its
    payload (syncws also each compressed message once inflated: websocket-client does not
    compress). syncws redacts Cookie and Authorization values; websocket-client logs them."""
    theirs, ours = _Lines(), _Lines()
    logger = logging.getLogger("websocket")
    level = logger.level
    websocket.enableTrace(True, handler=theirs)
    try:
        ws = websocket.create_connection(
            ws_url + "/echo", cookie="session=secret", header=["Authorization: Basic c2VjcmV0"]
        )
        ws.send("traced")
        ws.recv()
        ws.close()
    finally:
        websocket.enableTrace(False)
        logger.removeHandler(theirs)
        logger.setLevel(level)
    syncws.enable_trace(handler=ours)
    try:
        auth = syncws.BasicAuth("secret", "")
        with syncws.connect(ws_url + "/echo", cookies={"session": "secret"}, auth=auth) as ours_ws:
            ours_ws.send_str("traced")
            ours_ws.receive_str(timeout=5)
    finally:
        syncws.enable_trace(False)
    for lines in (theirs.lines, ours.lines):
        assert any("GET /echo HTTP/1.1" in line for line in lines), lines
        assert any("101 Switching Protocols" in line for line in lines), lines
        assert sum("traced" in line for line in lines) >= 2, lines  # sent and received
    assert any("session=secret" in line for line in theirs.lines)
    assert any("Basic c2VjcmV0" in line for line in theirs.lines)
    assert not any("secret" in line or "c2VjcmV0" in line for line in ours.lines)


def _first_line(args: List[str], typed: str, ws_url: str) -> str:
    proc = subprocess.Popen(
        [sys.executable, *args, ws_url + "/echo"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(typed + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        proc.stdin.close()
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    return line


def test_command_line(ws_url: str) -> None:
    """websocket-client's wsdump (there is no ``python -m websocket``) and syncws's command
    line, as filters: a line typed is sent, the answer printed."""
    theirs = _first_line(["-m", "websocket._wsdump", "--raw"], "hello", ws_url)
    ours = _first_line(["-m", "syncws", "-n", "1"], "hello", ws_url)
    assert theirs == ours == "hello\n"
    proc = subprocess.run([sys.executable, "-m", "websocket"], capture_output=True, text=True, timeout=20)
    assert proc.returncode != 0 and "cannot be directly executed" in proc.stderr


# -- WebSocketApp ---------------------------------------------------------------------------


class Recorder:
    """Callbacks that write down what they got, and in which thread."""

    def __init__(self) -> None:
        self.events: List[Tuple[Any, ...]] = []
        self.threads: set = set()  # type: ignore[type-arg]

    def note(self, *event: Any) -> None:
        self.events.append(event)
        self.threads.add(threading.get_ident())

    def callbacks(self, *names: str) -> Dict[str, Callable[..., None]]:
        every: Dict[str, Callable[..., None]] = {
            "on_open": lambda app: self.note("open"),
            "on_reconnect": lambda app: self.note("reconnect"),
            "on_message": lambda app, message: self.note("message", message),
            "on_error": lambda app, error: self.note("error", type(error).__name__),
            "on_close": lambda app, code, reason: self.note("close", code, reason),
            "on_ping": lambda app, data: self.note("ping", data),
            "on_pong": lambda app, data: self.note("pong", data),
        }
        return {name: every[name] for name in (names or every)}


APPS = {"websocket-client": websocket.WebSocketApp, "syncws": syncws.WebSocketApp}


def _callbacks_server(frames: Frames) -> Script:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        opcode, _, payload = await peer.read_frame()
        frames.append((opcode, payload))
        peer.send(frame(9, b"server ping"))
        opcode, _, payload = await peer.read_frame()  # the pong, before the rest
        frames.append((opcode, payload))
        peer.send(frame(10, b"server pong") + frame(1, b"text") + frame(2, b"\x00"))
        peer.send(frame(8, close_payload(4000, b"bye")))
        code, _ = await peer.read_close()
        frames.append((8, code.to_bytes(2, "big")))

    return script


@pytest.mark.parametrize("library", list(APPS))
def test_app_callbacks_and_their_thread(raw_server: RawServerFactory, server_loop: ServerLoop, library: str) -> None:
    """The same callbacks with the same arguments, in the thread of run_forever().
    Differences: websocket-client also calls on_error with WebSocketConnectionClosedException
    when the server closes, even normally, where syncws calls on_error only for errors; and
    it answers the server's close frame with 1000 where syncws echoes the server's code."""
    frames: Frames = []
    rec = Recorder()
    callbacks = rec.callbacks()
    opened = callbacks.pop("on_open")

    def on_open(app: Any) -> None:
        opened(app)
        app.send("go")

    server = raw_server(_callbacks_server(frames))
    returned = APPS[library](server.url, on_open=on_open, **callbacks).run_forever()
    finished(server_loop, server)
    common = [("open",), ("ping", b"server ping"), ("pong", b"server pong"), ("message", "text"), ("message", b"\x00")]
    if library == "websocket-client":  # 1.9.2; 1.9.0 gives on_error the close frame, on_close (None, None)
        assert (returned, rec.events) in [
            (False, [*common, ("error", "WebSocketConnectionClosedException"), ("close", 4000, "bye")]),
            (True, [*common, ("error", "ABNF"), ("close", None, None)]),
        ]
    else:
        assert (returned, rec.events) == (False, [*common, ("close", 4000, "bye")])
    assert rec.threads == {threading.get_ident()}
    # the answer to the server's close frame: websocket-client says 1000, syncws echoes the code
    answer = 1000 if library == "websocket-client" else 4000
    assert frames == [(1, b"go"), (10, b"server ping"), (8, answer.to_bytes(2, "big"))]


def _fragmented_server(peer_frames: Frames) -> Script:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(1, b"hel", fin=False) + frame(0, b"lo") + frame(8, close_payload(1000)))
        await peer.read_close()

    return script


def test_app_on_data_and_on_cont_message(raw_server: RawServerFactory) -> None:
    """Without on_data / on_cont_message both deliver a fragmented message whole; syncws
    does not take those callbacks (TypeError)."""
    url = raw_server(_fragmented_server([])).url
    seen = {}
    for library, make in APPS.items():
        rec = Recorder()
        make(url, **rec.callbacks("on_message")).run_forever()
        seen[library] = rec.events
    assert seen["websocket-client"] == seen["syncws"] == [("message", "hello")]
    for name in ("on_data", "on_cont_message"):
        with pytest.raises(TypeError, match=name):
            syncws.WebSocketApp(url, **{name: print})


def _run_app(make: Callable[..., Any], url: str, run: Optional[Dict[str, Any]] = None, **options: Any) -> Seen:
    got: List[Seen] = []

    def on_message(app: Any, message: Any) -> None:
        got.append(Seen(message))
        app.close()

    make(url, on_message=on_message, **options).run_forever(**(run or {}))
    assert len(got) == 1, got
    return got[0]


def test_app_header_subprotocols_cookie(ws_url: str) -> None:
    options = {"header": {"X-Client": "demo"}, "subprotocols": ["chat"], "cookie": "a=1"}
    theirs = _run_app(websocket.WebSocketApp, ws_url + "/info", **options)
    ours = _run_app(syncws.WebSocketApp, ws_url + "/info", **options)
    for seen in (theirs, ours):
        assert (seen.headers["x-client"], seen.headers["cookie"], seen.subprotocol) == ("demo", "a=1", "chat")


def test_app_run_forever_options_go_to_the_constructor(wss_url: str, proxy: RecordingProxy) -> None:
    url = wss_url + "/info"
    run = {
        "sslopt": {"cert_reqs": ssl.CERT_NONE},
        "http_proxy_host": "127.0.0.1",
        "http_proxy_port": proxy.port,
        "proxy_type": "http",
        "origin": "https://app.example",
    }
    theirs = _run_app(websocket.WebSocketApp, url, run=run)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ssl=False warns, once per process
        ours = _run_app(syncws.WebSocketApp, url, ssl=False, proxy=proxy.url, origin="https://app.example")
    assert theirs.headers["origin"] == ours.headers["origin"] == "https://app.example"
    target = wss_url.split("//")[1]
    assert proxy.tunnels == [target, target]
    for name, value in run.items():
        with pytest.raises(TypeError):
            syncws.WebSocketApp(url).run_forever(**{name: value})


def _dead_server(seen: List[Tuple[str, float]]) -> Script:
    """Never answers pings; notes when the first ping came and when the client gave up."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        opcode, _, _ = await peer.read_frame()
        seen.append(("ping" if opcode == 9 else str(opcode), time.monotonic()))
        try:
            while (await peer.read_frame())[0] != 8:
                pass
        except (ConnectionError, EOFError):  # IncompleteReadError is an EOFError
            pass
        seen.append(("gave up", time.monotonic()))
        await until_eof(peer)

    return script


@pytest.mark.parametrize("library", list(APPS))
def test_app_ping_interval_and_ping_timeout(
    raw_server: RawServerFactory, server_loop: ServerLoop, library: str
) -> None:
    """A server that never answers pings: both send one after ping_interval and end with
    on_error, on_close, run_forever() -> True. websocket-client gives up ping_timeout after
    its ping; syncws waits ping_interval / 2 for the pong, whatever ping_timeout says."""
    seen: List[Tuple[str, float]] = []
    rec = Recorder()
    server = raw_server(_dead_server(seen))
    app = APPS[library](server.url, **rec.callbacks("on_error", "on_close"))
    assert app.run_forever(ping_interval=0.6, ping_timeout=0.05) is True
    finished(server_loop, server)
    assert [what for what, _ in seen] == ["ping", "gave up"]
    waited = seen[1][1] - seen[0][1]
    if library == "websocket-client":
        assert rec.events == [("error", "WebSocketTimeoutException"), ("close", None, None)]
        assert 0.04 < waited < 0.25  # ping_timeout
    else:
        assert rec.events == [("error", "ServerTimeoutError"), ("close", 1006, None)]
        assert waited > 0.25  # ping_interval / 2


def test_app_ping_timeout_must_be_below_ping_interval(unused_port: int) -> None:
    """Both refuse ping_timeout >= ping_interval before connecting."""
    url = f"ws://127.0.0.1:{unused_port}/"
    with pytest.raises(websocket.WebSocketException, match="ping_interval"):
        websocket.WebSocketApp(url).run_forever(ping_interval=1, ping_timeout=1)
    with pytest.raises(ValueError, match="ping_interval"):
        syncws.WebSocketApp(url).run_forever(ping_interval=1, ping_timeout=1)


@pytest.mark.parametrize("library", list(APPS))
def test_app_ping_after_silence_rather_than_on_a_clock(raw_server: RawServerFactory, library: str) -> None:
    seen: List[str] = []
    app = APPS[library](raw_server(ticking_server(seen, 0.3)).url)
    app.run_forever(ping_interval=0.3, ping_timeout=0.2)
    expected = "during the messages" if library == "websocket-client" else "after them"
    assert seen == [f"ping {expected}"]


def _reconnect_server(times: List[float], drops: int) -> Script:
    """Drops the first ``drops`` connections right after the handshake; the next one says
    "up" and closes normally (1000); any after that wait for the client to close."""

    async def script(peer: RawPeer) -> None:
        times.append(time.monotonic())
        n = len(times)
        await peer.handshake()
        if n <= drops:
            peer.writer.transport.abort()
            return
        if n == drops + 1:
            peer.send(frame(1, b"up") + frame(8, close_payload(1000)))
        code, reason = await peer.read_close()
        if n > drops + 1:
            peer.send(frame(8, close_payload(code, reason)))

    return script


@pytest.mark.parametrize("library", list(APPS))
def test_app_reconnect(raw_server: RawServerFactory, library: str) -> None:
    """Both reconnect after a dropped connection, calling on_reconnect. After a normal
    close by the server websocket-client connects again (this app then closes it);
    syncws ends. syncws calls on_close once per connection, websocket-client at the end."""
    times: List[float] = []
    rec = Recorder()
    callbacks = rec.callbacks()
    reconnected = callbacks.pop("on_reconnect")

    def on_reconnect(app: Any) -> None:
        reconnected(app)
        if len(times) == 3:
            app.close()

    app = APPS[library](raw_server(_reconnect_server(times, 1)).url, on_reconnect=on_reconnect, **callbacks)
    returned = app.run_forever(reconnect=0.05)
    if library == "websocket-client":
        assert rec.events[:-1] == [
            ("open",), ("error", "WebSocketConnectionClosedException"),
            ("reconnect",), ("message", "up"),
            ("reconnect",),
        ]
        assert rec.events[-1] in [("close", 1000, None), ("close", None, None)]  # 1.9.2, 1.9.0
        assert len(times) == 3  # it connected again after the normal close
        assert times[1] - times[0] >= 0.049  # reconnect= seconds after the drop
    else:
        assert rec.events == [
            ("open",), ("error", "ConnectionClosedError"), ("close", 1006, None),
            ("reconnect",), ("message", "up"), ("close", 1000, None),
        ]
        assert len(times) == 2
        assert times[1] - times[0] >= 0.024  # at least reconnect / 2 after the drop
        assert returned is False


def _refusing_server(times: List[float], refusals: int) -> Script:
    """Answers the first ``refusals`` handshakes with 503, then says "up" and waits for the
    client to close."""

    async def script(peer: RawPeer) -> None:
        times.append(time.monotonic())
        if len(times) <= refusals:
            await peer.read_request()
            peer.send(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
            return
        await peer.handshake()
        peer.send(frame(1, b"up"))
        code, reason = await peer.read_close()
        peer.send(frame(8, close_payload(code, reason)))

    return script


@pytest.mark.parametrize("library", list(APPS))
def test_app_reconnect_waits(raw_server: RawServerFactory, library: str) -> None:
    """Connecting fails three times (503): websocket-client waits ``reconnect`` seconds each
    time; syncws's n-th wait is random in [c/2, c] with c = reconnect * 2**n (up to 60 s),
    so it may start at reconnect / 2 and the third is at least twice reconnect."""
    times: List[float] = []
    rec = Recorder()

    def on_message(app: Any, message: Any) -> None:
        rec.note("message", message)
        app.close()

    app = APPS[library](raw_server(_refusing_server(times, 3)).url, on_message=on_message,
                        **rec.callbacks("on_error", "on_close"))
    returned = app.run_forever(reconnect=0.1)
    assert len(times) == 4
    waits = [b - a for a, b in zip(times, times[1:])]
    if library == "websocket-client":
        assert all(wait >= 0.095 for wait in waits), waits
        assert rec.events[0] == ("error", "WebSocketBadStatusException") and rec.events[-2] == ("message", "up")
        assert rec.events[-1] in [("close", 1000, None), ("close", None, None)]  # 1.9.2, 1.9.0
    else:
        assert waits[0] >= 0.045 and waits[1] >= 0.095 and waits[2] >= 0.195, waits
        assert backoff_delay(20, 5.0, 60.0, rand=lambda: 1.0) == 60.0  # the cap, as the app uses it
        assert rec.events == [("error", "WSServerHandshakeError")] * 3 + [("message", "up"), ("close", 1000, None)]
        assert returned is False


def test_app_dispatcher_is_not_taken(ws_url: str) -> None:
    """websocket-client's dispatcher= (rel) runs many apps in one thread; syncws has no such
    argument: each run_forever() has its own thread, and every connection lives on one
    shared loop thread. (websocket-client's side is not run: rel is not installed.)"""
    app = syncws.WebSocketApp(ws_url + "/echo")
    with pytest.raises(TypeError):
        app.run_forever(dispatcher=object())  # type: ignore[call-arg]
    threads: List[int] = []
    both_open = threading.Barrier(2, timeout=10)

    def on_open(app: Any) -> None:
        threads.append(threading.get_ident())
        both_open.wait()
        app.close()

    runners = [
        threading.Thread(target=syncws.WebSocketApp(ws_url + "/echo", on_open=on_open).run_forever) for _ in range(2)
    ]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(10)
    assert sorted(threads) == sorted(runner.ident for runner in runners)
    assert [t.name for t in threading.enumerate()].count("syncws-loop") == 1


async def _drops(peer: RawPeer) -> None:
    await peer.handshake()
    await peer.read_frame()
    peer.writer.transport.abort()


def _closes_with(code: int, reason: bytes) -> Script:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        await peer.read_frame()
        peer.send(frame(8, close_payload(code, reason)))
        await peer.read_close()

    return script


def _interrupt_server(frames: List[Tuple[Optional[int], bytes]]) -> Script:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        await peer.read_frame()
        peer.send(frame(1, b"interrupt"))
        code, reason = await peer.read_close()
        frames.append((code, reason))
        peer.send(frame(8, close_payload(code, reason)))

    return script


END_SCENARIOS = ["server drops TCP", "server closes 1000", "server closes 4000", "app.close()", "Ctrl-C", "refused"]


@pytest.mark.parametrize("scenario", END_SCENARIOS)
@pytest.mark.parametrize("library", list(APPS))
def test_app_how_it_ends(raw_server: RawServerFactory, unused_port: int, library: str, scenario: str) -> None:
    """What run_forever() returns and what on_error / on_close get, as each end happens.
    Ctrl-C is a KeyboardInterrupt raised where the app waits for messages or runs a callback
    (here: on_message): both report it to on_error, call on_close and return True;
    websocket-client closes with 1000 and passes (None, None), syncws closes with 1001
    (going away) and passes (1001, None)."""
    frames: List[Tuple[Optional[int], bytes]] = []
    scripts: Dict[str, Script] = {
        "server drops TCP": _drops,
        "server closes 1000": _closes_with(1000, b""),
        "server closes 4000": _closes_with(4000, b"bye"),
        "app.close()": _interrupt_server(frames),
        "Ctrl-C": _interrupt_server(frames),
    }
    url = f"ws://127.0.0.1:{unused_port}/" if scenario == "refused" else raw_server(scripts[scenario]).url
    rec = Recorder()
    callbacks = rec.callbacks("on_error", "on_close")

    def on_open(app: Any) -> None:
        app.send("go")

    def on_message(app: Any, message: Any) -> None:
        if scenario == "app.close()":
            app.close()
        else:
            raise KeyboardInterrupt

    returned = APPS[library](url, on_open=on_open, on_message=on_message, **callbacks).run_forever()
    Outcome = Tuple[bool, List[Tuple[Any, ...]]]  # run_forever()'s value, the callbacks' events
    closed = ("error", "WebSocketConnectionClosedException")
    theirs: Dict[str, List[Outcome]] = {  # websocket-client 1.9.2's outcome, then 1.9.0's where it differs
        "server drops TCP": [(True, [closed, ("close", None, None)])],
        "server closes 1000": [(False, [closed, ("close", 1000, None)]),
                               (True, [("error", "ABNF"), ("close", None, None)])],
        "server closes 4000": [(False, [closed, ("close", 4000, "bye")]),
                               (True, [("error", "ABNF"), ("close", None, None)])],
        "app.close()": [(False, [("close", 1000, None)]), (False, [("close", None, None)])],
        "Ctrl-C": [(True, [("error", "KeyboardInterrupt"), ("close", None, None)])],
        "refused": [(True, [("error", "ConnectionRefusedError"), ("close", None, None)])],
    }
    ours: Dict[str, Outcome] = {
        "server drops TCP": (True, [("error", "ConnectionClosedError"), ("close", 1006, None)]),
        "server closes 1000": (False, [("close", 1000, None)]),
        "server closes 4000": (False, [("close", 4000, "bye")]),
        "app.close()": (False, [("close", 1000, None)]),
        "Ctrl-C": (True, [("error", "KeyboardInterrupt"), ("close", 1001, None)]),
        "refused": (True, [("error", "ClientConnectionError"), ("close", None, None)]),
    }
    if library == "websocket-client":
        assert (returned, rec.events) in theirs[scenario]
    else:
        assert (returned, rec.events) == ours[scenario]
    if scenario == "Ctrl-C":
        assert frames == [(1000 if library == "websocket-client" else 1001, b"")]
    if scenario == "app.close()":
        assert frames == [(1000, b"")]


@pytest.mark.parametrize("library", list(APPS))
def test_app_send_from_any_thread(ws_url: str, library: str) -> None:
    """send(data, opcode), send_text(), send_bytes() from another thread; then close() from
    yet another. One difference: send(b"...") without an opcode is a text message in
    websocket-client (its default opcode is text), a binary one in syncws."""
    got: List[Tuple[str, Any]] = []

    def on_open(app: Any) -> None:
        def sends() -> None:
            app.send("text", websocket.ABNF.OPCODE_TEXT)
            app.send(b"\x00", websocket.ABNF.OPCODE_BINARY)
            app.send_text("send_text")
            app.send_bytes(b"send_bytes")
            app.send(b"no opcode")

        sender = threading.Thread(target=sends)
        sender.start()
        sender.join(10)

    def on_message(app: Any, message: Any) -> None:
        got.append(_data(message))
        if len(got) == 5:
            closer = threading.Thread(target=app.close)
            closer.start()
            closer.join(10)

    returned = APPS[library](ws_url + "/echo", on_open=on_open, on_message=on_message).run_forever()
    last = ("str", "no opcode") if library == "websocket-client" else ("bytes", b"no opcode")
    assert got == [("str", "text"), ("bytes", b"\x00"), ("str", "send_text"), ("bytes", b"send_bytes"), last]
    assert returned is False


def test_app_sock_is_ws(ws_url: str) -> None:
    """app.sock (websocket-client) and app.ws (syncws): the connection while connected,
    None before and after."""
    seen: Dict[str, List[Any]] = {}
    for library, make, attribute in (("websocket-client", websocket.WebSocketApp, "sock"),
                                     ("syncws", syncws.WebSocketApp, "ws")):
        states: List[Any] = []

        def on_open(app: Any, attribute: str = attribute, states: List[Any] = states) -> None:
            conn = getattr(app, attribute)
            states.append(type(conn).__name__)
            states.append(conn.connected if attribute == "sock" else not conn.closed)
            app.close()

        app = make(ws_url + "/echo", on_open=on_open)
        states.append(getattr(app, attribute))
        app.run_forever()
        states.append(getattr(app, attribute))
        seen[library] = states
    assert seen == {"websocket-client": [None, "WebSocket", True, None], "syncws": [None, "SyncWebSocket", True, None]}
