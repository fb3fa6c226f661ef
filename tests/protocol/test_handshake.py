"""syncws.protocol.handshake: the request we send, the response parser, the response rules."""

from __future__ import annotations

import base64
from typing import Any, List, Optional, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncws.protocol import handshake
from syncws.protocol.deflate import DeflateParams
from syncws.protocol.errors import InvalidHeader, WSServerHandshakeError
from syncws.protocol.handshake import (
    MAX_HEAD,
    MAX_HEADERS,
    MAX_LINE,
    Response,
    ResponseParser,
    accept_key,
    build_request,
    new_key,
    validate_response,
)
from syncws.protocol.headers import Headers
from syncws.protocol.url import parse_url

from ._util import chunks

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def parse_request(raw: bytes) -> Tuple[str, List[Tuple[str, str]]]:
    assert raw.endswith(b"\r\n\r\n")
    text = raw.decode("latin-1")
    lines = text[:-4].split("\r\n")
    assert all(lines), "no empty line inside the head"
    pairs = []
    for line in lines[1:]:
        name, sep, value = line.partition(": ")
        assert sep, line
        pairs.append((name, value))
    return lines[0], pairs


def values(pairs: List[Tuple[str, str]], name: str) -> List[str]:
    return [v for k, v in pairs if k.lower() == name.lower()]


# -- keys --------------------------------------------------------------------------------


def test_accept_key_rfc6455_example() -> None:
    assert accept_key(KEY) == ACCEPT


def test_new_key_is_16_random_bytes_in_base64() -> None:
    keys = {new_key() for _ in range(50)}
    assert len(keys) == 50
    for key in keys:
        assert len(base64.b64decode(key, validate=True)) == 16
        assert len(key) == 24


def test_new_key_comes_from_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def token_bytes(n: int) -> bytes:
        calls.append(n)
        return bytes(range(n))

    monkeypatch.setattr(handshake.secrets, "token_bytes", token_bytes)
    assert new_key() == base64.b64encode(bytes(range(16))).decode()
    assert calls == [16]


# -- build_request -----------------------------------------------------------------------


def test_minimal_request() -> None:
    raw = build_request(parse_url("ws://example.com/chat?room=1"), KEY)
    line, pairs = parse_request(raw)
    assert line == "GET /chat?room=1 HTTP/1.1"
    assert pairs == [
        ("Host", "example.com"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", KEY),
        ("Sec-WebSocket-Version", "13"),
    ]


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("ws://h/", "h"),
        ("ws://h:80/", "h"),
        ("ws://h:8080/", "h:8080"),
        ("wss://h/", "h"),
        ("wss://h:443/", "h"),
        ("wss://h:80/", "h:80"),
        ("ws://[::1]:9/", "[::1]:9"),
        ("ws://[::1]/", "[::1]"),
        ("ws://b\u00fccher.de/", "xn--bcher-kva.de"),
    ],
)
def test_host_header(url: str, host: str) -> None:
    _, pairs = parse_request(build_request(parse_url(url), KEY))
    assert values(pairs, "Host") == [host]


def test_all_options() -> None:
    raw = build_request(
        parse_url("wss://h:8443/"),
        KEY,
        protocols=["chat.v2", "chat"],
        origin="https://origin.example",
        extensions="permessage-deflate; client_max_window_bits",
        headers=[("X-Trace", "1"), ("Cookie", "a=1"), ("X-Trace", "2")],
        authorization="Basic dTpw",
        user_agent="syncws-test/1",
    )
    line, pairs = parse_request(raw)
    assert line == "GET / HTTP/1.1"
    assert values(pairs, "Host") == ["h:8443"]
    assert values(pairs, "Sec-WebSocket-Protocol") == ["chat.v2, chat"]
    assert values(pairs, "Sec-WebSocket-Extensions") == ["permessage-deflate; client_max_window_bits"]
    assert values(pairs, "Origin") == ["https://origin.example"]
    assert values(pairs, "Authorization") == ["Basic dTpw"]
    assert values(pairs, "User-Agent") == ["syncws-test/1"]
    assert values(pairs, "X-Trace") == ["1", "2"]  # repeated names kept, in order
    assert values(pairs, "Cookie") == ["a=1"]
    names = [k.lower() for k, _ in pairs]
    assert names.index("x-trace") < names.index("cookie") < len(names) - 1
    assert values(pairs, "Sec-WebSocket-Version") == ["13"]
    assert values(pairs, "Upgrade") == ["websocket"]
    assert values(pairs, "Connection") == ["Upgrade"]


def test_no_optional_headers_by_default() -> None:
    _, pairs = parse_request(build_request(parse_url("ws://h/"), KEY))
    for name in ("Origin", "Authorization", "User-Agent", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions"):
        assert values(pairs, name) == []


def test_headers_mapping_and_headers_object() -> None:
    _, pairs = parse_request(build_request(parse_url("ws://h/"), KEY, headers={"X-A": "1"}))
    assert values(pairs, "X-A") == ["1"]
    _, pairs = parse_request(build_request(parse_url("ws://h/"), KEY, headers=Headers([("X-B", "1"), ("x-b", "2")])))
    assert values(pairs, "X-B") == ["1", "2"]


@pytest.mark.parametrize("name", ["User-Agent", "user-agent", "Origin", "AUTHORIZATION"])
def test_extra_headers_replace_the_optional_ones(name: str) -> None:
    raw = build_request(
        parse_url("ws://h/"), KEY, headers=[(name, "mine")], origin="o", authorization="a", user_agent="u"
    )
    _, pairs = parse_request(raw)
    assert values(pairs, name) == ["mine"]


def test_extra_host_replaces_ours() -> None:
    _, pairs = parse_request(build_request(parse_url("ws://h:81/"), KEY, headers={"host": "virtual"}))
    assert values(pairs, "Host") == ["virtual"]


@pytest.mark.parametrize(
    "name",
    [
        "Upgrade",
        "connection",
        "Sec-WebSocket-Key",
        "sec-websocket-version",
        "SEC-WEBSOCKET-PROTOCOL",
        "Sec-WebSocket-Extensions",
    ],
)
def test_reserved_headers_refused(name: str) -> None:
    with pytest.raises(InvalidHeader, match="cannot set"):
        build_request(parse_url("ws://h/"), KEY, headers={name: "x"})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"headers": {"X-A": "1\r\nX-Injected: 1"}},
        {"headers": {"X-A\r\nX-Injected": "1"}},
        {"headers": [("X-Ok", "1"), ("X-B", "\n")]},
        {"headers": {"X A": "1"}},
        {"headers": {"X-A": "\u65e5\u672c"}},
        {"origin": "http://o\r\nX-Injected: 1"},
        {"user_agent": "ua\x00"},
        {"authorization": "Basic x\r\n"},
        {"extensions": "permessage-deflate\r\nX: 1"},
        {"protocols": ["chat\r\nX-Injected: 1"]},
    ],
)
def test_injection_refused(kwargs: Any) -> None:
    with pytest.raises(InvalidHeader):
        build_request(parse_url("ws://h/"), KEY, **kwargs)


def test_bad_key_refused() -> None:
    with pytest.raises(InvalidHeader):
        build_request(parse_url("ws://h/"), "abc\r\nX: 1")


@pytest.mark.parametrize("proto", ["", "a b", "a,b", "a;b", 'a"b', "a\tb"])
def test_bad_subprotocols_refused(proto: str) -> None:
    with pytest.raises(InvalidHeader, match="subprotocol"):
        build_request(parse_url("ws://h/"), KEY, protocols=["ok", proto])


# -- ResponseParser ----------------------------------------------------------------------

GOOD_HEAD = (
    b"HTTP/1.1 101 Switching Protocols\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: " + ACCEPT.encode() + b"\r\n"
    b"X-Multi:  a:b \t\r\n"
    b"x-multi: c\r\n"
    b"\r\n"
)
FRAMES = b"\x81\x02hi\x89\x00"


def check_good(resp: Optional[Response], parser: ResponseParser) -> None:
    assert resp is not None
    assert resp.status == 101
    assert resp.reason == "Switching Protocols"
    assert resp.headers.items() == [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", ACCEPT),
        ("X-Multi", "a:b"),
        ("x-multi", "c"),
    ]
    assert parser.rest == FRAMES


def feed_pieces(pieces: List[bytes]) -> Tuple[Optional[Response], ResponseParser, bytes]:
    """Feed until a response comes out; return it, the parser, and what was never fed."""
    parser = ResponseParser()
    for i, piece in enumerate(pieces):
        resp = parser.feed(piece)
        if resp is not None:
            return resp, parser, b"".join(pieces[i + 1 :])
    return None, parser, b""


def test_response_in_one_piece() -> None:
    resp, parser, unfed = feed_pieces([GOOD_HEAD + FRAMES])
    check_good(resp, parser)
    assert unfed == b""


def test_response_one_byte_at_a_time() -> None:
    data = GOOD_HEAD + FRAMES
    resp, parser, unfed = feed_pieces([data[i : i + 1] for i in range(len(data))])
    assert resp is not None
    assert parser.rest == b""  # the head ended with its own last byte
    assert unfed == FRAMES
    parser.rest = FRAMES
    check_good(resp, parser)


@pytest.mark.parametrize("cut", range(len(GOOD_HEAD) + 1))
def test_response_every_split_point(cut: int) -> None:
    data = GOOD_HEAD + FRAMES
    parser = ResponseParser()
    first = parser.feed(data[:cut])
    if cut < len(GOOD_HEAD):
        assert first is None
        resp = parser.feed(data[cut:])
        check_good(resp, parser)
    else:
        assert first is not None
        assert first.headers.get("upgrade") == "websocket"
        assert parser.rest == data[len(GOOD_HEAD) : cut]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(GOOD_HEAD)), max_size=30))
def test_response_random_chunkings(cuts: List[int]) -> None:
    pieces = chunks(GOOD_HEAD, cuts)
    pieces[-1] += FRAMES
    resp, parser, unfed = feed_pieces(pieces)
    parser.rest += unfed  # pieces after the one that ended the head were never fed
    check_good(resp, parser)


def test_status_line_without_reason() -> None:
    resp = ResponseParser().feed(b"HTTP/1.1 101\r\n\r\n")
    assert resp is not None and resp.status == 101 and resp.reason == ""
    resp = ResponseParser().feed(b"HTTP/1.0 404 Not  Found\r\n\r\n")
    assert resp is not None and resp.status == 404 and resp.reason == "Not  Found"


def test_incomplete_head_returns_none() -> None:
    parser = ResponseParser()
    assert parser.feed(b"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n") is None
    assert parser.feed(b"\r") is None
    assert parser.feed(b"\n") is not None


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"HTTP/1.1",
        b"HTTP/1.1 ",
        b"HTTP/1.1 10 OK",
        b"HTTP/1.1 1010 OK",
        b"HTTP/1.1 abc OK",
        b"HTTP/1.1 10a OK",
        b"HTTP/1.1  101 OK",
        b"HTTP/1.1 -10 OK",
        b"HTTP/1.1 +10 OK",
        b"HTTP/1.1 1\xb21 OK",  # a latin-1 superscript digit
        b"HTTP/1.1 \xb9\xb2\xb3 OK",
        b"HTTP/2 101 OK",
        b"http/1.1 101 OK",
        b"ICY 200 OK",
        b"GET / HTTP/1.1",
        b"\x16\x03\x01\x02\x00",
    ],
)
def test_malformed_status_line(line: bytes) -> None:
    with pytest.raises(WSServerHandshakeError, match="malformed status line") as info:
        ResponseParser().feed(line + b"\r\nUpgrade: websocket\r\n\r\n")
    assert info.value.status == 0


@pytest.mark.parametrize(
    "line",
    [
        b"no colon here",
        b": empty name",
        b"Name : space before colon",
        b"Na me: inner space",
        b"Name\t: tab",
    ],
)
def test_malformed_header_line(line: bytes) -> None:
    with pytest.raises(WSServerHandshakeError, match="malformed response header") as info:
        ResponseParser().feed(b"HTTP/1.1 101 OK\r\n" + line + b"\r\n\r\n")
    assert info.value.status == 101


@pytest.mark.parametrize("fold", [b" continued", b"\tcontinued"])
def test_folded_header_refused(fold: bytes) -> None:
    with pytest.raises(WSServerHandshakeError, match="folded"):
        ResponseParser().feed(b"HTTP/1.1 101 OK\r\nUpgrade: web\r\n" + fold + b"\r\n\r\n")


def _head_with_line(length: int) -> bytes:
    """A response whose one header line is exactly ``length`` bytes (without CRLF)."""
    prefix = b"X-Long: "
    return b"HTTP/1.1 101 OK\r\n" + prefix + b"a" * (length - len(prefix)) + b"\r\n\r\n"


def _feed_bytewise(parser: ResponseParser, data: bytes) -> Optional[Response]:
    for i in range(len(data)):
        resp = parser.feed(data[i : i + 1])
        if resp is not None:
            return resp
    return None


def test_line_of_max_length_accepted_in_any_chunking() -> None:
    head = _head_with_line(MAX_LINE)
    resp = ResponseParser().feed(head)
    assert resp is not None and len(resp.headers["X-Long"]) == MAX_LINE - 8
    for step in (1, 7, 4096, MAX_LINE + 17):
        parser = ResponseParser()
        resp = None
        for i in range(0, len(head), step):
            resp = parser.feed(head[i : i + step]) or resp
        assert resp is not None, step


def test_line_too_long_refused() -> None:
    with pytest.raises(WSServerHandshakeError, match="exceeds"):
        ResponseParser().feed(_head_with_line(MAX_LINE + 1))
    with pytest.raises(WSServerHandshakeError, match="exceeds"):
        ResponseParser().feed(b"HTTP/1.1 101 " + b"x" * MAX_LINE + b"\r\n\r\n")


def test_line_too_long_refused_before_it_ends() -> None:
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 101 OK\r\nX-Long: ")
    with pytest.raises(WSServerHandshakeError, match=f"exceeds {MAX_LINE}"):
        for _ in range(MAX_LINE):
            parser.feed(b"a")  # never a newline: must fail as soon as the line is too long
    assert len(parser._buf) <= 2 * MAX_LINE


def test_status_line_too_long_refused_before_it_ends() -> None:
    parser = ResponseParser()
    with pytest.raises(WSServerHandshakeError, match="exceeds"):
        for _ in range(MAX_LINE * 2):
            parser.feed(b"HTTP/1.1 ")


def _head_with_headers(count: int) -> bytes:
    return b"HTTP/1.1 101 OK\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(count)) + b"\r\n"


def test_header_count_bound() -> None:
    resp = ResponseParser().feed(_head_with_headers(MAX_HEADERS))
    assert resp is not None and len(resp.headers) == MAX_HEADERS
    with pytest.raises(WSServerHandshakeError, match=f"more than {MAX_HEADERS}") as info:
        ResponseParser().feed(_head_with_headers(MAX_HEADERS + 1))
    assert info.value.status == 101


def _head_of_size(size: int) -> bytes:
    """A valid head (CRLFCRLF excluded from ``size``) of exactly ``size`` bytes."""
    status = b"HTTP/1.1 101 OK"
    lines = [status]
    total = len(status)
    i = 0
    while total < size:
        room = size - total - 2  # CRLF before the new line
        name = b"X-Pad-%d: " % i
        chunk = min(room, MAX_LINE) - len(name)
        if chunk < 1:
            # Not enough room for another line: widen the previous one.
            lines[-1] += b"p" * (size - total)
            total = size
            break
        lines.append(name + b"p" * chunk)
        total += 2 + len(lines[-1])
        i += 1
    head = b"\r\n".join(lines)
    assert len(head) == size
    return head + b"\r\n\r\n"


def test_head_of_max_size_accepted_in_one_piece() -> None:
    resp = ResponseParser().feed(_head_of_size(MAX_HEAD))
    assert resp is not None and resp.status == 101


@pytest.mark.parametrize("step", [1, 3, 1000, 8191])
def test_head_of_max_size_accepted_in_pieces(step: int) -> None:
    head = _head_of_size(MAX_HEAD)
    parser = ResponseParser()
    resp = None
    for i in range(0, len(head), step):
        resp = parser.feed(head[i : i + step]) or resp
    assert resp is not None and resp.status == 101


def test_head_too_big_refused() -> None:
    with pytest.raises(WSServerHandshakeError, match=f"exceeds {MAX_HEAD}"):
        ResponseParser().feed(_head_of_size(MAX_HEAD + 1))


def test_head_too_big_refused_before_it_ends() -> None:
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 101 OK\r\n")
    with pytest.raises(WSServerHandshakeError, match=f"exceeds {MAX_HEAD}"):
        for i in range(MAX_HEAD):
            parser.feed(b"X-%d: v\r\n" % i)
    assert len(parser._buf) <= MAX_HEAD + 100


def test_bounds_do_not_count_the_frames_after_the_head() -> None:
    parser = ResponseParser()
    resp = parser.feed(GOOD_HEAD + b"\x82\x7f" + b"\x00" * (MAX_HEAD * 2))
    assert resp is not None
    assert len(parser.rest) == 2 + MAX_HEAD * 2


# -- validate_response -------------------------------------------------------------------


def response(status: int = 101, *, drop: Tuple[str, ...] = (), extra: Tuple[Tuple[str, str], ...] = ()) -> Response:
    base = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", ACCEPT)]
    headers = Headers([(k, v) for k, v in base if k.lower() not in drop] + list(extra))
    return Response(status, "Switching Protocols" if status == 101 else "Nope", headers)


def refused(resp: Response, match: str, **kwargs: Any) -> WSServerHandshakeError:
    with pytest.raises(WSServerHandshakeError, match=match) as info:
        validate_response(resp, KEY, **kwargs)
    err = info.value
    assert err.status == resp.status
    assert err.code == resp.status
    assert err.headers is resp.headers
    return err


def test_valid_response() -> None:
    result = validate_response(response(), KEY)
    assert result.protocol is None
    assert result.deflate is None
    assert result.headers.get("upgrade") == "websocket"


def test_the_result_keeps_the_answer_as_it_came() -> None:
    """An open connection holds its HandshakeResult for life: it keeps the answer's head
    (one bytes object) and parses it again when asked, instead of a Headers of small strings."""
    resp = ResponseParser().feed(GOOD_HEAD[:-2] + b"X-Extra: 1\r\nX-Extra: 2\r\n\r\n")
    assert resp is not None
    result = validate_response(resp, KEY)
    assert isinstance(result.answer, bytes) and b"X-Extra: 2" in result.answer
    assert result.headers.items() == resp.headers.items()
    assert result.headers.getall("x-extra") == ["1", "2"]
    assert result.headers is not result.headers  # a new one each time: nothing held changes


@pytest.mark.parametrize("status", [100, 200, 204, 301, 400, 401, 403, 404, 426, 500, 503])
def test_status_must_be_101(status: int) -> None:
    err = refused(response(status), "expected HTTP 101")
    assert str(status) in str(err)


@pytest.mark.parametrize("value", ["websocket", "WebSocket", "WEBSOCKET", " websocket "])
def test_upgrade_case_insensitive(value: str) -> None:
    validate_response(response(drop=("upgrade",), extra=(("upgrade", value),)), KEY)


@pytest.mark.parametrize(
    "extra",
    [
        (),
        (("Upgrade", "websock"),),
        (("Upgrade", "h2c"),),
        (("Upgrade", "websocket, h2c"),),
        (("Upgrade", "websocket"), ("Upgrade", "websocket")),
        (("Upgrade", ""),),
    ],
)
def test_bad_upgrade(extra: Tuple[Tuple[str, str], ...]) -> None:
    refused(response(drop=("upgrade",), extra=extra), "Upgrade")


@pytest.mark.parametrize(
    "extra",
    [
        (("Connection", "upgrade"),),
        (("Connection", "UPGRADE"),),
        (("Connection", "keep-alive, Upgrade"),),
        (("Connection", "Upgrade ,keep-alive"),),
        (("connection", "keep-alive"), ("Connection", "upgrade")),
    ],
)
def test_connection_token_list(extra: Tuple[Tuple[str, str], ...]) -> None:
    validate_response(response(drop=("connection",), extra=extra), KEY)


@pytest.mark.parametrize(
    "extra",
    [
        (),
        (("Connection", "keep-alive"),),
        (("Connection", "upgraded"),),
        (("Connection", "close"),),
        (("Connection", "Up grade"),),
        (("Connection", ""),),
    ],
)
def test_bad_connection(extra: Tuple[Tuple[str, str], ...]) -> None:
    refused(response(drop=("connection",), extra=extra), "Connection")


@pytest.mark.parametrize(
    "extra",
    [
        (),
        (("Sec-WebSocket-Accept", ""),),
        (("Sec-WebSocket-Accept", ACCEPT.lower()),),
        (("Sec-WebSocket-Accept", ACCEPT[:-1]),),
        (("Sec-WebSocket-Accept", accept_key(new_key())),),
        (("Sec-WebSocket-Accept", KEY),),
        (("Sec-WebSocket-Accept", ACCEPT), ("Sec-WebSocket-Accept", ACCEPT)),
    ],
)
def test_bad_accept(extra: Tuple[Tuple[str, str], ...]) -> None:
    refused(response(drop=("sec-websocket-accept",), extra=extra), "Sec-WebSocket-Accept")


def test_accept_is_checked_against_our_key() -> None:
    other = new_key()
    with pytest.raises(WSServerHandshakeError, match="Accept"):
        validate_response(response(), other)


def test_subprotocol_offered_and_chosen() -> None:
    result = validate_response(response(extra=(("Sec-WebSocket-Protocol", "chat"),)), KEY, protocols=["x", "chat"])
    assert result.protocol == "chat"


def test_subprotocol_none_chosen() -> None:
    assert validate_response(response(), KEY, protocols=["chat"]).protocol is None


@pytest.mark.parametrize(
    ("extra", "protocols", "match"),
    [
        ((("Sec-WebSocket-Protocol", "chat"),), [], "did not offer"),
        ((("Sec-WebSocket-Protocol", "other"),), ["chat"], "did not offer"),
        ((("Sec-WebSocket-Protocol", "CHAT"),), ["chat"], "did not offer"),  # tokens are case-sensitive
        ((("Sec-WebSocket-Protocol", ""),), ["chat"], "did not offer"),
        ((("Sec-WebSocket-Protocol", "chat, x"),), ["chat", "x"], "more than one"),
        ((("Sec-WebSocket-Protocol", "chat"), ("Sec-WebSocket-Protocol", "x")), ["chat", "x"], "more than one"),
    ],
)
def test_bad_subprotocol(extra: Tuple[Tuple[str, str], ...], protocols: List[str], match: str) -> None:
    refused(response(extra=extra), match, protocols=protocols)


@pytest.mark.parametrize(
    ("value", "compress", "params"),
    [
        ("permessage-deflate", 15, DeflateParams()),
        ("permessage-deflate; client_max_window_bits", 15, DeflateParams()),
        ("permessage-deflate; client_max_window_bits=8", 15, DeflateParams(client_max_window_bits=8)),
        ("permessage-deflate; client_max_window_bits=12", 15, DeflateParams(client_max_window_bits=12)),
        ("permessage-deflate; server_max_window_bits=10", 10, DeflateParams(server_max_window_bits=10)),
        ("permessage-deflate; server_max_window_bits=8", 9, DeflateParams(server_max_window_bits=8)),
        ('permessage-deflate; server_max_window_bits="9"', 15, DeflateParams(server_max_window_bits=9)),
        (
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            15,
            DeflateParams(server_no_context_takeover=True, client_no_context_takeover=True),
        ),
        (
            "Permessage-Deflate; Client_No_Context_Takeover; SERVER_MAX_WINDOW_BITS=11; client_max_window_bits=9",
            12,
            DeflateParams(client_no_context_takeover=True, server_max_window_bits=11, client_max_window_bits=9),
        ),
    ],
)
def test_deflate_accepted(value: str, compress: int, params: DeflateParams) -> None:
    result = validate_response(response(extra=(("Sec-WebSocket-Extensions", value),)), KEY, compress=compress)
    assert result.deflate == params


def test_deflate_not_accepted_by_server() -> None:
    assert validate_response(response(), KEY, compress=15).deflate is None


@pytest.mark.parametrize(
    ("lines", "compress", "match"),
    [
        (["permessage-deflate"], 0, "did not offer"),
        (["x-webkit-deflate-frame"], 15, "did not offer"),
        (["permessage-deflate, permessage-deflate"], 15, "twice"),
        (["permessage-deflate", "permessage-deflate"], 15, "twice"),
        (["permessage-deflate, foo"], 15, "did not offer"),
        (['permessage-deflate; server_max_window_bits="10'], 15, "malformed"),
        (["permessage deflate"], 15, "malformed"),
        (["permessage-deflate; server_max_window_bits=10; server_max_window_bits=10"], 15, "duplicate"),
        (["permessage-deflate; client_no_context_takeover; client_no_context_takeover"], 15, "duplicate"),
        (["permessage-deflate; unknown_param"], 15, "unknown"),
        (["permessage-deflate; server_max_window_bits"], 15, "server_max_window_bits"),
        (["permessage-deflate; server_max_window_bits=7"], 15, "server_max_window_bits"),
        (["permessage-deflate; server_max_window_bits=16"], 15, "server_max_window_bits"),
        (["permessage-deflate; server_max_window_bits=08"], 15, "server_max_window_bits"),
        (["permessage-deflate; server_max_window_bits=abc"], 15, "server_max_window_bits"),
        (["permessage-deflate; server_max_window_bits=12"], 11, "exceeds"),
        (["permessage-deflate"], 11, "server_max_window_bits"),  # our cap was not accepted
        (["permessage-deflate; client_max_window_bits=7"], 15, "client_max_window_bits"),
        (["permessage-deflate; client_max_window_bits=16"], 15, "client_max_window_bits"),
        (["permessage-deflate; client_max_window_bits=0"], 15, "client_max_window_bits"),
        (["permessage-deflate; server_no_context_takeover=1"], 15, "no value"),
        (["permessage-deflate; client_no_context_takeover=true"], 15, "no value"),
    ],
)
def test_deflate_refused(lines: List[str], compress: int, match: str) -> None:
    extra = tuple(("Sec-WebSocket-Extensions", v) for v in lines)
    err = refused(response(extra=extra), match, compress=compress)
    assert "extension" in err.message.lower() or "deflate" in err.message.lower()


def test_error_str_names_status_and_rule() -> None:
    err = refused(response(403), "101")
    assert str(err).startswith("403")
    assert err.message in str(err)
    plain = WSServerHandshakeError("boom")
    assert str(plain) == "boom" and plain.status == 0 and len(plain.headers) == 0


def test_first_broken_rule_wins() -> None:
    # Status is checked before headers: a 200 without any header still says "101".
    refused(Response(200, "OK", Headers()), "expected HTTP 101")
    # Upgrade before Connection before Accept.
    refused(response(drop=("upgrade", "connection", "sec-websocket-accept")), "Upgrade")
    refused(response(drop=("connection", "sec-websocket-accept")), "Connection")


def test_build_then_validate_round_trip() -> None:
    key = new_key()
    raw = build_request(parse_url("ws://h/"), key)
    _, pairs = parse_request(raw)
    sent_key = values(pairs, "Sec-WebSocket-Key")[0]
    assert sent_key == key
    head = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept_key(sent_key).encode() + b"\r\n\r\n"
    )
    resp = ResponseParser().feed(head)
    assert resp is not None
    assert validate_response(resp, key).protocol is None
