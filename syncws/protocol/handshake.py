"""The opening handshake (RFC 6455 §4.1): the request we send, the answer we accept."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple, Union

from . import deflate
from .errors import BODY_PREVIEW, InvalidHeader, WSServerHandshakeError
from .headers import Headers, HeadersLike, check_header, parse_extensions, split_tokens
from .trace import trace_handshake
from .url import WSURL

__all__ = [
    "GUID",
    "new_key",
    "accept_key",
    "build_request",
    "Response",
    "ResponseParser",
    "HandshakeResult",
    "validate_response",
]

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# Bounds on what a server may make us buffer before the upgrade completes.
MAX_LINE = 8192
MAX_HEADERS = 128
MAX_HEAD = 65536

# Our own constant headers: nothing in them to check.
_FIXED = frozenset({"Upgrade", "Connection", "Sec-WebSocket-Version"})
# Headers that only the handshake itself may set.
_RESERVED = {
    "upgrade": "it is always 'websocket'",
    "connection": "it is always 'Upgrade'",
    "sec-websocket-key": "a fresh key is made for every handshake",
    "sec-websocket-version": "it is always 13",
    "sec-websocket-protocol": "pass protocols= instead",
    "sec-websocket-extensions": "pass compress= instead",
}


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(16)).decode("ascii")


def accept_key(key: str) -> str:
    digest = hashlib.sha1((key + GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def request_headers(request: bytes) -> Headers:
    """The headers of a request head we built (``build_request``), as sent."""
    headers = Headers()
    for line in request.decode("latin-1").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.add(name.strip(), value.strip())
    return headers


def build_request(
    url: WSURL,
    key: str,
    *,
    protocols: Sequence[str] = (),
    origin: Optional[str] = None,
    extensions: Optional[str] = None,
    headers: Optional[HeadersLike] = None,
    authorization: Optional[str] = None,
    user_agent: Optional[str] = None,
) -> bytes:
    """The GET request; every header is checked for injection before anything is built."""
    own: List[Tuple[str, str]] = [
        ("Host", url.host_header),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", key),
        ("Sec-WebSocket-Version", "13"),
    ]
    if protocols:
        for proto in protocols:
            check_header("Sec-WebSocket-Protocol", proto)
            if not proto or any(c in proto for c in ' ,;"\t'):
                raise InvalidHeader(f"invalid subprotocol {proto!r}")
        own.append(("Sec-WebSocket-Protocol", ", ".join(protocols)))
    if extensions:
        own.append(("Sec-WebSocket-Extensions", extensions))
    optional: List[Tuple[str, str]] = []
    if origin is not None:
        optional.append(("Origin", origin))
    if authorization is not None:
        optional.append(("Authorization", authorization))
    if user_agent is not None:
        optional.append(("User-Agent", user_agent))
    extra = Headers(headers) if headers is not None else Headers()
    names = set()
    for name, value in extra.items():
        check_header(name, value)
        lower = name.lower()
        if lower in _RESERVED:
            raise InvalidHeader(f"cannot set {name} in headers=: {_RESERVED[lower]}")
        names.add(lower)
    if "host" in names:
        own = [(k, v) for k, v in own if k != "Host"]
    lines = [f"GET {url.resource} HTTP/1.1"]
    lines += [f"{k}: {v}" for k, v in own]
    lines += [f"{k}: {v}" for k, v in optional if k.lower() not in names]
    for k, v in own + optional:
        if k not in _FIXED:
            check_header(k, v)
    lines += [f"{k}: {v}" for k, v in extra.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass
class Response:
    status: int
    reason: str
    headers: Headers
    head: bytes = b""  # as received, when parsed from the wire


class ResponseParser:
    """Reads the response head incrementally, within fixed size bounds.

    ``feed`` returns the Response once the blank line arrives; bytes after
    it (the server's first frames) are left in ``rest``.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.rest = b""

    def feed(self, data: bytes) -> Optional[Response]:
        start = max(0, len(self._buf) - 3)
        self._buf += data
        end = self._buf.find(b"\r\n\r\n", start)
        if end < 0:
            # The head ends at len - 3 at the earliest (a CRLFCRLF may have begun).
            if len(self._buf) - 3 > MAX_HEAD:
                raise WSServerHandshakeError(f"response head exceeds {MAX_HEAD} bytes")
            self._check_line_length()
            return None
        if end > MAX_HEAD:
            raise WSServerHandshakeError(f"response head exceeds {MAX_HEAD} bytes")
        head = bytes(self._buf[:end])
        self.rest = bytes(self._buf[end + 4 :])
        self._buf = bytearray()
        trace_handshake("recv", head)
        return _parse_head(head)

    def stage(self) -> str:
        """Where the answer stands, for messages about an opening that failed or stalled."""
        if self._buf:
            return f"in the middle of the handshake response, {len(self._buf)} bytes in"
        return "waiting for the handshake response"

    def refused(self, error: WSServerHandshakeError) -> WSServerHandshakeError:
        """``error`` with the start of the answer's body, as far as it came with the head."""
        if not error.body:
            error.body = self.rest[:BODY_PREVIEW]
        return error

    def _check_line_length(self) -> None:
        last = self._buf.rfind(b"\n")
        length = len(self._buf) - last - 1
        if self._buf.endswith(b"\r"):
            length -= 1  # the CR of the line's own CRLF
        if length > MAX_LINE:
            raise WSServerHandshakeError(f"response line exceeds {MAX_LINE} bytes")


def _parse_head(head: bytes) -> Response:
    lines = head.split(b"\r\n")
    status_line = lines[0].decode("latin-1")
    if len(lines[0]) > MAX_LINE:
        raise WSServerHandshakeError(f"status line exceeds {MAX_LINE} bytes")
    version, _, rest = status_line.partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/1.") or len(code) != 3 or not (code.isascii() and code.isdigit()):
        raise WSServerHandshakeError(f"malformed status line {status_line[:100]!r}")
    status = int(code)
    headers = Headers()
    if len(lines) - 1 > MAX_HEADERS:
        raise WSServerHandshakeError(f"more than {MAX_HEADERS} response headers", status=status)
    for raw in lines[1:]:
        if len(raw) > MAX_LINE:
            raise WSServerHandshakeError(f"response header line exceeds {MAX_LINE} bytes", status=status)
        if raw[:1] in (b" ", b"\t"):
            raise WSServerHandshakeError("obsolete folded header line in response", status=status)
        name, colon, value = raw.decode("latin-1").partition(":")
        if not colon or not name or name != name.strip() or any(c in name for c in " \t"):
            raise WSServerHandshakeError(f"malformed response header line {raw[:100]!r}", status=status)
        headers.add(name, value.strip(" \t"))
    return Response(status, reason, headers, head)


@dataclass(frozen=True)
class HandshakeResult:
    __slots__ = ("answer", "deflate", "protocol")  # held by every open connection

    protocol: Optional[str]
    deflate: Optional[deflate.DeflateParams]
    # The answer's head as received, or its headers when there is no head. An open
    # connection holds this for life and is rarely asked: one bytes object, parsed
    # again when asked, costs about 500 bytes less than a Headers of small strings.
    answer: Union[bytes, Headers]

    @property
    def headers(self) -> Headers:
        """The answer's headers: a new Headers on every call when kept as the head."""
        if isinstance(self.answer, bytes):
            return _parse_head(self.answer).headers
        return self.answer


def validate_response(
    response: Response,
    key: str,
    *,
    protocols: Iterable[str] = (),
    compress: int = 0,
    compress_window_bits: int = 15,
) -> HandshakeResult:
    """Check every rule of RFC 6455 §4.1 (and RFC 7692 for the extension); raise on the first broken."""
    status, headers = response.status, response.headers

    def fail(message: str) -> WSServerHandshakeError:
        return WSServerHandshakeError(message, status=status, headers=headers)

    if status != 101:
        raise fail(f"expected HTTP 101 Switching Protocols, got {status} {response.reason}".rstrip())
    upgrade = headers.getall("Upgrade")
    if len(upgrade) != 1 or upgrade[0].strip().lower() != "websocket":
        raise fail(f"invalid Upgrade header {upgrade!r}: expected 'websocket'")
    if "upgrade" not in split_tokens(headers.getall("Connection")):
        raise fail(f"invalid Connection header {headers.getall('Connection')!r}: expected 'upgrade'")
    accept = headers.getall("Sec-WebSocket-Accept")
    if accept != [accept_key(key)]:
        raise fail(f"invalid Sec-WebSocket-Accept {accept!r}: expected {accept_key(key)!r}")

    protocol = None
    chosen = headers.getall("Sec-WebSocket-Protocol")
    if chosen:
        if len(chosen) > 1 or "," in chosen[0]:
            raise fail(f"server chose more than one subprotocol: {chosen!r}")
        protocol = chosen[0].strip()
        if protocol not in protocols:
            raise fail(f"server chose subprotocol {protocol!r}, which we did not offer")

    agreed = None
    ext_lines = headers.getall("Sec-WebSocket-Extensions")
    if ext_lines:
        try:
            extensions = parse_extensions(ext_lines)
        except ValueError as exc:
            raise fail(f"malformed Sec-WebSocket-Extensions: {exc}") from None
        for name, params in extensions:
            if name != deflate.EXTENSION:
                raise fail(f"server accepted extension {name!r}, which we did not offer")
            if not compress:
                raise fail("server accepted permessage-deflate, which we did not offer")
            if agreed is not None:
                raise fail("server accepted permessage-deflate twice")
            try:
                agreed = deflate.accept_response(params, compress, compress_window_bits)
            except ValueError as exc:
                raise fail(f"invalid permessage-deflate response: {exc}") from None
    return HandshakeResult(protocol, agreed, response.head or headers)
