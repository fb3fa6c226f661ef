"""syncws.protocol.connection: the closing handshake state machine (RFC 6455 §7)."""

from __future__ import annotations

import pytest

from syncws.protocol.connection import ClientConnection, State
from syncws.protocol.deflate import DeflateParams
from syncws.protocol.errors import ConnectionClosed
from syncws.protocol.messages import WSMessage, WSMsgType

from ._util import parse_client_frames, server_frame

CLOSE_1001 = server_frame(0x8, b"\x03\xe9bye")


def sent(data: bytes) -> list:
    return [(op, payload) for op, _, _, _, payload in parse_client_frames(data)]


def test_initial_state() -> None:
    c = ClientConnection()
    assert c.state is State.OPEN
    assert c.close_code is None
    assert c.close_sent is None and c.close_received is None
    assert not c.closing_handshake_done and not c.eof


def test_send_and_receive_while_open() -> None:
    c = ClientConnection()
    assert sent(c.send_text("hi")) == [(1, b"hi")]
    assert sent(c.send_binary(b"\x00")) == [(2, b"\x00")]
    assert sent(c.send_ping(b"p")) == [(9, b"p")]
    assert sent(c.send_pong(b"q")) == [(10, b"q")]
    assert sent(c.send_message(2, b"abcdef", fragment_size=4)) == [(2, b"abcd"), (0, b"ef")]
    assert c.receive_data(server_frame(0x1, b"yo")) == [WSMessage(WSMsgType.TEXT, "yo", "")]
    assert c.state is State.OPEN


def test_close_sent_then_received() -> None:
    c = ClientConnection()
    frame = c.send_close(1000, b"done")
    assert sent(frame) == [(8, b"\x03\xe8done")]
    assert c.state is State.CLOSING
    assert c.close_sent == (1000, b"done")
    assert c.close_code == 1000  # ours, until the peer answers
    assert not c.closing_handshake_done
    # Data may still arrive before the peer's close.
    assert c.receive_data(server_frame(0x2, b"late")) == [WSMessage(WSMsgType.BINARY, b"late", "")]
    assert c.receive_data(CLOSE_1001) == [WSMessage(WSMsgType.CLOSE, 1001, "bye")]
    assert c.close_received == (1001, "bye")
    assert c.closing_handshake_done
    assert c.close_code == 1001  # the peer's, once known
    assert c.send_close() == b""  # never twice
    c.receive_eof()
    assert c.state is State.CLOSED
    assert c.close_code == 1001


def test_close_received_then_sent() -> None:
    c = ClientConnection()
    assert c.receive_data(CLOSE_1001)[-1].type is WSMsgType.CLOSE
    assert c.state is State.CLOSING
    assert c.close_code == 1001
    assert not c.closing_handshake_done
    frame = c.send_close(1001)
    assert sent(frame) == [(8, b"\x03\xe9")]
    assert c.closing_handshake_done
    assert c.close_code == 1001
    assert c.receive_data(server_frame(0x1, b"ignored")) == []


@pytest.mark.parametrize("order", ["sent-first", "received-first"])
def test_state_closed_after_close_frames_both_ways(order: str) -> None:
    c = ClientConnection()
    if order == "sent-first":
        c.send_close()
        c.receive_data(CLOSE_1001)
    else:
        c.receive_data(CLOSE_1001)
        c.send_close()
    assert c.closing_handshake_done
    assert c.state is State.CLOSED


@pytest.mark.parametrize(
    "send",
    [
        lambda c: c.send_text("x"),
        lambda c: c.send_binary(b"x"),
        lambda c: c.send_message(1, b"x"),
        lambda c: c.send_ping(b""),
        lambda c: c.send_pong(b""),
    ],
)
def test_sending_after_close_refused(send) -> None:  # type: ignore[no-untyped-def]
    c = ClientConnection()
    c.send_close(4000)
    with pytest.raises(ConnectionClosed) as info:
        send(c)
    assert info.value.code == 4000
    assert isinstance(info.value, ConnectionResetError)


def test_sending_after_eof_refused_with_1006() -> None:
    c = ClientConnection()
    c.receive_eof()
    assert c.state is State.CLOSED
    assert c.close_code == 1006
    with pytest.raises(ConnectionClosed) as info:
        c.send_text("x")
    assert info.value.code == 1006
    assert c.send_close() == b""
    assert c.close_sent is None


def test_eof_after_our_close_without_answer_is_1006() -> None:
    c = ClientConnection()
    c.send_close(1000)
    c.receive_eof()
    assert c.state is State.CLOSED
    assert c.close_code == 1006  # RFC 6455 §7.1.5: no close frame received


def test_close_received_then_eof() -> None:
    c = ClientConnection()
    c.receive_data(server_frame(0x8, b""))
    assert c.close_code == 1005
    c.receive_eof()
    assert c.state is State.CLOSED
    assert c.close_code == 1005


def test_invalid_close_code_changes_nothing() -> None:
    c = ClientConnection()
    with pytest.raises(ValueError):
        c.send_close(1006)
    with pytest.raises(ValueError):
        c.send_close(1000, b"r" * 124)
    assert c.state is State.OPEN
    assert c.close_sent is None
    assert sent(c.send_text("still open")) == [(1, b"still open")]


def test_protocol_error_moves_to_closing_with_its_code() -> None:
    c = ClientConnection()
    out = c.receive_data(server_frame(0x1, b"\xff"))
    assert out[-1].type is WSMsgType.ERROR
    assert c.state is State.CLOSING
    assert c.close_code == 1007
    assert sent(c.send_close(1007)) == [(8, b"\x03\xef")]
    assert c.close_code == 1007
    with pytest.raises(ConnectionClosed):
        c.send_text("x")


def test_max_msg_size_is_passed_to_the_reader() -> None:
    c = ClientConnection(max_msg_size=10)
    out = c.receive_data(server_frame(0x2, b"x" * 11))
    assert out[-1].type is WSMsgType.ERROR and out[-1].data.code == 1009
    assert c.close_code == 1009


def test_deflate_both_ways() -> None:
    import zlib

    c = ClientConnection(deflate=DeflateParams())
    frames = parse_client_frames(c.send_text("squeeze " * 20))
    assert frames[0][2] == 0x40
    assert zlib.decompressobj(-15).decompress(frames[0][4] + b"\x00\x00\xff\xff") == b"squeeze " * 20
    comp = zlib.compressobj(wbits=-15)
    packed = (comp.compress(b"back " * 20) + comp.flush(zlib.Z_SYNC_FLUSH))[:-4]
    assert c.receive_data(server_frame(0x1, packed, rsv=0x40)) == [WSMessage(WSMsgType.TEXT, "back " * 20, "")]
    # Without deflate, the same frame is a protocol error.
    assert ClientConnection().receive_data(server_frame(0x1, packed, rsv=0x40))[-1].type is WSMsgType.ERROR
