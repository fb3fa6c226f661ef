"""syncws.protocol.auth: HTTP Basic credentials."""

from __future__ import annotations

import base64

import pytest

from syncws.protocol.auth import BasicAuth


def test_encode_matches_rfc7617_example() -> None:
    assert BasicAuth("Aladdin", "open sesame").encode() == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="


def test_empty_password_and_defaults() -> None:
    auth = BasicAuth("user")
    assert auth.password == "" and auth.encoding == "latin1"
    assert base64.b64decode(auth.encode()[6:]) == b"user:"


def test_password_may_contain_colons() -> None:
    assert base64.b64decode(BasicAuth("u", "a:b:c").encode()[6:]) == b"u:a:b:c"


def test_login_with_colon_refused() -> None:
    with pytest.raises(ValueError, match=":"):
        BasicAuth("a:b", "pw").encode()


def test_encoding_is_used() -> None:
    assert base64.b64decode(BasicAuth("\u00e9", "x").encode()[6:]) == b"\xe9:x"
    assert base64.b64decode(BasicAuth("\u00e9", "\u20ac", "utf-8").encode()[6:]) == "\u00e9:\u20ac".encode()
    with pytest.raises(UnicodeEncodeError):
        BasicAuth("\u20ac").encode()  # not latin-1


def test_is_a_tuple_like_aiohttp() -> None:
    login, password, encoding = BasicAuth("a", "b", "utf-8")
    assert (login, password, encoding) == ("a", "b", "utf-8")
