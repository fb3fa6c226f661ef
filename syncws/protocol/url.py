"""WebSocket URLs (RFC 6455 §3): parsed and checked before any I/O."""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from typing import Optional, Tuple
from urllib.parse import quote, unquote, urlsplit

from .errors import InvalidURL

__all__ = ["WSURL", "parse_url"]

_SCHEMES = {"ws": False, "wss": True, "http": False, "https": True}
# Characters allowed unescaped in a request target (RFC 3986 pchar, '/', '?', '%').
_SAFE_PATH = "/%:@!$&'()*+,;=-._~"
_SAFE_QUERY = _SAFE_PATH + "?"
# RFC 3986 reg-name without pct-encoded: unreserved and sub-delims.
_REG_NAME = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=]+")


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
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"invalid URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise InvalidURL(f"{url!r} is not a WebSocket URL: the scheme must be ws, wss, http or https")
    if parts.fragment or url.endswith("#"):
        raise InvalidURL(f"{url!r} has a fragment; WebSocket URLs must not (RFC 6455 §3)")
    host = parts.hostname
    if not host:
        raise InvalidURL(f"{url!r} has no host")
    secure = _SCHEMES[scheme]
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if ":" in host or "%" in host:
            raise InvalidURL(f"{url!r} has an invalid IP address") from None
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidURL(f"{url!r} has an invalid host name") from None
        if not _REG_NAME.fullmatch(host):
            raise InvalidURL(f"{url!r} has an invalid host name")
    if port is None:
        port = 443 if secure else 80
    elif port == 0:
        raise InvalidURL(f"{url!r} has port 0")
    resource = quote(parts.path or "/", safe=_SAFE_PATH)
    if parts.query:
        resource += "?" + quote(parts.query, safe=_SAFE_QUERY)
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return WSURL(secure, host, port, resource, user, password)
