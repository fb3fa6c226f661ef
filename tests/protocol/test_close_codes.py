"""syncws.protocol.close_codes: which codes go on the wire, and the close payload."""

from __future__ import annotations

import pytest

from syncws.protocol.close_codes import (
    MAX_REASON_BYTES,
    WSCloseCode,
    build_close_payload,
    check_sendable_code,
    is_valid_received_code,
    parse_close_payload,
)
from syncws.protocol.errors import ProtocolError

VALID = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]
INVALID = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]


def test_valid_codes_are_exactly_these() -> None:
    expected = set(range(1000, 1004)) | set(range(1007, 1015)) | set(range(3000, 5000))
    assert {c for c in range(0, 65536) if is_valid_received_code(c)} == expected


@pytest.mark.parametrize("code", VALID)
def test_sendable(code: int) -> None:
    check_sendable_code(code)
    assert parse_close_payload(build_close_payload(code, b"why")) == (code, "why")


@pytest.mark.parametrize("code", INVALID)
def test_not_sendable(code: int) -> None:
    with pytest.raises(ValueError):
        check_sendable_code(code)


@pytest.mark.parametrize("code", INVALID)
def test_not_receivable(code: int) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_close_payload(code.to_bytes(2, "big"))
    assert info.value.code == 1002


def test_enum_values() -> None:
    assert WSCloseCode.OK == 1000 and WSCloseCode.MESSAGE_TOO_BIG == 1009 and WSCloseCode.TLS_HANDSHAKE == 1015
    check_sendable_code(WSCloseCode.GOING_AWAY)
    for local_only in (WSCloseCode.NO_STATUS_RECEIVED, WSCloseCode.ABNORMAL_CLOSURE, WSCloseCode.TLS_HANDSHAKE):
        with pytest.raises(ValueError):
            check_sendable_code(local_only)


@pytest.mark.parametrize("code", list(WSCloseCode), ids=lambda code: code.name)
def test_str_and_format_give_the_number_on_every_python(code: WSCloseCode) -> None:
    number = str(code.value)
    assert str(code) == number  # "WSCloseCode.ABNORMAL_CLOSURE" before Python 3.11
    assert "%s" % code == number  # noqa: UP031 - logging formats its arguments this way
    assert format(code) == f"{code}" == number
    assert f"{code:>6}" == number.rjust(6)
    assert f"{code:x}" == format(code.value, "x")
    assert "%d" % code == number  # noqa: UP031
    assert repr(code) == f"<WSCloseCode.{code.name}: {number}>"


def test_empty_payload_means_1005() -> None:
    assert parse_close_payload(b"") == (1005, "")


def test_one_byte_payload_refused() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_close_payload(b"\x03")
    assert info.value.code == 1002


@pytest.mark.parametrize("reason", [b"\xff", b"\xc3", b"\xed\xa0\x80", b"ok\xc0\x80"])
def test_invalid_utf8_reason_refused_with_1007(reason: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_close_payload(b"\x03\xe8" + reason)
    assert info.value.code == 1007


def test_reason_length() -> None:
    assert MAX_REASON_BYTES == 123
    assert len(build_close_payload(1000, b"r" * 123)) == 125
    with pytest.raises(ValueError):
        build_close_payload(1000, b"r" * 124)
    assert parse_close_payload(b"\x03\xe8" + "\u00e9t\u00e9".encode()) == (1000, "\u00e9t\u00e9")
