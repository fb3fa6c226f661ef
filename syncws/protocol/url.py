"""WebSocket URLs (RFC 6455 §3): parsed and checked before any I/O."""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from typing import Optional, Tuple
from urllib.parse import quote, unquote

from .errors import InvalidURL

__all__ = ["WSURL", "parse_url"]

_SCHEMES = {"ws": False, "wss": True, "http": False, "https": True}
# Characters allowed unescaped in a request target (RFC 3986 pchar, '/', '?', '%').
_SAFE_PATH = "/%:@!$&'()*+,;=-._~"
_SAFE_QUERY = _SAFE_PATH + "?"
# RFC 3986 reg-name without pct-encoded: unreserved and sub-delims.
_REG_NAME = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=]+")
# RFC 3986 Appendix B: scheme, authority, path, query, fragment. Splitting (and then
# the authority) here rather than with urllib.parse keeps the rules the same on every
# Python: 3.9/3.10's urlsplit took "+80" and non-ASCII digits as ports and any text in
# brackets as a host name.
_URI = re.compile(r"(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(#.*)?", re.DOTALL)
_PORT = re.compile(r"[0-9]*")  # ASCII digits only; empty means the scheme's default


@dataclass(frozen=True)
class WSURL:
    secure: bool
    host: str  # IDNA-encoded; IPv6 without brackets
    port: int
    resource: str  # path and query, as sent in the request line
    user: Optional[str] = None
    password: Optional[str] = None

    @property
    def default_port(self) -> bool:
        return self.port == (443 if self.secure else 80)

    @property
    def host_header(self) -> str:
        """``Host`` value: brackets for IPv6, the port only when not the default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.default_port else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        scheme = "wss" if self.secure else "ws"
        return f"{scheme}://{self.host_header}{self.resource}"

    @property
    def credentials(self) -> Optional[Tuple[str, str]]:
        if self.user is None:
            return None
        return self.user, self.password or ""

    def __str__(self) -> str:
        return self.url


def parse_url(url: str) -> WSURL:
    """Parse ``ws://``, ``wss://`` (or ``http://``, ``https://``) URLs; raise InvalidURL."""
    if not isinstance(url, str):
        raise InvalidURL(f"URL must be a str, not {type(url).__name__}")
    return _parse(url)


# Scripts connect to the same few URLs again and again; a WSURL is immutable.
@functools.lru_cache(maxsize=64)
def _parse(url: str) -> WSURL:
    if any(ord(c) < 0x21 or c == "\x7f" for c in url):
        raise InvalidURL(f"URL contains whitespace or control characters: {url!r}")
    match = _URI.fullmatch(url)
    if match is None:  # unreachable: every part is optional, so any string matches
        raise InvalidURL(f"invalid URL {url!r}")
    scheme, authority, path, query, fragment = match.groups()
    scheme = (scheme or "").lower()
    if scheme not in _SCHEMES:
        raise InvalidURL(f"{url!r} is not a WebSocket URL: the scheme must be ws, wss, http or https")
    if fragment is not None:
        raise InvalidURL(f"{url!r} has a fragment; WebSocket URLs must not (RFC 6455 §3)")
    secure = _SCHEMES[scheme]
    user, password, host, port = _parse_authority(url, authority or "", 443 if secure else 80)
    resource = quote(path or "/", safe=_SAFE_PATH)
    if query:
        resource += "?" + quote(query, safe=_SAFE_QUERY)
    return WSURL(secure, host, port, resource, user, password)


def _parse_authority(url: str, authority: str, default_port: int) -> Tuple[Optional[str], Optional[str], str, int]:
    """``[user[:password]@]host[:port]`` of ``url``: credentials decoded, host checked and IDNA-encoded."""
    userinfo, at, hostport = authority.rpartition("@")
    user = password = None
    if at:
        if "[" in userinfo or "]" in userinfo:
            raise InvalidURL(f"{url!r} has '[' or ']' in its user information")
        name, colon, secret = userinfo.partition(":")
        user = unquote(name)
        password = unquote(secret) if colon else None
    if hostport.startswith("["):
        # IP-literal (RFC 3986 §3.2.2): only an IPv6 address, with an optional zone ID
        # (RFC 6874) that is kept as written. IPv4 in brackets and IPvFuture are refused.
        literal, bracket, rest = hostport[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise InvalidURL(f"{url!r} has an invalid IPv6 address")
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            raise InvalidURL(f"{url!r} has an invalid IPv6 address") from None
        address, percent, zone = literal.partition("%")
        host = address.lower() + percent + zone
        port_text = rest[1:]
    else:
        host, _, port_text = hostport.partition(":")
        if "[" in hostport or "]" in hostport:
            raise InvalidURL(f"{url!r} has an invalid host: '[' or ']' outside an IPv6 address")
        if not host:
            raise InvalidURL(f"{url!r} has no host")
        host = host.lower()
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            if "%" in host:
                raise InvalidURL(f"{url!r} has an invalid IP address") from None
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise InvalidURL(f"{url!r} has an invalid host name") from None
            if not _REG_NAME.fullmatch(host):
                raise InvalidURL(f"{url!r} has an invalid host name")
    if not _PORT.fullmatch(port_text):
        raise InvalidURL(f"{url!r} has an invalid port {port_text!r}: only ASCII digits are allowed")
    if not port_text:
        return user, password, host, default_port
    digits = port_text.lstrip("0")
    if not digits:
        raise InvalidURL(f"{url!r} has port 0")
    if len(digits) > 5 or int(digits) > 65535:
        raise InvalidURL(f"{url!r} has port {port_text} out of range 1-65535")
    return user, password, host, int(digits)
