"""The logger hierarchy, the trace line format, and enable_trace's one-call switch."""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterator, List, Optional

import pytest

import syncws
from syncws import log
from syncws.log import PREVIEW_BYTES, format_frame, trace_frame
from tests.apis import Client
from tests.proxy import ConnectProxy
from tests.servers import RawPeer, ServerLoop


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def trace() -> Iterator[ListHandler]:
    handler = ListHandler()
    syncws.enable_trace(handler=handler)
    yield handler
    syncws.enable_trace(False)


def test_loggers_form_one_hierarchy() -> None:
    assert log.logger is logging.getLogger("syncws")
    assert log.client_logger.parent is log.logger
    assert log.trace_logger.parent is log.logger
    assert log.trace_logger.name == "syncws.trace"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("send", 1, True, b"hello"), "> TEXT fin len=5 'hello'"),
        (("recv", 1, False, "héllo".encode()), "< TEXT more len=6 'héllo'"),
        ((">", 2, True, b"\x00\x01\xff"), "> BINARY fin len=3 00 01 ff"),
        (("<", 2, True, b""), "< BINARY fin len=0 -"),
        (("recv", 9, True, b"hb"), "< PING fin len=2 b'hb'"),
        (("send", 10, True, b""), "> PONG fin len=0 b''"),
        (("recv", 0, True, b"tail"), "< CONT fin len=4 b'tail'"),
        (("recv", 8, True, b"\x03\xe8bye"), "< CLOSE fin len=5 code=1000 reason='bye'"),
        (("send", 8, True, b""), "> CLOSE fin len=0 no code"),
        (("recv", 1, True, b"\xf2\x00"), "< TEXT fin rsv1 len=2 f2 00"),
        (("recv", 3, True, b"x"), "< OPCODE-0x3 fin len=1 b'x'"),
    ],
)
def test_format_frame(args: tuple, line: str) -> None:  # type: ignore[type-arg]
    compressed = line.split()[3] == "rsv1"
    assert format_frame(*args, compressed=compressed) == line


def test_format_frame_shows_only_the_first_bytes() -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB
    line = format_frame("recv", 2, True, memoryview(payload))
    shown = bytes(range(PREVIEW_BYTES)).hex(" ")
    assert line == f"< BINARY fin len={len(payload)} {shown} ... (+{len(payload) - PREVIEW_BYTES} bytes)"
    text = format_frame("send", 1, True, b"a" * 100)
    assert text == f"> TEXT fin len=100 '{'a' * PREVIEW_BYTES}' ... (+{100 - PREVIEW_BYTES} bytes)"
    close = format_frame("recv", 8, True, b"\x03\xe9" + b"r" * 100)
    assert close.endswith(f"code=1001 reason='{'r' * PREVIEW_BYTES}' ... (+{100 - PREVIEW_BYTES} bytes)")


def test_format_frame_cut_inside_a_character_does_not_fail() -> None:
    line = format_frame("recv", 1, True, "é".encode() * 40)  # 32 bytes: 16 whole characters
    assert line.startswith("< TEXT fin len=80 'éééé")
    odd = format_frame("recv", 1, True, b"a" + "é".encode() * 40)  # byte 32 is the first half of an é
    assert odd.startswith("< TEXT fin len=81 'aé") and "\ufffd" in odd


def test_bad_direction_is_refused() -> None:
    with pytest.raises(ValueError, match="direction"):
        format_frame("up", 1, True, b"")


def test_trace_is_silent_until_enabled() -> None:
    handler = ListHandler()
    log.trace_logger.addHandler(handler)
    try:
        trace_frame("send", 1, True, b"not shown")
        assert handler.lines == []
        syncws.enable_trace(handler=ListHandler())
        trace_frame("send", 1, True, b"shown")
        assert handler.lines == ["> TEXT fin len=5 'shown'"]  # the record reaches every handler
    finally:
        syncws.enable_trace(False)
        log.trace_logger.removeHandler(handler)
    trace_frame("send", 1, True, b"off again")
    assert handler.lines == ["> TEXT fin len=5 'shown'"]


def test_enable_trace_replaces_its_handler_and_restores_the_level() -> None:
    before = log.trace_logger.level
    first, second = ListHandler(), ListHandler()
    syncws.enable_trace(handler=first)
    syncws.enable_trace(handler=second)
    try:
        assert first not in log.trace_logger.handlers and second in log.trace_logger.handlers
        trace_frame("recv", 2, True, b"\x01")
        assert first.lines == [] and second.lines == ["< BINARY fin len=1 01"]
    finally:
        syncws.enable_trace(False)
    assert second not in log.trace_logger.handlers
    assert log.trace_logger.level == before


def test_enable_trace_default_handler_writes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    syncws.enable_trace()
    try:
        trace_frame("send", 1, True, b"to stderr")
    finally:
        syncws.enable_trace(False)
    err = capsys.readouterr().err
    assert "syncws.trace > TEXT fin len=9 'to stderr'" in err
    assert log.trace_logger.handlers == []


def test_a_connection_traces_its_frames(ws_url: str, trace: ListHandler) -> None:
    with syncws.connect(ws_url + "/echo", compress=0) as ws:
        ws.send_str("traced")
        assert ws.receive_str(timeout=5) == "traced"
    assert "> TEXT fin len=6 'traced'" in trace.lines
    assert "< TEXT fin len=6 'traced'" in trace.lines
    assert any(line.startswith("> CLOSE fin len=2 code=1000") for line in trace.lines)
    assert any(line.startswith("< CLOSE fin len=2 code=1000") for line in trace.lines)


# -- what traces and errors show of the handshake ---------------------------------------------
SECRETS = ("s3cret-pw", "dXNlcjpzM2NyZXQtcHc", "auth-pw", "sid-value", "header-token")


def _secret_options() -> dict:  # type: ignore[type-arg]
    return {
        "auth": syncws.BasicAuth("user", "auth-pw"),
        "cookies": {"sid": "sid-value"},
        "headers": ["Authorization: Bearer header-token", "X-Plain: shown"],
    }


def _leaks(text: str) -> List[str]:
    return [s for s in SECRETS if s in text]


def test_the_trace_shows_the_handshake_without_credentials(trace: "ListHandler", ws_url: str) -> None:
    url = ws_url.replace("ws://", "ws://user:s3cret-pw@")
    with syncws.connect(url, **_secret_options()) as ws:
        ws.send_str("hello " * 20)
        assert ws.receive_str(timeout=10) == "hello " * 20
    text = "\n".join(trace.lines)
    assert "> GET / HTTP/1.1" in text and "< HTTP/1.1 101 Switching Protocols" in text
    assert "> X-Plain: shown" in text and "> Authorization: <redacted>" in text and "> Cookie: <redacted>" in text
    assert _leaks(text) == [], text
    # compressed text is shown as it arrived and once inflated
    assert "rsv1" in text and "< TEXT inflated len=120 'hello hello" in text


def test_handshake_errors_carry_no_credentials(raw_server: Any) -> None:
    async def script(peer: Any) -> None:
        await peer.read_request()
        peer.send(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    url = raw_server(script).url.replace("ws://", "ws://user:s3cret-pw@")
    with pytest.raises(syncws.WSServerHandshakeError) as raised:
        syncws.connect(url, **_secret_options())
    err = raised.value
    assert err.request_info is not None and err.request_info.headers.get("X-Plain") == "shown"
    shown = " ".join([str(err), repr(err), repr(err.request_info), err.request_info.url])
    assert _leaks(shown) == [], shown


def test_the_servers_header_bytes_reach_the_trace_escaped(trace: "ListHandler", raw_server: Any) -> None:
    async def script(peer: Any) -> None:
        await peer.handshake("X-Evil: \x1b]0;pwned\x07\x1b[41m\r\n")
        await peer.read_close()
        peer.writer.close()

    with syncws.connect(raw_server(script).url, compress=0):
        pass
    text = "\n".join(trace.lines)
    assert "< X-Evil: \\x1b]0;pwned\\x07\\x1b[41m" in text and "\x1b" not in text and "\x07" not in text


# -- proxy credentials: proxy_auth= and the proxy URL's userinfo, through both APIs -------------
PROXY_AUTH = syncws.BasicAuth("puser", "proxy-pw")
URL_AUTH = syncws.BasicAuth("uuser", "url-pw")  # the same, as userinfo in the proxy URL
PROXY_SECRETS = ("proxy-pw", PROXY_AUTH.encode().split()[1], "url-pw", URL_AUTH.encode().split()[1])
PROXY_CREDENTIALS = {
    "proxy_auth": lambda url: {"proxy": url, "proxy_auth": PROXY_AUTH},
    "proxy_url": lambda url: {"proxy": url.replace("http://", "http://uuser:url-pw@")},
}


def _proxy_leaks(text: str) -> List[str]:
    return [s for s in PROXY_SECRETS if s in text]


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest, server_loop: ServerLoop) -> Iterator[Client]:
    client = Client(request.param, server_loop)
    yield client
    client.cleanup()


@pytest.fixture
def start_proxy(server_loop: ServerLoop) -> Iterator[Callable[[Optional[str]], ConnectProxy]]:
    started: List[ConnectProxy] = []

    def start(authorization: Optional[str]) -> ConnectProxy:
        started.append(ConnectProxy(authorization))
        server_loop.run(started[-1].start())
        return started[-1]

    yield start
    for proxy in started:
        server_loop.run(proxy.stop())


@pytest.mark.parametrize("given", sorted(PROXY_CREDENTIALS))
def test_proxy_credentials_stay_out_of_traces_and_reprs(
    trace: ListHandler, api: Client, start_proxy: Any, ws_url: str, given: str
) -> None:
    options = PROXY_CREDENTIALS[given](start_proxy(None).url)
    with api.connect(ws_url, compress=0, **options) as conn:
        conn.send_str("through")
        assert conn.receive_str() == "through"
        shown = [repr(conn.ws), str(conn.ws.url), repr(syncws.Options.from_kwargs(options))]
    text = "\n".join(trace.lines + shown)
    assert "< HTTP/1.1 200 Connection Established" in text  # the proxy's answer is traced
    assert _proxy_leaks(text) == [], text


@pytest.mark.parametrize("given", sorted(PROXY_CREDENTIALS))
@pytest.mark.parametrize("refusal", ["407", "silent"])
def test_proxy_refusals_carry_no_proxy_credentials(
    trace: ListHandler, api: Client, start_proxy: Any, raw_server: Any, ws_url: str, given: str, refusal: str
) -> None:
    if refusal == "407":
        proxy_url = start_proxy("Basic bm8tb25lOm5vLXBhc3M=").url  # wants other credentials
    else:
        async def never_answers(peer: RawPeer) -> None:
            await peer.at_eof()

        proxy_url = raw_server(never_answers).url.replace("ws://", "http://").rstrip("/")
    err = api.connect_error(ws_url, open_timeout=0.5, **PROXY_CREDENTIALS[given](proxy_url))
    if refusal == "407":
        assert isinstance(err, syncws.ProxyError) and err.status == 407
    else:
        assert isinstance(err, syncws.OpenTimeout)
    chain = [err, err.__cause__, err.__context__]
    shown = [str(e) for e in chain if e is not None] + [repr(e) for e in chain if e is not None]
    text = "\n".join(trace.lines + shown)
    assert proxy_url.split("://")[1] in str(err)  # the proxy is named, without its credentials
    assert _proxy_leaks(text) == [], text


def test_options_repr_shows_no_credentials() -> None:
    options = syncws.Options.from_kwargs({
        **_secret_options(),
        "proxy": "http://uuser:url-pw@127.0.0.1:3128",
        "proxy_auth": PROXY_AUTH,
        "proxy_headers": {"Proxy-Authorization": PROXY_AUTH.encode(), "X-Via": "shown"},
    })
    text = repr(options)
    assert "X-Plain" in text and "X-Via" in text and "http://127.0.0.1:3128" in text and "login='puser'" in text
    assert _leaks(text) + _proxy_leaks(text) == [], text
