"""syncws.protocol._speedups.scan_messages: the C scanner reads exactly as the Python loop."""

from __future__ import annotations

import os
from typing import List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncws.protocol import reader as reader_module
from syncws.protocol.messages import WSMessage, WSMsgType
from syncws.protocol.reader import MessageReader

from ._util import chunks, feed_all, server_frame

TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA
RSV1, RSV2 = 0x40, 0x20

C_SCAN = reader_module._scan

needs_c = pytest.mark.skipif(C_SCAN is None, reason="C speedups not built")

PIECES = [
    server_frame(TEXT, "plain \u00e9".encode()),
    server_frame(TEXT, b""),
    server_frame(TEXT, b"bad \xc3("),
    server_frame(TEXT, b"\xed\xa0\x80"),  # an encoded surrogate is not UTF-8
    server_frame(BINARY, b"\x00\xff" * 40),
    server_frame(BINARY, b""),
    server_frame(BINARY, os.urandom(300)),
    server_frame(BINARY, b"wide", width=16),
    server_frame(BINARY, b"wider", width=64),
    server_frame(BINARY, b"x" * 70_000),
    server_frame(TEXT, b"frag", fin=False),
    server_frame(CONT, b"ment"),
    server_frame(CONT, b"ed", fin=True),
    server_frame(PING, b"p"),
    server_frame(PONG, b""),
    server_frame(BINARY, b"masked", mask=b"\x01\x02\x03\x04"),
    server_frame(BINARY, b"rsv", rsv=RSV2),
    server_frame(BINARY, b"rsv1", rsv=RSV1),
    server_frame(0x3, b"reserved"),
    server_frame(BINARY, b"", length=2**63, width=64),
    server_frame(CLOSE, b"\x03\xe8"),
]


def normalised(messages: List[WSMessage]) -> List[object]:
    """Messages with any error as (code, text): two equal failures compare equal."""
    return [(m.type, m.data.code, str(m.data)) if m.type is WSMsgType.ERROR else m for m in messages]


@needs_c
@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=len(PIECES) - 1), max_size=12),
    st.lists(st.integers(min_value=0, max_value=10**6), max_size=12),
    st.sampled_from([0, 100, 70_000]),
)
def test_the_c_scanner_reads_exactly_as_the_python_loop(picks: List[int], cuts: List[int], limit: int) -> None:
    stream = b"".join(PIECES[i] for i in picks)
    pieces = chunks(stream, cuts)
    results = []
    for scan in (C_SCAN, None):
        saved = reader_module._scan
        reader_module._scan = scan
        try:
            results.append(normalised(feed_all(MessageReader(max_msg_size=limit), pieces)))
        finally:
            reader_module._scan = saved
    assert results[0] == results[1]


@needs_c
def test_the_c_scanner_stops_at_what_it_does_not_take() -> None:
    assert C_SCAN is not None
    plain = server_frame(BINARY, b"ab") + server_frame(TEXT, "\u00e9".encode())
    for stop in [
        server_frame(PING, b""),
        server_frame(TEXT, b"a", fin=False),
        server_frame(BINARY, b"a", rsv=RSV1),
        server_frame(BINARY, b"a", mask=b"abcd"),
        server_frame(TEXT, b"\xff"),
        server_frame(BINARY, b"too big"),  # over max_size=5
        server_frame(BINARY, b"cut short")[:-1],
        server_frame(BINARY, b"", length=2**63, width=64),
        b"\x82",
    ]:
        out: List[WSMessage] = []
        pos = C_SCAN(plain + stop, 0, 5, out, WSMessage, WSMsgType.TEXT, WSMsgType.BINARY, "")
        assert pos == len(plain), stop
        assert out == [WSMessage(WSMsgType.BINARY, b"ab", ""), WSMessage(WSMsgType.TEXT, "\u00e9", "")]
        assert all(type(m) is WSMessage for m in out)
    assert C_SCAN(plain, 4, 0, [], WSMessage, 1, 2, "") == len(plain)  # starts where it is told
    with pytest.raises(ValueError):
        C_SCAN(plain, len(plain) + 1, 0, [], WSMessage, 1, 2, "")
    with pytest.raises(TypeError):
        C_SCAN(plain, 0, 0, [], list, 1, 2, "")  # messages are NamedTuples


@needs_c
def test_the_c_scanner_is_in_use_when_built() -> None:
    from syncws.protocol import _speedups

    assert C_SCAN is _speedups.scan_messages
