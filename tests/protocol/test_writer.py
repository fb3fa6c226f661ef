"""syncws.protocol.writer: compression, fragmentation, masking, control frames."""

from __future__ import annotations

import os
import zlib
from typing import Any, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncws.protocol.close_codes import MAX_REASON_BYTES
from syncws.protocol.deflate import MIN_COMPRESS_SIZE, DeflateParams, Deflater
from syncws.protocol.frames import Opcode
from syncws.protocol.writer import MessageWriter

from ._util import parse_client_frames

TAIL = b"\x00\x00\xff\xff"


def test_text_and_binary() -> None:
    w = MessageWriter()
    assert parse_client_frames(w.text("h\u00e9llo"))[0][0::4] == (1, "h\u00e9llo".encode())
    assert parse_client_frames(w.binary(b"\x00\xff"))[0][0::4] == (2, b"\x00\xff")
    assert parse_client_frames(w.text(""))[0][0::4] == (1, b"")
    assert parse_client_frames(w.binary(bytearray(b"ba")))[0][0::4] == (2, b"ba")


def test_every_frame_is_masked_with_a_fresh_key() -> None:
    w = MessageWriter()
    data = w.message(Opcode.BINARY, b"z" * 1000, fragment_size=10)
    frames = parse_client_frames(data)
    assert len(frames) == 100
    keys = [f[3] for f in frames]
    assert len(set(keys)) > 90


def test_unmasked_writer() -> None:
    assert MessageWriter(mask=False).binary(b"ab") == b"\x82\x02ab"


@pytest.mark.parametrize(
    ("size", "fragment_size", "expected"),
    [
        (10, 0, [10]),
        (10, 10, [10]),
        (10, 11, [10]),
        (10, 3, [3, 3, 3, 1]),
        (10, 5, [5, 5]),
        (10, 1, [1] * 10),
        (0, 4, [0]),
        (70000, 65536, [65536, 4464]),
    ],
)
def test_fragmentation(size: int, fragment_size: int, expected: list) -> None:
    payload = os.urandom(size)
    frames = parse_client_frames(MessageWriter().message(Opcode.TEXT, payload, fragment_size=fragment_size))
    assert [len(f[4]) for f in frames] == expected
    assert [f[0] for f in frames] == [1] + [0] * (len(expected) - 1)
    assert [f[1] for f in frames] == [False] * (len(expected) - 1) + [True]
    assert all(f[2] == 0 for f in frames)
    assert b"".join(f[4] for f in frames) == payload


@pytest.mark.parametrize("opcode", [Opcode.PING, Opcode.PONG])
def test_control_payload_limit(opcode: Opcode) -> None:
    w = MessageWriter()
    method = w.ping if opcode == Opcode.PING else w.pong
    ((op, fin, _, _, data),) = parse_client_frames(method(b"x" * 125))
    assert (op, fin, data) == (opcode, True, b"x" * 125)
    assert parse_client_frames(method())[0][4] == b""
    with pytest.raises(ValueError, match="125"):
        method(b"x" * 126)


def test_close_frame() -> None:
    w = MessageWriter()
    ((op, fin, _, _, data),) = parse_client_frames(w.close(1000))
    assert (op, fin, data) == (8, True, b"\x03\xe8")
    ((_, _, _, _, data),) = parse_client_frames(w.close(4000, b"bye"))
    assert data == b"\x0f\xa0bye"
    ((_, _, _, _, data),) = parse_client_frames(w.close(1001, b"r" * MAX_REASON_BYTES))
    assert len(data) == 125


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535, -1])
def test_unsendable_close_codes_refused(code: int) -> None:
    with pytest.raises(ValueError, match="close code"):
        MessageWriter().close(code)


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999])
def test_sendable_close_codes(code: int) -> None:
    assert parse_client_frames(MessageWriter().close(code))[0][4] == code.to_bytes(2, "big")


@pytest.mark.parametrize("code", [True, 1000.0, "1000"])
def test_close_code_must_be_an_int(code: object) -> None:
    with pytest.raises(ValueError):
        MessageWriter().close(code)  # type: ignore[arg-type]


def test_close_reason_too_long_refused() -> None:
    with pytest.raises(ValueError, match="123"):
        MessageWriter().close(1000, b"r" * (MAX_REASON_BYTES + 1))
    with pytest.raises(ValueError):
        MessageWriter().close(1000, "\u00e9".encode() * 62)  # 124 bytes


# -- with permessage-deflate -------------------------------------------------------------


def inflate_messages(frames: list, bits: int = 15, takeover: bool = True) -> list:
    """Reassemble and inflate as a server would (independently of syncws.deflate)."""
    out = []
    d = zlib.decompressobj(-bits)
    parts: list = []
    compressed = False
    for op, fin, rsv, _, data in frames:
        if op:
            compressed = bool(rsv & 0x40)
            parts = []
        else:
            assert rsv == 0, "RSV1 on a continuation frame"
        parts.append(data)
        if fin:
            payload = b"".join(parts)
            if compressed:
                if not takeover:
                    d = zlib.decompressobj(-bits)
                payload = d.decompress(payload + TAIL)
            out.append((compressed, payload))
    return out


def test_compressed_message_has_rsv1_and_inflates() -> None:
    w = MessageWriter(Deflater(DeflateParams()))
    payload = b"hello world " * 50
    frames = parse_client_frames(w.binary(payload))
    assert frames[0][2] == 0x40
    assert len(frames[0][4]) < len(payload)
    assert not frames[0][4].endswith(TAIL)
    assert inflate_messages(frames) == [(True, payload)]


def test_small_messages_are_not_compressed() -> None:
    w = MessageWriter(Deflater(DeflateParams()))
    frames = parse_client_frames(w.binary(b"a" * (MIN_COMPRESS_SIZE - 1)))
    assert frames[0][2] == 0 and frames[0][4] == b"a" * (MIN_COMPRESS_SIZE - 1)
    frames = parse_client_frames(w.binary(b"a" * MIN_COMPRESS_SIZE))
    assert frames[0][2] == 0x40


def test_fragmented_compressed_message_has_rsv1_only_on_the_first_frame() -> None:
    w = MessageWriter(Deflater(DeflateParams()))
    payload = os.urandom(300)  # incompressible: many fragments
    frames = parse_client_frames(w.message(Opcode.BINARY, payload, fragment_size=50))
    assert len(frames) > 2
    assert [f[2] for f in frames] == [0x40] + [0] * (len(frames) - 1)
    assert [f[0] for f in frames] == [2] + [0] * (len(frames) - 1)
    assert inflate_messages(frames) == [(True, payload)]


def test_context_takeover_across_messages() -> None:
    w = MessageWriter(Deflater(DeflateParams()))
    payload = os.urandom(200)
    wire = [parse_client_frames(w.binary(payload)) for _ in range(3)]
    # The second copy refers back to the first: much smaller.
    assert len(wire[1][0][4]) < len(wire[0][0][4]) // 4
    assert inflate_messages([f for fs in wire for f in fs]) == [(True, payload)] * 3


def test_no_context_takeover_sends_incompressible_data_raw() -> None:
    w = MessageWriter(Deflater(DeflateParams(client_no_context_takeover=True)))
    payload = os.urandom(200)
    frames = parse_client_frames(w.binary(payload) + w.binary(b"x" * 100) + w.binary(payload))
    assert [f[2] for f in frames] == [0, 0x40, 0]
    assert inflate_messages(frames, takeover=False) == [(False, payload), (True, b"x" * 100), (False, payload)]


def test_control_frames_are_never_compressed() -> None:
    w = MessageWriter(Deflater(DeflateParams()))
    for frame in (w.ping(b"p" * 100), w.pong(b"p" * 100), w.close(1000, b"r" * 100)):
        assert parse_client_frames(frame)[0][2] == 0


@settings(max_examples=60, deadline=None)
@given(
    messages=st.lists(st.binary(max_size=400) | st.text(max_size=100).map(str.encode), max_size=6),
    fragment_size=st.integers(0, 64),
    takeover=st.booleans(),
    bits=st.integers(9, 15),
)
def test_deflate_round_trip(messages: list, fragment_size: int, takeover: bool, bits: int) -> None:
    w = MessageWriter(Deflater(DeflateParams(client_no_context_takeover=not takeover, client_max_window_bits=bits)))
    wire = b"".join(w.message(Opcode.BINARY, m, fragment_size=fragment_size) for m in messages)
    assert [p for _, p in inflate_messages(parse_client_frames(wire), bits, takeover)] == messages


# -- buffers whose items are not bytes, or not in one run -------------------------------------
def _buffers() -> List[Any]:
    from array import array

    out: List[Any] = [
        array("i", [1, 2, 3]),
        memoryview(array("d", [1.5, -2.25])),
        memoryview(bytes(range(20)))[::3],  # strided: not one run of memory
        memoryview(bytearray(range(12))).cast("B", (3, 4)),  # two-dimensional
    ]
    import numpy  # a test extra

    out += [numpy.arange(6, dtype="<u4"), numpy.arange(12, dtype="<i2").reshape(3, 4)[:, ::2]]
    return out


@pytest.mark.parametrize("python_mask", [False, True], ids=["default mask", "Python mask"])
def test_any_buffer_is_sent_as_its_bytes(monkeypatch: pytest.MonkeyPatch, python_mask: bool) -> None:
    """A header must count bytes, not items: array('i', [1, 2, 3]) is 12 bytes on the wire
    (the C path masked 12 bytes under a header saying 3; the Python path overflowed)."""
    from syncws.protocol import frames, mask

    if python_mask:
        monkeypatch.setattr(frames, "mask_frame", mask.py_mask_frame)
    writer = MessageWriter()
    for buf in _buffers():
        [(opcode, fin, rsv, _, payload)] = parse_client_frames(writer.binary(buf))  # checks the length
        assert (opcode, fin, rsv, payload) == (2, True, 0, memoryview(buf).tobytes()), buf
