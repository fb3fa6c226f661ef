"""syncws.protocol.headers: the multi-map, header checks, token lists, extension grammar."""

from __future__ import annotations

import pytest

from syncws.protocol.errors import InvalidHeader
from syncws.protocol.headers import Headers, check_header, parse_extensions, split_tokens

# -- Headers ---------------------------------------------------------------------------


def test_headers_keep_order_and_repeated_names() -> None:
    h = Headers([("A", "1"), ("b", "2"), ("a", "3"), ("C", "4")])
    assert h.items() == [("A", "1"), ("b", "2"), ("a", "3"), ("C", "4")]
    assert list(h) == ["A", "b", "a", "C"]
    assert len(h) == 4


def test_headers_get_is_case_insensitive_and_returns_the_first() -> None:
    h = Headers([("Set-Cookie", "x=1"), ("SET-COOKIE", "y=2")])
    assert h.get("set-cookie") == "x=1"
    assert h["sEt-CoOkIe"] == "x=1"
    assert h.getall("Set-Cookie") == ["x=1", "y=2"]
    assert h.getall("set-cookie") == ["x=1", "y=2"]
    assert "set-cookie" in h
    assert "Cookie" not in h
    assert h.get("missing") is None
    assert h.get("missing", "d") == "d"
    assert h.getall("missing") == []
    with pytest.raises(KeyError):
        h["missing"]


def test_headers_contains_with_empty_value_and_non_str() -> None:
    h = Headers([("X-Empty", "")])
    assert "x-empty" in h
    assert h["X-Empty"] == ""
    assert 1 not in h


def test_headers_from_mapping_and_from_headers() -> None:
    h = Headers({"A": "1", "B": "2"})
    assert h.items() == [("A", "1"), ("B", "2")]
    copy = Headers(h)
    assert copy == h
    copy.add("C", "3")
    assert copy != h  # a copy, not a view
    assert len(h) == 2
    h.extend([("A", "again")])
    assert h.getall("a") == ["1", "again"]


def test_headers_equality_and_repr() -> None:
    assert Headers([("A", "1")]) == Headers([("A", "1")])
    assert Headers([("A", "1")]) != Headers([("a", "1")])
    assert Headers([("A", "1")]) != [("A", "1")]
    assert "('A', '1')" in repr(Headers([("A", "1")]))
    assert Headers() == Headers([])
    assert len(Headers()) == 0


# -- check_header ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Ok", "plain value"),
        ("X-Ok", ""),
        ("X-Ok", "tab\tinside"),
        ("X-Ok", "caf\u00e9"),  # latin-1 obs-text
        ("!#$%&'*+-.^_`|~09azAZ", "v"),
    ],
)
def test_check_header_accepts(name: str, value: str) -> None:
    check_header(name, value)


@pytest.mark.parametrize(
    "value",
    [
        "a\r\nX-Injected: 1",
        "a\nX-Injected: 1",
        "a\rb",
        "a\x00b",
        "\r\n",
        "x\r\n\r\nGET / HTTP/1.1",
    ],
)
def test_check_header_refuses_cr_lf_nul_in_values(value: str) -> None:
    with pytest.raises(InvalidHeader, match="CR, LF or NUL"):
        check_header("X-Test", value)


@pytest.mark.parametrize(
    "name",
    ["", "X Test", "X-Test:", "X:Test", "X\r\nY", "X\nY", "X\x00", "(x)", "a/b", "X-\u00e9", "X\t", " X"],
)
def test_check_header_refuses_bad_names(name: str) -> None:
    with pytest.raises(InvalidHeader, match="invalid header name"):
        check_header(name, "v")


def test_check_header_refuses_non_str() -> None:
    with pytest.raises(InvalidHeader):
        check_header("X", b"v")  # type: ignore[arg-type]
    with pytest.raises(InvalidHeader):
        check_header(b"X", "v")  # type: ignore[arg-type]


def test_check_header_refuses_what_latin1_cannot_carry() -> None:
    # The request is encoded as latin-1: anything beyond must be an InvalidHeader, not a crash later.
    with pytest.raises(InvalidHeader):
        check_header("X-Name", "\u65e5\u672c")


def test_invalid_header_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        check_header("X", "\n")


# -- split_tokens ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "tokens"),
    [
        (["Upgrade"], ["upgrade"]),
        (["keep-alive, Upgrade"], ["keep-alive", "upgrade"]),
        (["keep-alive", "UPGRADE"], ["keep-alive", "upgrade"]),
        ([" a ,, b ,", ""], ["a", "b"]),
        ([], []),
        ([",,,"], []),
    ],
)
def test_split_tokens(values: list, tokens: list) -> None:
    assert split_tokens(values) == tokens


# -- parse_extensions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "parsed"),
    [
        (["permessage-deflate"], [("permessage-deflate", [])]),
        (
            ["permessage-deflate; client_max_window_bits"],
            [("permessage-deflate", [("client_max_window_bits", None)])],
        ),
        (
            ["permessage-deflate; server_max_window_bits=10; client_no_context_takeover"],
            [("permessage-deflate", [("server_max_window_bits", "10"), ("client_no_context_takeover", None)])],
        ),
        (
            ['permessage-deflate; server_max_window_bits="10"'],
            [("permessage-deflate", [("server_max_window_bits", "10")])],
        ),
        (
            ["Permessage-Deflate ;  Server_Max_Window_Bits = 12 "],
            [("permessage-deflate", [("server_max_window_bits", "12")])],
        ),
        (
            ["foo, bar; baz=1", "qux"],
            [("foo", []), ("bar", [("baz", "1")]), ("qux", [])],
        ),
        (['a; p="xy"'], [("a", [("p", "xy")])]),
        ([" , foo ,, "], [("foo", [])]),
        ([""], []),
    ],
)
def test_parse_extensions(values: list, parsed: list) -> None:
    assert parse_extensions(values) == parsed


@pytest.mark.parametrize(
    "value",
    [
        "permessage deflate",  # space inside a name
        "; foo",  # empty name
        "a/b",  # non-token name
        "foo; ",  # empty parameter
        "foo; =1",  # parameter without a name
        "foo; p=",  # empty value
        'foo; p=""',  # empty quoted value
        "foo; p=a b",  # value with a space
        'foo; p="a b"',  # quoted non-token
        'foo; p="a,b"',  # quoted comma: kept together, then refused as a non-token
        'foo; p="a;b"',
        'foo; p="10',  # unbalanced quotes
        'foo; p=10"',
        'foo; p="1"0"',
        "foo; p=(1)",
        "foo; p=1=2",
    ],
)
def test_parse_extensions_refuses(value: str) -> None:
    with pytest.raises(ValueError):
        parse_extensions([value])


def test_quoted_separator_does_not_split() -> None:
    # A comma inside quotes must not start a new extension (then the value is refused as a whole).
    with pytest.raises(ValueError, match="invalid value"):
        parse_extensions(['foo; p="a,b", bar'])
    with pytest.raises(ValueError, match="unbalanced"):
        parse_extensions(['foo; p="a, bar'])
