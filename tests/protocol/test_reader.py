"""syncws.protocol.reader: every RFC 6455 / RFC 7692 rule at the byte level, in any chunking."""

from __future__ import annotations

import os
import tracemalloc
import zlib
from typing import Iterator, List, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncws.protocol import reader as reader_module
from syncws.protocol.deflate import INFLATE_STEP, DeflateParams, Inflater
from syncws.protocol.errors import ProtocolError
from syncws.protocol.messages import WSMessage, WSMsgType
from syncws.protocol.reader import MessageReader

from ._util import chunks, feed_all, feed_bytewise, server_frame

TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA
RSV1, RSV2, RSV3 = 0x40, 0x20, 0x10

C_SCAN = reader_module._scan


@pytest.fixture(autouse=True, scope="module", params=["c-scanner", "python-only"])
def scanner(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test here runs on both paths: with the C speedups (scanner and join), and in
    Python alone."""
    if request.param == "c-scanner" and C_SCAN is None:
        pytest.skip("C speedups not built")
    with pytest.MonkeyPatch.context() as patch:
        if request.param == "python-only":
            patch.setattr(reader_module, "_scan", None)
            patch.setattr(reader_module, "_join", reader_module._py_join)
        yield request.param


def error_of(messages: List[WSMessage]) -> ProtocolError:
    assert messages, "expected an ERROR message"
    last = messages[-1]
    assert last.type is WSMsgType.ERROR, messages
    assert isinstance(last.data, ProtocolError)
    return last.data


def assert_fails(reader: MessageReader, data: bytes, code: int) -> ProtocolError:
    """Feed ``data``; an ERROR with ``code`` must come out, and then nothing more, ever."""
    out = reader.feed(data)
    err = error_of(out)
    assert err.code == code, err
    assert [m.type for m in out].count(WSMsgType.ERROR) == 1
    assert reader.error is err and reader.done
    assert reader.feed(server_frame(TEXT, b"after")) == []
    return err


# -- well-formed input -------------------------------------------------------------------


def test_text_binary_and_controls() -> None:
    data = (
        server_frame(TEXT, "h\u00e9llo \U0001f600".encode())
        + server_frame(BINARY, b"\x00\xff")
        + server_frame(PING, b"p")
        + server_frame(PONG, b"")
        + server_frame(TEXT, b"")
        + server_frame(BINARY, b"")
    )
    expected = [
        WSMessage(WSMsgType.TEXT, "h\u00e9llo \U0001f600", ""),
        WSMessage(WSMsgType.BINARY, b"\x00\xff", ""),
        WSMessage(WSMsgType.PING, b"p", ""),
        WSMessage(WSMsgType.PONG, b"", ""),
        WSMessage(WSMsgType.TEXT, "", ""),
        WSMessage(WSMsgType.BINARY, b"", ""),
    ]
    assert MessageReader().feed(data) == expected
    assert feed_bytewise(MessageReader(), data) == expected
    for cut in range(len(data) + 1):
        assert feed_all(MessageReader(), [data[:cut], data[cut:]]) == expected


def test_types_of_data() -> None:
    (t, b) = MessageReader().feed(server_frame(TEXT, b"x") + server_frame(BINARY, b"y"))
    assert type(t.data) is str and type(b.data) is bytes
    out = feed_bytewise(MessageReader(), server_frame(BINARY, b"yz"))
    assert type(out[0].data) is bytes


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_length_boundaries(size: int) -> None:
    payload = os.urandom(size)
    frame = server_frame(BINARY, payload)
    assert MessageReader().feed(frame) == [WSMessage(WSMsgType.BINARY, payload, "")]
    # The header alone, then the payload in odd pieces.
    head = len(frame) - size
    reader = MessageReader()
    assert feed_bytewise(reader, frame[: head - 1]) == []
    if not size:
        assert reader.feed(frame[-1:]) == [WSMessage(WSMsgType.BINARY, b"", "")]
        return
    assert reader.feed(frame[head - 1 : head]) == []
    assert feed_all(reader, chunks(frame[head:], range(0, size, 997))) == [WSMessage(WSMsgType.BINARY, payload, "")]


@pytest.mark.parametrize("size", [0, 125, 126, 300])
def test_length_boundaries_bytewise_text(size: int) -> None:
    text = ("\u00e9" * size)[: size // 2] + "a" * (size - 2 * (size // 2))
    frame = server_frame(TEXT, text.encode())
    assert feed_bytewise(MessageReader(), frame) == [WSMessage(WSMsgType.TEXT, text, "")]


@pytest.mark.parametrize(("size", "width"), [(0, 16), (5, 16), (125, 16), (0, 64), (5, 64), (65535, 64)])
def test_non_minimal_lengths_accepted(size: int, width: int) -> None:
    payload = os.urandom(size)
    frame = server_frame(BINARY, payload, width=width)
    assert MessageReader().feed(frame) == [WSMessage(WSMsgType.BINARY, payload, "")]
    if size < 200:
        assert feed_bytewise(MessageReader(), frame) == [WSMessage(WSMsgType.BINARY, payload, "")]


def test_fragmented_messages_with_interleaved_controls() -> None:
    text = "fragm\u00e9nt\u00e9d \U0001f600 text"
    raw = text.encode()
    data = (
        server_frame(TEXT, raw[:6], fin=False)  # splits the 'é' in two
        + server_frame(PING, b"1")
        + server_frame(CONT, b"", fin=False)
        + server_frame(CONT, raw[6:20], fin=False)
        + server_frame(PONG, b"2")
        + server_frame(CONT, raw[20:])
        + server_frame(BINARY, b"ab", fin=False)
        + server_frame(CONT, b"cd", fin=False)
        + server_frame(CONT, b"")
        + server_frame(BINARY, b"", fin=False)
        + server_frame(CONT, b"")
    )
    expected = [
        WSMessage(WSMsgType.PING, b"1", ""),
        WSMessage(WSMsgType.PONG, b"2", ""),
        WSMessage(WSMsgType.TEXT, text, ""),
        WSMessage(WSMsgType.BINARY, b"abcd", ""),
        WSMessage(WSMsgType.BINARY, b"", ""),
    ]
    assert MessageReader().feed(data) == expected
    assert feed_bytewise(MessageReader(), data) == expected


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_feed_accepts_buffers(kind: type) -> None:
    data = server_frame(TEXT, b"hello") + server_frame(BINARY, b"x" * 300)
    reader = MessageReader()
    out = reader.feed(kind(data[:3])) + reader.feed(kind(data[3:]))
    assert out == [WSMessage(WSMsgType.TEXT, "hello", ""), WSMessage(WSMsgType.BINARY, b"x" * 300, "")]


def test_incomplete_input_yields_nothing() -> None:
    reader = MessageReader()
    frame = server_frame(BINARY, b"abcdef")
    assert reader.feed(frame[:-1]) == []
    assert not reader.done
    assert reader.feed(frame[-1:]) == [WSMessage(WSMsgType.BINARY, b"abcdef", "")]


def test_negative_max_msg_size_refused() -> None:
    with pytest.raises(ValueError):
        MessageReader(max_msg_size=-1)


# -- frame-level violations: each fails as soon as its bytes are seen --------------------


def test_masked_server_frame() -> None:
    frame = server_frame(TEXT, b"hi", mask=b"abcd")
    err = assert_fails(MessageReader(), frame[:2], 1002)
    assert "masked" in err.message


@pytest.mark.parametrize("rsv", [RSV1, RSV2, RSV3, RSV1 | RSV2, RSV2 | RSV3, RSV1 | RSV2 | RSV3])
@pytest.mark.parametrize("opcode", [TEXT, BINARY])
def test_rsv_bits_without_extension(rsv: int, opcode: int) -> None:
    assert_fails(MessageReader(), server_frame(opcode, b"x", rsv=rsv)[:2], 1002)


@pytest.mark.parametrize("rsv", [RSV1, RSV2, RSV3])
@pytest.mark.parametrize("opcode", [PING, PONG, CLOSE])
def test_rsv_bits_on_control_frames(rsv: int, opcode: int) -> None:
    inflater = Inflater(DeflateParams())
    assert_fails(MessageReader(inflater=inflater), server_frame(opcode, b"", rsv=rsv)[:2], 1002)


@pytest.mark.parametrize("rsv", [RSV2, RSV3])
def test_rsv2_rsv3_with_deflate(rsv: int) -> None:
    inflater = Inflater(DeflateParams())
    assert_fails(MessageReader(inflater=inflater), server_frame(TEXT, b"x", rsv=rsv)[:2], 1002)


def test_rsv1_on_continuation_with_deflate() -> None:
    reader = MessageReader(inflater=Inflater(DeflateParams()))
    assert reader.feed(server_frame(BINARY, b"ab", fin=False)) == []
    assert_fails(reader, server_frame(CONT, b"cd", rsv=RSV1)[:2], 1002)


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 11, 12, 13, 14, 15])
def test_reserved_opcodes(opcode: int) -> None:
    err = assert_fails(MessageReader(), server_frame(opcode, b"")[:2], 1002)
    assert "opcode" in err.message


@pytest.mark.parametrize("opcode", [PING, PONG, CLOSE])
def test_fragmented_control_frame(opcode: int) -> None:
    assert_fails(MessageReader(), server_frame(opcode, b"", fin=False)[:2], 1002)


@pytest.mark.parametrize("opcode", [PING, PONG, CLOSE])
@pytest.mark.parametrize("size", [126, 127, 65536])
def test_control_frame_over_125(opcode: int, size: int) -> None:
    # Fails once the length is known, before any of the payload arrives.
    frame = server_frame(opcode, b"", length=size)
    reader = MessageReader()
    assert reader.feed(frame[:-1]) == []
    assert_fails(reader, frame[-1:], 1002)


@pytest.mark.parametrize("width", [16, 64])
def test_control_frame_with_non_minimal_length(width: int) -> None:
    frame = server_frame(PING, b"12345", width=width)
    assert feed_bytewise(MessageReader(), frame) == [WSMessage(WSMsgType.PING, b"12345", "")]


def test_control_frame_of_125_accepted() -> None:
    assert MessageReader().feed(server_frame(PING, b"p" * 125)) == [WSMessage(WSMsgType.PING, b"p" * 125, "")]


def test_continuation_without_start() -> None:
    assert_fails(MessageReader(), server_frame(CONT, b"x")[:2], 1002)
    reader = MessageReader()
    assert reader.feed(server_frame(TEXT, b"done")) == [WSMessage(WSMsgType.TEXT, "done", "")]
    assert_fails(reader, server_frame(CONT, b"x", fin=False)[:2], 1002)


@pytest.mark.parametrize("opcode", [TEXT, BINARY])
def test_new_data_frame_mid_message(opcode: int) -> None:
    reader = MessageReader()
    assert reader.feed(server_frame(TEXT, b"ab", fin=False) + server_frame(PING, b"")) == [
        WSMessage(WSMsgType.PING, b"", "")
    ]
    assert_fails(reader, server_frame(opcode, b"x")[:2], 1002)


def test_64_bit_length_with_top_bit() -> None:
    frame = server_frame(BINARY, b"", length=1 << 63, width=64)
    reader = MessageReader(max_msg_size=0)
    assert reader.feed(frame[:9]) == []
    assert_fails(reader, frame[9:10], 1002)
    # The largest lengths without the top bit are legal (and simply wait for their payload).
    for length in (2**63 - 1, 2**62, 2**32):
        reader = MessageReader(max_msg_size=0)
        assert reader.feed(server_frame(BINARY, b"abc", length=length, width=64)) == []
        assert not reader.done


def test_max_msg_size_exceeded_by_a_single_header() -> None:
    reader = MessageReader(max_msg_size=1000)
    frame = server_frame(BINARY, b"", length=1001)
    assert reader.feed(frame[:3]) == []
    err = assert_fails(reader, frame[3:4], 1009)  # the payload never arrives
    assert "1001" in err.message
    assert_fails(MessageReader(max_msg_size=100), server_frame(TEXT, b"", length=2**40)[:10], 1009)
    assert_fails(MessageReader(max_msg_size=10), server_frame(TEXT, b"", length=11)[:2], 1009)


def test_max_msg_size_exact_is_accepted() -> None:
    payload = os.urandom(1000)
    assert MessageReader(max_msg_size=1000).feed(server_frame(BINARY, payload)) == [
        WSMessage(WSMsgType.BINARY, payload, "")
    ]


def test_max_msg_size_exceeded_by_fragments() -> None:
    reader = MessageReader(max_msg_size=100)
    assert reader.feed(server_frame(BINARY, b"a" * 60, fin=False)) == []
    assert reader.feed(server_frame(CONT, b"b" * 40, fin=False)) == []
    assert reader.feed(server_frame(PING, b"p" * 100)) == [WSMessage(WSMsgType.PING, b"p" * 100, "")]
    assert_fails(reader, server_frame(CONT, b"", length=1)[:2], 1009)


def test_max_msg_size_counts_per_message() -> None:
    reader = MessageReader(max_msg_size=100)
    data = b"".join(server_frame(BINARY, b"x" * 100) for _ in range(5))
    assert len(reader.feed(data)) == 5


def test_max_msg_size_zero_is_unlimited() -> None:
    payload = b"x" * (5 * 2**20)
    assert MessageReader(max_msg_size=0).feed(server_frame(BINARY, payload))[0].data == payload
    assert_fails(MessageReader(), server_frame(BINARY, b"", length=4 * 2**20 + 1)[:10], 1009)


# -- UTF-8 -------------------------------------------------------------------------------

# (bytes, index of the first byte that makes the sequence invalid)
BAD_UTF8 = [
    (b"\xc0\x80", 0),  # overlong NUL
    (b"\xc1\xbf", 0),  # overlong 2-byte
    (b"\xe0\x80\x80", 1),  # overlong 3-byte
    (b"\xe0\x9f\xbf", 1),
    (b"\xf0\x80\x80\x80", 1),  # overlong 4-byte
    (b"\xf0\x8f\xbf\xbf", 1),
    (b"\xed\xa0\x80", 1),  # surrogate U+D800
    (b"\xed\xbf\xbf", 1),  # surrogate U+DFFF
    (b"\xf4\x90\x80\x80", 1),  # U+110000
    (b"\xf5\x80\x80\x80", 0),
    (b"\xf7\xbf\xbf\xbf", 0),
    (b"\xf8\x88\x80\x80\x80", 0),  # 5-byte form
    (b"\xfe", 0),
    (b"\xff", 0),
    (b"\x80", 0),  # lone continuation
    (b"\xbf", 0),
    (b"\xc3\x41", 1),  # missing continuation
    (b"\xe2\x82\x41", 2),
    (b"\xe2\x41", 1),
    (b"\xf0\x9f\x98\x41", 3),
    (b"\xf0\x9f\x41", 2),
]


@pytest.mark.parametrize(("seq", "bad"), BAD_UTF8)
def test_invalid_utf8_whole_message(seq: bytes, bad: int) -> None:
    assert_fails(MessageReader(), server_frame(TEXT, b"ok" + seq + b"ok"), 1007)
    assert_fails(MessageReader(), server_frame(TEXT, b"ok" + seq + b"ok", width=64), 1007)


@pytest.mark.parametrize(("seq", "bad"), BAD_UTF8)
def test_invalid_utf8_fails_at_the_first_bad_byte(seq: bytes, bad: int) -> None:
    payload = b"ok" + seq + b"more text after"
    frame = server_frame(TEXT, payload)
    upto = len(frame) - len(payload) + 2 + bad  # everything before the bad byte
    reader = MessageReader()
    assert feed_bytewise(reader, frame[:upto]) == []
    assert_fails(reader, frame[upto : upto + 1], 1007)


@pytest.mark.parametrize(("seq", "bad"), BAD_UTF8)
def test_invalid_utf8_across_fragments(seq: bytes, bad: int) -> None:
    for split in range(1, len(seq)):
        first = server_frame(TEXT, b"ok" + seq[:split], fin=False)
        second = server_frame(CONT, seq[split:] + b"tail")
        reader = MessageReader()
        if bad < split:
            assert_fails(reader, first, 1007)
            continue
        assert reader.feed(first) == []
        head = len(second) - len(seq[split:] + b"tail")
        # Header of the second fragment, then its bytes up to (not including) the bad one.
        assert reader.feed(second[: head + bad - split]) == []
        assert_fails(reader, second[head + bad - split : head + bad - split + 1], 1007)


@pytest.mark.parametrize("tail", [b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98", b"\xf4"])
def test_utf8_truncated_at_end_of_message(tail: bytes) -> None:
    assert_fails(MessageReader(), server_frame(TEXT, b"ok" + tail), 1007)
    reader = MessageReader()
    # Not an error while the message may still go on...
    assert reader.feed(server_frame(TEXT, b"ok" + tail, fin=False)) == []
    assert not reader.done
    # ...but an error once it ends.
    assert_fails(reader, server_frame(CONT, b""), 1007)


def test_valid_utf8_split_everywhere() -> None:
    text = "a\u00e9\u20ac\U0001f600\u07ff\u0800\uffff\U00010000\U0010ffff"
    raw = text.encode()
    for cut in range(len(raw) + 1):
        data = server_frame(TEXT, raw[:cut], fin=False) + server_frame(CONT, raw[cut:])
        assert feed_bytewise(MessageReader(), data) == [WSMessage(WSMsgType.TEXT, text, "")]


def test_invalid_utf8_in_binary_is_fine() -> None:
    assert MessageReader().feed(server_frame(BINARY, b"\xff\xc0")) == [WSMessage(WSMsgType.BINARY, b"\xff\xc0", "")]


# -- close frames ------------------------------------------------------------------------


def test_close_with_code_and_reason() -> None:
    reader = MessageReader()
    out = reader.feed(server_frame(CLOSE, b"\x03\xe8bye \xc3\xa9"))
    assert out == [WSMessage(WSMsgType.CLOSE, 1000, "bye \u00e9")]
    assert reader.close_received and reader.done and reader.error is None


def test_close_without_payload_is_1005() -> None:
    assert MessageReader().feed(server_frame(CLOSE, b"")) == [WSMessage(WSMsgType.CLOSE, 1005, "")]


def test_close_payload_of_one_byte() -> None:
    assert_fails(MessageReader(), server_frame(CLOSE, b"\x03"), 1002)


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535])
def test_invalid_close_codes(code: int) -> None:
    assert_fails(MessageReader(), server_frame(CLOSE, code.to_bytes(2, "big")), 1002)


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999])
def test_valid_close_codes(code: int) -> None:
    assert MessageReader().feed(server_frame(CLOSE, code.to_bytes(2, "big"))) == [WSMessage(WSMsgType.CLOSE, code, "")]


@pytest.mark.parametrize("reason", [b"\xff", b"\xed\xa0\x80", b"abc\xc3", b"\xc0\x80"])
def test_invalid_utf8_close_reason(reason: bytes) -> None:
    assert_fails(MessageReader(), server_frame(CLOSE, b"\x03\xe8" + reason), 1007)


def test_data_after_close_is_ignored() -> None:
    close = server_frame(CLOSE, b"\x03\xe9")
    junk = server_frame(TEXT, b"late") + b"\xff\xff garbage" + server_frame(CLOSE, b"\x03\xe8")
    reader = MessageReader()
    assert reader.feed(server_frame(TEXT, b"x") + close + junk) == [
        WSMessage(WSMsgType.TEXT, "x", ""),
        WSMessage(WSMsgType.CLOSE, 1001, ""),
    ]
    assert reader.feed(junk) == []
    assert reader.error is None
    reader = MessageReader()
    assert feed_bytewise(reader, close + junk) == [WSMessage(WSMsgType.CLOSE, 1001, "")]


def test_close_mid_fragmented_message() -> None:
    reader = MessageReader()
    assert reader.feed(server_frame(TEXT, b"part", fin=False)) == []
    assert reader.feed(server_frame(CLOSE, b"\x03\xe8")) == [WSMessage(WSMsgType.CLOSE, 1000, "")]


def test_control_frame_waits_for_its_whole_payload() -> None:
    reader = MessageReader()
    frame = server_frame(PING, b"0123456789")
    assert reader.feed(frame[:-1]) == []
    assert reader.feed(frame[-1:]) == [WSMessage(WSMsgType.PING, b"0123456789", "")]


# -- permessage-deflate ------------------------------------------------------------------

TAIL = b"\x00\x00\xff\xff"


class ServerDeflate:
    """An independent permessage-deflate sender built on zlib directly."""

    def __init__(self, takeover: bool = True, bits: int = 15) -> None:
        self.takeover = takeover
        self.bits = bits
        self.c = zlib.compressobj(wbits=-bits)

    def compress(self, data: bytes) -> bytes:
        if not self.takeover:
            self.c = zlib.compressobj(wbits=-self.bits)
        out = self.c.compress(data) + self.c.flush(zlib.Z_SYNC_FLUSH)
        assert out.endswith(TAIL)
        return out[:-4]


def deflate_reader(takeover: bool = True, bits: int = 15, max_msg_size: int = 4 * 2**20) -> MessageReader:
    params = DeflateParams(server_no_context_takeover=not takeover, server_max_window_bits=bits)
    return MessageReader(max_msg_size=max_msg_size, inflater=Inflater(params))


@pytest.mark.parametrize("streams", [False, True])
@pytest.mark.parametrize("max_msg_size", [0, 8 * 2**20])
def test_deflate_message_inflated_in_steps(streams: bool, max_msg_size: int) -> None:
    """One read that inflates to several INFLATE_STEPs: a text whose multi-byte characters
    straddle every step's end decodes whole, as does the same as binary, on both the
    unbounded path and the max_msg_size path (protocol/deflate.py INFLATE_STEP)."""
    unit = "ab\u20ac\U0001f600"  # 1 + 1 + 3 + 4 bytes: 9 does not divide a step
    text = unit * (3 * INFLATE_STEP // 9 + 5)
    raw = text.encode()
    for opcode, want in ((TEXT, text), (BINARY, raw)):
        params = DeflateParams()
        reader = MessageReader(max_msg_size=max_msg_size, inflater=Inflater(params), streams=streams)
        frame = server_frame(opcode, ServerDeflate().compress(raw), rsv=RSV1)
        (msg,) = reader.feed(frame)
        assert msg.type == (WSMsgType.TEXT if opcode == TEXT else WSMsgType.BINARY)
        assert msg.data == want


def test_deflate_single_message() -> None:
    s = ServerDeflate()
    text = "compress me " * 30
    data = server_frame(TEXT, s.compress(text.encode()), rsv=RSV1)
    assert deflate_reader().feed(data) == [WSMessage(WSMsgType.TEXT, text, "")]
    assert feed_bytewise(deflate_reader(), data) == [WSMessage(WSMsgType.TEXT, text, "")]


def test_deflate_fragmented_message() -> None:
    s = ServerDeflate()
    payload = os.urandom(50) * 20
    packed = s.compress(payload)
    third = len(packed) // 3
    data = (
        server_frame(BINARY, packed[:third], fin=False, rsv=RSV1)
        + server_frame(PING, b"x")
        + server_frame(CONT, packed[third : 2 * third], fin=False)
        + server_frame(CONT, b"", fin=False)
        + server_frame(CONT, packed[2 * third :])
    )
    expected = [WSMessage(WSMsgType.PING, b"x", ""), WSMessage(WSMsgType.BINARY, payload, "")]
    assert deflate_reader().feed(data) == expected
    assert feed_bytewise(deflate_reader(), data) == expected


def test_deflate_context_takeover() -> None:
    s = ServerDeflate()
    payload = os.urandom(200)
    first, second = s.compress(payload), s.compress(payload)
    assert len(second) < len(first) // 4  # the second refers back to the first
    reader = deflate_reader()
    data = server_frame(BINARY, first, rsv=RSV1) + server_frame(BINARY, second, rsv=RSV1)
    assert reader.feed(data) == [WSMessage(WSMsgType.BINARY, payload, "")] * 2
    # A reader that (wrongly) dropped its context between messages could not read the second.
    forgetful = deflate_reader(takeover=False)
    out = forgetful.feed(data)
    assert out[0] == WSMessage(WSMsgType.BINARY, payload, "")
    assert out[-1].type is WSMsgType.ERROR or out[-1].data != payload


def test_deflate_no_context_takeover() -> None:
    s = ServerDeflate(takeover=False)
    msgs = [b"a" * 100, b"b" * 100, b"a" * 100]
    data = b"".join(server_frame(BINARY, s.compress(m), rsv=RSV1) for m in msgs)
    assert [m.data for m in deflate_reader(takeover=False).feed(data)] == msgs


def test_deflate_mixed_with_uncompressed_messages() -> None:
    s = ServerDeflate()
    data = (
        server_frame(TEXT, s.compress(b"one " * 20), rsv=RSV1)
        + server_frame(TEXT, b"plain")
        + server_frame(BINARY, b"raw", fin=False)
        + server_frame(CONT, b"!")
        + server_frame(TEXT, s.compress(b"two " * 20), rsv=RSV1)
    )
    assert [m.data for m in deflate_reader().feed(data)] == ["one " * 20, "plain", b"raw!", "two " * 20]


def test_deflate_empty_message() -> None:
    s = ServerDeflate()
    packed = s.compress(b"")
    out = deflate_reader().feed(server_frame(TEXT, packed, rsv=RSV1) + server_frame(BINARY, b"\x00", rsv=RSV1))
    assert out == [WSMessage(WSMsgType.TEXT, "", ""), WSMessage(WSMsgType.BINARY, b"", "")]


def test_deflate_small_window() -> None:
    s = ServerDeflate(bits=9)
    payload = os.urandom(300) * 4
    out = deflate_reader(bits=9).feed(server_frame(BINARY, s.compress(payload), rsv=RSV1))
    assert out == [WSMessage(WSMsgType.BINARY, payload, "")]


def test_deflate_invalid_utf8_after_inflating() -> None:
    s = ServerDeflate()
    assert_fails(deflate_reader(), server_frame(TEXT, s.compress(b"ok" * 30 + b"\xed\xa0\x80"), rsv=RSV1), 1007)


def test_deflate_corrupt_data() -> None:
    err = error_of(deflate_reader().feed(server_frame(BINARY, b"\xff\xff\xff\xff\xff", rsv=RSV1)))
    # 1007 whatever the chunking (syncws/protocol/deflate.py says why; the fuzz tests check it)
    assert err.code == 1007


def test_deflate_max_msg_size_exact_and_over() -> None:
    s = ServerDeflate()
    packed = s.compress(b"z" * 1000)
    out = deflate_reader(max_msg_size=1000).feed(server_frame(BINARY, packed, rsv=RSV1))
    assert out == [WSMessage(WSMsgType.BINARY, b"z" * 1000, "")]
    assert_fails(deflate_reader(max_msg_size=999), server_frame(BINARY, packed, rsv=RSV1), 1009)


def _bomb(size: int) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = c.compress(b"\x00" * size) + c.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4]


BOMB_SIZE = 64 * 2**20


@pytest.fixture(scope="module")
def bomb() -> bytes:
    packed = _bomb(BOMB_SIZE)
    assert len(packed) < 100_000  # a small frame...
    return packed


def _peak_while(fn) -> int:  # type: ignore[no-untyped-def]
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_deflate_bomb_fails_without_inflating_it(bomb: bytes) -> None:
    frame = server_frame(BINARY, bomb, rsv=RSV1)
    reader = deflate_reader(max_msg_size=2**20)
    result: List[Optional[ProtocolError]] = []
    peak = _peak_while(lambda: result.append(assert_fails(reader, frame, 1009)))
    assert peak < 8 * 2**20, f"peak {peak} bytes while refusing a {BOMB_SIZE}-byte bomb"


def test_deflate_bomb_in_fragments_fails(bomb: bytes) -> None:
    reader = deflate_reader(max_msg_size=2**20)
    step = len(bomb) // 8
    frames = [server_frame(BINARY, bomb[:step], fin=False, rsv=RSV1)]
    frames += [server_frame(CONT, bomb[i : i + step], fin=False) for i in range(step, len(bomb), step)]
    frames.append(server_frame(CONT, b""))
    out: List[WSMessage] = []
    peak = _peak_while(lambda: out.extend(feed_all(reader, frames)))
    assert error_of(out).code == 1009
    assert peak < 8 * 2**20


def test_deflate_bomb_bytewise_fails_early() -> None:
    packed = _bomb(4 * 2**20)
    reader = deflate_reader(max_msg_size=100_000)
    frame = server_frame(BINARY, packed, rsv=RSV1)
    for i in range(len(frame)):
        out = reader.feed(frame[i : i + 1])
        if out:
            assert error_of(out).code == 1009
            break
    else:
        pytest.fail("no error")
    assert i < len(frame) // 2  # long before the end of the frame


def test_deflate_unlimited_inflates_everything() -> None:
    packed = _bomb(3 * 2**20)
    out = deflate_reader(max_msg_size=0).feed(server_frame(BINARY, packed, rsv=RSV1))
    assert out == [WSMessage(WSMsgType.BINARY, b"\x00" * (3 * 2**20), "")]


# -- random chunkings of a fixed stream ---------------------------------------------------

STREAM = (
    server_frame(TEXT, "\u00e9t\u00e9 \U0001f600".encode(), fin=False)
    + server_frame(PING, b"ping")
    + server_frame(CONT, b" suite")
    + server_frame(BINARY, os.urandom(300))
    + server_frame(BINARY, b"", width=64)
    + server_frame(CLOSE, b"\x0f\xa0done")
    + b"ignored"
)
STREAM_MESSAGES = MessageReader().feed(STREAM)


def test_stream_reference() -> None:
    assert [m.type for m in STREAM_MESSAGES] == [
        WSMsgType.PING,
        WSMsgType.TEXT,
        WSMsgType.BINARY,
        WSMsgType.BINARY,
        WSMsgType.CLOSE,
    ]
    assert STREAM_MESSAGES[1].data == "\u00e9t\u00e9 \U0001f600 suite"
    assert STREAM_MESSAGES[-1] == WSMessage(WSMsgType.CLOSE, 4000, "done")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=40))
def test_stream_any_chunking(cuts: List[int]) -> None:
    assert feed_all(MessageReader(), chunks(STREAM, cuts)) == STREAM_MESSAGES
