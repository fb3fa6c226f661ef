"""When a read is inflated in a worker thread instead of on the event loop.

Inflating is the one step of receiving whose cost is not bounded by the read: a
256 KiB read of deflate data can inflate to several MiB (10-20 ms of zlib), and
finishing a 16 MiB message joins and decodes all of it. On the sync API's one
loop thread that would delay every other connection's small round trips. zlib
releases the GIL, so such reads go to the loop's default executor instead: one
at a time per connection, in order (later reads wait, reading is paused), so the
reader and its decompressor are never used by two threads at once.

Sending is the mirror image on the asyncio API: deflating costs 3-40 ms per MiB
(by the data), so ``send_str``/``send_bytes`` compress a message of OFFLOAD_SEND
or more in the default executor, holding the connection's data turn meanwhile
(aio/turn.py) so that later sends keep their order; ``send_fragments`` does the
same for each fragment of OFFLOAD_SEND or more, under its message's turn.
"""

from __future__ import annotations

from ..protocol.connection import ClientConnection

__all__ = ["OFFLOAD_MESSAGE", "OFFLOAD_READ", "OFFLOAD_SEND", "offload_wanted"]

# A read this big (compressed bytes) may inflate to ~10x: about 1-2 ms of zlib.
OFFLOAD_READ = 64 * 1024
# A message this big (inflated so far) costs milliseconds to finish (join, UTF-8).
OFFLOAD_MESSAGE = 1024 * 1024
# A message this big (before compression; a str counted in characters) costs milliseconds
# of zlib; much below it the thread hop costs about as much as it frees the loop for.
OFFLOAD_SEND = 1024 * 1024


def offload_wanted(conn: ClientConnection, nbytes: int) -> bool:
    """True when feeding ``nbytes`` to ``conn`` may take more than a millisecond or two.

    Only with permessage-deflate agreed: plain reads cost about a copy, and the
    thread hop would be most of their price.
    """
    return conn.deflate is not None and (nbytes >= OFFLOAD_READ or conn.reader.pending >= OFFLOAD_MESSAGE)
