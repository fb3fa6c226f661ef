"""Autobahn group 6: UTF-8 handling, on the wire and in the sans-I/O reader.

The vectors follow Markus Kuhn's UTF-8 decoder stress test, the source of
Autobahn's 6.x cases. Valid ones must echo unchanged; invalid ones must
fail the connection with 1007 *at the first byte that makes the text
invalid*: the wire tests send the text up to and including that byte, wait
for the client's 1007 close frame, and only then send the rest. A client
that waited for more bytes (or for the end of the message) never sends the
close and the script fails.
"""

from __future__ import annotations

import itertools
from typing import Callable, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncws import WSMsgType
from syncws.protocol.messages import WSMessage
from syncws.protocol.reader import MessageReader
from tests.apis import Client
from tests.conformance.helpers import close_frame, expect_close, first_invalid_utf8, read_close, read_messages
from tests.servers import RawPeer, RawServer, frame

pytestmark = pytest.mark.timeout(30)

Serve = Callable[..., RawServer]
KOSME = "κόσμε".encode()

VALID = {
    "6.1 empty": b"",
    "6.2 Hello-µ@ßöäüàá-UTF-8!!": "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!".encode(),
    "6.5 kosme": KOSME,
    "6.7 first 1-byte U+0000": b"\x00",
    "6.7 first 2-byte U+0080": b"\xc2\x80",
    "6.7 first 3-byte U+0800": b"\xe0\xa0\x80",
    "6.7 first 4-byte U+10000": b"\xf0\x90\x80\x80",
    "6.8 last 1-byte U+007F": b"\x7f",
    "6.8 last 2-byte U+07FF": b"\xdf\xbf",
    "6.8 last 3-byte U+FFFF": b"\xef\xbf\xbf",
    "6.9 last valid U+10FFFF": b"\xf4\x8f\xbf\xbf",
    "6.10 U+D7FF before the surrogates": b"\xed\x9f\xbf",
    "6.10 U+E000 after the surrogates": b"\xee\x80\x80",
    "6.10 U+FFFD": b"\xef\xbf\xbd",
    "6.22 noncharacters U+FFFE U+FDD0 U+1FFFF": b"\xef\xbf\xbe\xef\xb7\x90\xf0\x9f\xbf\xbf",
    "6.23 replacement character x3": b"\xef\xbf\xbd" * 3,
    "emoji and CJK": "😀漢字".encode(),
}

INVALID = {
    "6.3 kosme + surrogate + edited": KOSME + b"\xed\xa0\x80edited",
    "6.4.1 > U+10FFFF in the middle": KOSME + b"\xf4\x90\x80\x80edited",
    "6.6 truncated kosme": KOSME[:-1],
    "6.9 U+110000": b"\xf4\x90\x80\x80",
    "6.9 5-byte form": b"\xf8\x88\x80\x80\x80",
    "6.9 6-byte form": b"\xfc\x84\x80\x80\x80\x80",
    "6.9 F5 lead": b"\xf5\x80\x80\x80",
    "6.12 lone continuation 0x80": b"\x80",
    "6.12 lone continuation 0xBF": b"\xbf",
    "6.12 continuations 80 BF 80": b"\x80\xbf\x80",
    "6.13 lonely 2-byte start + space": b"\xc2 ",
    "6.13 lonely 3-byte start + space": b"\xe1 ",
    "6.13 lonely 4-byte start + space": b"\xf1 ",
    "6.14 2-byte, last continuation missing (end)": b"\xdf",
    "6.14 3-byte, last continuation missing (end)": b"\xef\xbf",
    "6.14 4-byte, last continuation missing (end)": b"\xf4\x8f\xbf",
    "6.15 incomplete sequences concatenated": b"\xc0\xe0\x80\xf0\x80\x80",
    "6.16 impossible FE": b"\xfe",
    "6.16 impossible FF": b"\xff",
    "6.16 impossible FE FE FF FF": b"\xfe\xfe\xff\xff",
    "6.17 overlong / as 2 bytes": b"\xc0\xaf",
    "6.17 overlong / as 3 bytes": b"\xe0\x80\xaf",
    "6.17 overlong / as 4 bytes": b"\xf0\x80\x80\xaf",
    "6.18 max overlong 2-byte": b"\xc1\xbf",
    "6.18 max overlong 3-byte": b"\xe0\x9f\xbf",
    "6.18 max overlong 4-byte": b"\xf0\x8f\xbf\xbf",
    "6.19 overlong NUL 2-byte": b"\xc0\x80",
    "6.19 overlong NUL 3-byte": b"\xe0\x80\x80",
    "6.20 surrogate U+D800": b"\xed\xa0\x80",
    "6.20 surrogate U+DB7F": b"\xed\xad\xbf",
    "6.20 surrogate U+DC00": b"\xed\xb0\x80",
    "6.20 surrogate U+DFFF": b"\xed\xbf\xbf",
    "6.21 surrogate pair U+D800 U+DC00": b"\xed\xa0\x80\xed\xb0\x80",
    "6.21 surrogate pair U+DBFF U+DFFF": b"\xed\xaf\xbf\xed\xbf\xbf",
}

# Each valid vector is also sent with valid text around it, each invalid one after a valid prefix.
PREFIX = b"ok \xce\xba "


def test_vectors_agree_with_the_reference() -> None:
    """The tables above are what they say, by an independent validator and by Python's codec."""
    for name, data in VALID.items():
        assert first_invalid_utf8(data) is None, name
        data.decode("utf-8")
    for name, data in INVALID.items():
        truncated = first_invalid_utf8(data) is None
        assert truncated == name.startswith(("6.6", "6.14")), name
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")


def bad_index(text: bytes) -> int:
    """Where a client must fail: the first impossible byte, else the end (truncated text)."""
    index = first_invalid_utf8(text)
    return len(text) if index is None else index


# -- the wire --------------------------------------------------------------------

MODES = ["one frame", "1-byte fragments", "1-byte writes"]


def split_frames(text: bytes, mode: str) -> List[bytes]:
    """The message as wire chunks: ``mode`` decides frames and writes."""
    if mode == "one frame":
        return [frame(1, text)]
    if mode == "1-byte fragments":
        if not text:
            return [frame(1, b"", fin=False), frame(0, b"")]
        return [frame(1 if i == 0 else 0, text[i : i + 1], fin=i == len(text) - 1) for i in range(len(text))]
    whole = frame(1, text)
    return [whole[i : i + 1] for i in range(len(whole))]


@pytest.mark.parametrize("mode", MODES)
def test_valid_utf8_echoes(client: Client, serve: Serve, mode: str) -> None:
    """6.1, 6.2, 6.5, 6.7-6.10, 6.22, 6.23: every valid vector, alone and inside text."""
    texts = [t for data in VALID.values() for t in (data, PREFIX + data + PREFIX)]

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        for text in texts:
            for chunk in split_frames(text, mode):
                peer.send(chunk)
                await peer.writer.drain()
        got = await read_messages(peer, len(texts))
        assert got.messages == [(1, t) for t in texts]
        peer.send(close_frame(1000))
        assert await read_close(peer) == (1000, b"")

    server = serve(script)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    assert [m.data for m in seen[:-2]] == [t.decode() for t in texts]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("text", list(INVALID.values()), ids=list(INVALID))
def test_invalid_utf8_fails_fast(client: Client, serve: Serve, text: bytes, mode: str) -> None:
    """6.3, 6.4 (fail fast), 6.6, 6.9, 6.12-6.21: 1007 at the first bad byte, before the rest is sent."""
    text = PREFIX + text
    cut = bad_index(text)  # bytes up to and including text[cut] are enough to fail
    chunks = split_frames(text, mode)
    if mode == "one frame":
        head = 2 if len(text) < 126 else 4
        first, rest = [chunks[0][: head + cut + 1]], [chunks[0][head + cut + 1 :]]
    elif mode == "1-byte fragments":
        first, rest = chunks[: cut + 1], chunks[cut + 1 :]
    else:
        first, rest = chunks[: 2 + cut + 1], chunks[2 + cut + 1 :]

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        for chunk in first:
            peer.send(chunk)
            await peer.writer.drain()
        await expect_close_code(peer, 1007)
        for chunk in rest:  # too late now: the client must ignore all of it
            peer.send(chunk)
        peer.send(frame(9, b"no pong"))
        peer.send(close_frame(1000))

    server = serve(script)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    assert [m.type for m in seen] == [WSMsgType.ERROR, WSMsgType.CLOSED]
    assert ws.close_code == 1007
    assert "UTF-8" in str(ws.failure())


def test_invalid_across_fragment_boundary(client: Client, serve: Serve) -> None:
    """A sequence split over frames, broken in the second: fail on that frame's first bad byte."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(frame(1, b"valid \xf0\x9f", fin=False))  # half of an emoji: fine so far
        peer.send(frame(0, b"\x98", fin=False))  # still fine
        await peer.writer.drain()
        peer.send(bytes([0x00, 3]) + b"\x41")  # header of the next fragment and a byte that cannot continue
        await expect_close_code(peer, 1007)
        peer.send(b"\x80\x80")  # the rest of that fragment, after the close

    server = serve(script)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    assert [m.type for m in seen] == [WSMsgType.ERROR, WSMsgType.CLOSED]


async def expect_close_code(peer: RawPeer, code: int) -> None:
    got, _ = await read_close(peer)
    assert got == code


def test_invalid_utf8_close_reason(client: Client, serve: Serve) -> None:
    """7.5.1: a close reason that is not UTF-8 fails with 1007."""

    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        peer.send(close_frame(1000, KOSME + b"\xed\xa0\x80edited"))
        await expect_close(peer, 1007)

    server = serve(script)
    ws = client.connect(server.url)
    seen = ws.echo_all()
    client.finish(server)
    assert [m.type for m in seen] == [WSMsgType.ERROR, WSMsgType.CLOSED]
    assert ws.close_code == 1007


# -- the reader, exhaustively ----------------------------------------------------

BYTES = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE,
         0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]


def fail_position(chunks: List[bytes], *, fragmented: bool) -> "int | None":
    """Feed the text byte by byte (as 1-byte fragments or 1-byte reads of one frame) and
    return the index of the byte that made the reader fail, or None."""
    reader = MessageReader()
    text = b"".join(chunks)
    if fragmented:
        pieces = [frame(1 if i == 0 else 0, text[i : i + 1], fin=False) for i in range(len(text))]
        offset = 0
    else:
        # The header announces one byte more than we feed: the end of the text is not the end.
        whole = frame(1, text + b" ", fin=False)[:-1]
        pieces = [whole[i : i + 1] for i in range(len(whole))]
        offset = 2
    for i, piece in enumerate(pieces):
        out = reader.feed(piece)
        if out and out[-1].type is WSMsgType.ERROR:
            assert out[-1].data.code == 1007
            return i - offset
    return None


def test_reader_fails_at_the_first_bad_byte_exhaustive() -> None:
    """Every 1- to 3-byte sequence over the interesting byte classes, and every 4-byte one
    starting with a lead byte: the reader fails exactly where the reference says."""
    count = 0
    for length in (1, 2, 3, 4):
        for seq in itertools.product(BYTES, repeat=length):
            if length == 4 and seq[0] < 0xF0:
                continue
            data = bytes(seq)
            expected = first_invalid_utf8(data)
            assert fail_position([data], fragmented=True) == expected, data.hex()
            assert fail_position([data], fragmented=False) == expected, data.hex()
            count += 1
    assert count > 10000


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.lists(st.integers(1, 8), max_size=10))
def test_reader_utf8_any_chunking(data: bytes, cuts: List[int]) -> None:
    """Any text in any fragmentation: accepted iff valid, failed at the first bad byte or the end."""
    pieces, pos = [], 0
    for n in cuts:
        pieces.append(data[pos : pos + n])
        pos += n
    pieces.append(data[pos:])
    wire = b"".join(frame(1 if i == 0 else 0, p, fin=i == len(pieces) - 1) for i, p in enumerate(pieces))
    out: List[WSMessage] = []
    reader = MessageReader()
    for i in range(len(wire)):
        out += reader.feed(wire[i : i + 1])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        assert [m.type for m in out] == [WSMsgType.ERROR]
        assert out[0].data.code == 1007
    else:
        assert [(m.type, m.data) for m in out] == [(WSMsgType.TEXT, text)]
