"""Messages in fragments: what a fragmented send accepts, and the pieces of a streamed receive.

Sending: ``first_fragment`` settles a message's type from its first fragment
(str: text, bytes or any buffer: binary) and ``next_fragment`` holds every
later one to it, so both faces refuse the same mistakes the same way.

Receiving: the reader hands a message out in pieces (``WSMessage`` items of
type CONTINUATION whose ``extra`` is a ``Piece``) when the receiver streams
it, or when it grows past max_msg_size. ``Gathered`` is the receiver's side:
whole messages for ``receive()``, pieces for a stream, and the rest of a
stream left unread skipped.
"""

from __future__ import annotations

from typing import Any, List, NamedTuple, Optional, Tuple, Union

from .errors import ProtocolError
from .messages import WSMessage, WSMsgType
from .writer import Payload, byte_view

__all__ = ["PIECE", "Piece", "Gathered", "StreamState", "check_fragments", "first_fragment", "join", "next_fragment"]

PIECE = WSMsgType.CONTINUATION
Fragment = Union[str, Payload]


class Piece(NamedTuple):
    """``extra`` of a piece: ``last`` ends the message; ``too_big`` is set on the piece
    where the message passed max_msg_size (``receive()`` refuses it; a stream goes on);
    ``held``: the reader stopped after this piece, and reads on once it is taken."""

    last: bool
    too_big: Optional[ProtocolError]
    held: bool = False


def check_fragments(fragments: object) -> Any:
    """An iterable of fragments (sync or async); a str or a buffer on its own is refused,
    as it is almost surely a message meant for send_str/send_bytes."""
    if isinstance(fragments, (str, bytes, bytearray, memoryview)):
        raise TypeError(
            f"send_fragments() takes an iterable of fragments, not one {type(fragments).__name__}; "
            "use send_str()/send_bytes() for a whole message"
        )
    if hasattr(fragments, "__aiter__"):
        return fragments
    try:
        iter(fragments)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"send_fragments() takes an iterable of fragments, not {type(fragments).__name__}") from None
    return fragments


def first_fragment(fragment: object) -> Tuple[int, Payload]:
    """The opcode the fragment gives its message (1 text, 2 binary) and its bytes."""
    if isinstance(fragment, str):
        return 1, fragment.encode("utf-8")
    return 2, _buffer(fragment)


def next_fragment(opcode: int, fragment: object) -> Payload:
    """A later fragment's bytes; TypeError if it is not of its message's type."""
    if opcode == 1:
        if not isinstance(fragment, str):
            raise TypeError(f"a text message's fragments must all be str, not {type(fragment).__name__}")
        return fragment.encode("utf-8")
    if isinstance(fragment, str):
        raise TypeError("a binary message's fragments must all be bytes-like, not str")
    return _buffer(fragment)


def _buffer(fragment: object) -> Payload:
    if isinstance(fragment, (bytes, bytearray)):
        return fragment
    try:
        return byte_view(memoryview(fragment))  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"fragments must be str, or bytes or another buffer, not {type(fragment).__name__}"
        ) from None


class Gathered:
    """The receiving side of pieces, for one connection's one receiver at a time.

    ``receive`` gathers a message's pieces into one; ``skip`` drops the rest of
    a message whose stream was left unfinished, so the next receive starts at
    the next message.
    """

    __slots__ = ("parts", "skipping")

    def __init__(self) -> None:
        self.parts: List[Union[str, bytes]] = []
        self.skipping = False

    def receive(self, msg: WSMessage) -> Union[WSMessage, ProtocolError, None]:
        """Take one piece for ``receive()``: the whole message after its last piece, the
        error to refuse it with once it passed max_msg_size, or None for more."""
        piece: Piece = msg.extra
        if self.skipping:
            self.skipping = not piece.last
            return None
        if piece.too_big is not None:
            self.parts = []
            return piece.too_big
        self.parts.append(msg.data)
        if not piece.last:
            return None
        parts, self.parts = self.parts, []
        return join(parts)

    def skip(self) -> None:
        """The rest of the message being streamed will not be read: drop it as it comes."""
        self.skipping = True


def join(parts: List[Union[str, bytes]]) -> WSMessage:
    """The whole message from its pieces (never empty: the last piece is always there)."""
    first = parts[0]
    data = first if len(parts) == 1 else first[:0].join(parts)  # type: ignore[arg-type]
    return WSMessage(WSMsgType.TEXT if isinstance(first, str) else WSMsgType.BINARY, data, "")


class StreamState:
    """One message as a stream, on the receiving side: its ``type`` (TEXT or BINARY),
    the pieces taken but not yet handed out, and whether the last has come."""

    __slots__ = ("done", "pending", "read_on", "type")

    def __init__(self, first: WSMessage) -> None:
        self.pending: List[Union[str, bytes]] = []
        self.done = False
        self.read_on = False  # the first piece left the reader held: tell it to read on
        if first.type is PIECE:
            self.type = WSMsgType.TEXT if isinstance(first.data, str) else WSMsgType.BINARY
            self.read_on = self.take(first)
        else:  # a whole message: one piece
            self.type = first.type
            if first.data:
                self.pending.append(first.data)
            self.done = True

    def take(self, msg: WSMessage) -> bool:
        """Take one piece of this message; True if the reader is held on it and must be
        told to read on."""
        piece: Piece = msg.extra
        if msg.data:
            self.pending.append(msg.data)
        if piece.last:
            self.done = True
        return piece.held

    def next_piece(self) -> Optional[Union[str, bytes]]:
        return self.pending.pop(0) if self.pending else None


def check_all(opcode: int, fragments: Any) -> Optional[int]:
    """For a list or tuple, check every fragment's type before anything is sent and return
    how many there are (so the last one carries FIN); None for other iterables."""
    if not isinstance(fragments, (list, tuple)):
        return None
    for fragment in fragments[1:]:
        if opcode == 1:
            if not isinstance(fragment, str):
                next_fragment(opcode, fragment)  # raises the TypeError
        else:
            next_fragment(opcode, fragment)  # a view for a buffer: no copy
    return len(fragments)


FRAGMENT_CUT_SHORT = b"fragmented message cut short"
