"""Hostile bytes: frame parsing and handshake parsing raise nothing but our typed errors, and never hang.

Hypothesis generates both raw random bytes and structured-then-mutated
input (frames with random headers and payloads, response heads with random
status lines and headers), fed in random chunkings. The ``deadline``
catches hangs and quadratic blow-ups. ``fuzz_atheris.py`` is the
coverage-guided version of the same harness (not run in CI).
"""

from __future__ import annotations

import tracemalloc
import zlib
from typing import List, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncws.protocol.deflate import DeflateParams, Inflater
from syncws.protocol.errors import ProtocolError, WebSocketError, WSServerHandshakeError
from syncws.protocol.handshake import MAX_HEAD, MAX_HEADERS, MAX_LINE, ResponseParser, accept_key, validate_response
from syncws.protocol.messages import WSMessage, WSMsgType
from syncws.protocol.reader import MessageReader
from tests.servers import frame

FUZZ = settings(
    max_examples=300,
    deadline=1000,  # ms per example: a hang or a quadratic path fails here
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def split(data: bytes, cuts: List[int]) -> List[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:])] or [b""]


def feed_all(reader: MessageReader, pieces: List[bytes]) -> List[WSMessage]:
    out: List[WSMessage] = []
    for piece in pieces:
        try:
            got = reader.feed(piece)
        except WebSocketError:
            return out  # a typed error is an allowed outcome
        for msg in got:
            assert isinstance(msg, WSMessage)
            if msg.type is WSMsgType.ERROR:
                assert isinstance(msg.data, ProtocolError) and isinstance(msg.data, WebSocketError)
                assert 1000 <= msg.data.code <= 1015
            elif msg.type is WSMsgType.TEXT:
                assert isinstance(msg.data, str)
            elif msg.type in (WSMsgType.BINARY, WSMsgType.PING, WSMsgType.PONG):
                assert isinstance(msg.data, bytes)
        out += got
    return out


def make_reader(max_size: int, deflate: bool) -> MessageReader:
    return MessageReader(max_msg_size=max_size, inflater=Inflater(DeflateParams()) if deflate else None)


def summary(msgs: List[WSMessage]) -> List[object]:
    return [(m.type, m.data.code if m.type is WSMsgType.ERROR else m.data) for m in msgs]


# -- frames ---------------------------------------------------------------------------------

@st.composite
def frames(draw: st.DrawFn) -> bytes:
    """A run of frames with random opcodes, flags, lengths and payloads, some compressed, then mutated."""
    out = b""
    for _ in range(draw(st.integers(1, 6))):
        opcode = draw(st.sampled_from([0, 1, 2, 3, 8, 9, 10, 11, 15]))
        payload = draw(
            st.one_of(
                st.binary(max_size=300),
                st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")),
                st.binary(max_size=2000).map(lambda b: zlib.compress(b)[2:-4]),
            )
        )
        rsv = draw(st.sampled_from([0, 0, 0, 4, 2, 1, 7]))
        length = draw(st.sampled_from([None, None, 7, 16, 64])) if len(payload) < 126 else None
        out += frame(opcode, payload, fin=draw(st.booleans()), rsv=rsv, length=length)
    for _ in range(draw(st.integers(0, 3))):  # flip some bytes
        if out:
            i = draw(st.integers(0, len(out) - 1))
            out = out[:i] + bytes([draw(st.integers(0, 255))]) + out[i + 1 :]
    return out


@FUZZ
@given(
    data=st.binary(max_size=4096),
    cuts=st.lists(st.integers(0, 4096), max_size=16),
    max_size=st.sampled_from([0, 1, 125, 126, 65536]),
    deflate=st.booleans(),
)
def test_reader_random_bytes(data: bytes, cuts: List[int], max_size: int, deflate: bool) -> None:
    feed_all(make_reader(max_size, deflate), split(data, cuts))


@FUZZ
@given(
    data=frames(),
    cuts=st.lists(st.integers(0, 10_000), max_size=16),
    max_size=st.sampled_from([0, 100, 1000, 65536]),
    deflate=st.booleans(),
)
def test_reader_mutated_frames_any_chunking(data: bytes, cuts: List[int], max_size: int, deflate: bool) -> None:
    whole = feed_all(make_reader(max_size, deflate), [data])
    chunked = feed_all(make_reader(max_size, deflate), split(data, cuts))
    # chunking never changes the outcome (RFC 6455: intermediaries may re-fragment the byte stream)
    assert summary(chunked) == summary(whole)
    if any(m.type is WSMsgType.ERROR for m in whole):
        assert whole[-1].type is WSMsgType.ERROR  # nothing after the error


@FUZZ
@given(
    claimed=st.integers(0, 2**63 - 1),
    opcode=st.sampled_from([1, 2]),
    max_size=st.sampled_from([0, 4 * 2**20]),
    body=st.binary(max_size=64),
)
def test_reader_huge_length_claims_allocate_nothing_upfront(
    claimed: int, opcode: int, max_size: int, body: bytes
) -> None:
    reader = make_reader(max_size, False)
    head = bytes([0x80 | opcode, 127]) + claimed.to_bytes(8, "big")
    out = feed_all(reader, [head, body])
    if max_size and claimed > max_size:
        assert out and out[-1].type is WSMsgType.ERROR and out[-1].data.code == 1009


def test_reader_decompression_bomb_is_capped() -> None:
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = bomb.compress(b"\x00" * 50 * 2**20) + bomb.flush(zlib.Z_SYNC_FLUSH)
    reader = make_reader(2**20, True)
    out = reader.feed(frame(2, payload[:-4], rsv=4))
    assert out[-1].type is WSMsgType.ERROR and out[-1].data.code == 1009


@pytest.mark.parametrize("opcode", [1, 2])
def test_reader_memory_bounded_under_byte_trickle(opcode: int) -> None:
    size = 2**17
    data = frame(opcode, b"a" * size)
    reader = MessageReader(max_msg_size=4 * 2**20)
    tracemalloc.start()
    try:
        out: List[WSMessage] = []
        for i in range(len(data)):
            out += reader.feed(data[i : i + 1])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(out) == 1 and len(out[0].data) == size
    assert peak <= 4 * size, f"peak {peak / size:.0f}x the message size"


# -- handshake response ---------------------------------------------------------------------

_GOOD = [
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Accept", accept_key(KEY)),
]


@st.composite
def response_heads(draw: st.DrawFn) -> bytes:
    status = draw(
        st.one_of(
            st.just("HTTP/1.1 101 Switching Protocols"),
            st.from_regex(r"HTTP/1\.[01] [0-9]{3}( [ -~]{0,20})?", fullmatch=True),
            st.text(max_size=40),
        )
    )
    headers = list(draw(st.permutations(_GOOD)))[: draw(st.integers(0, 3))]
    extra = st.tuples(
        st.sampled_from(
            [
                "Sec-WebSocket-Extensions",
                "Sec-WebSocket-Protocol",
                "Upgrade",
                "Connection",
                "X-Any",
                "Sec-WebSocket-Accept",
            ]
        ),
        st.one_of(
            st.text(max_size=60),
            st.sampled_from(
                [
                    "permessage-deflate",
                    "permessage-deflate; server_max_window_bits=8",
                    'permessage-deflate; client_max_window_bits="10"; server_no_context_takeover',
                    "permessage-deflate, permessage-deflate",
                    "x-unknown",
                    "chat",
                    "chat, chat.v2",
                ]
            ),
        ),
    )
    headers += draw(st.lists(extra, max_size=5))
    order = draw(st.permutations(headers))
    head = "\r\n".join([status] + [f"{k}: {v}" for k, v in order]) + "\r\n\r\n"
    return head.encode("utf-8", "surrogatepass") + draw(st.binary(max_size=20))


def parse_response(pieces: List[bytes], protocols: List[str], compress: int) -> Optional[object]:
    parser = ResponseParser()
    try:
        for piece in pieces:
            response = parser.feed(piece)
            if response is not None:
                return validate_response(response, KEY, protocols=protocols, compress=compress)
    except WSServerHandshakeError as exc:
        assert isinstance(exc, WebSocketError) and isinstance(exc.status, int)
        return exc
    return None


@FUZZ
@given(data=st.binary(max_size=4096), cuts=st.lists(st.integers(0, 4096), max_size=16))
def test_handshake_random_bytes(data: bytes, cuts: List[int]) -> None:
    parse_response(split(data, cuts), [], 15)


@FUZZ
@given(
    head=response_heads(),
    cuts=st.lists(st.integers(0, 2000), max_size=16),
    protocols=st.lists(st.sampled_from(["chat", "chat.v2", "x"]), max_size=2),
    compress=st.sampled_from([0, 9, 15]),
)
def test_handshake_mutated_heads_any_chunking(
    head: bytes, cuts: List[int], protocols: List[str], compress: int
) -> None:
    whole = parse_response([head], protocols, compress)
    chunked = parse_response(split(head, cuts), protocols, compress)
    assert type(whole) is type(chunked)


@pytest.mark.parametrize(
    "stream",
    [
        b"HTTP/1.1 101 OK\r\n" + b"X: y\r\n" * (MAX_HEADERS + 1) + b"\r\n",
        b"HTTP/1.1 101 " + b"r" * (MAX_LINE + 1) + b"\r\n\r\n",
        b"HTTP/1.1 101 OK\r\nX: " + b"v" * (MAX_LINE + 1) + b"\r\n\r\n",
        b"HTTP/1.1 101 OK\r\n" + (b"X: " + b"v" * 1000 + b"\r\n") * 100,
        b"x" * (MAX_HEAD * 4),
    ],
    ids=["header count", "status line", "header line", "head size", "no line breaks"],
)
def test_handshake_size_limits(stream: bytes) -> None:
    parser = ResponseParser()
    fed = 0
    with pytest.raises(WSServerHandshakeError):
        for i in range(0, len(stream), 1000):
            parser.feed(stream[i : i + 1000])
            fed += 1000
        raise AssertionError("accepted")  # pragma: no cover
    assert fed <= MAX_HEAD + MAX_LINE  # refused before buffering much more than the limit
