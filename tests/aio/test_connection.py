"""The protocol's read buffer (aio/connection.py): one per thread, resident only as far as reads use it."""

from __future__ import annotations

import asyncio
import ctypes
import mmap
import struct
import sys
import threading
from typing import List

import pytest

import syncws
from syncws.aio.connection import READ_BUFFER_SIZE, _read_buffer

pytestmark = pytest.mark.timeout(30)


def _resident_pages(view: memoryview) -> int:
    """How many pages under ``view`` are in memory, from /proc/self/pagemap (bit 63: present)."""
    start = ctypes.addressof(ctypes.c_char.from_buffer(view))
    first = start // mmap.PAGESIZE
    pages = (start + len(view) - 1) // mmap.PAGESIZE - first + 1
    with open("/proc/self/pagemap", "rb") as pagemap:
        pagemap.seek(first * 8)
        entries = struct.unpack(f"={pages}Q", pagemap.read(pages * 8))
    return sum(1 for entry in entries if entry >> 63)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/pagemap")
def test_small_reads_keep_the_read_buffer_off_memory(ws_url: str) -> None:
    """A thread that only reads small messages holds a page of its buffer, not 256 KiB.

    One such buffer is made for each thread that runs a loop, the blocking API's
    loop thread included, and S5's memory per connection counts it.
    """
    seen: List[object] = []

    def run() -> None:
        async def main() -> None:
            async with syncws.ws_connect(ws_url, compress=0) as ws:
                for n in range(20):
                    await ws.send_str(f"small {n}")
                    assert (await ws.receive()).data == f"small {n}"
            seen.append(_resident_pages(_read_buffer()))

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by the assertion below
            seen.append(exc)

    thread = threading.Thread(target=run)  # a fresh thread: a buffer of its own
    thread.start()
    thread.join()
    assert len(seen) == 1 and isinstance(seen[0], int), seen
    assert 1 <= seen[0] <= 2, f"{seen[0]} of {READ_BUFFER_SIZE // mmap.PAGESIZE} pages resident"


def test_each_thread_reads_into_its_own_buffer() -> None:
    views: List[memoryview] = []
    thread = threading.Thread(target=lambda: views.append(_read_buffer()))
    thread.start()
    thread.join()
    here = _read_buffer()
    assert here is _read_buffer()  # reused within a thread
    assert len(here) == len(views[0]) == READ_BUFFER_SIZE
    here[:4] = b"mine"
    assert bytes(views[0][:4]) != b"mine"
