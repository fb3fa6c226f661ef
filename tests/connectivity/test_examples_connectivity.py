"""examples/proxy.py and examples/reconnect.py run as written, against the local
servers (and proxy) they start, and print what they should."""

from __future__ import annotations

import pytest

from tests.test_examples import run_example

pytestmark = pytest.mark.timeout(60)


def test_proxy_example() -> None:
    assert run_example("proxy.py").splitlines() == [
        "sync  via proxy       <- hello through a tunnel",
        "async via proxy       <- hello from a coroutine",
        "env   via HTTP_PROXY  <- proxy from the environment",
        "env   NO_PROXY        <- straight there",
        "no credentials        -> ProxyError 407",
        "sync  via socks5h     <- hello over SOCKS",
    ]


def test_reconnect_example() -> None:
    lines = run_example("reconnect.py").splitlines()
    for face, ticks in (("sync ", (1, 2, 3)), ("async", (4, 5, 6))):
        assert [line for line in lines if line.startswith(face)] == [
            f"{face} <- tick {ticks[0]}",
            f"{face} connection ended with 1006",
            f"{face} <- tick {ticks[1]}",
            f"{face} connection ended with 1001",
            f"{face} <- tick {ticks[2]}",
            f"{face} connection ended with 1000",
            f"{face} loop ended after a normal close",
        ]
