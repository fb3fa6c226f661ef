"""Every example runs as written, against a local server, and says what it should."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXPECTED = ["received hello", "received hello/answer", "received hello/answer/answer", "received close cmd"]


def run_example(name: str, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=60, cwd=EXAMPLES
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("name", ["seed_async.py", "seed_sync.py"])
def test_seed_examples(name: str) -> None:
    assert run_example(name).splitlines() == EXPECTED


@pytest.mark.parametrize("name", ["seed_async.py", "seed_sync.py"])
def test_seed_examples_against_aiohttp(name: str, aiohttp_url: str) -> None:
    assert run_example(name, aiohttp_url + "/echo").splitlines() == EXPECTED


def test_demo() -> None:
    out = run_example("demo.py")
    assert "sync  <- hello from blocking code" in out
    assert "sync  <- 100000 bytes back" in out
    assert "async <- {'hello': 'from a coroutine'}" in out
    assert "sync  closed with code 1000" in out and "async closed with code 1000" in out
