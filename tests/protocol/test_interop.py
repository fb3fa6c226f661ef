"""Property tests against a reference implementation (the installed ``websockets`` package).

* Server frames serialised by websockets' ``Frame.serialize`` (optionally through its
  ``PerMessageDeflate``), fed to our ``MessageReader`` in random chunkings, give exactly
  the messages that were sent.
* Our ``MessageWriter`` output parses back unchanged with websockets' ``Frame.parse``.
* A full exchange with websockets' sans-I/O ``ServerProtocol``: our request, its response
  through our parser and validator, messages both ways, the closing handshake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

websockets = pytest.importorskip("websockets")

from websockets.extensions.permessage_deflate import (  # noqa: E402
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)
from websockets.frames import Frame  # noqa: E402
from websockets.frames import Opcode as WSOpcode  # noqa: E402
from websockets.server import ServerProtocol  # noqa: E402
from websockets.streams import StreamReader  # noqa: E402

from syncws.protocol.connection import ClientConnection  # noqa: E402
from syncws.protocol.deflate import DeflateParams, Deflater, Inflater, make_offer  # noqa: E402
from syncws.protocol.frames import Opcode  # noqa: E402
from syncws.protocol.handshake import ResponseParser, build_request, new_key, validate_response  # noqa: E402
from syncws.protocol.messages import WSMessage, WSMsgType  # noqa: E402
from syncws.protocol.reader import MessageReader  # noqa: E402
from syncws.protocol.url import parse_url  # noqa: E402
from syncws.protocol.writer import MessageWriter  # noqa: E402

from ._util import chunks, feed_all  # noqa: E402

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- the script of what a peer sends -----------------------------------------------------


@dataclass
class DataMsg:
    text: bool
    payload: bytes
    cuts: List[int]  # fragment boundaries
    pings: List[Tuple[int, bytes]]  # (after fragment i, payload): control frames inside the message
    compressed: bool = False

    def fragments(self) -> List[bytes]:
        return chunks(self.payload, self.cuts) if self.cuts else [self.payload]

    def expected(self) -> WSMessage:
        if self.text:
            return WSMessage(WSMsgType.TEXT, self.payload.decode(), "")
        return WSMessage(WSMsgType.BINARY, self.payload, "")


@dataclass
class Control:
    opcode: int  # PING or PONG
    payload: bytes

    def expected(self) -> WSMessage:
        return WSMessage(WSMsgType(self.opcode), self.payload, "")


control_payloads = st.binary(max_size=125)
sizes_of_note = st.sampled_from([0, 1, 125, 126, 127, 300])


@st.composite
def data_messages(draw: Any, max_size: int = 300) -> DataMsg:
    text = draw(st.booleans())
    if text:
        payload = draw(st.text(max_size=max_size // 3)).encode("utf-8")
    elif draw(st.booleans()):
        payload = draw(st.binary(max_size=max_size))
    else:
        payload = bytes(range(256)) * 2
        payload = payload[: draw(sizes_of_note)]
    cuts = draw(st.lists(st.integers(0, max(len(payload), 1)), max_size=5))
    pings = draw(st.lists(st.tuples(st.integers(0, 5), control_payloads), max_size=3))
    return DataMsg(text, payload, cuts, pings, compressed=draw(st.booleans()))


scripts = st.lists(
    st.one_of(
        data_messages(),
        data_messages(),
        st.builds(Control, st.sampled_from([0x9, 0xA]), control_payloads),
    ),
    max_size=8,
)


def chunkings(total_max: int = 4000) -> Any:
    """Either one byte at a time, or random cut points."""
    return st.one_of(st.just("bytewise"), st.lists(st.integers(0, total_max), max_size=30))


def split_stream(data: bytes, how: Any) -> List[bytes]:
    if how == "bytewise":
        return [data[i : i + 1] for i in range(len(data))]
    return chunks(data, how)


# -- server -> client: reference encoder, our reader -------------------------------------


def reference_stream(script: List[Any], ext: Optional[PerMessageDeflate]) -> Tuple[bytes, List[WSMessage]]:
    """Serialise ``script`` with websockets' Frame; return the bytes and the messages they mean."""
    out: List[bytes] = []
    expected: List[WSMessage] = []
    for item in script:
        if isinstance(item, Control):
            out.append(Frame(WSOpcode(item.opcode), item.payload).serialize(mask=False))
            expected.append(item.expected())
            continue
        exts = [ext] if ext is not None and item.compressed else []
        frags = item.fragments()
        for i, piece in enumerate(frags):
            first = WSOpcode.TEXT if item.text else WSOpcode.BINARY
            frame = Frame(first if i == 0 else WSOpcode.CONT, piece, fin=i == len(frags) - 1)
            out.append(frame.serialize(mask=False, extensions=exts))
            if i < len(frags) - 1:
                for after, payload in item.pings:
                    if after == i:
                        out.append(Frame(WSOpcode.PING, payload).serialize(mask=False))
                        expected.append(WSMessage(WSMsgType.PING, payload, ""))
        expected.append(item.expected())
    return b"".join(out), expected


@SETTINGS
@given(script=scripts, how=chunkings())
def test_reference_frames_to_our_reader(script: List[Any], how: Any) -> None:
    data, expected = reference_stream(script, None)
    assert feed_all(MessageReader(), split_stream(data, how)) == expected


@SETTINGS
@given(
    script=scripts,
    how=chunkings(),
    server_nct=st.booleans(),
    server_bits=st.integers(9, 15),
)
def test_reference_deflate_frames_to_our_reader(
    script: List[Any], how: Any, server_nct: bool, server_bits: int
) -> None:
    ext = PerMessageDeflate(
        remote_no_context_takeover=False,
        local_no_context_takeover=server_nct,
        remote_max_window_bits=15,
        local_max_window_bits=server_bits,
    )
    data, expected = reference_stream(script, ext)
    inflater = Inflater(DeflateParams(server_no_context_takeover=server_nct, server_max_window_bits=server_bits))
    assert feed_all(MessageReader(inflater=inflater), split_stream(data, how)) == expected


@settings(max_examples=20, deadline=None)
@given(
    size=st.sampled_from([65535, 65536, 70000, 200_000]),
    cuts=st.lists(st.integers(0, 200_010), max_size=20),
    text=st.booleans(),
    compressed=st.booleans(),
)
def test_reference_large_messages(size: int, cuts: List[int], text: bool, compressed: bool) -> None:
    payload = ("\u00e9abc" * (size // 5)).encode() if text else (bytes(range(256)) * (size // 256 + 1))[:size]
    msg = DataMsg(text, payload, [size // 3, size // 2], [], compressed)
    ext = PerMessageDeflate(False, False, 15, 15) if compressed else None
    data, expected = reference_stream([msg], ext)
    inflater = Inflater(DeflateParams()) if compressed else None
    assert feed_all(MessageReader(inflater=inflater), chunks(data, cuts)) == expected


# -- client -> server: our writer, reference parser --------------------------------------


def reference_parse(data: bytes, ext: Optional[PerMessageDeflate]) -> List[Tuple[str, Any]]:
    """Parse masked client frames with websockets' Frame.parse and assemble messages."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    messages: List[Tuple[str, Any]] = []
    parts: List[bytes] = []
    kind = None
    while True:
        at_eof = reader.at_eof()
        try:
            next(at_eof)
        except StopIteration as stop:
            if stop.value:
                break
        gen = Frame.parse(reader.read_exact, mask=True, extensions=[ext] if ext else None)
        try:
            next(gen)
        except StopIteration as stop:
            frame = stop.value
        else:  # pragma: no cover - all data is there
            raise AssertionError("incomplete frame")
        assert not frame.rsv1 and not frame.rsv2 and not frame.rsv3  # after decoding
        if frame.opcode in (WSOpcode.PING, WSOpcode.PONG, WSOpcode.CLOSE):
            messages.append((frame.opcode.name, bytes(frame.data)))
            continue
        if frame.opcode is not WSOpcode.CONT:
            assert kind is None, "new message inside a fragmented one"
            kind = frame.opcode.name
            parts = []
        else:
            assert kind is not None, "continuation without a message"
        parts.append(bytes(frame.data))
        if frame.fin:
            payload = b"".join(parts)
            messages.append((kind, payload.decode() if kind == "TEXT" else payload))
            kind = None
    return messages


@st.composite
def outgoing(draw: Any) -> Tuple[List[Any], int]:
    items = draw(
        st.lists(
            st.one_of(
                st.tuples(st.just("TEXT"), st.text(max_size=120)),
                st.tuples(st.just("BINARY"), st.binary(max_size=400)),
                st.tuples(st.just("BINARY"), sizes_of_note.map(lambda n: b"\x07" * n)),
                st.tuples(st.sampled_from(["PING", "PONG"]), control_payloads),
            ),
            max_size=8,
        )
    )
    return items, draw(st.integers(0, 64))


def write(writer: MessageWriter, items: List[Any], fragment_size: int) -> bytes:
    out = []
    for kind, data in items:
        if kind == "TEXT":
            out.append(writer.message(Opcode.TEXT, data.encode(), fragment_size=fragment_size))
        elif kind == "BINARY":
            out.append(writer.message(Opcode.BINARY, data, fragment_size=fragment_size))
        elif kind == "PING":
            out.append(writer.ping(data))
        else:
            out.append(writer.pong(data))
    return b"".join(out)


@SETTINGS
@given(case=outgoing())
def test_our_writer_to_reference_parser(case: Tuple[List[Any], int]) -> None:
    items, fragment_size = case
    data = write(MessageWriter(), items, fragment_size)
    assert reference_parse(data, None) == [(k, v) for k, v in items]


@SETTINGS
@given(case=outgoing(), client_nct=st.booleans(), client_bits=st.integers(8, 15))
def test_our_deflate_writer_to_reference_parser(
    case: Tuple[List[Any], int], client_nct: bool, client_bits: int
) -> None:
    items, fragment_size = case
    params = DeflateParams(client_no_context_takeover=client_nct, client_max_window_bits=client_bits)
    data = write(MessageWriter(Deflater(params)), items, fragment_size)
    ext = PerMessageDeflate(
        remote_no_context_takeover=client_nct,
        local_no_context_takeover=False,
        remote_max_window_bits=client_bits,
        local_max_window_bits=15,
    )
    assert reference_parse(data, ext) == [(k, v) for k, v in items]


def test_writer_close_frame_to_reference_parser() -> None:
    assert reference_parse(MessageWriter().close(4001, "r\u00e9".encode()), None) == [("CLOSE", b"\x0f\xa1r\xc3\xa9")]


# -- a full exchange with websockets' sans-I/O server ------------------------------------


def handshake(
    server: ServerProtocol, protocols: List[str], compress: int
) -> Tuple[ClientConnection, Optional[str], Optional[DeflateParams]]:
    key = new_key()
    request = build_request(
        parse_url("ws://example.com:8080/chat?x=1"),
        key,
        protocols=protocols,
        extensions=make_offer(compress) if compress else None,
        origin="https://example.com",
        user_agent="syncws-tests",
    )
    server.receive_data(request)
    (req,) = server.events_received()
    assert req.path == "/chat?x=1"
    assert req.headers["Host"] == "example.com:8080"
    response = server.accept(req)
    assert response.status_code == 101, response.body
    server.send_response(response)
    parser = ResponseParser()
    resp = None
    raw = b"".join(server.data_to_send())
    for piece in chunks(raw, range(0, len(raw), 7)):
        resp = parser.feed(piece) or resp
    assert resp is not None
    assert parser.rest == b""
    result = validate_response(resp, key, protocols=protocols, compress=compress)
    return ClientConnection(deflate=result.deflate), result.protocol, result.deflate


def drain(server: ServerProtocol) -> bytes:
    return b"".join(server.data_to_send())


def server_messages(server: ServerProtocol) -> Iterator[Tuple[str, Any]]:
    kind, parts = None, []
    for frame in server.events_received():
        if frame.opcode in (WSOpcode.PING, WSOpcode.PONG, WSOpcode.CLOSE):
            yield frame.opcode.name, bytes(frame.data)
            continue
        if frame.opcode is not WSOpcode.CONT:
            kind, parts = frame.opcode.name, []
        parts.append(bytes(frame.data))
        if frame.fin:
            payload = b"".join(parts)
            yield kind, payload.decode() if kind == "TEXT" else payload  # type: ignore[misc]


factories = st.builds(
    ServerPerMessageDeflateFactory,
    server_no_context_takeover=st.booleans(),
    client_no_context_takeover=st.booleans(),
    server_max_window_bits=st.none() | st.integers(9, 15),
    client_max_window_bits=st.none() | st.integers(8, 15),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    factory=st.none() | factories,
    compress=st.sampled_from([0, 9, 10, 12, 15]),
    server_protocols=st.lists(st.sampled_from(["chat", "superchat", "v2.json"]), unique=True, max_size=3),
    client_protocols=st.lists(st.sampled_from(["chat", "superchat", "v2.json"]), unique=True, max_size=3),
    ours=outgoing(),
    theirs=st.lists(data_messages(max_size=200), max_size=5),
    how=chunkings(),
)
def test_full_exchange_with_websockets_server(
    factory: Optional[ServerPerMessageDeflateFactory],
    compress: int,
    server_protocols: List[str],
    client_protocols: List[str],
    ours: Tuple[List[Any], int],
    theirs: List[DataMsg],
    how: Any,
) -> None:
    def select(_: ServerProtocol, offered: Any) -> Optional[str]:
        return next((p for p in offered if p in server_protocols), None)

    server = ServerProtocol(extensions=[factory] if factory is not None else None, select_subprotocol=select)
    conn, protocol, agreed = handshake(server, client_protocols, compress)

    # Both sides agree on what was negotiated.
    assert protocol == server.subprotocol
    exts = server.extensions
    if agreed is None:
        assert exts == []
    else:
        (ext,) = exts
        assert agreed.server_no_context_takeover == ext.local_no_context_takeover
        assert agreed.client_no_context_takeover == ext.remote_no_context_takeover
        assert agreed.server_max_window_bits == ext.local_max_window_bits
        assert agreed.client_max_window_bits == ext.remote_max_window_bits
    if factory is None or not compress:
        assert agreed is None

    # Client -> server.
    items, fragment_size = ours
    server.receive_data(
        b"".join(
            conn.send_message(
                Opcode.TEXT if k == "TEXT" else Opcode.BINARY,
                v.encode() if k == "TEXT" else v,
                fragment_size=fragment_size,
            )
            if k in ("TEXT", "BINARY")
            else (conn.send_ping(v) if k == "PING" else conn.send_pong(v))
            for k, v in items
        )
    )
    assert list(server_messages(server)) == [(k, v) for k, v in items]
    # The server answered our pings: its pongs reach us in order.
    pongs = conn.receive_data(drain(server))
    assert pongs == [WSMessage(WSMsgType.PONG, v, "") for k, v in items if k == "PING"]

    # Server -> client, fragmented, with pings in between, in random chunkings.
    expected: List[WSMessage] = []
    for msg in theirs:
        frags = msg.fragments()
        for i, piece in enumerate(frags):
            fin = i == len(frags) - 1
            if i == 0:
                (server.send_text if msg.text else server.send_binary)(piece, fin=fin)
            else:
                server.send_continuation(piece, fin=fin)
            if not fin:
                for after, payload in msg.pings:
                    if after == i:
                        server.send_ping(payload)
                        expected.append(WSMessage(WSMsgType.PING, payload, ""))
        expected.append(msg.expected())
    assert feed_all(conn.reader, split_stream(drain(server), how)) == expected

    # Closing handshake, started by us; websockets echoes our code and reason.
    server.receive_data(conn.send_close(1000, b"bye"))
    assert list(server_messages(server)) == [("CLOSE", b"\x03\xe8bye")]
    assert conn.receive_data(drain(server)) == [WSMessage(WSMsgType.CLOSE, 1000, "bye")]
    assert conn.closing_handshake_done
    assert conn.close_code == 1000
    conn.receive_eof()
    assert conn.close_code == 1000


@pytest.mark.parametrize("code", [1001, 4000])
def test_server_initiated_close(code: int) -> None:
    server = ServerProtocol()
    conn, _, _ = handshake(server, [], 0)
    server.send_close(code, "going")
    assert conn.receive_data(drain(server)) == [WSMessage(WSMsgType.CLOSE, code, "going")]
    server.receive_data(conn.send_close(code))
    assert server.close_rcvd is not None and server.close_rcvd.code == code
    assert conn.closing_handshake_done and conn.close_code == code


def test_websockets_server_rejects_what_we_reject() -> None:
    # Sanity of the reference itself: it refuses an unmasked client frame, as we refuse a masked server one.
    server = ServerProtocol()
    handshake(server, [], 0)
    server.receive_data(MessageWriter(mask=False).text("x"))
    assert server.close_sent is not None and server.close_sent.code == 1002


@settings(max_examples=50, deadline=None)
@given(compress=st.sampled_from([9, 10, 11, 12, 13, 14, 15]), factory=factories)
def test_negotiation_matrix(compress: int, factory: ServerPerMessageDeflateFactory) -> None:
    server = ServerProtocol(extensions=[factory])
    _, _, agreed = handshake(server, [], compress)
    assert agreed is not None  # websockets accepts every offer we make
    # What we accepted honours our offer: the server's window within what we asked.
    assert agreed.server_max_window_bits <= compress
