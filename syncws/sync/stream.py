"""``MessageStream``: the blocking face's receive of one message, fragment by fragment."""

from __future__ import annotations

from typing import Iterator, Union

from ..aio.stream import StreamBase

__all__ = ["MessageStream"]


class MessageStream(StreamBase):
    __doc__ = StreamBase.__doc__

    def __iter__(self) -> Iterator[Union[str, bytes]]:
        return self

    def __next__(self) -> Union[str, bytes]:
        while True:
            piece = self._ready()
            if piece is not None:
                return piece
            if self.done:
                raise StopIteration
            self._handle(self._ws._stream_item(self._timeout))
