"""Servers the docs' examples talk to instead of their placeholder hosts, and the line
that says how many blocks ran."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
import trustme

from tests.docs.blocks import Servers
from tests.proxy import ConnectProxy
from tests.servers import ServerLoop

# Filled by the tests, printed at the end of the run.
STATS: Dict[str, int] = {"python": 0, "console": 0, "skipped": 0, "pages": 0}


@pytest.fixture(scope="session")
def docs_proxy(server_loop: ServerLoop) -> Iterator[ConnectProxy]:
    proxy = ConnectProxy()
    server_loop.run(proxy.start())
    yield proxy
    server_loop.run(proxy.stop())


@pytest.fixture(scope="session")
def docs_servers(ws_url: str, wss_url: str, docs_proxy: ConnectProxy) -> Servers:
    return Servers(ws=ws_url, wss=wss_url, proxy=f"127.0.0.1:{docs_proxy.port}")


@pytest.fixture(scope="session")
def docs_workdir(tmp_path_factory: pytest.TempPathFactory, ca: trustme.CA) -> Path:
    """The examples' working directory: ``ca.pem`` is the local servers' CA."""
    workdir = tmp_path_factory.mktemp("docs-examples")
    ca.cert_pem.write_to_path(str(workdir / "ca.pem"))
    return workdir


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if STATS["pages"]:
        terminalreporter.write_line(
            f"docs: ran {STATS['python']} python and {STATS['console']} console blocks from "
            f"{STATS['pages']} pages; {STATS['skipped']} marked not to run"
        )
