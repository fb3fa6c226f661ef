"""The sans-I/O core: bytes in, messages out. No sockets, no asyncio, no threads."""

from .auth import BasicAuth
from .close_codes import WSCloseCode
from .connection import ClientConnection, State
from .deflate import DeflateParams
from .errors import (
    ConnectionClosed,
    InvalidHeader,
    InvalidURL,
    ProtocolError,
    WebSocketError,
    WSServerHandshakeError,
)
from .frames import Opcode, encode_frame
from .handshake import HandshakeResult, ResponseParser, accept_key, build_request, new_key, validate_response
from .headers import Headers
from .messages import MsgType, WSMessage, WSMsgType
from .reader import MessageReader
from .url import WSURL, parse_url
from .writer import MessageWriter

__all__ = [
    "BasicAuth",
    "ClientConnection",
    "ConnectionClosed",
    "DeflateParams",
    "HandshakeResult",
    "Headers",
    "InvalidHeader",
    "InvalidURL",
    "MessageReader",
    "MessageWriter",
    "MsgType",
    "Opcode",
    "ProtocolError",
    "ResponseParser",
    "State",
    "WSCloseCode",
    "WSMessage",
    "WSMsgType",
    "WSServerHandshakeError",
    "WSURL",
    "WebSocketError",
    "accept_key",
    "build_request",
    "encode_frame",
    "new_key",
    "parse_url",
    "validate_response",
]
