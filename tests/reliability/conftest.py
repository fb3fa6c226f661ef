"""Fixtures of the reliability tests (the servers themselves are in tests/conftest.py)."""

from __future__ import annotations

import ssl
from typing import Callable, Iterator

import pytest

from tests.reliability.support import Snapshot, TLSRawServer, assert_no_leaks
from tests.servers import Script, ServerLoop, serve_many


@pytest.fixture
def tls_raw_server(server_loop: ServerLoop, server_ssl: ssl.SSLContext) -> Iterator[Callable[..., TLSRawServer]]:
    def make(script: Script, host: str = "localhost") -> TLSRawServer:
        return TLSRawServer(script, server_ssl, host)

    yield from serve_many(server_loop, make)


@pytest.fixture
def no_leaks(ws_url: str) -> Iterator[None]:
    """The test leaves no thread, file descriptor, syncws-loop task or open connection behind."""
    import syncws

    with syncws.connect(ws_url, compress=0) as ws:  # warm up: loop thread, resolver worker
        ws.send_str("warm")
        ws.receive(timeout=10)
    baseline = Snapshot.take()
    yield
    assert_no_leaks(baseline)
