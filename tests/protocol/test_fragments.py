"""The sans-I/O side of fragments: frames of a fragmented send, and the reader's pieces."""

from __future__ import annotations

import tracemalloc
import zlib
from typing import List, Tuple

import pytest

from syncws.protocol.deflate import DeflateParams, Deflater, Inflater
from syncws.protocol.fragments import (
    Gathered,
    Piece,
    StreamState,
    check_all,
    check_fragments,
    first_fragment,
    next_fragment,
)
from syncws.protocol.messages import WSMessage, WSMsgType
from syncws.protocol.reader import MessageReader
from syncws.protocol.writer import MessageWriter
from tests.servers import frame

PIECE = WSMsgType.CONTINUATION
TAIL = b"\x00\x00\xff\xff"


def parse(wire: bytes) -> List[Tuple[bool, int, int, bytes]]:
    """(fin, rsv, opcode, payload) of unmasked frames."""
    out = []
    pos = 0
    while pos < len(wire):
        b0, b1 = wire[pos], wire[pos + 1]
        n, pos = b1 & 0x7F, pos + 2
        if n == 126:
            n, pos = int.from_bytes(wire[pos : pos + 2], "big"), pos + 2
        elif n == 127:
            n, pos = int.from_bytes(wire[pos : pos + 8], "big"), pos + 8
        out.append((bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F, wire[pos : pos + n]))
        pos += n
    return out


def test_fragment_frames() -> None:
    w = MessageWriter(mask=False)
    wire = w.fragment(1, b"ab", fin=False) + w.fragment(1, b"cd", fin=False) + w.fragment(1, b"", fin=True)
    wire += w.fragment(2, b"x", fin=True)  # the next message starts afresh
    assert parse(wire) == [(False, 0, 1, b"ab"), (False, 0, 0, b"cd"), (True, 0, 0, b""), (True, 0, 2, b"x")]


@pytest.mark.parametrize("takeover", [True, False])
def test_compressed_fragments(takeover: bool) -> None:
    params = DeflateParams(client_no_context_takeover=not takeover)
    w = MessageWriter(Deflater(params), mask=False)
    parts = [b"hello " * 30, b"", b"world " * 30]
    frames = []
    for _ in range(2):  # twice: the second message inflates with (or without) the first's context
        wire = b"".join(w.fragment(2, p, fin=False) for p in parts) + w.fragment(2, b"", fin=True)
        frames.append(parse(wire))
    inflate = zlib.decompressobj(-15)
    for got in frames:
        assert [(f[0], f[1], f[2]) for f in got] == [(False, 4, 2), (False, 0, 0), (False, 0, 0), (True, 0, 0)]
        if not takeover:
            inflate = zlib.decompressobj(-15)
        assert inflate.decompress(b"".join(f[3] for f in got) + TAIL) == b"".join(parts)


def test_compress_false_sends_the_message_plain() -> None:
    w = MessageWriter(Deflater(DeflateParams()), mask=False)
    wire = w.fragment(1, b"a" * 100, fin=False, compress=False) + w.fragment(1, b"b", fin=True)
    assert parse(wire) == [(False, 0, 1, b"a" * 100), (True, 0, 0, b"b")]


def test_fragment_types() -> None:
    assert first_fragment("é") == (1, "é".encode())
    assert first_fragment(b"x") == (2, b"x")
    assert bytes(first_fragment(memoryview(b"abcd")[::2])[1]) == b"ac"  # strided: its bytes
    with pytest.raises(TypeError):
        first_fragment(3)
    with pytest.raises(TypeError):
        next_fragment(1, b"x")
    with pytest.raises(TypeError):
        next_fragment(2, "x")
    for bad in ("s", b"b", bytearray(b"b"), memoryview(b"b"), 3, None):
        with pytest.raises(TypeError):
            check_fragments(bad)
    assert check_all(1, ["a", "b"]) == 2
    assert check_all(1, iter(["a", 1])) is None  # an iterator is checked as it goes
    with pytest.raises(TypeError):
        check_all(2, [b"a", b"b", "c"])


# -- the reader's pieces --------------------------------------------------------------


def kinds(out: List[WSMessage]) -> List[Tuple[WSMsgType, object, bool]]:
    return [(m.type, m.data, m.extra.last if m.type is PIECE else True) for m in out]


def test_a_claimed_message_comes_in_pieces_one_per_read() -> None:
    r = MessageReader(max_msg_size=100, streams=True)
    assert r.claim() == []
    out = r.feed(frame(1, "hé".encode()[:2], fin=False))
    assert kinds(out) == [(PIECE, "h", False)]  # half a character waits for its other half
    out = r.feed(frame(0, "é".encode()[1:] + b"llo", fin=False) + frame(0, b"!"))
    assert kinds(out) == [(PIECE, "éllo!", True)]  # one read, one piece


def test_claim_mid_message_hands_out_what_is_gathered() -> None:
    r = MessageReader(max_msg_size=100, streams=True)
    assert r.feed(frame(2, b"ab", fin=False)) == []
    assert kinds(r.claim()) == [(PIECE, b"ab", False)]
    assert kinds(r.feed(frame(0, b"cd", fin=False) + frame(9, b"p") + frame(0, b"ef"))) == [
        (PIECE, b"cd", False),
        (WSMsgType.PING, b"p", True),
        (PIECE, b"ef", True),
    ]
    assert kinds(r.feed(frame(2, b"gh", fin=False) + frame(0, b"ij"))) == [(WSMsgType.BINARY, b"ghij", True)]


def test_an_unclaimed_message_over_the_limit_holds() -> None:
    r = MessageReader(max_msg_size=10, streams=True)
    out = r.feed(frame(2, b"a" * 8, fin=False) + frame(0, b"b" * 8, fin=False)[:2])  # a header over the limit
    assert r.held and [m.data for m in out] == [b"a" * 8]
    assert out[0].extra.too_big is not None and out[0].extra.too_big.code == 1009 and out[0].extra.held
    assert r.feed(b"b" * 8 + frame(0, b"c") + frame(1, b"next")) == []  # kept, unparsed
    assert kinds(r.resume()) == [(PIECE, b"b" * 8 + b"c", True), (WSMsgType.TEXT, "next", True)]
    r.stop(ValueError("refused"))  # type: ignore[arg-type]
    assert r.feed(frame(1, b"ignored")) == []


def test_discard_ends_a_hold_and_still_sees_the_close() -> None:
    r = MessageReader(max_msg_size=10, streams=True)
    r.feed(frame(2, b"a" * 20, fin=False))
    assert r.held
    r.feed(frame(0, b"b" * 20) + frame(8, b"\x03\xe8"))
    r.discard()
    out = r.feed(b"")
    assert [m.type for m in out] == [WSMsgType.CLOSE] and r.close_received


def bomb(size: int) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = []
    chunk = bytes(2**20)
    for _ in range(size // len(chunk)):
        out.append(c.compress(chunk))
    return b"".join(out) + c.flush(zlib.Z_SYNC_FLUSH)[:-4]


def test_a_compressed_stream_inflates_one_piece_at_a_time() -> None:
    """A 256 MiB bomb, streamed with max_msg_size=1 MiB: each piece is at most 1 MiB, the
    reader holds after each until it is taken, and memory stays near one piece."""
    limit = 2**20
    wire = frame(2, bomb(256 * 2**20), rsv=4)
    r = MessageReader(max_msg_size=limit, inflater=Inflater(DeflateParams()), streams=True)
    r.claim()
    total = pieces = 0
    tracemalloc.start()
    try:
        out = []
        for i in range(0, len(wire), 65536):
            out += r.feed(wire[i : i + 65536])
        while True:
            assert len(out) <= 1
            for m in out:
                assert m.type is PIECE and len(m.data) <= limit
                total += len(m.data)
                pieces += 1
            if out and out[-1].extra.last:
                break
            out = r.resume()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 256 * 2**20 and pieces >= 256
    assert peak < 4 * limit + len(wire), f"peak {peak}"


def test_gathered_and_stream_state() -> None:
    g = Gathered()
    first = WSMessage(PIECE, "ab", _piece(False))
    assert g.receive(first) is None
    whole = g.receive(WSMessage(PIECE, "cd", _piece(True)))
    assert isinstance(whole, WSMessage) and (whole.type, whole.data) == (WSMsgType.TEXT, "abcd")
    g.skip()
    assert g.receive(WSMessage(PIECE, b"x", _piece(True))) is None and not g.skipping
    s = StreamState(WSMessage(WSMsgType.BINARY, b"", ""))
    assert s.type is WSMsgType.BINARY and s.done and s.next_piece() is None


def _piece(last: bool) -> Piece:
    return Piece(last, None)
