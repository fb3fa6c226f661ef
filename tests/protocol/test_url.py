"""syncws.protocol.url: WebSocket URLs parsed and refused before any I/O."""

from __future__ import annotations

import pytest

from syncws.protocol.errors import InvalidURL, WebSocketError
from syncws.protocol.url import WSURL, parse_url


@pytest.mark.parametrize(
    ("url", "secure", "port"),
    [
        ("ws://example.com/", False, 80),
        ("wss://example.com/", True, 443),
        ("http://example.com/", False, 80),
        ("https://example.com/", True, 443),
        ("WS://example.com/", False, 80),
        ("WsS://example.com/", True, 443),
    ],
)
def test_schemes_and_default_ports(url: str, secure: bool, port: int) -> None:
    u = parse_url(url)
    assert u.secure is secure
    assert u.port == port
    assert u.default_port
    assert u.host == "example.com"
    assert u.host_header == "example.com"
    assert u.url == ("wss" if secure else "ws") + "://example.com/"


@pytest.mark.parametrize(
    ("url", "port", "host_header"),
    [
        ("ws://example.com:8080/", 8080, "example.com:8080"),
        ("wss://example.com:8443/", 8443, "example.com:8443"),
        ("ws://example.com:443/", 443, "example.com:443"),  # 443 is not ws's default
        ("wss://example.com:80/", 80, "example.com:80"),
        ("ws://example.com:80/", 80, "example.com"),  # explicit default: no port in Host
        ("wss://example.com:443/", 443, "example.com"),
        ("ws://example.com:65535/", 65535, "example.com:65535"),
        ("ws://example.com:1/", 1, "example.com:1"),
        ("ws://example.com:/", 80, "example.com"),  # empty port means the default (RFC 3986)
    ],
)
def test_explicit_ports_and_host_header(url: str, port: int, host_header: str) -> None:
    u = parse_url(url)
    assert u.port == port
    assert u.host_header == host_header
    assert u.default_port is (host_header == "example.com")


def test_ipv6_literals() -> None:
    u = parse_url("ws://[::1]/")
    assert u.host == "::1"  # no brackets: what connect() wants
    assert u.port == 80
    assert u.host_header == "[::1]"
    u = parse_url("wss://[2001:db8::1]:8443/chat")
    assert u.host == "2001:db8::1"
    assert u.port == 8443
    assert u.host_header == "[2001:db8::1]:8443"
    assert u.url == "wss://[2001:db8::1]:8443/chat"
    assert u.resource == "/chat"


def test_ipv4_literal() -> None:
    u = parse_url("ws://127.0.0.1:9000/x")
    assert (u.host, u.port, u.host_header) == ("127.0.0.1", 9000, "127.0.0.1:9000")


@pytest.mark.parametrize(
    ("url", "resource"),
    [
        ("ws://h", "/"),
        ("ws://h/", "/"),
        ("ws://h?a=1", "/?a=1"),
        ("ws://h/chat", "/chat"),
        ("ws://h/a/b/c?x=1&y=2", "/a/b/c?x=1&y=2"),
        ("ws://h/a?", "/a"),  # an empty query is no query
        ("ws://h/a?b?c", "/a?b?c"),  # '?' is allowed inside a query
        ("ws://h/%7Euser/a%20b", "/%7Euser/a%20b"),  # existing escapes are kept
        ("ws://h/x;y=1/@:!$&'()*+,=-._~", "/x;y=1/@:!$&'()*+,=-._~"),  # pchar is kept
    ],
)
def test_path_and_query(url: str, resource: str) -> None:
    assert parse_url(url).resource == resource


@pytest.mark.parametrize(
    ("url", "resource"),
    [
        ('ws://h/a"b', "/a%22b"),
        ("ws://h/<x>", "/%3Cx%3E"),
        ("ws://h/a{b}|c^d`e", "/a%7Bb%7D%7Cc%5Ed%60e"),
        ("ws://h/caf\u00e9", "/caf%C3%A9"),
        ("ws://h/\u65e5\u672c", "/%E6%97%A5%E6%9C%AC"),
        ("ws://h/p?q=\u00e9&r=<>", "/p?q=%C3%A9&r=%3C%3E"),
        ("ws://h/a\\b", "/a%5Cb"),
    ],
)
def test_unsafe_characters_are_percent_encoded(url: str, resource: str) -> None:
    u = parse_url(url)
    assert u.resource == resource
    assert u.resource.isascii()


def test_idn_host() -> None:
    u = parse_url("wss://B\u00fccher.Example:8443/")
    assert u.host == "xn--bcher-kva.example"
    assert u.host_header == "xn--bcher-kva.example:8443"
    assert parse_url("ws://\u6d4b\u8bd5.\u4e2d\u56fd/").host == "xn--0zwm56d.xn--fiqs8s"


def test_host_is_lowercased() -> None:
    assert parse_url("ws://EXAMPLE.Com/").host == "example.com"


@pytest.mark.parametrize(
    ("url", "user", "password"),
    [
        ("ws://alice:secret@h/", "alice", "secret"),
        ("ws://alice@h/", "alice", None),
        ("ws://alice:@h/", "alice", ""),
        ("ws://al%20ice:p%40ss%3Aword@h/", "al ice", "p@ss:word"),
        ("ws://%C3%A9:%E2%82%AC@h/", "\u00e9", "\u20ac"),
    ],
)
def test_credentials_are_percent_decoded(url: str, user: str, password: object) -> None:
    u = parse_url(url)
    assert u.user == user
    assert u.password == password
    assert u.credentials == (user, password or "")
    assert u.host == "h"
    assert "@" not in u.host_header and "@" not in u.url  # never leaked into Host or the URL


def test_no_credentials() -> None:
    u = parse_url("ws://h/")
    assert u.user is None and u.password is None and u.credentials is None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://h/",
        "file:///etc/passwd",
        "wsx://h/",
        "h/",
        "//h/",
        "example.com",
        "mailto:a@b",
        "",
    ],
)
def test_other_schemes_refused(url: str) -> None:
    with pytest.raises(InvalidURL):
        parse_url(url)


@pytest.mark.parametrize("url", ["ws:///path", "ws://", "ws://:80/", "ws:/path", "wss://user@/", "ws://?x"])
def test_missing_host_refused(url: str) -> None:
    with pytest.raises(InvalidURL, match=r"host|scheme"):
        parse_url(url)


@pytest.mark.parametrize("url", ["ws://h/#frag", "ws://h/#", "ws://h/?a=1#x", "ws://h#"])
def test_fragment_refused(url: str) -> None:
    with pytest.raises(InvalidURL, match="fragment"):
        parse_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "ws://h/a b",
        " ws://h/",
        "ws://h/\t",
        "ws://h/\r\nX-Injected: 1",
        "ws://h/\n",
        "ws://h/\x00",
        "ws://h/\x7f",
        "ws://h/\x1b",
        "ws://h\r\n/",
        "ws://h /",
    ],
)
def test_whitespace_and_control_characters_refused(url: str) -> None:
    with pytest.raises(InvalidURL, match="whitespace or control"):
        parse_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "ws://h:0/",
        "ws://h:65536/",
        "ws://h:99999/",
        "ws://h:-1/",
        "ws://h:+80/",
        "ws://h:8o/",
        "ws://h:0x50/",
        "ws://h:\u0968/",  # a non-ASCII digit
        "ws://[::1]:abc/",
    ],
)
def test_bad_port_refused(url: str) -> None:
    with pytest.raises(InvalidURL):
        parse_url(url)


def test_port_zero_message() -> None:
    with pytest.raises(InvalidURL, match="port 0"):
        parse_url("wss://h:0/")


@pytest.mark.parametrize(
    "url",
    [
        "ws://[::1/",
        "ws://::1/",
        "ws://[127.0.0.1]/",
        "ws://[not-ipv6]/",
        "ws://h%0d%0a/",
        "ws://a..b/",
        "ws://exa<mple/",
        "ws://a\\b/",
        "ws://a{b}/",
    ],
)
def test_bad_host_refused(url: str) -> None:
    with pytest.raises(InvalidURL):
        parse_url(url)


# Python 3.9/3.10's urlsplit took all of these (a signed or non-ASCII port, any text in
# brackets as a host); syncws now reads the authority itself, the same way on every Python.
@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("ws://h:+80/", "port"),
        ("ws://h:\u0968/", "port"),  # DEVANAGARI DIGIT TWO
        ("ws://h:\u0668\u0660/", "port"),  # Arabic-Indic 80
        ("ws://h:\uff18\uff10/", "port"),  # fullwidth 80
        ("ws://h:1_0/", "port"),
        ("wss://[::1]:+443/", "port"),
        ("ws://[127.0.0.1]/", "IPv6"),  # RFC 3986: only IPv6 (or IPvFuture) goes in brackets
        ("ws://[not-ipv6]/", "IPv6"),
        ("ws://[v1.fe]/", "IPv6"),  # IPvFuture: nothing can connect to it
        ("ws://[::1]x/", "IPv6"),
        ("ws://[::1]x:80/", "IPv6"),
        ("ws://[::1]]/", "IPv6"),
        ("ws://x[::1]/", "host"),
        ("ws://[a]@h/", "user"),
    ],
)
def test_authority_rules_do_not_depend_on_python_version(url: str, match: str) -> None:
    with pytest.raises(InvalidURL, match=match):
        parse_url(url)


@pytest.mark.parametrize(
    ("url", "host", "port", "host_header"),
    [
        ("ws://h:80/", "h", 80, "h"),
        ("ws://h:0080/", "h", 80, "h"),
        ("ws://[::1]:8080/", "::1", 8080, "[::1]:8080"),
        ("ws://[2001:db8::1]/", "2001:db8::1", 80, "[2001:db8::1]"),
        ("ws://[2001:DB8::1]:81/", "2001:db8::1", 81, "[2001:db8::1]:81"),
        ("ws://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1", 80, "[::ffff:127.0.0.1]"),
        ("ws://u:p@[::1]:9/", "::1", 9, "[::1]:9"),
    ],
)
def test_valid_ports_and_ipv6_literals(url: str, host: str, port: int, host_header: str) -> None:
    u = parse_url(url)
    assert (u.host, u.port, u.host_header) == (host, port, host_header)


def test_ipv6_zone_id_accepted() -> None:
    assert parse_url("ws://[fe80::1%25eth0]:81/").host.startswith("fe80::1%")
    with pytest.raises(InvalidURL, match="IP"):
        parse_url("ws://[fe80::1%]/")  # an empty zone ID


def test_invalid_url_is_a_value_error_and_a_websocket_error() -> None:
    with pytest.raises(ValueError):
        parse_url("ftp://h/")
    with pytest.raises(WebSocketError):
        parse_url("ftp://h/")


def test_non_str_refused() -> None:
    with pytest.raises(InvalidURL, match="str"):
        parse_url(b"ws://h/")  # type: ignore[arg-type]


def test_wsurl_str_and_frozen() -> None:
    u = parse_url("wss://h:444/x?y")
    assert str(u) == "wss://h:444/x?y"
    with pytest.raises(AttributeError):
        u.port = 1  # type: ignore[misc]
    assert u == WSURL(True, "h", 444, "/x?y")


@pytest.mark.parametrize("host", ["my_host.local", "a-b.example", "localhost", "x1.y2.z3"])
def test_ordinary_host_names_accepted(host: str) -> None:
    assert parse_url(f"ws://{host}/").host == host


def test_repeated_urls_parse_once_and_bad_ones_fail_every_time() -> None:
    url = "ws://example.com:8080/repeat?x=1"
    assert parse_url(url) is parse_url(url)  # cached: WSURL is immutable
    for _ in range(2):
        with pytest.raises(InvalidURL):
            parse_url("ws://example.com/#fragment")
    with pytest.raises(InvalidURL):
        parse_url(b"ws://example.com/")  # type: ignore[arg-type]
