"""syncws.protocol.messages and errors: aiohttp-compatible names and shapes."""

from __future__ import annotations

import pytest

from syncws.protocol import errors
from syncws.protocol.messages import MsgType, WSMessage, WSMessageTypeError, WSMsgType


def test_wire_opcodes_keep_their_values() -> None:
    assert (WSMsgType.CONTINUATION, WSMsgType.TEXT, WSMsgType.BINARY) == (0, 1, 2)
    assert (WSMsgType.CLOSE, WSMsgType.PING, WSMsgType.PONG) == (8, 9, 10)
    assert (WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR) == (0x100, 0x101, 0x102)


def test_lower_case_aliases() -> None:
    assert MsgType is WSMsgType
    assert WSMsgType.text is WSMsgType.TEXT
    assert WSMsgType.binary is WSMsgType.BINARY
    assert WSMsgType.closed is WSMsgType.CLOSED
    assert WSMsgType.error is WSMsgType.ERROR
    assert WSMsgType["close"] is WSMsgType.CLOSE


def test_message_fields_tp_and_json() -> None:
    m = WSMessage(WSMsgType.TEXT, '{"a": [1, 2]}', "")
    assert m.tp is m.type is WSMsgType.TEXT
    assert m.json() == {"a": [1, 2]}
    assert m.json(loads=lambda s: s.upper()) == '{"A": [1, 2]}'
    t, d, e = WSMessage(WSMsgType.CLOSE, 1000, "bye")
    assert (t, d, e) == (WSMsgType.CLOSE, 1000, "bye")


def test_text_and_binary_are_data_of_their_kind() -> None:
    assert WSMessage(WSMsgType.TEXT, "hi", "").text == "hi"
    assert WSMessage(WSMsgType.BINARY, b"\x00", "").binary == b"\x00"


@pytest.mark.parametrize(
    ("msg", "accessor", "words"),
    [
        (WSMessage(WSMsgType.BINARY, b"raw", ""), "text", "BINARY is not TEXT: b'raw'"),
        (WSMessage(WSMsgType.TEXT, "hi", ""), "binary", "TEXT is not BINARY: 'hi'"),
        (WSMessage(WSMsgType.CLOSE, 1000, "bye"), "text", "CLOSE is not TEXT: 1000"),
        (WSMessage(WSMsgType.PING, b"p", ""), "binary", "PING is not BINARY"),
        (WSMessage(WSMsgType.CLOSED, None, None), "text", "CLOSED is not TEXT"),
    ],
)
def test_reading_another_kind_raises_with_the_message(msg: WSMessage, accessor: str, words: str) -> None:
    with pytest.raises(WSMessageTypeError, match=words) as raised:
        getattr(msg, accessor)
    assert raised.value.msg is msg
    assert isinstance(raised.value, TypeError)


def test_one_message_type_error_everywhere() -> None:
    import syncws
    from syncws.aio import response

    assert syncws.WSMessageTypeError is response.WSMessageTypeError is WSMessageTypeError


def test_error_hierarchy() -> None:
    assert issubclass(errors.InvalidURL, ValueError)
    assert issubclass(errors.InvalidHeader, ValueError)
    assert issubclass(errors.ConnectionClosed, ConnectionResetError)
    for cls in (errors.InvalidURL, errors.InvalidHeader, errors.ProtocolError, errors.WSServerHandshakeError):
        assert issubclass(cls, errors.WebSocketError)


def test_protocol_error_fields() -> None:
    e = errors.ProtocolError(1002, "bad")
    assert (e.code, e.message, str(e)) == (1002, "bad", "bad")
    assert repr(e) == "ProtocolError(1002, 'bad')"


def test_connection_closed_fields() -> None:
    e = errors.ConnectionClosed("gone", 1006, "why")
    assert (e.code, e.reason, str(e)) == (1006, "why", "gone")
    assert errors.ConnectionClosed("x").code is None
    with pytest.raises(ConnectionError):
        raise errors.ConnectionClosed("x")
