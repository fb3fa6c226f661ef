"""Fixtures of the reliability tests (the servers themselves are in tests/conftest.py)."""

from __future__ import annotations

import ssl
from typing import Callable, Iterator, List

import pytest

from tests.reliability.support import Relay, Snapshot, TLSRawServer, assert_no_leaks
from tests.servers import Script, ServerLoop


@pytest.fixture
def relay(server_loop: ServerLoop) -> Iterator[Callable[[int], Relay]]:
    """``relay(port)``: a loopback TCP relay to ``port`` that the test can black-hole."""
    started: List[Relay] = []

    def start(port: int) -> Relay:
        r = Relay(server_loop.loop, port)
        server_loop.run(r.start())
        started.append(r)
        return r

    yield start
    for r in started:
        server_loop.run(r.stop())


@pytest.fixture
def tls_raw_server(server_loop: ServerLoop, server_ssl: ssl.SSLContext) -> Iterator[Callable[..., TLSRawServer]]:
    started: List[TLSRawServer] = []

    def start(script: Script, host: str = "localhost") -> TLSRawServer:
        server = TLSRawServer(script, server_ssl, host)
        server_loop.run(server.start())
        started.append(server)
        return server

    yield start
    for server in started:
        server_loop.run(server.stop())
    for server in started:
        if server.errors:
            raise server.errors[0]


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
