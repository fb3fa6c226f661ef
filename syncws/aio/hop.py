"""One handshake attempt: its URL, credentials and headers, first from the options, then
from each redirect, which may take credentials away but never adds any."""

from __future__ import annotations

import dataclasses
from typing import Optional
from urllib.parse import quote, urlencode, urljoin, urlsplit

from ..protocol.auth import BasicAuth
from ..protocol.errors import InvalidURL, RequestInfo, WSServerHandshakeError
from ..protocol.handshake import request_headers
from ..protocol.headers import Headers
from ..protocol.trace import REDACTED, SECRET_HEADERS
from ..protocol.url import WSURL, parse_url
from .errors import RedirectError
from .options import Options

__all__ = ["Hop", "REDIRECT_STATUSES", "describe_request", "first_hop", "next_hop", "redirect_location"]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Headers that carry credentials for one host; a redirect to another host drops them.
_CREDENTIAL_HEADERS = ("authorization", "cookie")


@dataclasses.dataclass(frozen=True)
class Hop:
    url: WSURL
    auth: Optional[BasicAuth]
    headers: Headers  # the caller's, with the cookies= merged into one Cookie header
    server_hostname: Optional[str]


def first_hop(target: WSURL, options: Options) -> Hop:
    url = target
    if options.param_pairs:
        query = urlencode(options.param_pairs, quote_via=quote)
        url = dataclasses.replace(url, resource=url.resource + ("&" if "?" in url.resource else "?") + query)
    auth = options.auth
    if auth is None and target.credentials is not None:
        auth = BasicAuth(*target.credentials)
    headers = Headers(options.headers) if options.headers is not None else Headers()
    if options.cookie_pairs:
        # RFC 6265 §5.4: one Cookie header, so the caller's own Cookie lines are folded in.
        crumbs = headers.getall("Cookie") + [f"{name}={value}" for name, value in options.cookie_pairs]
        headers = Headers([(k, v) for k, v in headers.items() if k.lower() != "cookie"])
        headers.add("Cookie", "; ".join(crumbs))
    return Hop(url, auth, headers, options.server_hostname)


def describe_request(error: WSServerHandshakeError, hop: Hop, request: bytes) -> WSServerHandshakeError:
    """Give ``error`` aiohttp's ``request_info`` for the request it answers (once): the URL
    without credentials, and the headers we sent, with credential values redacted."""
    if error.request_info is None:
        sent = request_headers(request).items()
        headers = Headers([(k, REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in sent])
        error.request_info = RequestInfo(hop.url.url, "GET", headers, hop.url.url)
    return error


def redirect_location(error: WSServerHandshakeError) -> Optional[str]:
    """The Location of a redirect answer we follow, else None."""
    if isinstance(error, RedirectError) or error.status not in REDIRECT_STATUSES:
        return None
    return error.headers.get("Location") or None


def next_hop(hop: Hop, error: WSServerHandshakeError, location: str) -> Hop:
    """Where a redirect leads: relative Locations resolve against the current URL,
    http(s) URLs mean ws(s), wss:// never goes to ws://, and another host gets no
    Authorization, Cookie, URL credentials or server_hostname meant for this one."""
    current = hop.url
    base = ("https" if current.secure else "http") + "://" + current.host_header + current.resource
    joined = urljoin(base, location.strip())
    joined = joined.split("#", 1)[0]  # a fragment is legal in Location, not in a WebSocket URL
    try:
        url = parse_url(joined)
    except InvalidURL as exc:
        raise _fail(error, f"cannot follow redirect to {location!r}: {exc}") from None
    if current.secure and not url.secure:
        raise _fail(error, f"refused redirect from {current.url} to {url.url}: it would drop TLS (wss:// to ws://)")
    explicit = urlsplit(joined).username is not None
    auth = BasicAuth(*url.credentials) if explicit and url.credentials else hop.auth
    if _same_host(current, url):
        return Hop(url, auth, hop.headers, hop.server_hostname)
    headers = Headers([(k, v) for k, v in hop.headers.items() if k.lower() not in _CREDENTIAL_HEADERS])
    return Hop(url, auth if explicit else None, headers, None)


def _same_host(a: WSURL, b: WSURL) -> bool:
    """Same host and port; ws:80 to wss:443 on one host is the same server."""
    return a.host == b.host and (a.port == b.port or (a.default_port and b.default_port))


def _fail(error: WSServerHandshakeError, message: str) -> RedirectError:
    return RedirectError(message, status=error.status, headers=error.headers)
