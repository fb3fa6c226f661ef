"""Load (scaled down for CI): many connections at once from one process, every echo in order.

The full version is ``python -m tests.reliability.soak --load`` (1,000
connections, 1,000,000 messages); see docs/reliability.md.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.reliability.load import run_load
from tests.reliability.support import EchoServerProcess

pytestmark = pytest.mark.timeout(120)

CONNECTIONS = 150
MESSAGES_PER_CONNECTION = 200  # 30,000 messages


@pytest.fixture(scope="module")
def echo_process() -> Iterator[EchoServerProcess]:
    server = EchoServerProcess(max_seconds=300)
    yield server
    server.stop()


def test_concurrent_connections_echo_in_order(echo_process: EchoServerProcess) -> None:
    result = run_load(echo_process.url, CONNECTIONS, MESSAGES_PER_CONNECTION, timeout=60)
    print(
        f"\n{result.connections} connections, {result.messages_total} messages in {result.wall_seconds:.1f} s; "
        f"peak RSS {result.peak_rss_kib / 1024:.0f} MiB, "
        f"{result.rss_per_connection_kib:.0f} KiB per connection (thread included)"
    )
    assert result.errors == []
    assert result.concurrent_peak == CONNECTIONS
    assert (result.lost, result.duplicated, result.out_of_order) == (0, 0, 0)
    assert result.messages_echoed == result.messages_sent == CONNECTIONS * MESSAGES_PER_CONNECTION
    assert result.ok
