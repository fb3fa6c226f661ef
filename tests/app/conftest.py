"""A port that refuses connections: bound, never listening, for as long as the test runs."""

from __future__ import annotations

import socket
from typing import Iterator

import pytest


@pytest.fixture
def unused_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
